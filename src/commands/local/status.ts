import { MlpipeCommand } from '../../lib/cli/base-command.js';
import { localStackStatus, type LocalStackStatus } from '../../lib/local/lifecycle.js';
import { formatBytes, formatCount, formatDuration } from '../../lib/cli/ui.js';

export default class LocalStatus extends MlpipeCommand<typeof LocalStatus> {
  static override summary = 'Show whether the local stack runs, where, and what it holds.';
  static override examples = [
    '<%= config.bin %> local status',
    '<%= config.bin %> local status --json | jq .services',
  ];

  async run(): Promise<LocalStackStatus> {
    const status = await localStackStatus(this.settings.local.dataDir.value);
    if (!status.running) {
      this.log(`Local stack: not running`);
      this.log(`Data dir:    ${status.dataDir} (${formatBytes(status.diskBytes)} on disk)`);
      this.log('Start it with `mlpipe local start` (commands that need it start it on their own).');
      return status;
    }
    this.log(`Local stack: running (pid ${status.pid}, build ${status.build ?? status.version})`);
    this.warnIfOtherBuild({ pid: status.pid ?? 0, version: status.version ?? '', build: status.build });
    this.log(`Endpoint:    ${status.endpoint}`);
    this.log(`Data dir:    ${status.dataDir} (${formatBytes(status.diskBytes)} on disk)`);
    this.log(`Up for:      ${formatDuration((status.uptimeSeconds ?? 0) * 1000)}`);
    if (status.timeScale !== null)
      this.log(
        `Time scale:  ${status.timeScale} (a 60 s wait lasts ${formatDuration(60_000 * status.timeScale)})`,
      );
    const s3 = status.services?.s3;
    if (s3 !== undefined) {
      this.log(
        `S3:          ${formatCount(s3.buckets ?? 0)} bucket(s), ${formatCount(s3.objects ?? 0)} object(s), ${formatBytes(s3.bytes ?? 0)}`,
      );
    }
    const cfn = status.services?.cloudformation;
    if (cfn !== undefined) this.log(`Stacks:      ${formatCount(cfn.stacks ?? 0)} CloudFormation stack(s)`);
    const glue = status.services?.glue;
    if (glue !== undefined) {
      this.log(`Glue:        ${formatCount(glue.jobs ?? 0)} job(s), ${formatCount(glue.runs ?? 0)} run(s)`);
    }
    const personalize = status.services?.personalize;
    if (personalize !== undefined) {
      this.log(
        `Personalize: ${formatCount(personalize.datasetGroups ?? 0)} dataset group(s), ${formatCount(personalize.datasets ?? 0)} dataset(s), ${formatCount(personalize.importJobs ?? 0)} import job(s)`,
      );
    }
    const logs = status.services?.logs;
    if (logs !== undefined) {
      this.log(
        `Logs:        ${formatCount(logs.logGroups ?? 0)} log group(s), ${formatCount(logs.logStreams ?? 0)} stream(s)`,
      );
    }
    const sfn = status.services?.stepfunctions;
    if (sfn !== undefined) {
      this.log(
        `Step Fns:    ${formatCount(sfn.stateMachines ?? 0)} state machine(s), ${formatCount(sfn.executions ?? 0)} execution(s), ${formatCount(sfn.running ?? 0)} running`,
      );
    }
    const events = status.services?.eventbridge;
    if (events !== undefined) {
      this.log(
        `EventBridge: ${formatCount(events.rules ?? 0)} rule(s), ${formatCount(events.scheduled ?? 0)} schedule(s) running, ${formatCount(events.fired ?? 0)} fired`,
      );
    }
    return status;
  }
}
