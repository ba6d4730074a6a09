import { prose } from '../../lib/cli/prose.js';
import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../../lib/cli/base-command.js';
import { usageError } from '../../lib/cli/errors.js';
import { resetLocalStack, startOptionsFor, type ResetResult } from '../../lib/local/lifecycle.js';
import { canPrompt, confirm, formatBytes } from '../../lib/cli/ui.js';

export interface LocalResetResult extends ResetResult {
  reset: boolean;
}

export default class LocalReset extends MlpipeCommand<typeof LocalReset> {
  static override summary = 'Delete everything the local stack holds (buckets, objects, jobs).';
  static override description = prose`Deletes all service state in the local stack's data dir. A running stack resets itself and
keeps serving (requests that arrive meanwhile wait, then see the empty stack); a stopped one is
reset under the data dir's lock, so no server starts on it meanwhile. The stack's credentials are
kept, so \`mlpipe local env\` settings stay valid — unless credentials.json is damaged: then it is
moved to the data dir's quarantine/ and new credentials are made. Asks for confirmation; --yes
skips it (required when no one is at the keyboard).`;
  static override examples = ['<%= config.bin %> local reset', '<%= config.bin %> local reset --yes'];
  static override flags = {
    yes: Flags.boolean({ char: 'y', description: 'Do not ask for confirmation.' }),
  };

  async run(): Promise<LocalResetResult> {
    const options = startOptionsFor(this.settings);
    if (!this.flags.yes) {
      if (!canPrompt(this.jsonEnabled())) {
        throw usageError(
          `Refusing to reset ${options.dataDir} without confirmation.`,
          ['Pass --yes to confirm.'],
          'CONFIRMATION_REQUIRED',
        );
      }
      const ok = await confirm(`Delete all local stack data in ${options.dataDir}?`, false);
      if (!ok) {
        this.log('Nothing was deleted.');
        return {
          dataDir: options.dataDir,
          removedBytes: 0,
          restarted: false,
          quarantinedCredentials: null,
          reset: false,
        };
      }
    }
    const result = await resetLocalStack(options);
    this.log(
      `Reset the local stack in ${result.dataDir}: removed ${formatBytes(result.removedBytes)}${result.restarted ? '; it keeps running' : ''}.`,
    );
    if (result.quarantinedCredentials !== null)
      this.log(
        `credentials.json was damaged: moved to ${result.quarantinedCredentials}; new credentials were made (run \`mlpipe local env\` again).`,
      );
    return { ...result, reset: true };
  }
}
