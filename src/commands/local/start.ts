import { prose } from '../../lib/cli/prose.js';
import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../../lib/cli/base-command.js';
import { usageError } from '../../lib/cli/errors.js';
import { displayPath } from '../../lib/cli/ui.js';
import { runLocalStackForeground, startLocalStack, startOptionsFor } from '../../lib/local/lifecycle.js';

export interface LocalStartResult {
  endpoint: string;
  pid: number;
  port: number;
  dataDir: string;
  alreadyRunning: boolean;
}

export default class LocalStart extends MlpipeCommand<typeof LocalStart> {
  static override summary = 'Start the embedded AWS-compatible local stack.';
  static override description = prose`Starts the local stack for this project's data dir, detached, and returns once it answers.
A second start reports the server already running. With --foreground the server runs in this
terminal and logs requests until Ctrl-C. Other commands start it on demand, so this is optional.
--time-scale sets how long the waits AWS imposes (Wait states, schedules, provisioning) last:
real ms per AWS ms, 0.001 by default (a 60 s wait lasts 60 ms), 1 for AWS's own durations.`;
  static override examples = [
    '<%= config.bin %> local start',
    '<%= config.bin %> local start --port 4599',
    '<%= config.bin %> local start --foreground',
    '<%= config.bin %> local start --time-scale 0.01',
  ];
  static override flags = {
    port: Flags.integer({
      description: 'Port to listen on (127.0.0.1 only); 0 picks a free one.',
      min: 0,
      max: 65535,
    }),
    foreground: Flags.boolean({ description: 'Run in this terminal instead of detached; Ctrl-C stops it.' }),
    'time-scale': Flags.string({
      description:
        'Real ms per AWS ms of the waits AWS imposes (default 0.001, or local.timeScale / MLPIPE_LOCAL_TIME_SCALE).',
    }),
  };

  async run(): Promise<LocalStartResult | undefined> {
    const scale = this.flags['time-scale'];
    const timeScale = scale === undefined ? undefined : Number(scale);
    if (timeScale !== undefined && !(Number.isFinite(timeScale) && timeScale >= 0))
      throw usageError(`--time-scale must be a number ≥ 0 (0.001: a 60 s wait lasts 60 ms), got "${scale}".`);
    const options = startOptionsFor(this.settings, this.flags.port, timeScale);
    if (this.flags.foreground) {
      const code = await runLocalStackForeground(options);
      if (code !== 0) this.exit(code);
      return undefined;
    }
    const { info, alreadyRunning } = await startLocalStack(options);
    if (alreadyRunning) {
      this.log(
        `The local stack is already running at ${info.endpoint} (pid ${info.pid}, data dir ${displayPath(info.dataDir)}).`,
      );
      this.warnIfOtherBuild(info);
    } else {
      this.log(
        `Local stack started at ${info.endpoint} (pid ${info.pid}, data dir ${displayPath(info.dataDir)}).`,
      );
      this.log('Run `mlpipe local env` for the settings that point the AWS CLI at it.');
    }
    return { endpoint: info.endpoint, pid: info.pid, port: info.port, dataDir: info.dataDir, alreadyRunning };
  }
}
