/**
 * `mlpipe train`: a solution version of the project's solution — or of the popularity baseline,
 * another recipe, or the project's configuration with HPO, each in its own solution created on
 * demand (solutions.ts) — started only when the interactions dataset has a completed import, or
 * the version already training attached to; then waiting for it (CREATE FAILED or CREATE STOPPED
 * is exit 3 with the reason) and its offline metrics. The same Personalize calls on both targets.
 */
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { ExitCode, MlpipeError, translateAwsError, usageError } from '../cli/errors.js';
import { pollIntervals, waitFor } from '../cli/wait.js';
import { listImports } from './imports.js';
import {
  describeSolution,
  describeVersion,
  listVersions,
  solutionFor,
  trainingTargets,
  VERSION_IN_FLIGHT,
  versionEnded,
  type SolutionVersionView,
  type SolutionView,
} from './solutions.js';

export type TrainingMode = 'FULL' | 'UPDATE';

export interface TrainRequest {
  /** A recipe other than the project solution's: trained in its own solution. */
  recipe?: string;
  /** Search hyperparameters (in a solution with HPO: the project's if it has HPO, else its own). */
  hpo: boolean;
  mode: TrainingMode;
}

export interface StartedTraining {
  solution: SolutionView;
  /** The solution was created for this request (`--recipe`, `--hpo`). */
  solutionCreated: boolean;
  version: SolutionVersionView;
  /** A version of the same training was already running; this is it. */
  attached: boolean;
}

function noImport(datasetArn: string): MlpipeError {
  return new MlpipeError(
    `The interactions dataset ${datasetArn} has no completed import, so there is nothing to train on.`,
    { code: 'NO_IMPORT', suggestions: ['Run `mlpipe import` first (after `mlpipe run-etl`).'] },
  );
}

/**
 * Starts a solution version for `request`, or returns the one of the same solution and mode that
 * is already pending or in progress.
 */
export async function beginTraining(
  clients: Clients,
  settings: Settings,
  request: TrainRequest,
): Promise<StartedTraining> {
  const targets = await trainingTargets(clients, settings);
  const imports = await listImports(clients, targets.interactionsDatasetArn);
  if (!imports.some((job) => job.status === 'ACTIVE')) throw noImport(targets.interactionsDatasetArn);
  const project = await describeSolution(clients, targets.solutionArn);
  const recipe = request.recipe ?? project.recipe;
  if (request.hpo && recipe !== 'aws-user-personalization')
    throw usageError(
      `--hpo searches hyperparameters of aws-user-personalization; ${recipe} has none to search.`,
      ['Leave out --hpo, or train aws-user-personalization.'],
      'BAD_FLAGS',
    );
  if (request.mode === 'UPDATE' && recipe !== 'aws-user-personalization')
    throw usageError(
      `--mode update is for aws-user-personalization; ${recipe} trains in full.`,
      ['Leave out --mode update.'],
      'BAD_FLAGS',
    );
  const { solution, created } = await solutionFor(clients, settings, targets, {
    recipe,
    // The project's own configuration, with HPO when asked for (or when it has it anyway).
    hpo: request.hpo || (recipe === project.recipe && project.performHPO),
    hyperparameters: recipe === project.recipe ? project.hyperparameters : {},
  });
  const running = (await listVersions(clients, solution.arn)).find((v) => VERSION_IN_FLIGHT.has(v.status));
  if (running !== undefined) {
    if (running.trainingMode === request.mode)
      return {
        solution,
        solutionCreated: created,
        version: await describeVersion(clients, running.arn),
        attached: true,
      };
    throw new MlpipeError(
      `A ${running.trainingMode} training of ${solution.name} is ${running.status}: ${running.arn}. Nothing was started.`,
      {
        code: 'TRAINING_RUNNING',
        suggestions: [`Wait for it with \`mlpipe train --arn ${running.arn}\`, then train again.`],
      },
    );
  }
  const client = await clients.personalize();
  const { CreateSolutionVersionCommand } = await import('@aws-sdk/client-personalize');
  let solutionVersionArn: string | undefined;
  try {
    ({ solutionVersionArn } = await client.send(
      new CreateSolutionVersionCommand({ solutionArn: solution.arn, trainingMode: request.mode }),
    ));
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'InvalidInputException' && /completed import/.test(e.message ?? ''))
      throw noImport(targets.interactionsDatasetArn);
    if (e.name === 'InvalidInputException' && request.mode === 'UPDATE')
      throw new MlpipeError(`Personalize refused the update: ${e.message}`, {
        code: 'UPDATE_REFUSED',
        suggestions: ['Train in full first: `mlpipe train`.'],
      });
    if (e.name === 'LimitExceededException')
      throw new MlpipeError(`Personalize refused another training: ${e.message}`, {
        code: 'TRAINING_LIMIT',
        suggestions: ['Wait for trainings in progress to end (`mlpipe solutions`), then try again.'],
      });
    throw translateAwsError(error, `Starting a solution version of ${solution.name}`);
  }
  return {
    solution,
    solutionCreated: created,
    version: await describeVersion(clients, solutionVersionArn ?? ''),
    attached: false,
  };
}

/**
 * Waits for a solution version to end. CREATE FAILED and CREATE STOPPED are errors with exit code
 * 3 (with Personalize's failure reason); a timeout is exit code 4 and the training goes on.
 */
export async function waitForTraining(
  clients: Clients,
  arn: string,
  options: { onStatus?: (version: SolutionVersionView, elapsedMs: number) => void; timeoutSeconds?: number },
): Promise<SolutionVersionView> {
  const version = await waitFor({
    what: `solution version ${arn}`,
    poll: () => describeVersion(clients, arn),
    done: (v) => versionEnded(v.status),
    onPoll: (v, elapsed) => options.onStatus?.(v, elapsed),
    ...pollIntervals(clients.connection.target),
    timeoutMs: (options.timeoutSeconds ?? 7 * 24 * 3600) * 1000,
    reattach: `The training goes on; re-attach with \`mlpipe train --arn ${arn}\`.`,
  });
  if (version.status === 'CREATE FAILED')
    throw new MlpipeError(`Training ${version.id} failed: ${version.failureReason ?? 'no reason given'}`, {
      exit: ExitCode.jobFailed,
      code: 'TRAINING_FAILED',
      suggestions: [`Its solution keeps its earlier versions; see them with \`mlpipe solutions\`.`],
    });
  if (version.status === 'CREATE STOPPED')
    throw new MlpipeError(`Training ${version.id} was stopped before it ended; it has no model.`, {
      exit: ExitCode.jobFailed,
      code: 'TRAINING_STOPPED',
      suggestions: ['Train again: `mlpipe train`.'],
    });
  return version;
}
