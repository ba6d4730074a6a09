import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { prose } from '../lib/cli/prose.js';
import {
  checkRunName,
  defaultRunName,
  executionFailure,
  followExecution,
  parseRunInput,
  pipelineStateMachine,
  startPipeline,
  type ExecutionView,
} from '../lib/pipeline/executions.js';
import { printExecutionEnd } from '../lib/pipeline/report.js';
import { startLiveView } from '../lib/pipeline/live-view.js';
import { utcTime } from '../lib/cli/ui.js';

export interface StartPipelineResult {
  executionArn: string;
  name: string;
  startDate: string;
  /** The run of this name was running already (the same name and input): nothing new started. */
  alreadyRunning: boolean;
  execution: ExecutionView | null;
}

export default class StartPipeline extends MlpipeCommand<typeof StartPipeline> {
  static override summary = 'Start a pipeline run: ETL, import, training, metrics, batch recommendations.';
  static override description = prose`Starts an execution of the pipeline state machine (the pipeline stack's). One run does the
whole chain: the Glue ETL job, the Personalize import of its output, a solution version of the deployed
solution and its offline metrics, and batch recommendations for every user the ETL wrote, under
recommendations/<run name>/.

Without --wait it prints the execution ARN; \`mlpipe executions --follow ARN\` re-attaches. With --wait
it shows the run live — every state, its time, and for the polling loops the job and its status —
and exits 0 when it succeeds, 3 when it fails (naming the failed state, the error and the cause),
4 when --timeout passes first; Ctrl-C stops watching and leaves the run going.

--input is a JSON object merged over the run's defaults: trainingMode (FULL or UPDATE), numResults
(1-500), usersInput (an s3:// JSON Lines file of {"userId": …}), pollSeconds.`;
  static override examples = [
    '<%= config.bin %> start-pipeline --wait',
    '<%= config.bin %> start-pipeline',
    '<%= config.bin %> start-pipeline --wait --name nightly-2026-11-30',
    '<%= config.bin %> start-pipeline --wait --input \'{"trainingMode": "UPDATE", "numResults": 50}\'',
  ];
  static override flags = {
    wait: Flags.boolean({
      description: 'Watch the run until it ends (exit 0 succeeded, 3 failed, 4 timed out).',
      default: false,
      allowNo: true,
    }),
    name: Flags.string({
      description:
        "The run's name, which also names its jobs and its recommendations prefix [default: run-<UTC date>-<time>].",
    }),
    input: Flags.string({
      description: 'JSON object merged over the defaults, e.g. \'{"numResults": 50}\'.',
    }),
    timeout: Flags.integer({
      description: 'With --wait: seconds to watch before giving up (exit 4; the run goes on).',
      min: 1,
    }),
  };

  async run(): Promise<StartPipelineResult> {
    const { flags } = this;
    const name = flags.name ?? defaultRunName();
    checkRunName(name, this.settings.project.value);
    const input = parseRunInput(flags.input);
    const clients = await this.clients();
    const stateMachineArn = await pipelineStateMachine(clients, this.settings);
    const started = await startPipeline(clients, stateMachineArn, name, input);
    const already = `Pipeline run ${name} is already running (started ${utcTime(started.startDate)} UTC, with the same input): nothing new was started`;
    if (!flags.wait) {
      this.note(
        started.alreadyRunning
          ? `${already}; follow it with \`mlpipe executions --follow ${started.executionArn}\`.`
          : `Started pipeline run ${name}; follow it with \`mlpipe executions --follow ${started.executionArn}\`.`,
      );
      this.log(started.executionArn);
      return { ...started, name, execution: null };
    }
    this.note(
      started.alreadyRunning
        ? `${already}; following it (${started.executionArn}).`
        : `Pipeline run ${name} started (${started.executionArn}).`,
    );
    const view = startLiveView(this.uiOptions);
    let execution: ExecutionView;
    try {
      execution = await followExecution(clients, started.executionArn, {
        timeoutSeconds: flags.timeout,
        onView: (v) => view.update(v),
      });
      view.finish();
    } catch (error) {
      view.stop();
      throw error;
    }
    printExecutionEnd(execution, (line) => this.log(line));
    const failure = executionFailure(execution);
    if (failure !== undefined) throw failure;
    return { ...started, name, execution };
  }
}
