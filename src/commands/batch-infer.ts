import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { MlpipeError, usageError } from '../lib/cli/errors.js';
import { prose } from '../lib/cli/prose.js';
import { formatCount, formatDuration, startSpinner, type Spinner } from '../lib/cli/ui.js';
import {
  requireLatestActiveVersion,
  requireLatestSimilarItemsVersion,
} from '../lib/personalize/solutions.js';
import { describeBatchJob, type BatchJobView } from '../lib/recs/batch-output.js';
import {
  readUsersFile,
  startBatchJob,
  summarizeOutput,
  waitForBatchJob,
  type BatchInput,
  type OutputSummary,
} from '../lib/recs/batch-jobs.js';

export interface BatchInferResult {
  job: BatchJobView;
  input: string | null;
  inputLines: number | null;
  output: OutputSummary | null;
}

export default class BatchInfer extends MlpipeCommand<typeof BatchInfer> {
  static override summary = 'Write batch recommendations for users (or similar items) to the lake.';
  static override description = prose`Writes the users to recommend for as JSON Lines under the lake's batch input prefix
(<prefix><job name>.jsonl) and starts a Personalize batch inference job with the latest ACTIVE version
of the deployed solution (or --solution-version); its output goes to the recommendations prefix, in a
folder named after the job. Users: every user of the transformed interactions (the default, or
--all-users), the ones given with --user, or a JSON Lines file ({"userId": "75"} a line). --item asks
for similar items, from the latest ACTIVE aws-similar-items version (\`mlpipe train --recipe
aws-similar-items\` trains one) unless --solution-version names another.
It waits with a spinner and then prints the output's location, how many lines it has and how many
are errors, and the first records; --no-wait prints the job ARN at once and --arn re-attaches.
Exit 3 when the job fails, 4 on --timeout, 130 on Ctrl-C (the job goes on).`;
  static override examples = [
    '<%= config.bin %> batch-infer',
    '<%= config.bin %> batch-infer --user 75 --user 78',
    '<%= config.bin %> batch-infer --users-file users.jsonl --num-results 50',
    '<%= config.bin %> batch-infer --item 2571 --item 1196',
    '<%= config.bin %> batch-infer --no-wait',
    '<%= config.bin %> batch-infer --arn arn:aws:personalize:us-east-1:000000000000:batch-inference-job/mlpipe-batch-…',
  ];
  static override flags = {
    user: Flags.string({
      description: 'A user to recommend for; repeatable.',
      multiple: true,
      exclusive: ['users-file', 'all-users', 'item'],
    }),
    'users-file': Flags.string({
      description: 'A local JSON Lines file of users, {"userId": "75"} a line.',
      exclusive: ['user', 'all-users', 'item'],
    }),
    'all-users': Flags.boolean({
      description: 'Every user of the transformed interactions (the default).',
      exclusive: ['user', 'users-file', 'item'],
    }),
    item: Flags.string({
      description: 'An item to find similar items for (an aws-similar-items version); repeatable.',
      multiple: true,
      exclusive: ['user', 'users-file', 'all-users'],
    }),
    'num-results': Flags.integer({
      description: 'Recommendations per line of input.',
      default: 25,
      min: 1,
      max: 500,
    }),
    'solution-version': Flags.string({
      description:
        'The solution version to use [default: the latest ACTIVE version of the deployed solution; with --item, of the aws-similar-items solution].',
    }),
    wait: Flags.boolean({
      description: 'Wait for the job to end (--no-wait prints its ARN).',
      default: true,
      allowNo: true,
    }),
    arn: Flags.string({
      description: 'Re-attach to (or show) this batch inference job instead of starting one.',
    }),
    timeout: Flags.integer({
      description: 'Seconds to wait before giving up (exit 4; the job goes on).',
      min: 1,
    }),
  };

  async run(): Promise<BatchInferResult> {
    const { flags } = this;
    const given = (name: string): boolean =>
      this.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (flags.arn !== undefined) {
      const others = ['user', 'users-file', 'all-users', 'item', 'num-results', 'solution-version'].filter(
        given,
      );
      if (others.length > 0)
        throw usageError(
          `--arn attaches to an existing job; it cannot be combined with ${others.map((o) => `--${o}`).join(', ')}.`,
          [],
          'BAD_FLAGS',
        );
    }
    const input: BatchInput =
      flags.user !== undefined
        ? { kind: 'users', ids: flags.user }
        : flags.item !== undefined
          ? { kind: 'items', ids: flags.item }
          : flags['users-file'] !== undefined
            ? { kind: 'users', ids: await readUsersFile(flags['users-file']) }
            : { kind: 'all-users' };
    const clients = await this.clients();

    let job: BatchJobView;
    let inputUri: string | null = null;
    let inputLines: number | null = null;
    if (flags.arn !== undefined) {
      job = await describeBatchJob(clients, flags.arn);
    } else {
      const solutionVersionArn =
        flags['solution-version'] ??
        (input.kind === 'items'
          ? (await requireLatestSimilarItemsVersion(clients, this.settings)).arn
          : (await requireLatestActiveVersion(clients, this.settings)).version.arn);
      const started = await startBatchJob(clients, this.settings, {
        input,
        numResults: flags['num-results'],
        solutionVersionArn,
      });
      ({ job } = started);
      inputUri = started.inputUri;
      inputLines = started.inputLines;
      this.note(
        `Started batch job ${job.name}: ${formatCount(started.inputLines)} ${input.kind === 'items' ? 'item' : 'user'}${started.inputLines === 1 ? '' : 's'} from ${started.inputUri}.`,
      );
    }
    if (!flags.wait) {
      this.log(job.arn);
      return { job, input: inputUri, inputLines, output: null };
    }
    const started = Date.now();
    let spinner: Spinner | undefined;
    try {
      spinner = await startSpinner(`batch job ${job.name}: ${job.status}`, this.uiOptions);
      job = await waitForBatchJob(clients, job.arn, {
        timeoutSeconds: flags.timeout,
        onStatus: (current, elapsed) => {
          if (current.status !== 'ACTIVE' && current.status !== 'CREATE FAILED')
            spinner?.update(`batch job ${current.name}: ${current.status} (${formatDuration(elapsed)})`);
        },
      });
      spinner.succeed(`batch job ${job.name}: ${job.status} in ${formatDuration(Date.now() - started)}`);
    } catch (error) {
      spinner?.fail(
        error instanceof MlpipeError && (error.code === 'TIMED_OUT' || error.code === 'INTERRUPTED')
          ? `batch job ${job.name}: still running; it goes on (re-attach with --arn)`
          : `batch job ${job.name}: failed`,
      );
      throw error;
    }
    const output = await summarizeOutput(clients, job);
    this.log(
      `Output:   ${job.outputPath} (${output.files.length} file${output.files.length === 1 ? '' : 's'})`,
    );
    this.log(
      `Lines:    ${formatCount(output.records)}, ${formatCount(output.errorLines)} error${output.errorLines === 1 ? '' : 's'}`,
    );
    this.log(`Version:  ${job.solutionVersionArn}`);
    for (const record of output.first) {
      const who = Object.entries(record.input ?? {})
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ');
      const items = record.output?.recommendedItems ?? record.output?.itemList?.map((i) => i.itemId) ?? [];
      this.log(
        record.error
          ? `  ${who}: error: ${record.error}`
          : `  ${who}: ${items.slice(0, 8).join(', ')}${items.length > 8 ? ', …' : ''}`,
      );
    }
    const first = output.first[0]?.input ?? {};
    if ('userId' in first)
      this.note(`See one user's with titles: \`mlpipe show-recs --user ${String(first.userId)}\`.`);
    else if ('itemId' in first)
      this.note(`See one item's with titles: \`mlpipe show-recs --item ${String(first.itemId)}\`.`);
    return { job, input: inputUri, inputLines, output };
  }
}
