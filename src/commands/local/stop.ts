import { MlpipeCommand } from '../../lib/cli/base-command.js';
import { stopLocalStack } from '../../lib/local/lifecycle.js';

export interface LocalStopResult {
  dataDir: string;
  wasRunning: boolean;
  pid: number | null;
}

export default class LocalStop extends MlpipeCommand<typeof LocalStop> {
  static override summary = 'Stop the local stack (its data is kept).';
  static override description =
    'Stops the server that owns this data dir. Everything it stored stays in the data dir and is there again on the next start.';
  static override examples = ['<%= config.bin %> local stop'];

  async run(): Promise<LocalStopResult> {
    const dataDir = this.settings.local.dataDir.value;
    const result = await stopLocalStack(dataDir);
    this.log(
      result.wasRunning
        ? `Stopped the local stack (pid ${result.pid}).`
        : `No local stack is running for ${dataDir}.`,
    );
    return { dataDir, ...result };
  }
}
