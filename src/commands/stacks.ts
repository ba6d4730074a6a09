import { MlpipeCommand } from '../lib/cli/base-command.js';
import { describeStack, outputsOf, stackName, STACKS, templatePath } from '../lib/infra/stacks.js';
import { renderOutputs } from '../lib/infra/stack-view.js';
import { renderTable } from '../lib/cli/ui.js';

export interface StackSummary {
  key: string;
  stackName: string;
  status: string;
  lastUpdated: string | null;
  statusReason: string | null;
  outputs: Record<string, string>;
  template: string;
}

export default class Stacks extends MlpipeCommand<typeof Stacks> {
  static override summary = "List the pipeline's stacks with their status, last update and outputs.";
  static override examples = [
    '<%= config.bin %> stacks',
    '<%= config.bin %> stacks --json | jq ".stacks[0].outputs"',
  ];

  async run(): Promise<{ stacks: StackSummary[] }> {
    const clients = await this.clients();
    const stacks: StackSummary[] = [];
    for (const definition of STACKS) {
      const name = stackName(this.settings, definition.key);
      const stack = await describeStack(clients, name);
      stacks.push({
        key: definition.key,
        stackName: name,
        status: stack?.StackStatus ?? 'NOT_DEPLOYED',
        lastUpdated: (stack?.LastUpdatedTime ?? stack?.CreationTime)?.toISOString() ?? null,
        statusReason: stack?.StackStatusReason ?? null,
        outputs: stack === undefined ? {} : outputsOf(stack),
        template: templatePath(this.settings, definition),
      });
    }
    this.log(
      renderTable(
        stacks.map((s) => ({
          key: s.key,
          stackName: s.stackName,
          status: s.status,
          lastUpdated: s.lastUpdated,
        })),
        [
          { key: 'key', header: 'STACK', drop: 1 },
          { key: 'stackName', header: 'NAME', kind: 'name' },
          { key: 'status', header: 'STATUS' },
          { key: 'lastUpdated', header: 'LAST UPDATED', kind: 'time' },
        ],
      ),
    );
    for (const stack of stacks) {
      if (Object.keys(stack.outputs).length === 0) continue;
      this.log('');
      this.log(`${stack.stackName} outputs:`);
      this.log(renderOutputs(stack.outputs));
    }
    return { stacks };
  }
}
