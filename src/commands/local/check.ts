import { MlpipeCommand } from '../../lib/cli/base-command.js';
import { checkLocalStack } from '../../lib/local/lifecycle.js';
import { formatBytes, formatCount } from '../../lib/cli/ui.js';
import { prose } from '../../lib/cli/prose.js';

export interface LocalCheckResult {
  dataDir: string;
  checked: {
    stateFiles: number;
    objects: number;
    dataFiles: number;
    dataBytes: number;
    datasetFiles: number;
  };
  damaged: Array<{ path: string; problem: string }>;
  quarantined: string[];
  ok: boolean;
}

export default class LocalCheck extends MlpipeCommand<typeof LocalCheck> {
  static override summary = 'Verify every object and state file of the local stack; report what is damaged.';
  static override description = prose`Reads every state file and S3 object record of the data dir, checks each object's data
files against its record (size, and MD5 against the ETag), and each Personalize dataset file's
length against its header. Changes nothing, and works whether or not the stack runs. Exits 1 if
anything is damaged, naming each file and what is wrong with it; files the server already moved
aside (quarantine/) are listed.`;
  static override examples = ['<%= config.bin %> local check', '<%= config.bin %> local check --json'];

  async run(): Promise<LocalCheckResult> {
    const report = await checkLocalStack(this.settings.local.dataDir.value);
    const { checked } = report;
    this.log(
      `Checked ${report.dataDir}: ${formatCount(checked.stateFiles)} state file(s), ${formatCount(checked.objects)} object(s) in ${formatCount(checked.dataFiles)} data file(s) (${formatBytes(checked.dataBytes)}), ${formatCount(checked.datasetFiles)} dataset file(s).`,
    );
    for (const file of report.damaged) this.log(`DAMAGED ${file.path}: ${file.problem}`);
    if (report.quarantined.length > 0) {
      this.log(`Quarantined earlier (moved aside, not deleted):`);
      for (const file of report.quarantined) this.log(`  ${file}`);
    }
    const ok = report.damaged.length === 0;
    if (ok) this.log('No damaged files.');
    else {
      this.log(
        `${report.damaged.length} damaged file(s). Restore them from a copy, or move them aside and restart the stack (their state is lost), or run \`mlpipe local reset\`.`,
      );
      process.exitCode = 1;
    }
    return { ...report, ok };
  }
}
