import { prose } from '../lib/cli/prose.js';
import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { destroy, refuseImportedExports, type DestroyedStack } from '../lib/infra/deploy.js';
import { usageError } from '../lib/cli/errors.js';
import { selectStacks, stackName } from '../lib/infra/stacks.js';
import { stackProgress } from '../lib/infra/stack-view.js';
import { canPrompt, confirm, terminalWidth, wrapWords } from '../lib/cli/ui.js';
import { describePlan, planIsEmpty, planTeardown } from '../lib/personalize/teardown.js';

export default class Destroy extends MlpipeCommand<typeof Destroy> {
  static override summary = "Delete the pipeline's stacks, last first, keeping resources marked Retain.";
  static override description = prose`Deletes each stack and everything it created, last-deployed first. Resources with
DeletionPolicy Retain — the data-lake bucket and its data — are kept and listed, so deploying again
later needs them removed by hand (or a different bucket name). Asks for confirmation; --yes skips
it and is required without a terminal. Before the Personalize stack it clears its dataset group of what
\`mlpipe train\` created outside the stack — stops versions still training and deletes the solutions
made for --recipe and --hpo — and shows them in the confirmation.`;
  static override examples = [
    '<%= config.bin %> destroy',
    '<%= config.bin %> destroy --stack datalake --yes',
  ];
  static override flags = {
    stack: Flags.string({ description: 'Delete only this stack (key or name); repeatable.', multiple: true }),
    yes: Flags.boolean({ char: 'y', description: 'Do not ask for confirmation.' }),
    timeout: Flags.integer({ description: 'Seconds to wait for each stack.', default: 3600, min: 1 }),
  };

  async run(): Promise<{ stacks: DestroyedStack[] }> {
    const stacks = selectStacks(this.settings, this.flags.stack);
    const names = stacks.map((s) => stackName(this.settings, s.key)).reverse();
    const clients = await this.clients();
    // Before asking: a stack another stack depends on cannot go (the pipeline imports Personalize's exports).
    await refuseImportedExports(clients, this.settings, stacks);
    // What train left in the dataset group, shown before the confirmation (planned again when deleting).
    const plan = stacks.some((s) => s.key === 'personalize')
      ? await planTeardown(clients, this.settings)
      : undefined;
    const solutions = plan?.solutions.map((s) => s.name) ?? [];
    if (plan !== undefined && !planIsEmpty(plan))
      for (const line of describePlan(plan, stackName(this.settings, 'personalize')))
        this.note(wrapWords(line, terminalWidth(process.stderr), '    '));
    if (!this.flags.yes) {
      const alsoSolutions =
        solutions.length > 0 ? ` and solution${solutions.length > 1 ? 's' : ''} ${solutions.join(', ')}` : '';
      if (!canPrompt(this.jsonEnabled())) {
        throw usageError(
          `Refusing to delete ${names.join(', ')}${alsoSolutions} without confirmation.`,
          ['Pass --yes to confirm.'],
          'CONFIRMATION_REQUIRED',
        );
      }
      const what = `stack${names.length > 1 ? 's' : ''} ${names.join(', ')}${alsoSolutions}`;
      if (!(await confirm(`Delete ${what}?`, false))) {
        this.log('Nothing was deleted.');
        return { stacks: [] };
      }
    }
    const progress = stackProgress(this.uiOptions, (line) => this.note(line));
    const results = await destroy(clients, this.settings, stacks, {
      timeoutSeconds: this.flags.timeout,
      onStatus: progress.onStatus,
      onEvent: progress.onEvent,
      onTeardown: (line) => this.note(line),
    }).finally(progress.stop);
    for (const result of results) {
      for (const arn of result.cleared?.stoppedVersions ?? []) this.log(`solution version ${arn}: stopped`);
      for (const solution of result.cleared?.deletedSolutions ?? [])
        this.log(`solution ${solution.name}: deleted`);
      this.log(
        `${result.stackName}: ${result.result === 'deleted' ? 'deleted' : 'not deployed, nothing to delete'}`,
      );
      for (const kept of result.retained) {
        this.log(`  kept (DeletionPolicy Retain): ${kept.logicalId} (${kept.type})`);
      }
    }
    return { stacks: results };
  }
}
