import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { prose } from '../lib/cli/prose.js';
import { deploy } from '../lib/infra/deploy.js';
import { stackProgress } from '../lib/infra/stack-view.js';
import { selectStacks } from '../lib/infra/stacks.js';
import { cronExpression, rateExpression, readSchedule, type ScheduleView } from '../lib/pipeline/schedule.js';

export default class Schedule extends MlpipeCommand<typeof Schedule> {
  static override summary = 'Show, enable or disable the schedule that starts pipeline runs.';
  static override description = prose`The pipeline stack's EventBridge rule starts a run of the pipeline on a schedule. It is off
when first deployed: each run trains a solution version and runs a batch job, which AWS bills.
--rate or --cron sets the schedule and turns it on, --off turns it off (the expression is kept);
without flags it shows the schedule. Changes are deployed to the pipeline stack, so the stack stays
the one source of truth and a later \`mlpipe deploy\` keeps the schedule as it is. Scheduled runs
are named by EventBridge. On the local target schedules fire while the local stack runs, at its
time scale.`;
  static override examples = [
    '<%= config.bin %> schedule',
    '<%= config.bin %> schedule --rate "1 day"',
    '<%= config.bin %> schedule --cron "0 3 * * ? *"',
    '<%= config.bin %> schedule --off',
  ];
  static override flags = {
    rate: Flags.string({
      description: 'Run every N minutes/hours/days, e.g. "1 day", "6 hours".',
      exclusive: ['cron', 'off'],
    }),
    cron: Flags.string({
      description: 'Run at times given as an EventBridge cron expression (UTC), e.g. "0 3 * * ? *".',
      exclusive: ['rate', 'off'],
    }),
    off: Flags.boolean({ description: 'Stop scheduled runs.', exclusive: ['rate', 'cron'] }),
  };

  async run(): Promise<ScheduleView> {
    const { flags } = this;
    const expression =
      flags.rate !== undefined
        ? rateExpression(flags.rate)
        : flags.cron !== undefined
          ? cronExpression(flags.cron)
          : undefined;
    const clients = await this.clients();
    if (expression !== undefined || flags.off) {
      const overrides: Record<string, string> = flags.off
        ? { ScheduleState: 'DISABLED' }
        : { ScheduleExpression: expression!, ScheduleState: 'ENABLED' };
      const progress = stackProgress(this.uiOptions, (line) => this.note(line));
      await deploy(clients, this.settings, {
        stacks: selectStacks(this.settings, ['pipeline']),
        overrides,
        execute: true,
        confirm: () => Promise.resolve(true),
        onStatus: progress.onStatus,
        onEvent: progress.onEvent,
      }).finally(progress.stop);
    }
    const schedule = await readSchedule(clients, this.settings);
    this.log(`Schedule: ${schedule.state === 'ENABLED' ? 'on' : 'off'} (${schedule.state})`);
    this.log(`When:     ${schedule.expression}${schedule.state === 'ENABLED' ? '' : ' (when on)'}`);
    this.log(`Rule:     ${schedule.rule}`);
    if (schedule.stateMachineArn !== null) this.log(`Starts:   ${schedule.stateMachineArn}`);
    if (schedule.state === 'ENABLED')
      this.note('Every scheduled run trains a solution version and runs a batch job (billed on AWS).');
    return schedule;
  }
}
