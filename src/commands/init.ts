import { prose } from '../lib/cli/prose.js';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { findConfigFile, type Target } from '../lib/cli/config.js';
import { MlpipeError } from '../lib/cli/errors.js';
import {
  buildConfigFile,
  checkGivenValues,
  completeInitValues,
  configFilesIn,
  DEFAULT_TEMPLATES_DIR,
  INIT_CONFIG_FILE_NAME,
  initProject,
  preflightInit,
  promptInitValues,
  type InitResult,
  type InitValues,
  withDefaultTemplatesDir,
} from '../lib/project/init.js';
import { canPrompt, inquirerPrompter } from '../lib/cli/ui.js';

export type InitCommandResult = InitResult;

export default class Init extends MlpipeCommand<typeof Init> {
  static override summary =
    'Create mlpipe.config.json for a new project (and optionally copy the templates).';
  static override description = prose`Writes mlpipe.config.json in the current directory with the project name, the default target,
the region and the data-lake bucket. On a terminal it asks for each value the flags leave out
(defaults: the directory's name as the project, target local, region us-east-1, bucket
<project>-datalake — on AWS, where bucket names are global, <project>-datalake-<random suffix>);
otherwise it uses the flags and those defaults. Values are checked with the config file's own rules.
--profile, --endpoint-url and --data-dir are recorded too when given; environment variables
(MLPIPE_TARGET, AWS_REGION, …) are not: they keep applying on top of the file at run time.

--templates copies the CloudFormation templates shipped with mlpipe into a directory (./templates
when none is given) so you can customise them; \`mlpipe deploy\` uses ./templates when it exists.

Refuses to overwrite an existing mlpipe.config.* or template copies unless --force is given.`;
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --project movies',
    '<%= config.bin %> init --project movies --target aws --region eu-west-1 --bucket movies-lake-123456789012',
    '<%= config.bin %> init --project movies --templates templates',
    '<%= config.bin %> init --project movies --force --json',
  ];
  static override flags = {
    project: Flags.string({
      description:
        'Project name: lower-case letters, digits and "-", at most 41 characters [default: the directory\'s name].',
    }),
    bucket: Flags.string({
      description: 'Data-lake S3 bucket name [default: <project>-datalake; on aws with a random suffix].',
    }),
    templates: Flags.string({
      description: `Copy the packaged CloudFormation templates into this directory for customising ("${DEFAULT_TEMPLATES_DIR}" when given without a value).`,
    }),
    force: Flags.boolean({ description: 'Overwrite an existing config file and existing template copies.' }),
  };

  public override async init(): Promise<void> {
    this.argv = withDefaultTemplatesDir(this.argv);
    await super.init();
  }

  async run(): Promise<InitCommandResult> {
    // Settings are deliberately not resolved: an existing (maybe broken) config file must not stop init.
    const dir = process.cwd();
    const given: Partial<InitValues> = {
      project: this.flags.project,
      target: this.flags.target as Target | undefined,
      region: this.flags.region,
      bucket: this.flags.bucket,
    };
    const extras = {
      profile: this.flags.profile,
      endpointUrl: this.flags['endpoint-url'],
      dataDir: this.flags['data-dir'],
    };
    checkGivenValues(given, extras);
    // Refuse (existing files without --force) before asking anything.
    await preflightInit({ dir, force: this.flags.force, templatesDir: this.flags.templates });
    const existingBefore = configFilesIn(dir);
    const parentConfig = findConfigFile(path.dirname(dir));

    const interactive = canPrompt(this.jsonEnabled());
    let values: InitValues;
    try {
      values = interactive
        ? await promptInitValues(given, dir, await inquirerPrompter())
        : completeInitValues(given, dir);
    } catch (error) {
      // Ctrl+C (or a closed terminal) at a question: inquirer's ExitPromptError.
      if ((error as Error).name === 'ExitPromptError') {
        throw new MlpipeError('Cancelled; nothing was written.', { code: 'CANCELLED' });
      }
      throw error;
    }
    const config = buildConfigFile(values, extras);
    const result = await initProject({
      dir,
      config,
      force: this.flags.force,
      templatesDir: this.flags.templates,
    });

    const shown = (file: string): string => path.relative(dir, file) || file;
    this.log(`Wrote ${shown(result.configFile)}:`);
    for (const line of JSON.stringify(result.config, null, 2).split('\n')) this.log(`  ${line}`);
    if (!interactive && values.target === 'aws' && this.flags.bucket === undefined) {
      this.log(
        `S3 bucket names are global across all AWS accounts; ${values.bucket} has a random suffix so it is likely free.`,
      );
    }
    for (const other of existingBefore.filter((file) => path.basename(file) !== INIT_CONFIG_FILE_NAME)) {
      this.warn(
        `${shown(other)} is still there; ${INIT_CONFIG_FILE_NAME} takes precedence over it. Delete it to avoid confusion.`,
      );
    }
    if (parentConfig !== undefined) {
      this.log(`(Commands run in ${dir} now use this file instead of ${parentConfig}.)`);
    }
    if (process.env.MLPIPE_CONFIG) {
      this.warn(
        `MLPIPE_CONFIG is set (${process.env.MLPIPE_CONFIG}): commands use that file until you unset it.`,
      );
    }
    if (this.flags.templates !== undefined) {
      const templatesDir = path.resolve(dir, this.flags.templates);
      this.log('');
      this.log(
        `Copied ${result.templatesCopied.length} template${result.templatesCopied.length === 1 ? '' : 's'} to ${shown(templatesDir)}/: ${result.templatesCopied.map((file) => path.basename(file)).join(', ')}`,
      );
      if (templatesDir === path.join(dir, DEFAULT_TEMPLATES_DIR)) {
        this.log(
          '`mlpipe deploy` will use ./templates (your copies) instead of the templates shipped with mlpipe.',
        );
      } else {
        this.log(
          `\`mlpipe deploy\` uses ./templates when present; move these copies there (or init with --templates ${DEFAULT_TEMPLATES_DIR}) for deploy to use them.`,
        );
      }
    }
    this.log('');
    this.log('Next steps:');
    const where = values.target === 'local' ? 'locally' : `on AWS (${values.region})`;
    const steps: Array<[string, string]> = [
      ['mlpipe deploy', `create the pipeline's stacks ${where}`],
      ['mlpipe sample-data', 'write a MovieLens-format sample to ./data'],
      ['mlpipe upload-raw', `upload it to s3://${values.bucket}/raw/`],
      ['mlpipe start-pipeline --wait', 'ETL, import, training, batch recommendations'],
      ['mlpipe show-recs --user 75', "a user's recommendations, with titles"],
    ];
    for (const [command, what] of steps) this.log(`  ${command.padEnd(28)}  ${what}`);
    if (values.target === 'local') this.log('Or all of it at once: mlpipe demo');
    return result;
  }
}
