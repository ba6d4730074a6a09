/**
 * `mlpipe demo` at sample size in a fresh folder, then again (the re-run): wall time, the time of
 * each step, and of the pipeline's run what was work and what was waiting. Work is each job's own
 * time as its service reports it (the Glue run's StartedOn → CompletedOn; an import's, a solution
 * version's and a batch job's creation → last update); waiting is how much longer the state
 * machine took to see each job end than the job took (the polling overshoot: the job ended
 * between two polls), plus the rest of the run (states between the jobs). The Wait states'
 * own share is shown as well: a polling loop's Wait states run while the job works, so that share
 * is not waiting. Ratios: the demo against its own pipeline run (what the other steps add), and
 * work and overshoot against the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetJobRunCommand, GlueClient } from '@aws-sdk/client-glue';
import {
  DescribeBatchInferenceJobCommand,
  DescribeDatasetImportJobCommand,
  DescribeSolutionVersionCommand,
  PersonalizeClient,
} from '@aws-sdk/client-personalize';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { report } from './report.js';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const ENV = { ...process.env, MLPIPE_LOCAL_PORT: '0', CI: 'true' };

interface DemoJson {
  steps: { step: string; seconds: number }[];
  execution: {
    executionArn: string;
    execution: {
      durationMs: number;
      states: { type: string; durationMs: number }[];
      output: {
        etlJobRunId: string;
        datasetImportJobArn: string;
        solutionVersionArn: string;
        batchInferenceJobArn: string;
      };
    };
  };
  seconds: number;
}

interface Clients {
  sfn: SFNClient;
  glue: GlueClient;
  personalize: PersonalizeClient;
  destroy(): void;
}

function clientsFor(dir: string): Clients {
  const result = spawnSync(process.execPath, [BIN, 'local', 'env', '--json'], {
    cwd: dir,
    env: ENV,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`mlpipe local env exited ${result.status}: ${result.stderr}`);
  const local = JSON.parse(result.stdout) as Record<string, string>;
  const config = {
    endpoint: local.AWS_ENDPOINT_URL,
    region: local.AWS_REGION,
    credentials: { accessKeyId: local.AWS_ACCESS_KEY_ID!, secretAccessKey: local.AWS_SECRET_ACCESS_KEY! },
  };
  const sfn = new SFNClient(config);
  const glue = new GlueClient(config);
  const personalize = new PersonalizeClient(config);
  return {
    sfn,
    glue,
    personalize,
    destroy: () => [sfn, glue, personalize].forEach((c) => c.destroy()),
  };
}

async function history(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return events;
}

/** When a state was first entered / last exited, from the history. */
function enteredAt(events: HistoryEvent[], state: string): number {
  const event = events.find((e) => e.stateEnteredEventDetails?.name === state);
  if (event?.timestamp === undefined) throw new Error(`the run never entered ${state}`);
  return event.timestamp.getTime();
}

function ms(from: Date | undefined, to: Date | undefined): number {
  if (from === undefined || to === undefined) throw new Error('a job without its times');
  return to.getTime() - from.getTime();
}

/** Each job's own time against the time the run spent on it, from the first state to the next after it. */
async function workAndOvershoot(
  clients: Clients,
  out: DemoJson,
): Promise<{ job: string; workMs: number; loopMs: number }[]> {
  const run = out.execution.execution.output;
  const events = await history(clients.sfn, out.execution.executionArn);
  const etlParameters = events.find(
    (e) => e.type === 'TaskScheduled' && e.taskScheduledEventDetails?.resourceType === 'glue',
  )?.taskScheduledEventDetails?.parameters;
  const jobName = (JSON.parse(etlParameters ?? '{}') as { JobName?: string }).JobName;
  const etl = (await clients.glue.send(new GetJobRunCommand({ JobName: jobName, RunId: run.etlJobRunId })))
    .JobRun!;
  const importJob = (
    await clients.personalize.send(
      new DescribeDatasetImportJobCommand({ datasetImportJobArn: run.datasetImportJobArn }),
    )
  ).datasetImportJob!;
  const version = (
    await clients.personalize.send(
      new DescribeSolutionVersionCommand({ solutionVersionArn: run.solutionVersionArn }),
    )
  ).solutionVersion!;
  const batch = (
    await clients.personalize.send(
      new DescribeBatchInferenceJobCommand({ batchInferenceJobArn: run.batchInferenceJobArn }),
    )
  ).batchInferenceJob!;
  const loop = (first: string, next: string): number => enteredAt(events, next) - enteredAt(events, first);
  return [
    { job: 'etl', workMs: ms(etl.StartedOn, etl.CompletedOn), loopMs: loop('RunEtl', 'StartImport') },
    {
      job: 'import',
      workMs: ms(importJob.creationDateTime, importJob.lastUpdatedDateTime),
      loopMs: loop('StartImport', 'StartTraining'),
    },
    {
      job: 'training',
      workMs: ms(version.creationDateTime, version.lastUpdatedDateTime),
      loopMs: loop('StartTraining', 'GetMetrics'),
    },
    {
      job: 'batch',
      workMs: ms(batch.creationDateTime, batch.lastUpdatedDateTime),
      loopMs: loop('StartBatch', 'Done'),
    },
  ];
}

async function demo(dir: string, label: string): Promise<void> {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [BIN, 'demo', '--json'], {
    cwd: dir,
    env: ENV,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0)
    throw new Error(`mlpipe demo exited ${result.status}: ${result.stderr.slice(-2000)}`);
  const out = JSON.parse(result.stdout) as DemoJson;
  const run = out.execution.execution;
  const inWaitStates = run.states.filter((s) => s.type === 'Wait').reduce((sum, s) => sum + s.durationMs, 0);
  const clients = clientsFor(dir);
  let jobs: { job: string; workMs: number; loopMs: number }[];
  try {
    jobs = await workAndOvershoot(clients, out);
  } finally {
    clients.destroy();
  }
  const workMs = jobs.reduce((sum, j) => sum + j.workMs, 0);
  const overshootMs = jobs.reduce((sum, j) => sum + Math.max(0, j.loopMs - j.workMs), 0);
  report(`demo: ${label}`, {
    wall_ms: wallMs,
    pipeline_ms: run.durationMs,
    ratio_to_pipeline: wallMs / run.durationMs,
    work_share: workMs / run.durationMs,
    overshoot_share: overshootMs / run.durationMs,
    other_share: (run.durationMs - workMs - overshootMs) / run.durationMs,
    wait_states_share: inWaitStates / run.durationMs,
    aim: '< 30 s, mostly work',
  });
  report(
    `demo: ${label} jobs`,
    Object.fromEntries(
      jobs.map((j) => [
        j.job,
        `${(j.workMs / 1000).toFixed(1)}s+${((j.loopMs - j.workMs) / 1000).toFixed(2)}s`,
      ]),
    ),
  );
  report(
    `demo: ${label} steps`,
    Object.fromEntries(out.steps.map((s) => [s.step.replace(/ /g, '_'), `${s.seconds.toFixed(1)}s`])),
  );
}

export async function benchDemo(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-bench-demo-'));
  try {
    await demo(dir, 'first run');
    await demo(dir, 're-run');
  } finally {
    spawnSync(process.execPath, [BIN, 'local', 'stop'], { cwd: dir, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}
