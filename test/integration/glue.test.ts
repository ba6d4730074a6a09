// Glue jobs and job runs in the local stack, driven by the real GlueClient and S3Client.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  BatchStopJobRunCommand,
  CreateJobCommand,
  DeleteJobCommand,
  GetJobCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  GetJobsCommand,
  GlueClient,
  StartJobRunCommand,
  UpdateJobCommand,
  type GetJobRunsCommandOutput,
  type JobRun,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadMappingSpec, runEtl } from '../../src/etl/index.js';
import { Clients } from '../../src/lib/cli/clients.js';
import { etlProgressReader } from '../../src/lib/etl/log-stream.js';
import { readRunLog } from '../helpers/logs.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { sdkError } from '../helpers/sdk.js';

const BUCKET = 'lake';
const SPEC_KEY = 'glue_scripts/mappings/hetrec2011-user-ratedmovies-timestamps.json';
const RAW_KEY = 'raw/hetrec/user_ratedmovies-timestamps.dat';
const OUT = `s3://${BUCKET}/curated/interactions/`;
const COMMA_INPUT = 'userID,movieID,rating,timestamp\n1,2,3,1100000000000\n';
const BASE_MS = Date.UTC(2005, 0, 1);

/** A hetrec2011-style file: TAB, header, ms timestamps, rows distinct. */
function hetrec(rows: number, users = 50): string {
  const lines = ['userID\tmovieID\trating\ttimestamp'];
  for (let i = 0; i < rows; i++) {
    lines.push(`${i % users}\t${1000 + i}\t${(i % 10) / 2 + 0.5}\t${BASE_MS + i * 1000}`);
  }
  return lines.join('\r\n') + '\r\n';
}

describe('local stack Glue', () => {
  let stack: TestStack;
  let glue: GlueClient;
  let s3: S3Client;

  const put = (key: string, body: string): Promise<unknown> =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const get = async (key: string): Promise<string> =>
    (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();

  async function waitRun(jobName: string, runId: string): Promise<JobRun> {
    for (let i = 0; i < 400; i++) {
      const { JobRun } = await glue.send(new GetJobRunCommand({ JobName: jobName, RunId: runId }));
      if (!['STARTING', 'RUNNING', 'STOPPING'].includes(JobRun!.JobRunState!)) return JobRun!;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail('run did not finish');
  }

  function connect(): void {
    glue = new GlueClient(sdkConfig(stack));
    s3 = new S3Client(sdkConfig(stack));
  }

  before(async () => {
    stack = await startTestStack();
    connect();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await put(SPEC_KEY, await readFile('glue/mappings/hetrec2011-user-ratedmovies-timestamps.json', 'utf8'));
    await put(RAW_KEY, hetrec(3000));
    await glue.send(
      new CreateJobCommand({
        Name: 'etl',
        Role: 'arn:aws:iam::000000000000:role/glue',
        Command: {
          Name: 'glueetl',
          ScriptLocation: `s3://${BUCKET}/glue_scripts/interactions_etl.py`,
          PythonVersion: '3',
        },
        GlueVersion: '4.0',
        WorkerType: 'G.1X',
        NumberOfWorkers: 2,
        DefaultArguments: {
          '--input_path': `s3://${BUCKET}/${RAW_KEY}`,
          '--output_path': OUT,
          '--spec_path': `s3://${BUCKET}/${SPEC_KEY}`,
        },
      }),
    );
  });
  after(async () => {
    await stack.stop();
  });

  it('creates, reads and updates a job; a duplicate name is AlreadyExistsException', async () => {
    const { Job } = await glue.send(new GetJobCommand({ JobName: 'etl' }));
    assert.equal(Job!.Name, 'etl');
    assert.equal(Job!.ExecutionProperty!.MaxConcurrentRuns, 1);
    assert.equal(Job!.GlueVersion, '4.0');
    assert.equal(Job!.Command!.Name, 'glueetl');
    assert.ok(Job!.CreatedOn instanceof Date);
    const dup = await sdkError(
      glue.send(new CreateJobCommand({ Name: 'etl', Role: 'r', Command: { Name: 'glueetl' } })),
    );
    assert.equal(dup.name, 'AlreadyExistsException');
    await glue.send(
      new UpdateJobCommand({
        JobName: 'etl',
        JobUpdate: { Description: 'updated', Role: 'r2', Command: { Name: 'glueetl' } },
      }),
    );
    const updated = (await glue.send(new GetJobCommand({ JobName: 'etl' }))).Job!;
    assert.equal(updated.Description, 'updated');
    assert.equal(updated.Role, 'r2');
  });

  it('missing jobs are EntityNotFoundException; DeleteJob is idempotent', async () => {
    assert.equal(
      (await sdkError(glue.send(new GetJobCommand({ JobName: 'nope' })))).name,
      'EntityNotFoundException',
    );
    assert.equal(
      (await sdkError(glue.send(new StartJobRunCommand({ JobName: 'nope' })))).name,
      'EntityNotFoundException',
    );
    assert.deepEqual((await glue.send(new DeleteJobCommand({ JobName: 'nope' }))).JobName, 'nope');
  });

  let firstOutput = '';

  it('runs the ETL: STARTING → RUNNING → SUCCEEDED, output CSV in seconds, report beside it', async () => {
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: 'etl' }));
    assert.match(JobRunId!, /^jr_[0-9a-f]{64}$/);
    const run = await waitRun('etl', JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    assert.equal(run.Attempt, 0);
    assert.equal(run.GlueVersion, '4.0');
    assert.ok(run.CompletedOn instanceof Date);
    assert.equal(typeof run.ExecutionTime, 'number');
    const csv = await get('curated/interactions/interactions.csv');
    const lines = csv.trimEnd().split(/\r?\n/);
    assert.equal(lines[0], 'USER_ID,ITEM_ID,TIMESTAMP');
    assert.equal(lines.length, 3001);
    assert.equal(lines[1], `0,1000,${BASE_MS / 1000}`);
    firstOutput = csv;
    const report = JSON.parse(await get(`curated/interactions_etl/${JobRunId}/report.json`)) as {
      state: string;
      report: { rowsRead: number; rowsWritten: number; rowsRejected: number; distinctUsers: number };
    };
    assert.equal(report.state, 'SUCCEEDED');
    assert.equal(report.report.rowsRead, 3000);
    assert.equal(report.report.rowsWritten, 3000);
    assert.equal(report.report.rowsRejected, 0);
    assert.equal(report.report.distinctUsers, 50);
    const log = await readRunLog(stack, JobRunId!);
    assert.match(log!, /Rows read 3000, written 3000, rejected 0/);
    assert.match(log!, /Run ended SUCCEEDED/);
    assert.doesNotMatch(log!, /Worker thread unavailable/);
  });

  it('run Arguments override DefaultArguments', async () => {
    await put('raw/other.dat', hetrec(1200, 30));
    const { JobRunId } = await glue.send(
      new StartJobRunCommand({
        JobName: 'etl',
        Arguments: {
          '--input_path': `s3://${BUCKET}/raw/other.dat`,
          '--output_path': `s3://${BUCKET}/other/`,
          '--event_value': 'true',
          '--users_output_path': `s3://${BUCKET}/batch/users.jsonl`,
        },
      }),
    );
    const run = await waitRun('etl', JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    assert.equal(run.Arguments!['--event_value'], 'true');
    const csv = await get('other/interactions.csv');
    assert.equal(csv.split(/\r?\n/)[0], 'USER_ID,ITEM_ID,TIMESTAMP,EVENT_VALUE');
    const rows = csv.trimEnd().split(/\r?\n/).slice(1);
    assert.equal(rows.length, 1200);
    // The written rows' distinct users, first seen first, as batch inference input lines.
    const firstSeen = [...new Set(rows.map((row) => row.split(',')[0]!))];
    const users = await get('batch/users.jsonl');
    assert.equal(users, firstSeen.map((u) => `{"userId":"${u}"}\n`).join(''));
    assert.equal(firstSeen.length, 30);
    assert.match(
      (await readRunLog(stack, JobRunId!))!,
      /Users: s3:\/\/lake\/batch\/users\.jsonl \(30 users\)/,
    );
  });

  it('reads every object under an input prefix as one input and writes rejects beside the report', async () => {
    await put('raw/parts/', '');
    await put('raw/parts/a.dat', hetrec(600, 30));
    // The second part has its own header, a reject (empty user ID) and no final newline.
    const b = hetrec(600, 30).split('\r\n').slice(1, 601);
    b[0] = b[0]!.replace(/^\d+/, '').replace(/\t1000\t/, '\t9999\t');
    await put(
      'raw/parts/b.dat',
      [
        'userID\tmovieID\trating\ttimestamp',
        ...b.map((l) => l.replace(/\t(\d+)\t/, (_m, id: string) => `\t${Number(id) + 5000}\t`)),
      ].join('\n'),
    );
    const { JobRunId } = await glue.send(
      new StartJobRunCommand({
        JobName: 'etl',
        Arguments: {
          '--input_path': `s3://${BUCKET}/raw/parts/`,
          '--output_path': `s3://${BUCKET}/parts-out/`,
        },
      }),
    );
    const run = await waitRun('etl', JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const report = JSON.parse(await get(`parts-out_etl/${JobRunId}/report.json`)) as {
      inputObjects: number;
      rejects: string;
      report: { rowsRead: number; rowsWritten: number; rowsRejected: number };
    };
    assert.equal(report.inputObjects, 2);
    assert.equal(report.report.rowsRead, 1200);
    assert.equal(report.report.rowsRejected, 1);
    assert.equal(report.report.rowsWritten, 1199);
    assert.equal(report.rejects, `s3://${BUCKET}/parts-out_etl/${JobRunId}/rejects.csv`);
    assert.match(await get(`parts-out_etl/${JobRunId}/rejects.csv`), /USER_ID|user/i);
    assert.equal((await get('parts-out/interactions.csv')).trimEnd().split('\n').length, 1200);
  });

  it('a second run beyond MaxConcurrentRuns=1 is ConcurrentRunsExceededException', async () => {
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: 'etl' }));
    const error = await sdkError(glue.send(new StartJobRunCommand({ JobName: 'etl' })));
    assert.equal(error.name, 'ConcurrentRunsExceededException');
    assert.equal(error.message, 'Concurrent runs exceeded for etl');
    assert.equal((await waitRun('etl', JobRunId!)).JobRunState, 'SUCCEEDED');
  });

  it('a bad input fails with the engine message and leaves the previous output byte-identical', async () => {
    await put('raw/comma.csv', COMMA_INPUT);
    const { JobRunId } = await glue.send(
      new StartJobRunCommand({
        JobName: 'etl',
        Arguments: { '--input_path': `s3://${BUCKET}/raw/comma.csv` },
      }),
    );
    const run = await waitRun('etl', JobRunId!);
    assert.equal(run.JobRunState, 'FAILED');
    assert.match(run.ErrorMessage!, /separator|column/i);
    // Exactly what the engine says about this input (the spec label is the spec's S3 URI).
    const spec = loadMappingSpec(
      await readFile('glue/mappings/hetrec2011-user-ratedmovies-timestamps.json', 'utf8'),
      `s3://${BUCKET}/${SPEC_KEY}`,
    );
    const engineError = await runEtl(spec, Readable.from([Buffer.from(COMMA_INPUT)]), {
      output: () => {},
      rejects: () => {},
    }).then(
      () => assert.fail('the engine accepted a comma-separated file'),
      (error: Error) => error.message,
    );
    assert.equal(run.ErrorMessage, engineError);
    assert.ok(run.CompletedOn instanceof Date);
    assert.equal(await get('curated/interactions/interactions.csv'), firstOutput);
    const log = await readRunLog(stack, JobRunId!);
    assert.match(log!, /Run ended FAILED/);
  });

  it('missing input and missing arguments fail with a message naming them', async () => {
    const missing = await glue.send(
      new StartJobRunCommand({
        JobName: 'etl',
        Arguments: { '--input_path': `s3://${BUCKET}/raw/absent.dat` },
      }),
    );
    const run = await waitRun('etl', missing.JobRunId!);
    assert.equal(run.JobRunState, 'FAILED');
    assert.equal(
      run.ErrorMessage,
      `Input s3://${BUCKET}/raw/absent.dat not found: run \`mlpipe upload-raw\` first.`,
    );
    const noSpec = await glue.send(
      new StartJobRunCommand({ JobName: 'etl', Arguments: { '--spec_path': '' } }),
    );
    const run2 = await waitRun('etl', noSpec.JobRunId!);
    assert.equal(run2.JobRunState, 'FAILED');
    assert.match(run2.ErrorMessage!, /--spec_path/);
    const badThreshold = await glue.send(
      new StartJobRunCommand({ JobName: 'etl', Arguments: { '--reject_threshold': 'lots' } }),
    );
    assert.match((await waitRun('etl', badThreshold.JobRunId!)).ErrorMessage!, /--reject_threshold/);
  });

  it('BatchStopJobRun stops a running run; the previous output stays', async () => {
    await put('raw/big.dat', hetrec(400_000, 5000));
    const { JobRunId } = await glue.send(
      new StartJobRunCommand({ JobName: 'etl', Arguments: { '--input_path': `s3://${BUCKET}/raw/big.dat` } }),
    );
    const stop = await glue.send(
      new BatchStopJobRunCommand({ JobName: 'etl', JobRunIds: [JobRunId!, 'jr_missing'] }),
    );
    assert.deepEqual(stop.SuccessfulSubmissions, [{ JobName: 'etl', JobRunId }]);
    assert.equal(stop.Errors!.length, 1);
    assert.equal(stop.Errors![0]!.ErrorDetail!.ErrorCode, 'EntityNotFoundException');
    const run = await waitRun('etl', JobRunId!);
    assert.equal(run.JobRunState, 'STOPPED');
    assert.equal(await get('curated/interactions/interactions.csv'), firstOutput);
  });

  it('paginates GetJobs and GetJobRuns (runs newest first)', async () => {
    for (const name of ['a-job', 'b-job', 'c-job']) {
      await glue.send(new CreateJobCommand({ Name: name, Role: 'r', Command: { Name: 'pythonshell' } }));
    }
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await glue.send(new GetJobsCommand({ MaxResults: 2, NextToken: token }));
      assert.ok(page.Jobs!.length <= 2);
      names.push(...page.Jobs!.map((j) => j.Name!));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(names, ['a-job', 'b-job', 'c-job', 'etl']);

    const all = (await glue.send(new GetJobRunsCommand({ JobName: 'etl' }))).JobRuns!;
    const ids: string[] = [];
    token = undefined;
    do {
      const page: GetJobRunsCommandOutput = await glue.send(
        new GetJobRunsCommand({ JobName: 'etl', MaxResults: 3, NextToken: token }),
      );
      ids.push(...page.JobRuns!.map((r) => r.Id!));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(
      ids,
      all.map((r) => r.Id),
    );
    assert.equal(ids.length, 9);
    const started = all.map((r) => r.StartedOn!.getTime());
    assert.deepEqual(
      started,
      [...started].sort((a, b) => b - a),
    );
  });

  it('keeps jobs and runs across a restart', async () => {
    const before = (await glue.send(new GetJobRunsCommand({ JobName: 'etl' }))).JobRuns!;
    const dataDir = stack.dataDir;
    await stack.stop({ keepData: true });
    stack = await startTestStack({ dataDir });
    connect();
    const { Job } = await glue.send(new GetJobCommand({ JobName: 'etl' }));
    assert.equal(Job!.Description, 'updated');
    const runs = (await glue.send(new GetJobRunsCommand({ JobName: 'etl' }))).JobRuns!;
    assert.deepEqual(
      runs.map((r) => [r.Id, r.JobRunState]),
      before.map((r) => [r.Id, r.JobRunState]),
    );
    const status = stack.server.stats();
    assert.deepEqual(status.glue, { jobs: 4, runs: 9 });
  });

  it('a run in flight at shutdown ends FAILED; one left RUNNING by a crash is FAILED on restart', async () => {
    const { JobRunId } = await glue.send(
      new StartJobRunCommand({ JobName: 'etl', Arguments: { '--input_path': `s3://${BUCKET}/raw/big.dat` } }),
    );
    const dataDir = stack.dataDir;
    await stack.stop({ keepData: true });
    // Simulate a crash mid-run: the state file still says RUNNING.
    const stateFile = path.join(dataDir, 'glue', 'state.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as {
      runs: { Id: string; JobRunState: string }[];
    };
    const saved = state.runs.find((r) => r.Id === JobRunId)!;
    assert.equal(saved.JobRunState, 'FAILED');
    saved.JobRunState = 'RUNNING';
    await writeFile(stateFile, JSON.stringify(state));
    stack = await startTestStack({ dataDir });
    connect();
    const { JobRun } = await glue.send(new GetJobRunCommand({ JobName: 'etl', RunId: JobRunId }));
    assert.equal(JobRun!.JobRunState, 'FAILED');
    assert.equal(JobRun!.ErrorMessage, 'The local stack restarted while this run was in progress.');
    assert.equal(await get('curated/interactions/interactions.csv'), firstOutput);
  });

  it("reports progress in the run's log every 50,000 rows; the CLI reads it as rows and a rate", async () => {
    await put('raw/big/interactions.dat', hetrec(120_000, 500));
    // A job of its own, so the other tests' run counts stay as they are.
    await glue.send(
      new CreateJobCommand({
        Name: 'etl-progress',
        Role: 'arn:aws:iam::000000000000:role/glue',
        Command: { Name: 'glueetl', ScriptLocation: `s3://${BUCKET}/glue_scripts/interactions_etl.py` },
        DefaultArguments: {
          '--input_path': `s3://${BUCKET}/raw/big/interactions.dat`,
          '--output_path': `s3://${BUCKET}/curated/big/`,
          '--spec_path': `s3://${BUCKET}/${SPEC_KEY}`,
        },
      }),
    );
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: 'etl-progress' }));
    const run = await waitRun('etl-progress', JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const log = await readRunLog(stack, JobRunId!);
    const progress = [...log!.matchAll(/Progress: (\d+) rows read/g)].map((m) => Number(m[1]));
    // The engine reports per block read, and a block's size depends on how the object streams in:
    // a line each time the count passes a new multiple of 50,000 — at least one, at most two.
    const detail = `progress lines: ${progress.join(', ')}`;
    assert.ok(progress.length >= 1 && progress.length <= 2, detail);
    assert.ok(progress[0]! >= 50_000 && progress.at(-1)! <= 120_000, detail);
    const multiples = progress.map((n) => Math.floor(n / 50_000));
    assert.ok(
      multiples.every((m, i) => i === 0 || m > multiples[i - 1]!),
      detail,
    );
    const clients = new Clients({
      target: 'local',
      region: stack.region,
      endpoint: stack.endpoint,
      credentials: stack.credentials,
      profile: undefined,
    });
    try {
      const read = etlProgressReader(clients, JobRunId!);
      const latest = await read(run.StartedOn);
      assert.equal(latest?.rowsRead, progress.at(-1));
      assert.ok(latest!.rowsPerSecond! > 0, 'a rate from the run start to the last progress line');
      assert.deepEqual(await read(run.StartedOn), latest, 'no new lines: the last progress stands');
    } finally {
      clients.destroy();
    }
  });
});
