import { Flags } from '@oclif/core';
import { prose } from '../lib/cli/prose.js';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { DEFAULT_ITEMS_SPEC } from '../etl/items-names.js';
import { MlpipeError, usageError } from '../lib/cli/errors.js';
import {
  beginImport,
  describeImport,
  isImportRunning,
  waitForImport,
  type DatasetKind,
  type ImportJobView,
  type ImportMode,
  type PreparedItems,
} from '../lib/personalize/imports.js';
import { parseS3Uri } from '../lib/data/lake.js';
import { formatCount, formatDuration, startSpinner, type Spinner } from '../lib/cli/ui.js';

export interface ImportResult {
  job: ImportJobView;
  attached: boolean;
  items: PreparedItems | null;
  elapsedSeconds: number | null;
}

export default class Import extends MlpipeCommand<typeof Import> {
  static override summary = 'Import the transformed interactions (or item metadata) into Personalize.';
  static override description = prose`Starts a Personalize dataset import job for the interactions dataset of the Personalize stack
(default data: the lake's transformed/ prefix, which \`mlpipe run-etl\` writes) and waits for it with a
spinner; on ACTIVE it prints a summary, on CREATE FAILED the failure reason (exit 3). If the same import
(same data and mode) is already running, it attaches to that one; while an import of other data
runs, it refuses and names the running job.
--no-wait prints the job ARN at once; --arn re-attaches to a job.

--dataset items imports movie metadata into the Items dataset: the catalogue file (raw/movies.dat
or raw/movies.csv, which \`mlpipe upload-raw\` uploads beside the ratings, or a local file given with
--items) is converted with an items spec (glue/mappings/items/; chosen by the file's name unless
--items-spec says) into items/items.csv first. --data imports a CSV that is
already in Personalize's format, as is.`;
  static override examples = [
    '<%= config.bin %> import',
    '<%= config.bin %> import --mode incremental --data s3://mlpipe-datalake/transformed/2026-11/',
    '<%= config.bin %> import --no-wait',
    '<%= config.bin %> import --arn arn:aws:personalize:us-east-1:000000000000:dataset-import-job/…',
    '<%= config.bin %> import --dataset items',
    '<%= config.bin %> import --items data/movies.dat',
    '<%= config.bin %> import --items ml-latest-small/movies.csv',
    '<%= config.bin %> import --items catalogue.tsv --items-spec ./my-items-spec.json',
  ];
  static override flags = {
    dataset: Flags.string({
      description: 'Which dataset to import into.',
      options: ['interactions', 'items'],
      default: 'interactions',
    }),
    data: Flags.string({
      description:
        'S3 URI of a CSV file, or a folder ending in "/" (every CSV in it, not sub-folders) [default: the lake\'s transformed/ (interactions) or items/ (items) prefix].',
    }),
    mode: Flags.string({
      description: "full replaces the dataset's data; incremental appends (after a full import).",
      options: ['full', 'incremental'],
      default: 'full',
    }),
    wait: Flags.boolean({
      description: 'Wait for the import to end (--no-wait prints the job ARN at once).',
      default: true,
      allowNo: true,
    }),
    arn: Flags.string({
      description: 'Re-attach to (or show) this import job instead of starting one.',
    }),
    items: Flags.string({
      description:
        'Local catalogue file (e.g. data/movies.dat) to convert and import into the Items dataset.',
    }),
    'items-spec': Flags.string({
      description: `Items spec (name in glue/mappings/items/, or a .json path) that reads the catalogue [default: by file name: movies.csv → ml-latest-small-movies, otherwise ${DEFAULT_ITEMS_SPEC}].`,
    }),
    'job-name': Flags.string({
      description: 'Name of the import job [default: <project>-<dataset>-<time>-<random>].',
    }),
    timeout: Flags.integer({
      description: 'Seconds to wait before giving up (exit 4; the import goes on).',
      min: 1,
    }),
  };

  async run(): Promise<ImportResult> {
    const { flags } = this;
    const given = (name: string): boolean =>
      this.argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
    const kind: DatasetKind = flags.items !== undefined ? 'items' : (flags.dataset as DatasetKind);
    if (flags.arn !== undefined) {
      const others = ['dataset', 'data', 'mode', 'items', 'items-spec', 'job-name'].filter(given);
      if (others.length > 0)
        throw usageError(
          `--arn attaches to an existing import; it cannot be combined with ${others.map((o) => `--${o}`).join(', ')}.`,
          [],
          'BAD_FLAGS',
        );
    }
    if (flags.data !== undefined && (flags.items !== undefined || flags['items-spec'] !== undefined))
      throw usageError(
        "--data imports a CSV already in Personalize's format; --items and --items-spec convert a catalogue. Use one or the other.",
        [],
        'BAD_FLAGS',
      );
    if (flags.items !== undefined && flags.dataset === 'interactions' && given('dataset'))
      throw usageError(
        '--items imports into the Items dataset; leave out --dataset interactions.',
        [],
        'BAD_FLAGS',
      );
    if (
      flags.mode === 'incremental' &&
      flags.arn === undefined &&
      flags.data === undefined &&
      kind === 'interactions'
    )
      throw usageError(
        `An incremental import appends the data it is given; the default, the lake's ${this.settings.prefixes.transformed.value} prefix, holds everything the ETL wrote, so appending it would repeat interactions already imported.`,
        [
          'Give the new interactions with --data, e.g. --data s3://<bucket>/transformed/2026-11/, or run a full import.',
        ],
        'INCREMENTAL_NEEDS_DATA',
      );
    if (flags['items-spec'] !== undefined && kind !== 'items')
      throw usageError(
        '--items-spec applies to item metadata: add --dataset items or --items FILE.',
        [],
        'BAD_FLAGS',
      );
    if (flags.data !== undefined) parseS3Uri(flags.data); // refuse a bad URI before connecting
    const mode = flags.mode.toUpperCase() as ImportMode;
    const clients = await this.clients();

    let job: ImportJobView;
    let attached = true;
    let items: PreparedItems | null = null;
    if (flags.arn !== undefined) {
      job = await describeImport(clients, flags.arn);
    } else {
      ({ job, attached, items } = await beginImport(
        clients,
        this.settings,
        {
          kind,
          mode,
          ...(flags.data === undefined ? {} : { data: flags.data }),
          ...(flags.items === undefined ? {} : { itemsFile: flags.items }),
          ...(flags['items-spec'] === undefined ? {} : { itemsSpec: flags['items-spec'] }),
          ...(flags['job-name'] === undefined ? {} : { jobName: flags['job-name'] }),
        },
        (converted) => {
          this.note(
            `Converted ${converted.source} with items spec ${converted.spec}: ${formatCount(converted.rows)} items → ${converted.uri}`,
          );
          for (const list of converted.lists)
            if (list.source === null)
              this.notice(
                `No ${list.file} beside ${converted.source}: ${list.field} stays empty (upload it with the catalogue, or put it beside --items).`,
              );
        },
      ));
      if (attached)
        this.notice(
          `The same import is already running: ${job.name} (${job.status}); attaching to it instead of starting another.`,
        );
      else this.note(`Started import ${job.name} (${job.mode}) from ${job.dataLocation ?? '-'}.`);
    }

    if (!flags.wait) {
      this.log(job.arn);
      return { job, attached, items, elapsedSeconds: null };
    }
    const started = Date.now();
    let spinner: Spinner | undefined;
    try {
      spinner = await startSpinner(`import ${job.name}: ${job.status}`, this.uiOptions);
      job = await waitForImport(clients, job.arn, {
        timeoutSeconds: flags.timeout,
        // The end state is said once, by succeed/fail below.
        onStatus: (current, elapsed) => {
          if (isImportRunning(current.status))
            spinner?.update(`import ${current.name}: ${current.status} (${formatDuration(elapsed)})`);
        },
      });
      spinner.succeed(`import ${job.name}: ${job.status} in ${formatDuration(Date.now() - started)}`);
    } catch (error) {
      const current = job;
      spinner?.fail(
        error instanceof MlpipeError && (error.code === 'TIMED_OUT' || error.code === 'INTERRUPTED')
          ? `import ${current.name}: still running; it goes on (re-attach with --arn)`
          : `import ${current.name}: not imported`,
      );
      throw error;
    }
    this.log(`Dataset:  ${job.datasetArn}`);
    this.log(`Data:     ${job.dataLocation ?? '-'}`);
    this.log(`Mode:     ${job.mode}`);
    if (items !== null) {
      const empty = Object.entries(items.nulls)
        .filter(([, n]) => n > 0)
        .map(([column, n]) => `${column} ${formatCount(n)}`);
      this.log(
        `Items:    ${formatCount(items.rows)} from ${items.source} (columns ${items.columns.join(', ')}${empty.length > 0 ? `; empty: ${empty.join(', ')}` : ''})`,
      );
    }
    const took =
      job.created !== null && job.updated !== null
        ? (Date.parse(job.updated) - Date.parse(job.created)) / 1000
        : null;
    if (took !== null)
      this.log(`Job time: ${formatDuration(took * 1000)} (created ${job.created?.slice(0, 19)}Z)`);
    return { job, attached, items, elapsedSeconds: took };
  }
}
