import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { MlpipeError, translateAwsError, usageError } from '../lib/cli/errors.js';
import { prose } from '../lib/cli/prose.js';
import { canPrompt, renderTable, searchPrompt, terminalWidth } from '../lib/cli/ui.js';
import { requireStackOutputs } from '../lib/infra/stacks.js';
import { personalizeTargets } from '../lib/personalize/imports.js';
import {
  describeBatchJob,
  findRecord,
  inputIds,
  latestBatchJob,
  outputFiles,
  type BatchJobView,
  type BatchRecord,
} from '../lib/recs/batch-output.js';
import type { CatalogueEntry } from '../lib/recs/catalogue.js';
import { userHistory, type Interaction } from '../lib/recs/history.js';
import { lakeCatalogue } from '../lib/recs/titles.js';

interface ShownItem {
  rank: number;
  itemId: string;
  title: string | null;
  year: number | null;
  score: number | null;
}

export interface ShowRecsResult {
  /** The user, or the item (with its title and year from the catalogue). */
  query: { userId: string } | { itemId: string; title: string | null; year: number | null };
  source: { kind: 'batch'; job: string; file: string; line: number } | { kind: 'campaign'; campaign: string };
  /** The record as Personalize wrote it (batch), or GetRecommendations' answer (live). */
  record: BatchRecord | { itemList: { itemId: string; score?: number }[]; recommendationId?: string };
  items: ShownItem[];
  history?: (Interaction & { title: string | null; year: number | null })[];
  catalogue: string | null;
}

export default class ShowRecs extends MlpipeCommand<typeof ShowRecs> {
  static override summary = "Show a user's recommendations (or an item's similar items) with titles.";
  static override description = prose`Finds the user in the latest batch inference output of this project (or the one of --job) by
reading its .out files line by line, and prints rank, item, title, year and score, with titles and
years from the catalogue in the lake's raw prefix (hetrec movies.dat, MovieLens movies.csv or
ml-100k u.item). --item shows an item's similar items from the newest batch output of an
aws-similar-items version (\`mlpipe batch-infer --item ID\`); an item the catalogue does not have is
an error.
--live asks the campaign instead (GetRecommendations, real time); a campaign exists only when
switched on in the Personalize stack, as AWS bills it by the hour.
--history N also shows the user's N latest interactions. Without --user or --item, on a terminal,
a search prompt offers the users in the output. --json prints the record as Personalize wrote it,
with the titles resolved.`;
  static override examples = [
    '<%= config.bin %> show-recs --user 75',
    '<%= config.bin %> show-recs --user 75 --history 5',
    '<%= config.bin %> show-recs --user 75 --live',
    '<%= config.bin %> show-recs --item 2571',
    '<%= config.bin %> show-recs --user 75 --json | jq .',
  ];
  static override flags = {
    user: Flags.string({ description: 'The user whose recommendations to show.', exclusive: ['item'] }),
    item: Flags.string({ description: 'The item whose similar items to show.', exclusive: ['user'] }),
    job: Flags.string({
      description: 'The batch inference job (ARN) to read [default: the newest ACTIVE one].',
    }),
    live: Flags.boolean({
      description: "Ask the campaign (GetRecommendations) instead of reading a batch job's output.",
      exclusive: ['job'],
    }),
    limit: Flags.integer({ description: 'Show at most this many items.', default: 10, min: 1, max: 500 }),
    history: Flags.integer({ description: "Also show the user's N latest interactions.", min: 1, max: 100 }),
  };

  async run(): Promise<ShowRecsResult> {
    const { flags } = this;
    if (flags.history !== undefined && flags.item !== undefined)
      throw usageError("--history shows a user's interactions: use it with --user.");
    const clients = await this.clients();
    const targets = await personalizeTargets(clients, this.settings);

    let job: BatchJobView | undefined;
    let files: string[] = [];
    let userId = flags.user;
    const itemId = flags.item;
    if (!flags.live) {
      job =
        flags.job !== undefined
          ? await describeBatchJob(clients, flags.job)
          : await latestBatchJob(clients, this.settings, flags.item !== undefined ? 'items' : 'users');
      if (job.status !== 'ACTIVE')
        throw new MlpipeError(`Batch inference job ${job.name} is ${job.status}: it has no output to show.`, {
          code: 'BATCH_NOT_ACTIVE',
          suggestions: [`Follow it with \`mlpipe batch-infer --arn ${job.arn}\`.`],
        });
      files = await outputFiles(clients, job);
    }
    if (userId === undefined && itemId === undefined) {
      if (!canPrompt(this.jsonEnabled()) || job === undefined)
        throw usageError('Say whose recommendations to show: --user ID (or --item ID for similar items).', [
          'For example `mlpipe show-recs --user 75`.',
        ]);
      const users = await inputIds(clients, files, 'userId');
      if (users.length === 0) throw usageError(`The output of ${job.name} has no users; give --item ID.`);
      userId = await searchPrompt(`User (${users.length.toLocaleString('en-US')} in ${job.name})`, users);
    }
    let result: ShowRecsResult;
    const catalogue = await lakeCatalogue(clients, this.settings, targets.bucket);
    const describe = (id: string): { title: string | null; year: number | null } => {
      const entry: CatalogueEntry | undefined = catalogue?.entries.get(id);
      return { title: entry?.title ?? null, year: entry?.year ?? null };
    };
    // Personalize answers an item it does not know with popular items: not similar ones, so an
    // item the catalogue lacks is an error here rather than a misleading table.
    if (itemId !== undefined && catalogue != null && !catalogue.entries.has(itemId))
      throw new MlpipeError(`Item ${itemId} is not in the catalogue ${catalogue.source}.`, {
        code: 'ITEM_NOT_IN_CATALOGUE',
        suggestions: [
          `Give an item ID from its first column, e.g. \`mlpipe show-recs --item ${catalogue.entries.keys().next().value ?? '1'}\`.`,
        ],
      });
    const asked = userId !== undefined ? { userId } : { itemId: itemId! };
    const query = userId !== undefined ? { userId } : { itemId: itemId!, ...describe(itemId!) };
    const who = userId !== undefined ? `User ${userId}` : `Item ${itemId}`;
    if (flags.live) {
      const outputs = await requireStackOutputs(clients, this.settings, 'personalize');
      const campaign = outputs.CampaignArn;
      if (campaign === undefined)
        throw new MlpipeError('There is no campaign to ask: real-time recommendations need one.', {
          code: 'NO_CAMPAIGN',
          suggestions: [
            'Switch one on for the latest trained version: `mlpipe deploy --stack personalize --parameter CampaignSolutionVersionArn=<solution version ARN>` (`mlpipe solutions` lists them). On AWS a campaign is billed every hour while it exists.',
            'Or read the batch output: leave out --live.',
          ],
        });
      const runtime = await clients.personalizeRuntime();
      const { GetRecommendationsCommand } = await import('@aws-sdk/client-personalize-runtime');
      let answer;
      try {
        answer = await runtime.send(
          new GetRecommendationsCommand({ campaignArn: campaign, numResults: flags.limit, ...asked }),
        );
      } catch (error) {
        // The campaign's recipe decides what it is asked for: a user recipe needs a user, a
        // similar-items one an item. The service says only "userId is required".
        const wants = /\b(userId|itemId) is required\b/.exec((error as Error).message ?? '')?.[1];
        if (wants !== undefined && (error as { name?: string }).name === 'InvalidInputException')
          throw usageError(
            wants === 'userId'
              ? `Campaign ${campaign.replace(/^.*\//, '')} recommends items for a user; it cannot give items similar to --item ${itemId}.`
              : `Campaign ${campaign.replace(/^.*\//, '')} recommends items similar to an item (aws-similar-items); it cannot recommend for --user ${userId}.`,
            wants === 'userId'
              ? [
                  `Ask it for a user: \`mlpipe show-recs --user 75 --live\`.`,
                  `Or read similar items from a batch job: \`mlpipe show-recs --item ${itemId}\` (after \`mlpipe batch-infer --item ${itemId}\` with an aws-similar-items version).`,
                ]
              : [`Ask it for an item: \`mlpipe show-recs --item <ID> --live\`.`],
          );
        throw translateAwsError(error, 'GetRecommendations');
      }
      const itemList = (answer.itemList ?? []).map((i) => ({
        itemId: i.itemId ?? '',
        ...(i.score === undefined ? {} : { score: i.score }),
      }));
      result = {
        query,
        source: { kind: 'campaign', campaign },
        record: {
          itemList,
          ...(answer.recommendationId ? { recommendationId: answer.recommendationId } : {}),
        },
        items: itemList.map((i, index) => ({
          rank: index + 1,
          itemId: i.itemId,
          ...describe(i.itemId),
          score: i.score ?? null,
        })),
        catalogue: catalogue?.source ?? null,
      };
    } else {
      const found = await findRecord(clients, files, asked);
      if (found === undefined)
        throw new MlpipeError(`${who} is not in the output of batch job ${job!.name}.`, {
          code: userId !== undefined ? 'USER_NOT_IN_OUTPUT' : 'ITEM_NOT_IN_OUTPUT',
          suggestions: [
            userId !== undefined
              ? `Get their recommendations: \`mlpipe batch-infer --user ${userId}\` (or \`--live\` with a campaign).`
              : `Get its similar items: \`mlpipe batch-infer --item ${itemId}\`.`,
          ],
        });
      if (found.record.error !== null && found.record.error !== undefined)
        throw new MlpipeError(
          `${who}'s line in ${found.file} (line ${found.line}) is an error: ${found.record.error}`,
          {
            code: 'RECORD_ERROR',
          },
        );
      const ids =
        found.record.output?.recommendedItems ?? found.record.output?.itemList?.map((i) => i.itemId) ?? [];
      const scores =
        found.record.output?.scores ?? found.record.output?.itemList?.map((i) => i.score ?? NaN) ?? [];
      result = {
        query,
        source: { kind: 'batch', job: job!.arn, file: found.file, line: found.line },
        record: found.record,
        items: ids.slice(0, flags.limit).map((id, index) => ({
          rank: index + 1,
          itemId: id,
          ...describe(id),
          score: Number.isFinite(scores[index]) ? scores[index]! : null,
        })),
        catalogue: catalogue?.source ?? null,
      };
    }

    if (flags.history !== undefined && userId !== undefined) {
      const interactions = await userHistory(
        clients,
        { bucket: targets.bucket, key: `${this.settings.prefixes.transformed.value}interactions.csv` },
        userId,
        flags.history,
      );
      result.history = (interactions ?? []).map((i) => ({ ...i, ...describe(i.itemId) }));
    }

    this.print(who, result);
    return result;
  }

  private print(who: string, result: ShowRecsResult): void {
    const from =
      result.source.kind === 'batch'
        ? `batch job ${result.source.job.replace(/^.*\//, '')}`
        : `campaign ${result.source.campaign.replace(/^.*\//, '')} (live)`;
    const what = 'userId' in result.query ? 'recommendations' : 'similar items';
    const count = `: ${result.items.length} ${what}`;
    let named = who;
    if ('itemId' in result.query && result.query.title !== null) {
      // The item's title, cut so that its line fits the terminal.
      const year = result.query.year === null ? '' : `, ${result.query.year}`;
      const room = terminalWidth(process.stdout) - [...who, ...count, ...year].length - 3;
      const title = [...result.query.title];
      if (room >= 8)
        named = `${who} (${title.length <= room ? result.query.title : `${title.slice(0, room - 1).join('')}…`}${year})`;
    }
    const line = `${named}${count}, from ${from}`;
    // The source goes on a line of its own when both do not fit on one.
    if ([...line].length <= terminalWidth(process.stdout)) this.log(line);
    else this.log(`${named}${count},\nfrom ${from}`);
    if (result.catalogue === null)
      this.note('No catalogue (movies.dat, movies.csv or u.item) in the raw prefix: items are shown by ID.');
    if (result.history !== undefined) {
      this.log('');
      this.log(`Latest interactions (${result.history.length}):`);
      this.log(
        renderTable(
          result.history.map((h) => ({
            when: new Date(h.timestamp * 1000).toISOString(),
            item: h.itemId,
            title: h.title ?? '',
            year: h.year ?? '',
          })),
          [
            { key: 'when', header: 'WHEN', kind: 'time' },
            { key: 'item', header: 'ITEM' },
            { key: 'title', header: 'TITLE' },
            { key: 'year', header: 'YEAR', drop: 1 },
          ],
        ),
      );
      this.log('');
      this.log(`Recommended (${result.items.length}):`);
    }
    const scored = result.items.some((i) => i.score !== null);
    const top = Math.max(...result.items.map((i) => i.score ?? 0), Number.MIN_VALUE);
    const barWidth = terminalWidth(process.stdout) >= 80 ? 10 : 6;
    const bar = (score: number | null): string =>
      score === null
        ? ''
        : `${score.toFixed(4)} ${'█'.repeat(Math.max(1, Math.round((score / top) * barWidth)))}`;
    this.log(
      renderTable(
        result.items.map((i) => ({
          rank: i.rank,
          item: i.itemId,
          title: i.title ?? '',
          year: i.year ?? '',
          score: bar(i.score),
        })),
        [
          { key: 'rank', header: '#' },
          { key: 'item', header: 'ITEM' },
          { key: 'title', header: 'TITLE' },
          { key: 'year', header: 'YEAR', drop: 2 },
          ...(scored ? [{ key: 'score', header: 'SCORE', drop: 1 }] : []),
        ],
      ),
    );
  }
}
