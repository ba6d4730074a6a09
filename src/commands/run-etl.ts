import { prose } from '../lib/cli/prose.js';
import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { MlpipeError, usageError } from '../lib/cli/errors.js';
import {
  ETL_TERMINAL_STATES,
  getEtlRun,
  listEtlRuns,
  shortRunId,
  startEtlRun,
  waitForEtlRun,
  type EtlRun,
} from '../lib/etl/runs.js';
import { followEtlRunLog, readEtlRunLog } from '../lib/etl/logs.js';
import {
  formatCount,
  formatDuration,
  formatRate,
  renderTable,
  startSpinner,
  type Spinner,
} from '../lib/cli/ui.js';

export type RunEtlResult = EtlRun | { runs: EtlRun[] } | { runId: string; log: string[] };

function parseArgs(values: string[] | undefined): Record<string, string> {
  const args: Record<string, string> = {};
  for (const value of values ?? []) {
    const eq = value.indexOf('=');
    if (eq <= 0)
      throw usageError(
        `--arg "${value}" is not KEY=VALUE.`,
        ['Example: --arg reject_threshold=0.05'],
        'BAD_ARG',
      );
    args[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return args;
}

export default class RunEtl extends MlpipeCommand<typeof RunEtl> {
  static override summary = 'Run the ETL Glue job: raw interactions → Personalize interactions CSV.';
  static override description = prose`Starts the ETL stack's Glue job and waits for it with a spinner, then prints a summary: rows
read, written and rejected (with the first rejects and where the reject file is), duplicates
collapsed, distinct users and items, the time range, the output URI, and whether the data meets
Personalize's training minimums. --no-wait prints the run id at once; --run-id re-attaches.
A FAILED run prints its error and first rejects and exits 3; the previous output stays as it was.`;
  static override examples = [
    '<%= config.bin %> run-etl',
    '<%= config.bin %> run-etl --no-wait',
    '<%= config.bin %> run-etl --run-id jr_0123…',
    '<%= config.bin %> run-etl --arg reject_threshold=0.05 --arg event_value=true',
    '<%= config.bin %> run-etl --list',
    '<%= config.bin %> run-etl --logs --run-id jr_0123…',
    '<%= config.bin %> run-etl --logs --follow',
  ];
  static override flags = {
    wait: Flags.boolean({
      description: 'Wait for the run to end (--no-wait returns the run id at once).',
      default: true,
      allowNo: true,
    }),
    'run-id': Flags.string({ description: 'Re-attach to (or show) this run instead of starting one.' }),
    arg: Flags.string({
      description: 'Job argument for this run, KEY=VALUE (e.g. input_path=s3://…); repeatable.',
      multiple: true,
    }),
    list: Flags.boolean({
      description: 'List recent runs with state, duration and rows.',
      exclusive: ['run-id', 'arg', 'logs'],
    }),
    logs: Flags.boolean({
      description:
        "Print a run's log from CloudWatch Logs (/aws-glue/jobs/output; the latest run unless --run-id).",
    }),
    follow: Flags.boolean({
      description: 'With --logs: keep printing the log while the run goes on, until it ends.',
      dependsOn: ['logs'],
    }),
    timeout: Flags.integer({
      description: 'Seconds to wait before giving up (exit 4; the run goes on).',
      min: 1,
    }),
  };

  async run(): Promise<RunEtlResult> {
    const args = parseArgs(this.flags.arg); // bad input is refused before anything is started
    const clients = await this.clients();
    if (this.flags.list) return this.list(await listEtlRuns(clients, this.settings));
    if (this.flags.logs) {
      const runId = this.flags['run-id'] ?? (await listEtlRuns(clients, this.settings, 1))[0]?.runId;
      if (runId === undefined)
        throw usageError('The ETL job has no runs yet.', ['Start one: `mlpipe run-etl`.'], 'NO_RUNS');
      if (this.flags.follow) {
        const log: string[] = [];
        await followEtlRunLog(clients, this.settings, runId, (line) => {
          log.push(line);
          this.log(line);
        });
        return { runId, log };
      }
      const log = await readEtlRunLog(clients, this.settings, runId);
      for (const line of log) this.log(line);
      return { runId, log };
    }
    let run =
      this.flags['run-id'] === undefined
        ? await startEtlRun(clients, this.settings, { args })
        : await getEtlRun(clients, this.settings, this.flags['run-id']);
    if (this.flags['run-id'] === undefined)
      this.note(`Started ETL run ${shortRunId(run.runId)} of ${run.jobName}.`);
    if (!this.flags.wait) {
      this.log(run.runId);
      return run;
    }
    let spinner: Spinner | undefined;
    let rows = '';
    // The status line names the run by its short id (as git does hashes); the summary and --json keep it whole.
    const label = `${run.jobName} ${shortRunId(run.runId)}`;
    try {
      spinner = await startSpinner(`${label}: ${run.state}`, this.uiOptions);
      run = await waitForEtlRun(clients, this.settings, run.runId, {
        timeoutSeconds: this.flags.timeout,
        // The end state is said once, by succeed/fail below.
        onStatus: (current, elapsed) => {
          if (!ETL_TERMINAL_STATES.has(current.state))
            spinner?.update(`${label}: ${current.state} (${rows}${formatDuration(elapsed)})`);
        },
        onProgress: ({ rowsRead, rowsPerSecond }) => {
          rows = `${formatCount(rowsRead)} rows${rowsPerSecond === undefined ? '' : `, ${formatRate(rowsPerSecond)}/s`}, `;
        },
      });
      spinner.succeed(
        `${label}: ${run.state}${run.executionSeconds === null ? '' : ` in ${run.executionSeconds}s`}`,
      );
    } catch (error) {
      spinner?.fail(
        error instanceof MlpipeError && (error.code === 'TIMED_OUT' || error.code === 'INTERRUPTED')
          ? `${label}: still running; it goes on (re-attach with --run-id)`
          : `${label}: failed`,
      );
      throw error;
    }
    this.summary(run);
    return run;
  }

  private summary(run: EtlRun): void {
    const r = run.report;
    this.log(`Output:     ${run.outputUri ?? '-'}`);
    if (r === null) {
      this.log(`Report:     not found at ${run.reportUri ?? '-'}`);
      return;
    }
    this.log(
      `Rows:       ${formatCount(r.rowsRead ?? 0)} read, ${formatCount(r.rowsWritten ?? 0)} written, ${formatCount(r.rowsRejected ?? 0)} rejected, ${formatCount(r.duplicatesCollapsed ?? 0)} duplicates collapsed`,
    );
    this.log(
      `Users:      ${formatCount(r.distinctUsers ?? 0)}    Items: ${formatCount(r.distinctItems ?? 0)}`,
    );
    if (r.minTimestamp != null && r.maxTimestamp != null) {
      this.log(
        `Time range: ${new Date(r.minTimestamp * 1000).toISOString().slice(0, 10)} to ${new Date(r.maxTimestamp * 1000).toISOString().slice(0, 10)}`,
      );
    }
    if ((r.rowsRejected ?? 0) > 0) {
      this.log(`Rejects:    ${run.rejectsUri ?? '-'}`);
      for (const reject of (r.firstRejects ?? []).slice(0, 5))
        this.log(`  line ${reject.line}: ${reject.reason}`);
    }
    this.log(
      `Personalize training minimums: ${r.meetsTrainingMinimums ? 'met' : 'NOT met'}${r.trainingMinimumsNote ? ` (${r.trainingMinimumsNote})` : ''}`,
    );
  }

  private list(runs: EtlRun[]): { runs: EtlRun[] } {
    this.log(
      renderTable(
        runs.map((run) => ({
          run: run.runId,
          state: run.state,
          started: run.startedOn,
          duration: run.executionSeconds === null ? null : `${run.executionSeconds}s`,
          rows: run.report?.rowsWritten ?? null,
        })),
        [
          { key: 'run', header: 'RUN', kind: 'id' },
          { key: 'state', header: 'STATE' },
          { key: 'started', header: 'STARTED', kind: 'time' },
          { key: 'duration', header: 'DURATION', drop: 1 },
          { key: 'rows', header: 'ROWS WRITTEN', drop: 2 },
        ],
      ),
    );
    return { runs };
  }
}
