import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../../lib/cli/base-command.js';
import { followLog, readLog } from '../../lib/local/logs.js';

export interface LocalLogsResult {
  logFile: string;
  lines: string[];
}

export default class LocalLogs extends MlpipeCommand<typeof LocalLogs> {
  static override summary = "Show the local stack's log (one line per request).";
  static override examples = [
    '<%= config.bin %> local logs',
    '<%= config.bin %> local logs --lines 200',
    '<%= config.bin %> local logs --follow',
  ];
  static override flags = {
    lines: Flags.integer({
      char: 'n',
      description: 'How many of the last lines to show.',
      default: 50,
      min: 0,
    }),
    follow: Flags.boolean({
      char: 'f',
      description: 'Keep printing new lines as they are written (Ctrl-C to stop).',
    }),
  };

  async run(): Promise<LocalLogsResult> {
    const dataDir = this.settings.local.dataDir.value;
    const { logFile, lines } = await readLog(dataDir, this.flags.lines);
    if (!this.jsonEnabled()) for (const line of lines) this.log(line);
    if (this.flags.follow && !this.jsonEnabled()) {
      await followLog(logFile, (line) => this.log(line));
    }
    return { logFile, lines };
  }
}
