import { existsSync } from 'node:fs';
import path from 'node:path';
import { Flags, type Config } from '@oclif/core';
import { MlpipeCommand, quietTargetNotice } from '../lib/cli/base-command.js';
import { usageError } from '../lib/cli/errors.js';
import { prose } from '../lib/cli/prose.js';
import { formatDuration, terminalWidth, wrapList } from '../lib/cli/ui.js';
import { DEFAULT_RAW_FILE } from '../lib/data/upload.js';
import { listSolutions, listVersions, trainingTargets } from '../lib/personalize/solutions.js';
import { inputIds, latestBatchJob, outputFiles } from '../lib/recs/batch-output.js';
import Deploy from './deploy.js';
import Metrics from './metrics.js';
import SampleData from './sample-data.js';
import ShowRecs from './show-recs.js';
import StartPipeline, { type StartPipelineResult } from './start-pipeline.js';
import Train from './train.js';
import UploadRaw from './upload-raw.js';

export interface DemoResult {
  steps: { step: string; seconds: number }[];
  execution: StartPipelineResult;
  metrics: unknown;
  recommendations: unknown;
  seconds: number;
}

/** A command class run as a step (its init, run and finally, as oclif runs it, minus printing JSON). */
type Step = new (argv: string[], config: Config) => { init(): Promise<void>; run(): Promise<unknown> };

export default class Demo extends MlpipeCommand<typeof Demo> {
  static override summary = 'Run the whole pipeline on the local stack, end to end, and show the results.';
  static override description = prose`The main job, on the embedded local stack: starts it, deploys every stack, writes sample
data (MovieLens hetrec-style) if data/ has none, uploads it to the lake, runs the pipeline (ETL,
import, training, metrics, batch recommendations) with the live view, trains the popularity
baseline when there is none, and prints the offline metrics beside it and the recommendations of
one user with titles. Each step is the command of the same name, so what it shows is what those
show. Running it again is safe and quick: the sample data is kept, deploy finds no changes, and
the pipeline runs again as a new run.`;
  static override examples = [
    '<%= config.bin %> demo',
    '<%= config.bin %> demo --small',
    '<%= config.bin %> demo --user 190',
  ];
  static override flags = {
    small: Flags.boolean({ description: 'Use a small sample (600 users) for a quicker run.' }),
    user: Flags.string({
      description: 'The user whose recommendations to show [default: 75, or the first user in the output].',
    }),
  };

  async run(): Promise<DemoResult> {
    if (this.settings.target.value !== 'local')
      throw usageError(
        'demo runs on the embedded local stack. On AWS run the steps yourself: `mlpipe deploy`, `mlpipe upload-raw`, `mlpipe start-pipeline --wait`, `mlpipe show-recs --user ID`.',
        [],
        'DEMO_LOCAL_ONLY',
      );
    const began = Date.now();
    try {
      return await this.steps(began);
    } finally {
      quietTargetNotice(false);
    }
  }

  private async steps(began: number): Promise<DemoResult> {
    const steps: DemoResult['steps'] = [];
    const json = this.jsonEnabled() ? ['--json'] : [];
    const passed = this.flags['data-dir'] === undefined ? [] : ['--data-dir', this.flags['data-dir']];
    const step = async <T>(title: string, Cmd: Step, argv: string[]): Promise<T> => {
      this.note('');
      this.note(`── ${title}`);
      const started = Date.now();
      // The step's own command, in this process: its output is that command's (no JSON of its own under --json).
      const cmd = new Cmd([...argv, ...passed, ...json], this.config);
      await cmd.init();
      const finish = (cmd as unknown as { finally(error: Error | undefined): Promise<unknown> }).finally.bind(
        cmd,
      );
      try {
        const result = (await cmd.run()) as T;
        await finish(undefined);
        return result;
      } catch (error) {
        await finish(error as Error);
        throw error;
      } finally {
        steps.push({ step: title, seconds: (Date.now() - started) / 1000 });
        // The first step said which target; the others need not again.
        quietTargetNotice(true);
      }
    };

    const rawFile = path.resolve(this.settings.projectDir, DEFAULT_RAW_FILE);
    if (!existsSync(rawFile))
      await step('sample data', SampleData as unknown as Step, [
        '--out',
        path.dirname(rawFile),
        ...(this.flags.small ? ['--small'] : []),
      ]);
    else this.note(`Sample data: ${path.relative(process.cwd(), rawFile) || rawFile} is there (kept).`);
    await step('deploy', Deploy as unknown as Step, ['--yes']);
    await step('upload', UploadRaw as unknown as Step, [rawFile]);
    const execution = await step<StartPipelineResult>('pipeline', StartPipeline as unknown as Step, [
      '--wait',
    ]);

    // The popularity baseline, once: the metrics are shown beside it.
    const clients = await this.clients();
    const { datasetGroupArn } = await trainingTargets(clients, this.settings);
    const baseline = (await listSolutions(clients, datasetGroupArn)).find(
      (s) => s.recipe === 'aws-popularity-count',
    );
    const baselineActive =
      baseline !== undefined &&
      (await listVersions(clients, baseline.arn)).some((v) => v.status === 'ACTIVE');
    if (!baselineActive)
      await step('baseline', Train as unknown as Step, ['--recipe', 'aws-popularity-count']);
    const metrics = await step('metrics', Metrics as unknown as Step, []);

    let user = this.flags.user;
    if (user === undefined) {
      const job = await latestBatchJob(clients, this.settings);
      const users = await inputIds(clients, await outputFiles(clients, job), 'userId');
      user = users.includes('75') ? '75' : users[0];
    }
    const recommendations =
      user === undefined
        ? null
        : await step('recommendations', ShowRecs as unknown as Step, ['--user', user, '--history', '5']);
    const seconds = (Date.now() - began) / 1000;
    this.note('');
    this.note(
      wrapList(
        `Done in ${formatDuration(seconds * 1000)}: `,
        steps.map((s) => `${s.step} ${formatDuration(s.seconds * 1000)}`),
        terminalWidth(process.stderr),
        '.',
      ),
    );
    this.note(
      wrapList(
        'Next: ',
        ['`mlpipe executions`', '`mlpipe show-recs --user ID`', '`mlpipe schedule --rate "1 day"`'],
        terminalWidth(process.stderr),
        '.',
      ),
    );
    return { steps, execution, metrics, recommendations, seconds };
  }
}
