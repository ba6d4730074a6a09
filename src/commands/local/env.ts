import { prose } from '../../lib/cli/prose.js';
import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../../lib/cli/base-command.js';
import { connectLocalStack } from '../../lib/local/lifecycle.js';

export interface LocalEnvResult {
  AWS_ENDPOINT_URL: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_REGION: string;
  AWS_DEFAULT_REGION: string;
}

export default class LocalEnv extends MlpipeCommand<typeof LocalEnv> {
  static override summary = 'Print the environment that points any AWS client at the local stack.';
  static override description = prose`Prints export lines for the local stack's endpoint, credentials and region (starting the stack
if needed). Evaluate them in your shell to use the AWS CLI or any SDK against it. AWS CLI v1
ignores AWS_ENDPOINT_URL: pass --endpoint-url "$AWS_ENDPOINT_URL" to it.`;
  static override examples = [
    'eval "$(<%= config.bin %> local env)" && aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls',
    '<%= config.bin %> local env --shell fish',
  ];
  static override flags = {
    shell: Flags.string({
      description: 'Syntax of the lines printed.',
      options: ['sh', 'fish', 'powershell'],
      default: 'sh',
    }),
  };

  async run(): Promise<LocalEnvResult> {
    const { connection } = await connectLocalStack(this.settings, () =>
      process.stderr.write('Starting the local stack…\n'),
    );
    const region = connection.region ?? 'us-east-1';
    const env: LocalEnvResult = {
      AWS_ENDPOINT_URL: connection.endpoint!,
      AWS_ACCESS_KEY_ID: connection.credentials!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: connection.credentials!.secretAccessKey,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
    };
    for (const [key, value] of Object.entries(env)) {
      if (this.flags.shell === 'fish') this.log(`set -gx ${key} '${value}';`);
      else if (this.flags.shell === 'powershell') this.log(`$Env:${key} = '${value}'`);
      else this.log(`export ${key}='${value}'`);
    }
    return env;
  }
}
