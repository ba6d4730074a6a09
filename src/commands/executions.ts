import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { prose } from '../lib/cli/prose.js';
import { formatDuration, renderTable } from '../lib/cli/ui.js';
import {
  ExecutionReader,
  executionFailure,
  followExecution,
  isFinished,
  listExecutions,
  pipelineStateMachine,
  type ExecutionSummary,
  type ExecutionView,
} from '../lib/pipeline/executions.js';
import { startLiveView } from '../lib/pipeline/live-view.js';
import { printExecutionEnd } from '../lib/pipeline/report.js';

export interface ExecutionsResult {
  executions?: (ExecutionSummary & { failedState: string | null })[];
  execution?: ExecutionView;
}

export default class Executions extends MlpipeCommand<typeof Executions> {
  static override summary = "List the pipeline's recent runs, or follow one.";
  static override description = prose`Without flags: the latest runs of the pipeline state machine, newest first, with status,
start, duration and, for a failed run, the state it failed in.
--follow ARN (or a run's name) shows that run live until it ends, as \`start-pipeline --wait\` does,
and exits as it does: 0 succeeded, 3 failed, 4 timed out; a run that has ended is shown at once.`;
  static override examples = [
    '<%= config.bin %> executions',
    '<%= config.bin %> executions --follow run-20261130-143005',
    '<%= config.bin %> executions --follow arn:aws:states:us-east-1:000000000000:execution:mlpipe-pipeline:run-20261130-143005',
  ];
  static override flags = {
    follow: Flags.string({ description: 'Follow this run (its execution ARN or name) until it ends.' }),
    max: Flags.integer({ description: 'How many runs to list.', default: 20, min: 1, max: 1000 }),
    timeout: Flags.integer({
      description: 'With --follow: seconds to watch before giving up (exit 4; the run goes on).',
      min: 1,
    }),
  };

  async run(): Promise<ExecutionsResult> {
    const { flags } = this;
    const clients = await this.clients();
    if (flags.follow !== undefined) {
      let arn = flags.follow;
      if (!arn.startsWith('arn:')) {
        const machine = await pipelineStateMachine(clients, this.settings);
        arn = `${machine.replace(':stateMachine:', ':execution:')}:${arn}`;
      }
      const first = await new ExecutionReader(clients, arn).read();
      let execution = first;
      if (!isFinished(first)) {
        const view = startLiveView(this.uiOptions);
        view.update(first);
        try {
          execution = await followExecution(clients, arn, {
            timeoutSeconds: flags.timeout,
            onView: (v) => view.update(v),
          });
          view.finish();
        } catch (error) {
          view.stop();
          throw error;
        }
      } else {
        const view = startLiveView(this.uiOptions);
        view.update(first);
        view.finish();
      }
      printExecutionEnd(execution, (line) => this.log(line));
      const failure = executionFailure(execution);
      if (failure !== undefined) throw failure;
      return { execution };
    }

    const machine = await pipelineStateMachine(clients, this.settings);
    const runs = await listExecutions(clients, machine, flags.max);
    // The failed state of each failed run, from its history.
    const withFailures = await Promise.all(
      runs.map(async (run) => ({
        ...run,
        failedState:
          run.status === 'FAILED' ? (await new ExecutionReader(clients, run.arn).read()).failedState : null,
      })),
    );
    if (runs.length === 0) {
      this.note('No pipeline runs yet: start one with `mlpipe start-pipeline --wait`.');
      return { executions: [] };
    }
    this.log(
      renderTable(
        withFailures.map((r) => ({
          name: r.name,
          status: r.status,
          started: r.startDate,
          duration: r.durationMs === null ? 'running' : formatDuration(r.durationMs),
          failed: r.failedState ?? '',
        })),
        [
          { key: 'name', header: 'NAME', kind: 'name' },
          { key: 'status', header: 'STATUS' },
          { key: 'started', header: 'STARTED', kind: 'time' },
          { key: 'duration', header: 'DURATION', kind: 'number' },
          { key: 'failed', header: 'FAILED STATE', drop: 1 },
        ],
      ),
    );
    return { executions: withFailures };
  }
}
