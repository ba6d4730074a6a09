import { prose } from '../lib/cli/prose.js';
import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import {
  deploy,
  type DeployedStack,
  type KeptBucketChoice,
  type PlannedChange,
} from '../lib/infra/deploy.js';
import { checkField, saveConfigValue } from '../lib/project/init.js';
import { usageError } from '../lib/cli/errors.js';
import { selectStacks } from '../lib/infra/stacks.js';
import { renderOutputs, stackProgress } from '../lib/infra/stack-view.js';
import {
  canPrompt,
  confirm,
  inquirerPrompter,
  renderTable,
  terminalWidth,
  wrapWords,
} from '../lib/cli/ui.js';

export interface DeployResult {
  stacks: DeployedStack[];
}

export function parseParameterFlags(values: string[] | undefined): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const value of values ?? []) {
    const eq = value.indexOf('=');
    if (eq <= 0)
      throw usageError(
        `--parameter "${value}" is not KEY=VALUE.`,
        ['Example: --parameter ProjectName=movies'],
        'BAD_PARAMETER',
      );
    parameters[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return parameters;
}

export function changeTable(changes: PlannedChange[]): string {
  return renderTable(
    changes.map((c) => ({ ...c, replacement: c.action === 'Modify' ? c.replacement : null })),
    [
      { key: 'action', header: 'ACTION' },
      { key: 'logicalId', header: 'RESOURCE', kind: 'name' },
      { key: 'type', header: 'TYPE', kind: 'name' },
      { key: 'replacement', header: 'REPLACEMENT', drop: 1 },
    ],
  );
}

export default class Deploy extends MlpipeCommand<typeof Deploy> {
  static override summary =
    "Deploy the pipeline's stacks: show each change set, ask, execute, stream events.";
  static override description = prose`For each stack in dependency order (data lake first), creates a change set from templates/
(a project's own templates/ copy, from \`mlpipe init --templates\`, wins), shows it, asks to confirm
on a terminal, executes it and streams the stack's events until it is done — the same steps as
\`aws cloudformation deploy\`, on the local stack or on AWS. "No changes" is success. A failure names
the failing resource and its reason and exits 3. Without a terminal it deploys without asking,
like \`aws cloudformation deploy\`. A new data-lake stack blocked by the bucket \`mlpipe destroy\` kept can
adopt it with its data (\`--adopt-kept-bucket\`: a CloudFormation resource import, then the update),
delete it (\`--delete-kept-bucket\`), or, on a terminal, use another bucket name.`;
  static override examples = [
    '<%= config.bin %> deploy',
    '<%= config.bin %> deploy --stack datalake --yes',
    '<%= config.bin %> deploy --no-execute            # create and show the change sets only',
    '<%= config.bin %> deploy --target aws --profile prod --parameter ProjectName=movies',
    '<%= config.bin %> deploy --yes --adopt-kept-bucket   # after destroy: take the kept bucket back, data and all',
  ];
  static override flags = {
    stack: Flags.string({
      description: 'Deploy only this stack (key like "datalake" or stack name); repeatable.',
      multiple: true,
    }),
    parameter: Flags.string({
      description: 'Template parameter override KEY=VALUE; repeatable.',
      multiple: true,
    }),
    yes: Flags.boolean({ char: 'y', description: 'Execute change sets without asking.' }),
    execute: Flags.boolean({
      description: 'Execute the change sets (--no-execute only creates and shows them).',
      default: true,
      allowNo: true,
    }),
    timeout: Flags.integer({ description: 'Seconds to wait for each stack.', default: 3600, min: 1 }),
    'adopt-kept-bucket': Flags.boolean({
      description:
        'If the data-lake bucket already exists (kept by `mlpipe destroy`), adopt it with its objects into the stack (a CloudFormation resource import), then deploy.',
      exclusive: ['delete-kept-bucket'],
    }),
    'delete-kept-bucket': Flags.boolean({
      description:
        'If the data-lake bucket already exists (kept by `mlpipe destroy`), delete it and its objects, then deploy.',
      exclusive: ['adopt-kept-bucket'],
    }),
  };

  async run(): Promise<DeployResult> {
    const overrides = parseParameterFlags(this.flags.parameter);
    const stacks = selectStacks(this.settings, this.flags.stack);
    const clients = await this.clients();
    const interactive = canPrompt(this.jsonEnabled()) && !this.flags.yes;
    const progress = stackProgress(this.uiOptions, (line) => this.note(line));
    const results = await deploy(clients, this.settings, {
      stacks,
      overrides,
      execute: this.flags.execute,
      timeoutSeconds: this.flags.timeout,
      onPlan: (stack, changes, type) => {
        const kind = { CREATE: 'new stack', UPDATE: 'update', IMPORT: 'resource import' }[type];
        this.note(`Change set for ${stack} (${kind}):`);
        this.note(changeTable(changes));
      },
      confirm: async (stack) => {
        if (!interactive) return true;
        return confirm(`Deploy these changes to ${stack}?`, true);
      },
      onDroppedParameters: (dropped) => {
        const names = dropped.parameters.join(', ');
        // Even under --json: a value that is not deployed is a fact a person or a log needs.
        this.notice(
          `Warning: ${
            dropped.source === 'settings'
              ? `${dropped.stackName}: not passing ${names}: ValidateTemplate does not report ${dropped.parameters.length === 1 ? 'it' : 'them'} as declared by ${dropped.template}, so the template's own values apply.`
              : `--parameter ${names} not passed: ValidateTemplate reported no parameters for ${dropped.template}, so deploy cannot tell which template declares ${dropped.parameters.length === 1 ? 'it' : 'them'}.`
          }`,
        );
      },
      onAssets: (stack, assets) => {
        this.note(
          `Uploaded ${assets.length} asset file(s) for ${stack} to ${assets[0]!.uri.replace(/[^/]*$/, '')}`,
        );
      },
      onKeptBucket: async (kept): Promise<KeptBucketChoice> => {
        if (this.flags['adopt-kept-bucket']) return { action: 'adopt' };
        if (this.flags['delete-kept-bucket']) return { action: 'delete' };
        if (!canPrompt(this.jsonEnabled())) return { action: 'stop' };
        const count = `${kept.objects}${kept.moreObjects ? '+' : ''} object${kept.objects === 1 ? '' : 's'}`;
        this.note(
          wrapWords(
            `The bucket ${kept.bucket} already exists (${count}): \`mlpipe destroy\` kept it (DeletionPolicy Retain), so ${kept.stackName} could not create it again.`,
            terminalWidth(process.stderr),
          ),
        );
        const prompter = await inquirerPrompter();
        const action = await prompter.select<'adopt' | 'rename' | 'delete' | 'stop'>({
          message: 'What should deploy do?',
          default: 'adopt',
          choices: [
            {
              value: 'adopt',
              name: `Adopt ${kept.bucket} with its ${count} (CloudFormation resource import)`,
              description: 'The stack takes the bucket over as it is; its data stays.',
            },
            {
              value: 'rename',
              name: 'Use another bucket name (saved as "bucket" in the config file)',
              description: `${kept.bucket} and its data stay as they are.`,
            },
            {
              value: 'delete',
              name: `Delete ${kept.bucket} and its ${count}, then deploy`,
              description: 'The data in it is lost.',
            },
            { value: 'stop', name: 'Stop', description: 'Nothing is changed.' },
          ],
        });
        if (action === 'adopt' || action === 'delete' || action === 'stop') return { action };
        const bucket = (
          await prompter.input({
            message: 'Bucket name',
            default: `${kept.bucket}-2`,
            validate: (value) => {
              const verdict = checkField('bucket', value.trim());
              return verdict === true ? true : `bucket ${verdict}`;
            },
          })
        ).trim();
        const file = await saveConfigValue(
          this.settings.configFile,
          this.settings.projectDir,
          'bucket',
          bucket,
        );
        this.note(`Saved "bucket": "${bucket}" in ${file}.`);
        return { action: 'rename', bucket };
      },
      onAdopt: (kept, logicalId) => {
        const count = `${kept.objects}${kept.moreObjects ? '+' : ''} object${kept.objects === 1 ? '' : 's'}`;
        this.note(
          wrapWords(
            `Adopting ${kept.bucket} (${count}) into ${kept.stackName} as ${logicalId}: a resource import, then the stack's update.`,
            terminalWidth(process.stderr),
          ),
        );
      },
      onStatus: progress.onStatus,
      onEvent: progress.onEvent,
    }).finally(progress.stop);
    for (const result of results) {
      const verb = {
        created: 'created',
        updated: 'updated',
        'no-changes': 'no changes to deploy',
        'change-set-created': `change set ${result.changeSetName} created, not executed`,
      }[result.result];
      const adopted = result.adoptedBucket === null ? '' : `adopted bucket ${result.adoptedBucket}, `;
      this.log(`${result.stackName}: ${adopted}${verb}${result.status ? ` (${result.status})` : ''}`);
      if (Object.keys(result.outputs).length > 0 && result.result !== 'change-set-created') {
        this.log(renderOutputs(result.outputs));
      }
    }
    return { stacks: results };
  }
}
