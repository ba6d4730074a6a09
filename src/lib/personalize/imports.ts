/**
 * Personalize dataset imports: which dataset (from the Personalize stack's outputs), which data
 * (the lake's transformed/ prefix for interactions, items/ for item metadata), starting a job with a
 * unique name — or attaching to the one already running for the dataset — and waiting for it.
 * Item metadata is first converted from the catalogue file with an items spec (src/etl/items.ts).
 * Everything goes through the Personalize and S3 APIs, so it is the same on both targets.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetImportJob, DatasetImportJobSummary } from '@aws-sdk/client-personalize';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { ExitCode, MlpipeError, translateAwsError, usageError } from '../cli/errors.js';
import { parseS3Uri, s3Uri } from '../data/lake.js';
import { PACKAGE_ROOT, requireStackOutputs } from '../infra/stacks.js';
import { pollIntervals, waitFor } from '../cli/wait.js';
import { DEFAULT_ITEMS_SPEC } from '../../etl/items-names.js';
import type { ItemsConversion } from '../../etl/items.js';

export type DatasetKind = 'interactions' | 'items';
export type ImportMode = 'FULL' | 'INCREMENTAL';

export interface ImportJobView {
  arn: string;
  name: string;
  datasetArn: string;
  status: string;
  mode: string;
  dataLocation: string | null;
  failureReason: string | null;
  created: string | null;
  updated: string | null;
}

const IN_FLIGHT = new Set(['CREATE PENDING', 'CREATE IN_PROGRESS']);
const TERMINAL = new Set(['ACTIVE', 'CREATE FAILED']);

export function isImportRunning(status: string): boolean {
  return IN_FLIGHT.has(status);
}

function view(job: DatasetImportJob | DatasetImportJobSummary, datasetArn?: string): ImportJobView {
  const full = job as DatasetImportJob;
  return {
    arn: job.datasetImportJobArn ?? '',
    name: job.jobName ?? '',
    datasetArn: full.datasetArn ?? datasetArn ?? '',
    status: job.status ?? 'UNKNOWN',
    mode: job.importMode ?? 'FULL',
    dataLocation: full.dataSource?.dataLocation ?? null,
    failureReason: job.failureReason ?? null,
    created: job.creationDateTime?.toISOString() ?? null,
    updated: job.lastUpdatedDateTime?.toISOString() ?? null,
  };
}

export interface PersonalizeTargets {
  datasetGroupArn: string;
  interactionsDatasetArn: string;
  itemsDatasetArn: string | undefined;
  roleArn: string;
  bucket: string;
}

/** The dataset ARNs and role from the Personalize stack, and the lake bucket from the data-lake stack. */
export async function personalizeTargets(clients: Clients, settings: Settings): Promise<PersonalizeTargets> {
  const outputs = await requireStackOutputs(clients, settings, 'personalize');
  const lake = await requireStackOutputs(clients, settings, 'datalake');
  const need = (value: string | undefined, key: string, stack: string): string => {
    if (value === undefined)
      throw new MlpipeError(`Stack ${stack} has no ${key} output.`, {
        code: 'STACK_OUTPUT_MISSING',
        suggestions: [`Deploy it again: \`mlpipe deploy\`.`],
      });
    return value;
  };
  const stack = settings.stacks.personalize.value;
  return {
    datasetGroupArn: need(outputs.DatasetGroupArn, 'DatasetGroupArn', stack),
    interactionsDatasetArn: need(outputs.InteractionsDatasetArn, 'InteractionsDatasetArn', stack),
    itemsDatasetArn: outputs.ItemsDatasetArn,
    roleArn: need(outputs.PersonalizeRoleArn, 'PersonalizeRoleArn', stack),
    bucket: need(lake.BucketName, 'BucketName', settings.stacks.datalake.value),
  };
}

export function datasetArnFor(targets: PersonalizeTargets, kind: DatasetKind, settings: Settings): string {
  if (kind === 'interactions') return targets.interactionsDatasetArn;
  if (targets.itemsDatasetArn === undefined)
    throw new MlpipeError(
      `The Personalize stack ${settings.stacks.personalize.value} has no Items dataset.`,
      {
        code: 'NO_ITEMS_DATASET',
        suggestions: [
          'Deploy it with the Items dataset: `mlpipe deploy --stack personalize --parameter CreateItemsDataset=true`.',
        ],
      },
    );
  return targets.itemsDatasetArn;
}

/** Where an import reads from when --data is not given. */
export function defaultDataLocation(
  targets: PersonalizeTargets,
  settings: Settings,
  kind: DatasetKind,
): string {
  const prefix =
    kind === 'interactions' ? settings.prefixes.transformed.value : settings.prefixes.items.value;
  return s3Uri({ bucket: targets.bucket, key: prefix });
}

/** A job name no earlier import used: `<project>-<kind>-<UTC time>-<random>`, at most 63 characters. */
export function uniqueJobName(settings: Settings, kind: DatasetKind, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const suffix = `-${kind}-${stamp}-${randomBytes(2).toString('hex')}`;
  return `${settings.project.value.slice(0, 63 - suffix.length)}${suffix}`;
}

/** Refuses a data location with nothing to import before a job is created for it. */
export async function requireCsvAt(clients: Clients, uri: string, hint: string): Promise<void> {
  const { bucket, key } = parseS3Uri(uri);
  const s3 = await clients.s3();
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const folder = key === '' || key.endsWith('/');
  let token: string | undefined;
  do {
    const listed = await s3
      .send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: key,
          ...(folder ? {} : { MaxKeys: 1 }),
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      )
      .catch((error: unknown) => {
        throw translateAwsError(error, `Looking for data at ${uri}`);
      });
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
    // A folder's own CSV files count; Personalize does not import sub-folders.
    const csvInFolder = (k: string): boolean =>
      k.toLowerCase().endsWith('.csv') && !k.slice(key.length).includes('/');
    if (folder ? keys.some(csvInFolder) : keys.includes(key)) return;
    token = folder && listed.IsTruncated ? listed.NextContinuationToken : undefined;
  } while (token !== undefined);
  throw new MlpipeError(`There is no CSV to import at ${uri}.`, {
    code: 'NO_IMPORT_DATA',
    suggestions: [hint],
  });
}

export async function describeImport(clients: Clients, arn: string): Promise<ImportJobView> {
  const personalize = await clients.personalize();
  const { DescribeDatasetImportJobCommand } = await import('@aws-sdk/client-personalize');
  try {
    const job = (await personalize.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn: arn })))
      .datasetImportJob;
    return view(job ?? { datasetImportJobArn: arn });
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException')
      throw new MlpipeError(`There is no dataset import job ${arn}.`, {
        code: 'IMPORT_NOT_FOUND',
        suggestions: ['See the imports: `mlpipe datasets`.'],
      });
    throw translateAwsError(error, `Describing import job ${arn}`);
  }
}

/** The dataset's import jobs, newest first. */
export async function listImports(clients: Clients, datasetArn: string): Promise<ImportJobView[]> {
  const personalize = await clients.personalize();
  const { ListDatasetImportJobsCommand } = await import('@aws-sdk/client-personalize');
  const jobs: ImportJobView[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await personalize.send(
        new ListDatasetImportJobsCommand({ datasetArn, maxResults: 100, nextToken }),
      );
      for (const job of page.datasetImportJobs ?? []) jobs.push(view(job, datasetArn));
      nextToken = page.nextToken;
    } while (nextToken !== undefined && jobs.length < 1000);
  } catch (error) {
    throw translateAwsError(error, `Listing the import jobs of ${datasetArn}`);
  }
  return jobs.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
}

export interface StartImportOptions {
  kind: DatasetKind;
  dataLocation: string;
  mode: ImportMode;
  jobName?: string;
}

/** The import running (pending or in progress) for the dataset, if any. */
export async function runningImport(
  clients: Clients,
  datasetArn: string,
): Promise<ImportJobView | undefined> {
  const running = (await listImports(clients, datasetArn)).find((job) => isImportRunning(job.status));
  return running === undefined ? undefined : describeImport(clients, running.arn);
}

/** The refusal when another import runs for the dataset and this one cannot simply wait for it. */
export function importRunningError(running: ImportJobView): MlpipeError {
  return new MlpipeError(
    `Another import into this dataset is running: ${running.name} (${running.status}, ${running.mode} from ${running.dataLocation ?? '?'}). Nothing was started or changed.`,
    {
      code: 'IMPORT_RUNNING',
      suggestions: [`Wait for it with \`mlpipe import --arn ${running.arn}\`, then run this import again.`],
    },
  );
}

/**
 * Starts an import. When one is already running for the dataset with the same data and mode (and
 * no job name was asked for), returns that one (`attached: true`) instead: a second would only
 * repeat it. A running import of anything else is an IMPORT_RUNNING error.
 */
export async function startImport(
  clients: Clients,
  settings: Settings,
  targets: PersonalizeTargets,
  options: StartImportOptions,
): Promise<{ job: ImportJobView; attached: boolean }> {
  const datasetArn = datasetArnFor(targets, options.kind, settings);
  const running = await runningImport(clients, datasetArn);
  if (running !== undefined) {
    if (
      options.jobName === undefined &&
      running.dataLocation === options.dataLocation &&
      running.mode === options.mode
    )
      return { job: running, attached: true };
    throw importRunningError(running);
  }
  const personalize = await clients.personalize();
  const { CreateDatasetImportJobCommand } = await import('@aws-sdk/client-personalize');
  const jobName = options.jobName ?? uniqueJobName(settings, options.kind);
  let arn: string | undefined;
  try {
    arn = (
      await personalize.send(
        new CreateDatasetImportJobCommand({
          jobName,
          datasetArn,
          dataSource: { dataLocation: options.dataLocation },
          roleArn: targets.roleArn,
          importMode: options.mode,
        }),
      )
    ).datasetImportJobArn;
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (
      e.name === 'InvalidInputException' &&
      options.mode === 'INCREMENTAL' &&
      /INCREMENTAL/.test(e.message ?? '')
    )
      throw usageError(
        `An incremental import needs a completed full import first: ${e.message}`,
        ['Run a full import: `mlpipe import --mode full`.'],
        'INCREMENTAL_BEFORE_FULL',
      );
    if (e.name === 'LimitExceededException')
      throw new MlpipeError(`Personalize refused another import: ${e.message}`, {
        code: 'IMPORT_LIMIT',
        suggestions: ['Wait for running imports to finish (`mlpipe datasets`), then try again.'],
      });
    if (e.name === 'ResourceAlreadyExistsException')
      throw usageError(
        `An import job named ${jobName} already exists.`,
        ['Choose another --job-name.'],
        'JOB_NAME_TAKEN',
      );
    throw translateAwsError(error, `Starting import ${jobName}`);
  }
  return { job: await describeImport(clients, arn ?? ''), attached: false };
}

export interface ImportRequest {
  kind: DatasetKind;
  mode: ImportMode;
  /** S3 URI of a CSV (or folder) already in Personalize's format; default: the kind's lake prefix. */
  data?: string;
  /** Items: a local catalogue file to convert (default: the catalogue in the lake's raw prefix). */
  itemsFile?: string;
  itemsSpec?: string;
  jobName?: string;
}

/**
 * What `mlpipe import` starts: the dataset and role from the stacks, the data (for item metadata
 * without `data`, the catalogue converted to items.csv first — never while an import of the Items
 * dataset runs, as it may be reading that file), a check that there is a CSV to import, and the
 * job (or the same one already running).
 */
export async function beginImport(
  clients: Clients,
  settings: Settings,
  request: ImportRequest,
  onConverted: (items: PreparedItems) => void = () => undefined,
): Promise<{ job: ImportJobView; attached: boolean; items: PreparedItems | null }> {
  const targets = await personalizeTargets(clients, settings);
  let dataLocation = request.data ?? defaultDataLocation(targets, settings, request.kind);
  let items: PreparedItems | null = null;
  if (request.kind === 'items' && request.data === undefined) {
    const running = await runningImport(clients, datasetArnFor(targets, 'items', settings));
    if (running !== undefined) throw importRunningError(running);
    items = await prepareItems(clients, settings, targets, {
      ...(request.itemsFile === undefined ? {} : { file: request.itemsFile }),
      ...(request.itemsSpec === undefined ? {} : { specName: request.itemsSpec }),
    });
    onConverted(items);
    dataLocation = items.uri;
  } else {
    await requireCsvAt(
      clients,
      dataLocation,
      request.kind === 'interactions'
        ? 'Run the ETL first: `mlpipe run-etl` writes the interactions CSV there.'
        : 'Import item metadata from the catalogue instead: `mlpipe import --dataset items`.',
    );
  }
  const started = await startImport(clients, settings, targets, {
    kind: request.kind,
    dataLocation,
    mode: request.mode,
    ...(request.jobName === undefined ? {} : { jobName: request.jobName }),
  });
  return { ...started, items };
}

/** Waits for an import to end; CREATE FAILED is an error with exit code 3 and the failure reason. */
export async function waitForImport(
  clients: Clients,
  arn: string,
  options: { onStatus?: (job: ImportJobView, elapsedMs: number) => void; timeoutSeconds?: number },
): Promise<ImportJobView> {
  const job = await waitFor({
    what: `import job ${arn}`,
    poll: () => describeImport(clients, arn),
    done: (j) => TERMINAL.has(j.status),
    onPoll: (j, elapsed) => options.onStatus?.(j, elapsed),
    ...pollIntervals(clients.connection.target),
    timeoutMs: (options.timeoutSeconds ?? 24 * 3600) * 1000,
    reattach: `The import goes on; re-attach with \`mlpipe import --arn ${arn}\`.`,
  });
  if (job.status !== 'ACTIVE') {
    throw new MlpipeError(`Import ${job.name} failed: ${job.failureReason ?? 'no reason given'}`, {
      exit: ExitCode.jobFailed,
      code: 'IMPORT_FAILED',
      suggestions: [
        'The dataset keeps the data of its last successful import.',
        `Fix the data at ${job.dataLocation ?? 'the data location'} and run \`mlpipe import\` again.`,
      ],
    });
  }
  return job;
}

export interface PreparedItems extends ItemsConversion {
  /** The catalogue file read (a local path or s3:// URI). */
  source: string;
  /** The spec's list files (e.g. movie_genres.dat for GENRES): read from beside the catalogue, or not there. */
  lists: Array<{ field: string; file: string; source: string | null }>;
  /** Where the Items CSV was written. */
  uri: string;
  spec: string;
}

/**
 * The catalogue files `upload-raw` puts beside the ratings, in the order they are looked for in the
 * lake's raw prefix, with the items spec that reads each.
 */
export const CATALOGUES: readonly { file: string; spec: string }[] = [
  { file: 'movies.dat', spec: 'hetrec2011-movies' },
  { file: 'movies.csv', spec: 'ml-latest-small-movies' },
];

/** The items spec for a catalogue file when none is given: by its name, else hetrec's. */
export function defaultItemsSpec(file: string): string {
  const base = path.basename(file).toLowerCase();
  return (
    CATALOGUES.find((c) => c.file === base)?.spec ??
    (base.endsWith('.csv') ? 'ml-latest-small-movies' : DEFAULT_ITEMS_SPEC)
  );
}

/**
 * Converts the catalogue (a local file, or the one `upload-raw` put in the lake's raw prefix) with
 * an items spec (given, or chosen by the file's name) into the Items dataset's CSV and writes it to
 * `<items prefix>items.csv`. Nothing is written unless every line converts.
 */
export async function prepareItems(
  clients: Clients,
  settings: Settings,
  targets: PersonalizeTargets,
  options: { file?: string; specName?: string },
): Promise<PreparedItems> {
  // The items spec parser (and zod with it) loads only when items are converted.
  const { convertItems, itemsFieldsOf, loadItemsSpec } = await import('../../etl/items.js');
  const fields = itemsFieldsOf(await itemsSchema(clients, datasetArnFor(targets, 'items', settings)));
  const s3 = await clients.s3();
  const { GetObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  let content: Buffer | undefined;
  let source: string;
  if (options.file !== undefined) {
    source = options.file;
    try {
      content = await readFile(options.file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw usageError(
        `Cannot read the items file ${options.file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}.`,
        ['Give the catalogue file, e.g. --items data/movies.dat (`mlpipe sample-data` writes one).'],
        'FILE_NOT_FOUND',
      );
    }
  } else {
    const raw = settings.prefixes.raw.value;
    source = s3Uri({ bucket: targets.bucket, key: `${raw}${CATALOGUES[0]!.file}` });
    for (const catalogue of CATALOGUES) {
      const uri = s3Uri({ bucket: targets.bucket, key: `${raw}${catalogue.file}` });
      try {
        const object = await s3.send(
          new GetObjectCommand({ Bucket: targets.bucket, Key: `${raw}${catalogue.file}` }),
        );
        content = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
        source = uri;
        break;
      } catch (error) {
        if ((error as { name?: string }).name !== 'NoSuchKey')
          throw translateAwsError(error, `Reading ${uri}`);
      }
    }
    if (content === undefined)
      throw new MlpipeError(
        `There is no items file in s3://${targets.bucket}/${raw} (looked for ${CATALOGUES.map((c) => c.file).join(', ')}).`,
        {
          code: 'NO_ITEMS_FILE',
          suggestions: [
            '`mlpipe upload-raw` uploads movies.dat beside the ratings file; or convert a local file: --items data/movies.dat.',
          ],
        },
      );
  }
  const { spec } = await loadItemsSpec(options.specName ?? defaultItemsSpec(source), {
    projectDir: settings.projectDir,
    packageRoot: PACKAGE_ROOT,
  });
  // List files (hetrec's movie_genres.dat) are looked for beside the catalogue, where hetrec has them.
  const listFiles: Record<string, Buffer> = {};
  const lists: PreparedItems['lists'] = [];
  for (const list of spec.lists) {
    let found: string | null = null;
    if (options.file !== undefined) {
      const beside = path.join(path.dirname(options.file), list.file);
      if (existsSync(beside)) {
        listFiles[list.file] = await readFile(beside);
        found = beside;
      }
    } else {
      const key = `${parseS3Uri(source).key.replace(/[^/]*$/, '')}${list.file}`;
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: targets.bucket, Key: key }));
        listFiles[list.file] = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
        found = s3Uri({ bucket: targets.bucket, key });
      } catch (error) {
        if ((error as { name?: string }).name !== 'NoSuchKey')
          throw translateAwsError(error, `Reading ${s3Uri({ bucket: targets.bucket, key })}`);
      }
    }
    lists.push({ field: list.to, file: list.file, source: found });
  }
  const converted = convertItems(content, path.basename(source), spec, fields, listFiles);
  const key = `${settings.prefixes.items.value}items.csv`;
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: targets.bucket,
        Key: key,
        Body: converted.csv,
        ContentType: 'text/csv',
      }),
    );
  } catch (error) {
    throw translateAwsError(error, `Writing s3://${targets.bucket}/${key}`);
  }
  return { ...converted, source, lists, uri: s3Uri({ bucket: targets.bucket, key }), spec: spec.name };
}

async function itemsSchema(clients: Clients, datasetArn: string): Promise<string> {
  const personalize = await clients.personalize();
  const { DescribeDatasetCommand, DescribeSchemaCommand } = await import('@aws-sdk/client-personalize');
  try {
    const dataset = (await personalize.send(new DescribeDatasetCommand({ datasetArn }))).dataset;
    const schema = (await personalize.send(new DescribeSchemaCommand({ schemaArn: dataset?.schemaArn })))
      .schema;
    return schema?.schema ?? '{}';
  } catch (error) {
    throw translateAwsError(error, `Reading the schema of ${datasetArn}`);
  }
}

export interface DatasetView {
  datasetGroup: string;
  datasetGroupArn: string;
  name: string;
  arn: string;
  type: string;
  status: string;
  updated: string | null;
  latestImport: ImportJobView | null;
}

export interface DatasetGroupView {
  name: string;
  arn: string;
  status: string;
  datasets: DatasetView[];
}

/** Every dataset group in the account and region, its datasets and each dataset's latest import. */
export async function listDatasetGroups(clients: Clients): Promise<DatasetGroupView[]> {
  const personalize = await clients.personalize();
  const { ListDatasetGroupsCommand, ListDatasetsCommand } = await import('@aws-sdk/client-personalize');
  try {
    const groups: DatasetGroupView[] = [];
    let token: string | undefined;
    do {
      const page = await personalize.send(
        new ListDatasetGroupsCommand({ maxResults: 100, nextToken: token }),
      );
      for (const group of page.datasetGroups ?? [])
        groups.push({
          name: group.name ?? '',
          arn: group.datasetGroupArn ?? '',
          status: group.status ?? '',
          datasets: [],
        });
      token = page.nextToken;
    } while (token !== undefined);
    for (const group of groups) {
      let next: string | undefined;
      do {
        const page = await personalize.send(
          new ListDatasetsCommand({ datasetGroupArn: group.arn, maxResults: 100, nextToken: next }),
        );
        for (const d of page.datasets ?? []) {
          const latest = (await listImports(clients, d.datasetArn ?? ''))[0] ?? null;
          group.datasets.push({
            datasetGroup: group.name,
            datasetGroupArn: group.arn,
            name: d.name ?? '',
            arn: d.datasetArn ?? '',
            type: d.datasetType ?? '',
            status: d.status ?? '',
            updated: d.lastUpdatedDateTime?.toISOString() ?? null,
            latestImport: latest,
          });
        }
        next = page.nextToken;
      } while (next !== undefined);
      group.datasets.sort((a, b) => a.type.localeCompare(b.type));
    }
    return groups.sort((a, b) => a.name.localeCompare(b.name));
  } catch (error) {
    throw translateAwsError(error, 'Listing Personalize datasets');
  }
}
