/**
 * What `mlpipe destroy` clears out of the project's dataset group before deleting the Personalize
 * stack: the solutions `mlpipe train --recipe`/`--hpo` created on demand (not in any stack; a
 * dataset group with solutions cannot be deleted) and the solution versions still training, in
 * those and in the stack's own solution (DeleteSolution refuses while one trains). Planned first
 * (for the confirmation), then carried out: stop, wait, delete, wait. Batch inference jobs do not
 * block a deletion, so they are left as they are.
 */
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { MlpipeError, translateAwsError } from '../cli/errors.js';
import { pollIntervals, waitFor } from '../cli/wait.js';
import { describeStack, outputsOf, stackName } from '../infra/stacks.js';
import { recipeName, VERSION_IN_FLIGHT, versionEnded } from './solutions.js';

export interface TeardownSolution {
  name: string;
  arn: string;
  recipe: string;
  status: string;
  versions: number;
}

export interface TrainingVersion {
  arn: string;
  solutionName: string;
  status: string;
}

export interface TeardownPlan {
  datasetGroupArn: string;
  /** Solutions `mlpipe train` created in the dataset group, to delete (the stack's is not one). */
  solutions: TeardownSolution[];
  /** Versions still training (in those solutions or the stack's), to stop first. */
  trainingVersions: TrainingVersion[];
}

export interface TeardownResult {
  datasetGroupArn: string;
  stoppedVersions: string[];
  deletedSolutions: Array<{ name: string; arn: string }>;
}

const CLI_SOLUTION_NAME = /^(.+)-(personalization|popularity|similar-items)(-[0-9a-f]{5})?$/;

/** Whether `name` is one solution-settings.ts's solutionName gives for `project`. */
export function isCliSolutionName(name: string, project: string): boolean {
  const match = CLI_SOLUTION_NAME.exec(name);
  if (match === null) return false;
  const tail = name.slice(match[1]!.length);
  return match[1] === project.slice(0, Math.max(1, 63 - tail.length));
}

/** The AWS CLI command that does `args` by hand, on the local stack through `mlpipe local env`. */
export function byHand(clients: Clients, args: string): string {
  return clients.connection.target === 'local'
    ? `eval "$(mlpipe local env)" && aws --endpoint-url "$AWS_ENDPOINT_URL" ${args}`
    : `aws ${args}`;
}

async function personalizeApi(clients: Clients) {
  return { client: await clients.personalize(), sdk: await import('@aws-sdk/client-personalize') };
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: string }).name === 'ResourceNotFoundException';
}

async function solutionsIn(
  clients: Clients,
  datasetGroupArn: string,
): Promise<Array<{ name: string; arn: string; recipe: string; status: string }>> {
  const { client, sdk } = await personalizeApi(clients);
  const found: Array<{ name: string; arn: string; recipe: string; status: string }> = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new sdk.ListSolutionsCommand({ datasetGroupArn, maxResults: 100, nextToken }),
      );
      for (const s of page.solutions ?? [])
        found.push({
          name: s.name ?? '',
          arn: s.solutionArn ?? '',
          recipe: recipeName(s.recipeArn),
          status: s.status ?? 'UNKNOWN',
        });
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  } catch (error) {
    // The dataset group is already gone (an earlier destroy got that far): nothing in it.
    if (isNotFound(error)) return [];
    throw translateAwsError(error, `Listing the solutions of ${datasetGroupArn}`);
  }
  return found;
}

async function versionsOf(
  clients: Clients,
  solutionArn: string,
): Promise<Array<{ arn: string; status: string }>> {
  const { client, sdk } = await personalizeApi(clients);
  const versions: Array<{ arn: string; status: string }> = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new sdk.ListSolutionVersionsCommand({ solutionArn, maxResults: 100, nextToken }),
      );
      for (const v of page.solutionVersions ?? [])
        versions.push({ arn: v.solutionVersionArn ?? '', status: v.status ?? 'UNKNOWN' });
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw translateAwsError(error, `Listing the versions of ${solutionArn}`);
  }
  return versions;
}

/**
 * What destroy must clear from the Personalize stack's dataset group, or undefined when the stack
 * is not deployed (or has no dataset group output). A solution in the group that mlpipe did not
 * create is not deleted: that is an error naming it, before anything is changed.
 */
export async function planTeardown(clients: Clients, settings: Settings): Promise<TeardownPlan | undefined> {
  const stack = await describeStack(clients, stackName(settings, 'personalize'));
  if (stack === undefined) return undefined;
  const outputs = outputsOf(stack);
  const datasetGroupArn = outputs.DatasetGroupArn;
  if (datasetGroupArn === undefined) return undefined;
  const project = settings.project.value;
  const plan: TeardownPlan = { datasetGroupArn, solutions: [], trainingVersions: [] };
  const foreign: Array<{ name: string; arn: string }> = [];
  for (const solution of await solutionsIn(clients, datasetGroupArn)) {
    const own = solution.arn === outputs.SolutionArn;
    if (!own && !isCliSolutionName(solution.name, project)) {
      foreign.push(solution);
      continue;
    }
    const versions = await versionsOf(clients, solution.arn);
    for (const v of versions)
      if (VERSION_IN_FLIGHT.has(v.status))
        plan.trainingVersions.push({ arn: v.arn, solutionName: solution.name, status: v.status });
    if (!own) plan.solutions.push({ ...solution, versions: versions.length });
  }
  if (foreign.length > 0)
    throw new MlpipeError(
      `Dataset group ${datasetGroupArn} has solution${foreign.length > 1 ? 's' : ''} mlpipe did not create: ${foreign.map((s) => s.name).join(', ')}. The Personalize stack cannot be deleted while ${foreign.length > 1 ? 'they exist' : 'it exists'}, and destroy deletes only the solutions \`mlpipe train\` creates. Nothing was deleted.`,
      {
        code: 'FOREIGN_SOLUTIONS',
        suggestions: [
          ...foreign.map(
            (s) =>
              `Delete ${s.name} by hand (stop its training versions first): \`${byHand(clients, `personalize delete-solution --solution-arn ${s.arn}`)}\`.`,
          ),
          'Then run `mlpipe destroy` again.',
        ],
      },
    );
  return plan;
}

export function planIsEmpty(plan: TeardownPlan | undefined): boolean {
  return plan === undefined || (plan.solutions.length === 0 && plan.trainingVersions.length === 0);
}

export interface TeardownOptions {
  timeoutSeconds: number;
  /** Progress lines (stopping, deleting, done). */
  onProgress?: (line: string) => void;
}

/** Stops the training versions, waits for them to end, then deletes each solution and waits for it to go. */
export async function carryOutTeardown(
  clients: Clients,
  plan: TeardownPlan,
  options: TeardownOptions,
): Promise<TeardownResult> {
  const { client, sdk } = await personalizeApi(clients);
  const intervals = pollIntervals(clients.connection.target);
  const timeoutMs = options.timeoutSeconds * 1000;
  const result: TeardownResult = {
    datasetGroupArn: plan.datasetGroupArn,
    stoppedVersions: [],
    deletedSolutions: [],
  };
  const versionStatus = async (arn: string): Promise<string> => {
    try {
      const { solutionVersion } = await client.send(
        new sdk.DescribeSolutionVersionCommand({ solutionVersionArn: arn }),
      );
      return solutionVersion?.status ?? 'UNKNOWN';
    } catch (error) {
      if (isNotFound(error)) return 'DELETED';
      throw translateAwsError(error, `Describing solution version ${arn}`);
    }
  };

  for (const version of plan.trainingVersions) {
    options.onProgress?.(
      `Stopping the training of solution version ${version.arn} (${version.solutionName}).`,
    );
    try {
      await client.send(new sdk.StopSolutionVersionCreationCommand({ solutionVersionArn: version.arn }));
    } catch (error) {
      // Ended (or already stopping) since the plan was made: the wait below sees which.
      const status = await versionStatus(version.arn);
      if (!versionEnded(status) && status !== 'CREATE STOPPING' && status !== 'DELETED')
        throw new MlpipeError(
          `Could not stop the training of solution version ${version.arn} (${version.solutionName}, ${status}): ${(error as Error).message}`,
          {
            code: 'STOP_VERSION_FAILED',
            suggestions: [
              `Stop it by hand: \`${byHand(clients, `personalize stop-solution-version-creation --solution-version-arn ${version.arn}`)}\`, then run \`mlpipe destroy\` again.`,
            ],
            cause: error,
          },
        );
    }
    await waitFor({
      what: `solution version ${version.arn} to stop`,
      poll: () => versionStatus(version.arn),
      done: (status) => versionEnded(status) || status === 'DELETED',
      ...intervals,
      timeoutMs,
      reattach: 'Run `mlpipe destroy` again once it has stopped.',
    });
    result.stoppedVersions.push(version.arn);
  }

  for (const solution of plan.solutions) {
    options.onProgress?.(`Deleting solution ${solution.name}.`);
    // One already being deleted (an earlier destroy) is only waited for.
    if (!solution.status.startsWith('DELETE')) {
      try {
        await client.send(new sdk.DeleteSolutionCommand({ solutionArn: solution.arn }));
      } catch (error) {
        if (!isNotFound(error))
          throw new MlpipeError(
            `Could not delete solution ${solution.name} (${solution.arn}): ${(error as { name?: string }).name ?? 'Error'}: ${(error as Error).message}`,
            {
              code: 'DELETE_SOLUTION_FAILED',
              suggestions: [
                `Delete it by hand (after what uses it, such as a campaign): \`${byHand(clients, `personalize delete-solution --solution-arn ${solution.arn}`)}\`, then run \`mlpipe destroy\` again.`,
              ],
              cause: error,
            },
          );
      }
    }
    // DeleteSolution is asynchronous on AWS (DELETE PENDING, DELETE IN_PROGRESS): gone when not found.
    await waitFor({
      what: `solution ${solution.name} to be deleted`,
      poll: async () => {
        try {
          const { solution: described } = await client.send(
            new sdk.DescribeSolutionCommand({ solutionArn: solution.arn }),
          );
          return described?.status ?? 'UNKNOWN';
        } catch (error) {
          if (isNotFound(error)) return 'DELETED';
          throw translateAwsError(error, `Describing solution ${solution.arn}`);
        }
      },
      done: (status) => status === 'DELETED' || status === 'DELETE FAILED',
      ...intervals,
      timeoutMs,
      reattach: 'Run `mlpipe destroy` again once it is gone.',
    }).then((status) => {
      if (status !== 'DELETED')
        throw new MlpipeError(`Solution ${solution.name} is ${status}.`, {
          code: 'DELETE_SOLUTION_FAILED',
          suggestions: [
            `Delete it by hand: \`${byHand(clients, `personalize delete-solution --solution-arn ${solution.arn}`)}\`, then run \`mlpipe destroy\` again.`,
          ],
        });
    });
    result.deletedSolutions.push({ name: solution.name, arn: solution.arn });
  }
  return result;
}

/** The plan as lines for the confirmation (and for --yes, before it is carried out). */
export function describePlan(plan: TeardownPlan, stack: string): string[] {
  const lines = [
    `Before deleting stack ${stack}, destroy clears what \`mlpipe train\` left in its dataset group:`,
  ];
  for (const v of plan.trainingVersions)
    lines.push(`  stop training: solution version ${v.arn} (${v.solutionName}, ${v.status})`);
  for (const s of plan.solutions)
    lines.push(
      `  delete solution ${s.name} (${s.recipe}, ${s.versions} version${s.versions === 1 ? '' : 's'})`,
    );
  return lines;
}
