/**
 * The pipeline's CloudFormation stacks: which template each uses, the order they deploy in, the
 * parameters the CLI passes from its settings, and reading a deployed stack's Outputs (where
 * every later command gets resource names and ARNs, on both targets).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Output, Stack } from '@aws-sdk/client-cloudformation';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { MlpipeError, translateAwsError } from '../cli/errors.js';
import { CONFIG_HYPERPARAMETERS, solutionName } from '../personalize/solution-settings.js';

export type StackKey = 'datalake' | 'etl' | 'personalize' | 'pipeline';

export interface StackDefinition {
  key: StackKey;
  /** Template file name under templates/. */
  template: string;
  summary: string;
  /** Parameter values the CLI supplies; only those the template declares are passed. */
  parameters(settings: Settings): Record<string, string>;
  /**
   * Files the stack's resources read from the lake (e.g. the Glue job's script), uploaded by
   * `deploy` before the stack: every file under `dir` (the package's, then the project's own copy)
   * matching `include`, to s3://<lake bucket>/<the data-lake output `prefixOutput`><relative path>.
   */
  assets?: { dir: string; include: RegExp; prefixOutput: string };
  /**
   * Parameters an update leaves as deployed unless `--parameter` gives them (UsePreviousValue):
   * state a command changes in place, such as the pipeline's schedule (`mlpipe schedule`).
   */
  keepDeployed?: readonly string[];
}

/** In deployment order (later stacks import earlier stacks' exports); destroyed in reverse. */
export const STACKS: readonly StackDefinition[] = [
  {
    key: 'datalake',
    template: 'datalake.yaml',
    summary: 'data-lake bucket, bucket policy and the pipeline IAM roles',
    parameters: (settings) => ({
      ProjectName: settings.project.value,
      BucketName: settings.bucket.value,
      RawPrefix: settings.prefixes.raw.value,
      TransformedPrefix: settings.prefixes.transformed.value,
      ItemsPrefix: settings.prefixes.items.value,
      BatchInputPrefix: settings.prefixes.batchInput.value,
      RecommendationsPrefix: settings.prefixes.recommendations.value,
    }),
  },
  {
    key: 'etl',
    template: 'etl.yaml',
    summary: 'the Glue job that reshapes raw interactions for Personalize',
    parameters: (settings) => ({
      ProjectName: settings.project.value,
      DataLakeStackName: settings.stacks.datalake.value,
      RawPrefix: settings.prefixes.raw.value,
      TransformedPrefix: settings.prefixes.transformed.value,
      BatchInputPrefix: settings.prefixes.batchInput.value,
    }),
    // The job's script, its spec module and the mapping specs, read by the job from the lake.
    assets: { dir: 'glue', include: /\.(py|json)$/, prefixOutput: 'GlueScriptsPrefix' },
  },
  {
    key: 'personalize',
    template: 'personalize.yaml',
    summary: 'the Personalize dataset group, schemas, the interactions and items datasets and the solution',
    parameters: (settings) => ({
      ProjectName: settings.project.value,
      DataLakeStackName: settings.stacks.datalake.value,
      ...solutionParameters(settings),
    }),
    // A campaign switched on with --parameter stays on through a plain redeploy.
    keepDeployed: ['CampaignSolutionVersionArn', 'CampaignMinProvisionedTPS'],
  },
  {
    key: 'pipeline',
    template: 'pipeline.yaml',
    summary: 'the state machine that runs ETL, import, training and batch inference, and its schedule',
    parameters: (settings) => ({
      ProjectName: settings.project.value,
      DataLakeStackName: settings.stacks.datalake.value,
      EtlStackName: settings.stacks.etl.value,
      PersonalizeStackName: settings.stacks.personalize.value,
    }),
    keepDeployed: ['ScheduleExpression', 'ScheduleState'],
  },
];

/**
 * The solution's stack parameters from the config file's `training` section: its name (which
 * changes with its configuration), recipe, HPO, and each hyperparameter ('' = the recipe's default).
 */
function solutionParameters(settings: Settings): Record<string, string> {
  const { recipe, hpo, hyperparameters } = settings.training;
  const given = Object.fromEntries(Object.entries(hyperparameters).map(([name, r]) => [name, r.value]));
  const parameters: Record<string, string> = {
    SolutionName: solutionName(settings.project.value, {
      recipe: recipe.value,
      hpo: hpo.value,
      hyperparameters: given,
    }),
    SolutionRecipe: recipe.value,
    PerformHPO: String(hpo.value),
  };
  for (const [name, { parameter }] of Object.entries(CONFIG_HYPERPARAMETERS))
    parameters[parameter] = given[name] ?? '';
  return parameters;
}

export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PACKAGE_TEMPLATES_DIR = path.join(PACKAGE_ROOT, 'templates');

/** A project's own copy (`mlpipe init --templates`) wins over the templates shipped with mlpipe. */
export function templatePath(settings: Settings, definition: StackDefinition): string {
  const own = path.join(settings.projectDir, 'templates', definition.template);
  return existsSync(own) ? own : path.join(PACKAGE_TEMPLATES_DIR, definition.template);
}

/** Stacks that have a template available, in deployment order. */
export function availableStacks(settings: Settings): StackDefinition[] {
  return STACKS.filter((definition) => existsSync(templatePath(settings, definition)));
}

export function stackName(settings: Settings, key: StackKey): string {
  return settings.stacks[key].value;
}

/** Picks stacks by key or stack name (`--stack`), keeping deployment order. */
export function selectStacks(settings: Settings, wanted: string[] | undefined): StackDefinition[] {
  const available = availableStacks(settings);
  if (wanted === undefined || wanted.length === 0) return available;
  const unknown = wanted.filter(
    (w) => !available.some((d) => d.key === w || stackName(settings, d.key) === w),
  );
  if (unknown.length > 0) {
    throw new MlpipeError(`Unknown stack ${unknown.map((u) => `"${u}"`).join(', ')}.`, {
      exit: 2,
      code: 'UNKNOWN_STACK',
      suggestions: [
        `Stacks: ${available.map((d) => `${d.key} (${stackName(settings, d.key)})`).join(', ')}.`,
      ],
    });
  }
  return available.filter((d) => wanted.includes(d.key) || wanted.includes(stackName(settings, d.key)));
}

/** DescribeStacks for one stack; undefined when it does not exist (or was deleted). */
export async function describeStack(clients: Clients, name: string): Promise<Stack | undefined> {
  const cfn = await clients.cloudformation();
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  try {
    const result = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    const stack = result.Stacks?.[0];
    return stack === undefined || stack.StackStatus === 'DELETE_COMPLETE' ? undefined : stack;
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) return undefined;
    throw translateAwsError(error, `Describing stack ${name}`);
  }
}

export function outputsOf(stack: Stack): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const output of stack.Outputs ?? ([] as Output[])) {
    if (output.OutputKey !== undefined && output.OutputValue !== undefined)
      outputs[output.OutputKey] = output.OutputValue;
  }
  return outputs;
}

/** A deployed stack's outputs, or an error saying to deploy it first. */
export async function requireStackOutputs(
  clients: Clients,
  settings: Settings,
  key: StackKey,
): Promise<Record<string, string>> {
  const name = stackName(settings, key);
  const stack = await describeStack(clients, name);
  const status = stack?.StackStatus ?? '';
  // A failed create (ROLLBACK_COMPLETE) has no resources; an update rolled back still has the old
  // ones. A stack made by a resource import (IMPORT_COMPLETE, or IMPORT_ROLLBACK_COMPLETE) has no
  // outputs until `deploy` updates it with its whole template.
  const importedOnly = status.startsWith('IMPORT_') && (stack?.Outputs ?? []).length === 0;
  if (
    stack === undefined ||
    !status.endsWith('_COMPLETE') ||
    status === 'ROLLBACK_COMPLETE' ||
    importedOnly
  ) {
    throw new MlpipeError(
      stack === undefined
        ? `Stack ${name} is not deployed.`
        : `Stack ${name} is in state ${stack.StackStatus}, so its outputs cannot be used.`,
      { code: 'STACK_NOT_DEPLOYED', suggestions: [`Run \`mlpipe deploy --stack ${key}\`.`] },
    );
  }
  return outputsOf(stack);
}
