/**
 * Personalize solutions as the CLI sees them, through the Personalize API on both targets: the
 * project's solution (the Personalize stack's SolutionArn output) and the others in its dataset
 * group — the popularity baseline and the solutions `mlpipe train --recipe`/`--hpo` create on
 * demand, named by solution-settings.ts — their versions, statuses and offline metrics; the
 * reports behind `mlpipe metrics` (the latest ACTIVE version beside the baseline's) and
 * `mlpipe solutions`.
 */
import type { Solution, SolutionVersion, SolutionVersionSummary } from '@aws-sdk/client-personalize';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { MlpipeError, translateAwsError } from '../cli/errors.js';
import { pollIntervals, waitFor } from '../cli/wait.js';
import { requireStackOutputs } from '../infra/stacks.js';
import { BASELINE_RECIPE, solutionName, type SolutionShape } from './solution-settings.js';

export interface SolutionView {
  name: string;
  arn: string;
  /** The recipe's name (aws-user-personalization, …). */
  recipe: string;
  performHPO: boolean;
  status: string;
  /** The solution's algorithmHyperParameters (the recipe's defaults for the others). */
  hyperparameters: Record<string, string>;
  created: string | null;
}

export interface SolutionVersionView {
  arn: string;
  /** The last part of the ARN, as the Personalize console shows it. */
  id: string;
  solutionArn: string;
  status: string;
  trainingMode: string;
  trainingHours: number | null;
  failureReason: string | null;
  /** After HPO: the hyperparameters the search chose. */
  tunedHyperparameters: Record<string, string> | null;
  created: string | null;
  updated: string | null;
}

/** GetSolutionMetrics' metrics (coverage, MRR@25, NDCG@5/10/25, precision@5/10/25). */
export type SolutionMetrics = Record<string, number>;

export const VERSION_IN_FLIGHT = new Set(['CREATE PENDING', 'CREATE IN_PROGRESS', 'CREATE STOPPING']);
const VERSION_ENDED = new Set(['ACTIVE', 'CREATE FAILED', 'CREATE STOPPED']);

export function recipeName(recipeArn: string | undefined): string {
  return recipeArn?.replace(/^.*:recipe\//, '') ?? 'unknown';
}

function solutionView(s: Solution): SolutionView {
  return {
    name: s.name ?? '',
    arn: s.solutionArn ?? '',
    recipe: recipeName(s.recipeArn),
    performHPO: s.performHPO ?? false,
    status: s.status ?? 'UNKNOWN',
    hyperparameters: { ...(s.solutionConfig?.algorithmHyperParameters ?? {}) },
    created: s.creationDateTime?.toISOString() ?? null,
  };
}

function versionView(v: SolutionVersion | SolutionVersionSummary, solutionArn?: string): SolutionVersionView {
  const full = v as SolutionVersion;
  const arn = v.solutionVersionArn ?? '';
  return {
    arn,
    id: arn.slice(arn.lastIndexOf('/') + 1),
    solutionArn: full.solutionArn ?? solutionArn ?? arn.slice(0, arn.lastIndexOf('/')),
    status: v.status ?? 'UNKNOWN',
    trainingMode: v.trainingMode ?? 'FULL',
    trainingHours: full.trainingHours ?? null,
    failureReason: v.failureReason ?? null,
    tunedHyperparameters: full.tunedHPOParams?.algorithmHyperParameters ?? null,
    created: v.creationDateTime?.toISOString() ?? null,
    updated: v.lastUpdatedDateTime?.toISOString() ?? null,
  };
}

export interface TrainingTargets {
  datasetGroupArn: string;
  interactionsDatasetArn: string;
  /** The Personalize stack's solution. */
  solutionArn: string;
}

/** The dataset group, interactions dataset and solution from the Personalize stack's outputs. */
export async function trainingTargets(clients: Clients, settings: Settings): Promise<TrainingTargets> {
  const outputs = await requireStackOutputs(clients, settings, 'personalize');
  const stack = settings.stacks.personalize.value;
  const need = (key: string): string => {
    const value = outputs[key];
    if (value === undefined)
      throw new MlpipeError(`Stack ${stack} has no ${key} output.`, {
        code: 'STACK_OUTPUT_MISSING',
        suggestions: ['Deploy it again with this version of mlpipe: `mlpipe deploy --stack personalize`.'],
      });
    return value;
  };
  return {
    datasetGroupArn: need('DatasetGroupArn'),
    interactionsDatasetArn: need('InteractionsDatasetArn'),
    solutionArn: need('SolutionArn'),
  };
}

async function personalizeApi(clients: Clients) {
  return { client: await clients.personalize(), sdk: await import('@aws-sdk/client-personalize') };
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: string }).name === 'ResourceNotFoundException';
}

export async function describeSolution(clients: Clients, solutionArn: string): Promise<SolutionView> {
  const { client, sdk } = await personalizeApi(clients);
  try {
    return solutionView((await client.send(new sdk.DescribeSolutionCommand({ solutionArn }))).solution ?? {});
  } catch (error) {
    if (isNotFound(error))
      throw new MlpipeError(`There is no solution ${solutionArn}.`, {
        code: 'SOLUTION_NOT_FOUND',
        suggestions: ['Deploy the Personalize stack: `mlpipe deploy --stack personalize`.'],
      });
    throw translateAwsError(error, `Describing solution ${solutionArn}`);
  }
}

export async function describeVersion(
  clients: Clients,
  solutionVersionArn: string,
): Promise<SolutionVersionView> {
  const { client, sdk } = await personalizeApi(clients);
  try {
    const { solutionVersion } = await client.send(
      new sdk.DescribeSolutionVersionCommand({ solutionVersionArn }),
    );
    return versionView(solutionVersion ?? { solutionVersionArn });
  } catch (error) {
    if (isNotFound(error))
      throw new MlpipeError(`There is no solution version ${solutionVersionArn}.`, {
        code: 'VERSION_NOT_FOUND',
        suggestions: ['See the solution versions: `mlpipe solutions`.'],
      });
    throw translateAwsError(error, `Describing solution version ${solutionVersionArn}`);
  }
}

/** The dataset group's solutions, newest first. */
export async function listSolutions(clients: Clients, datasetGroupArn: string): Promise<SolutionView[]> {
  const { client, sdk } = await personalizeApi(clients);
  const arns: string[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new sdk.ListSolutionsCommand({ datasetGroupArn, maxResults: 100, nextToken }),
      );
      for (const s of page.solutions ?? []) if (s.solutionArn !== undefined) arns.push(s.solutionArn);
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  } catch (error) {
    throw translateAwsError(error, `Listing the solutions of ${datasetGroupArn}`);
  }
  // The summaries lack the configuration (HPO, hyperparameters): describe each.
  return Promise.all(arns.map((arn) => describeSolution(clients, arn)));
}

/** A solution's versions, newest first (summaries: no training hours or tuned hyperparameters). */
export async function listVersions(clients: Clients, solutionArn: string): Promise<SolutionVersionView[]> {
  const { client, sdk } = await personalizeApi(clients);
  const versions: SolutionVersionView[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new sdk.ListSolutionVersionsCommand({ solutionArn, maxResults: 100, nextToken }),
      );
      for (const v of page.solutionVersions ?? []) versions.push(versionView(v, solutionArn));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  } catch (error) {
    throw translateAwsError(error, `Listing the versions of ${solutionArn}`);
  }
  return versions.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
}

export async function solutionMetrics(
  clients: Clients,
  solutionVersionArn: string,
): Promise<SolutionMetrics> {
  const { client, sdk } = await personalizeApi(clients);
  try {
    return (await client.send(new sdk.GetSolutionMetricsCommand({ solutionVersionArn }))).metrics ?? {};
  } catch (error) {
    throw translateAwsError(error, `Reading the metrics of ${solutionVersionArn}`);
  }
}

/** Waits for a solution to be ACTIVE (a new one takes a moment on both targets). */
async function waitForSolution(clients: Clients, solutionArn: string): Promise<SolutionView> {
  const solution = await waitFor({
    what: `solution ${solutionArn}`,
    poll: () => describeSolution(clients, solutionArn),
    done: (s) => s.status === 'ACTIVE' || s.status.endsWith('FAILED'),
    ...pollIntervals(clients.connection.target),
    timeoutMs: 30 * 60 * 1000,
  });
  if (solution.status !== 'ACTIVE')
    throw new MlpipeError(`Solution ${solution.name} is ${solution.status}.`, { code: 'SOLUTION_FAILED' });
  return solution;
}

/**
 * The solution to train for `shape`: the project's (the stack's) when it is configured so, else
 * the dataset group's solution named for the shape (solution-settings.ts), created (and waited
 * for) when there is none yet.
 */
export async function solutionFor(
  clients: Clients,
  settings: Settings,
  targets: TrainingTargets,
  shape: SolutionShape,
): Promise<{ solution: SolutionView; created: boolean }> {
  const project = await describeSolution(clients, targets.solutionArn);
  if (project.recipe === shape.recipe && project.performHPO === shape.hpo)
    return { solution: project, created: false };
  const name = solutionName(settings.project.value, shape);
  const existing = (await listSolutions(clients, targets.datasetGroupArn)).find((s) => s.name === name);
  if (existing !== undefined) {
    if (existing.recipe !== shape.recipe || existing.performHPO !== shape.hpo)
      throw new MlpipeError(
        `Solution ${name} exists with recipe ${existing.recipe}${existing.performHPO ? ' and HPO' : ''}, not ${shape.recipe}${shape.hpo ? ' and HPO' : ''}.`,
        {
          code: 'SOLUTION_NAME_TAKEN',
          suggestions: [`Delete it: \`aws personalize delete-solution --solution-arn ${existing.arn}\`.`],
        },
      );
    return {
      solution: existing.status === 'ACTIVE' ? existing : await waitForSolution(clients, existing.arn),
      created: false,
    };
  }
  const { client, sdk } = await personalizeApi(clients);
  let solutionArn: string | undefined;
  try {
    ({ solutionArn } = await client.send(
      new sdk.CreateSolutionCommand({
        name,
        datasetGroupArn: targets.datasetGroupArn,
        recipeArn: `arn:aws:personalize:::recipe/${shape.recipe}`,
        performHPO: shape.hpo,
        // Versions are trained when asked for, as the project's own solution.
        performAutoTraining: false,
        ...(Object.keys(shape.hyperparameters).length > 0
          ? { solutionConfig: { algorithmHyperParameters: { ...shape.hyperparameters } } }
          : {}),
      }),
    ));
  } catch (error) {
    throw translateAwsError(error, `Creating solution ${name}`);
  }
  return { solution: await waitForSolution(clients, solutionArn ?? ''), created: true };
}

/** An ACTIVE version with its solution and metrics. */
export interface TrainedVersion {
  solution: SolutionView;
  version: SolutionVersionView;
  metrics: SolutionMetrics;
}

/** The newest ACTIVE version among `solutions` (by when it ended), with its metrics. */
async function latestActive(
  clients: Clients,
  solutions: SolutionView[],
): Promise<TrainedVersion | undefined> {
  let best: { solution: SolutionView; version: SolutionVersionView } | undefined;
  for (const solution of solutions)
    for (const version of await listVersions(clients, solution.arn))
      if (
        version.status === 'ACTIVE' &&
        (best === undefined || (version.updated ?? '') > (best.version.updated ?? ''))
      )
        best = { solution, version };
  if (best === undefined) return undefined;
  return {
    solution: best.solution,
    version: await describeVersion(clients, best.version.arn),
    metrics: await solutionMetrics(clients, best.version.arn),
  };
}

export interface MetricsReport extends TrainedVersion {
  /** The popularity baseline's latest ACTIVE version, when there is one. */
  baseline: TrainedVersion | null;
  /** Each metric divided by the baseline's (null where the baseline's is 0, or without a baseline). */
  ratios: Record<string, number | null> | null;
}

/**
 * The metrics of a version (`arn`), or of the latest ACTIVE version of the project's solutions
 * other than the baseline, beside the popularity baseline's latest ACTIVE version and the ratio.
 */
export async function metricsReport(
  clients: Clients,
  settings: Settings,
  arn?: string,
): Promise<MetricsReport> {
  const targets = await trainingTargets(clients, settings);
  const solutions = await listSolutions(clients, targets.datasetGroupArn);
  let trained: TrainedVersion | undefined;
  if (arn !== undefined) {
    const version = await describeVersion(clients, arn);
    if (version.status !== 'ACTIVE')
      throw new MlpipeError(
        `Solution version ${arn} is ${version.status}${version.failureReason ? ` (${version.failureReason})` : ''}; only an ACTIVE version has metrics.`,
        {
          code: 'VERSION_NOT_ACTIVE',
          suggestions: VERSION_IN_FLIGHT.has(version.status)
            ? [`Wait for it: \`mlpipe train --arn ${arn}\`.`]
            : ['Train a new version: `mlpipe train`.'],
        },
      );
    trained = {
      solution: await describeSolution(clients, version.solutionArn),
      version,
      metrics: await solutionMetrics(clients, arn),
    };
  } else {
    trained = await latestActive(
      clients,
      solutions.filter((s) => s.recipe !== BASELINE_RECIPE),
    );
    if (trained === undefined)
      throw new MlpipeError('There is no ACTIVE solution version to show metrics of yet.', {
        code: 'NO_TRAINED_VERSION',
        suggestions: ['Train one: `mlpipe train`.'],
      });
  }
  const baseline =
    trained.solution.recipe === BASELINE_RECIPE
      ? null
      : ((await latestActive(
          clients,
          solutions.filter((s) => s.recipe === BASELINE_RECIPE),
        )) ?? null);
  const ratios =
    baseline === null
      ? null
      : Object.fromEntries(
          Object.entries(trained.metrics).map(([name, value]) => {
            const base = baseline.metrics[name];
            return [name, base === undefined || base === 0 ? null : value / base];
          }),
        );
  return { ...trained, baseline, ratios };
}

export interface SolutionsReport {
  datasetGroupArn: string;
  solutions: Array<
    SolutionView & {
      /** This is the Personalize stack's solution. */
      project: boolean;
      versions: Array<SolutionVersionView & { ndcgAt10: number | null }>;
    }
  >;
}

/** The project's dataset group's solutions, each with its versions (newest first) and their NDCG@10. */
export async function solutionsReport(clients: Clients, settings: Settings): Promise<SolutionsReport> {
  const targets = await trainingTargets(clients, settings);
  const solutions = await listSolutions(clients, targets.datasetGroupArn);
  const report: SolutionsReport = { datasetGroupArn: targets.datasetGroupArn, solutions: [] };
  for (const solution of solutions) {
    const versions = [];
    for (const summary of await listVersions(clients, solution.arn)) {
      const version = await describeVersion(clients, summary.arn);
      const metrics = version.status === 'ACTIVE' ? await solutionMetrics(clients, version.arn) : undefined;
      versions.push({ ...version, ndcgAt10: metrics?.normalized_discounted_cumulative_gain_at_10 ?? null });
    }
    report.solutions.push({ ...solution, project: solution.arn === targets.solutionArn, versions });
  }
  return report;
}

export function versionEnded(status: string): boolean {
  return VERSION_ENDED.has(status);
}

/** GetSolutionMetrics' keys in the order they are shown, with their short names. */
export const METRIC_LABELS: ReadonlyArray<readonly [key: string, label: string]> = [
  ['normalized_discounted_cumulative_gain_at_5', 'NDCG@5'],
  ['normalized_discounted_cumulative_gain_at_10', 'NDCG@10'],
  ['normalized_discounted_cumulative_gain_at_25', 'NDCG@25'],
  ['precision_at_5', 'precision@5'],
  ['precision_at_10', 'precision@10'],
  ['precision_at_25', 'precision@25'],
  ['mean_reciprocal_rank_at_25', 'MRR@25'],
  ['coverage', 'coverage'],
];

/**
 * The latest ACTIVE solution version of the deployed solution (the Personalize stack's
 * SolutionArn output) — what batch inference and campaigns use — or undefined when it has none.
 * Versions of the other solutions (`train --recipe`, `--hpo`) are not considered.
 */
export async function latestActiveVersion(
  clients: Clients,
  settings: Settings,
): Promise<{ solution: SolutionView; version: SolutionVersionView } | undefined> {
  const { solutionArn } = await trainingTargets(clients, settings);
  const active = (await listVersions(clients, solutionArn))
    .filter((v) => v.status === 'ACTIVE')
    .sort((a, b) => (b.updated ?? '').localeCompare(a.updated ?? ''))[0];
  if (active === undefined) return undefined;
  return {
    solution: await describeSolution(clients, solutionArn),
    version: await describeVersion(clients, active.arn),
  };
}

/** As latestActiveVersion, but an error saying to train first when there is none. */
export async function requireLatestActiveVersion(
  clients: Clients,
  settings: Settings,
): Promise<{ solution: SolutionView; version: SolutionVersionView }> {
  const found = await latestActiveVersion(clients, settings);
  if (found === undefined)
    throw new MlpipeError('The deployed solution has no ACTIVE solution version yet.', {
      code: 'NO_TRAINED_VERSION',
      suggestions: ['Train one: `mlpipe train`.'],
    });
  return found;
}

/**
 * The newest ACTIVE version of the dataset group's aws-similar-items solutions (what
 * `mlpipe train --recipe aws-similar-items` trains): what `batch-infer --item` uses by default.
 */
export async function requireLatestSimilarItemsVersion(
  clients: Clients,
  settings: Settings,
): Promise<SolutionVersionView> {
  const { datasetGroupArn } = await trainingTargets(clients, settings);
  let newest: SolutionVersionView | undefined;
  for (const solution of await listSolutions(clients, datasetGroupArn)) {
    if (solution.recipe !== 'aws-similar-items') continue;
    for (const version of await listVersions(clients, solution.arn))
      if (
        version.status === 'ACTIVE' &&
        (newest === undefined || (version.updated ?? '') > (newest.updated ?? ''))
      )
        newest = version;
  }
  if (newest === undefined)
    throw new MlpipeError(
      'Similar items need an aws-similar-items solution version, and there is none ACTIVE.',
      {
        code: 'NO_TRAINED_VERSION',
        suggestions: [
          'Train one: `mlpipe train --recipe aws-similar-items` (or give --solution-version ARN).',
        ],
      },
    );
  return newest;
}
