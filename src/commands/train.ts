import { Flags } from '@oclif/core';
import { prose } from '../lib/cli/prose.js';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { MlpipeError, usageError } from '../lib/cli/errors.js';
import { formatDuration, renderTable, startSpinner, type Spinner } from '../lib/cli/ui.js';
import {
  describeSolution,
  describeVersion,
  METRIC_LABELS,
  solutionMetrics,
  VERSION_IN_FLIGHT,
  type SolutionMetrics,
  type SolutionVersionView,
  type SolutionView,
} from '../lib/personalize/solutions.js';
import { BASELINE_RECIPE, TRAINING_RECIPES } from '../lib/personalize/solution-settings.js';
import { beginTraining, waitForTraining, type TrainingMode } from '../lib/personalize/training.js';

/** `head` then the items, comma-separated, in lines of at most 80 columns indented like `head`. */
function wrap(head: string, items: string[]): string {
  const lines = [head];
  for (const [i, item] of items.entries()) {
    const piece = i < items.length - 1 ? `${item}, ` : item;
    if (
      lines[lines.length - 1]!.length + piece.trimEnd().length > 80 &&
      lines[lines.length - 1]!.trim() !== ''
    )
      lines.push(' '.repeat(head.length));
    lines[lines.length - 1] += piece;
  }
  return lines.map((line) => line.trimEnd()).join('\n');
}

export interface TrainResult {
  solution: SolutionView;
  /** The solution was created for this run (--recipe, --hpo). */
  solutionCreated: boolean;
  version: SolutionVersionView;
  /** A training of the same solution and mode was already running: this run waited for it. */
  attached: boolean;
  /** The offline metrics (GetSolutionMetrics), once ACTIVE; null with --no-wait. */
  metrics: SolutionMetrics | null;
  /** From creation to the end, in seconds; null with --no-wait. */
  elapsedSeconds: number | null;
}

export default class Train extends MlpipeCommand<typeof Train> {
  static override summary = 'Train a Personalize solution version and show its offline metrics.';
  static override description = prose`Creates a solution version of the Personalize stack's solution (recipe, HPO and
hyperparameters from the config file's training section) and waits with a spinner until it is ACTIVE,
then prints its offline metrics (GetSolutionMetrics: Personalize's protocol, the newest interactions of
held-out users). CREATE FAILED prints Personalize's reason and exits 3. If a training of the same
solution is already running it waits for that one instead of starting another.

--recipe aws-popularity-count trains the popularity baseline that \`mlpipe metrics\` compares against;
a recipe other than the solution's trains in a solution of its own (<project>-<recipe>), created on
demand in the same dataset group, so the project's solution keeps its recipe. --hpo searches
hyperparameters first (in a solution with HPO, created on demand unless the project's has HPO) and
prints the ones it chose. --mode update retrains with the hyperparameters of the latest full version
(aws-user-personalization). --no-wait prints the version's ARN at once; --arn re-attaches to a version.

The interactions dataset needs a completed import first (\`mlpipe import\`).`;
  static override examples = [
    '<%= config.bin %> train',
    '<%= config.bin %> train --recipe aws-popularity-count',
    '<%= config.bin %> train --hpo',
    '<%= config.bin %> train --mode update',
    '<%= config.bin %> train --no-wait',
    '<%= config.bin %> train --arn arn:aws:personalize:us-east-1:000000000000:solution/mlpipe-personalization/1a2b3c4d',
    '<%= config.bin %> train --json | jq .metrics.normalized_discounted_cumulative_gain_at_10',
  ];
  static override flags = {
    recipe: Flags.string({
      description: "Train this recipe instead of the solution's (in a solution of its own).",
      options: [...TRAINING_RECIPES],
    }),
    hpo: Flags.boolean({
      description: 'Search hyperparameters first (aws-user-personalization).',
      default: false,
    }),
    mode: Flags.string({
      description: "full trains a new model; update retrains with the latest full version's hyperparameters.",
      options: ['full', 'update'],
      default: 'full',
    }),
    wait: Flags.boolean({
      description: 'Wait for the training to end (--no-wait prints the version ARN at once).',
      default: true,
      allowNo: true,
    }),
    arn: Flags.string({
      description: 'Re-attach to (or show) this solution version instead of starting one.',
    }),
    timeout: Flags.integer({
      description: 'Seconds to wait before giving up (exit 4; the training goes on).',
      min: 1,
    }),
  };

  async run(): Promise<TrainResult> {
    const { flags } = this;
    const given = (name: string): boolean =>
      this.argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
    if (flags.arn !== undefined) {
      const others = ['recipe', 'hpo', 'mode'].filter(given);
      if (others.length > 0)
        throw usageError(
          `--arn attaches to an existing solution version; it cannot be combined with ${others.map((o) => `--${o}`).join(', ')}.`,
          [],
          'BAD_FLAGS',
        );
    }
    const clients = await this.clients();
    let solution: SolutionView;
    let version: SolutionVersionView;
    let attached = true;
    let solutionCreated = false;
    if (flags.arn !== undefined) {
      version = await describeVersion(clients, flags.arn);
      solution = await describeSolution(clients, version.solutionArn);
    } else {
      ({ solution, version, attached, solutionCreated } = await beginTraining(clients, this.settings, {
        ...(flags.recipe === undefined ? {} : { recipe: flags.recipe }),
        hpo: flags.hpo,
        mode: flags.mode.toUpperCase() as TrainingMode,
      }));
      if (solutionCreated)
        this.note(
          `Created solution ${solution.name} (${solution.recipe}${solution.performHPO ? ', with HPO' : ''}).`,
        );
      if (attached)
        this.notice(
          `A ${version.trainingMode} training of ${solution.name} is already running: ${version.id} (${version.status}); waiting for it instead of starting another.`,
        );
      else this.note(`Started solution version ${version.id} of ${solution.name} (${version.trainingMode}).`);
    }

    if (!flags.wait) {
      this.log(version.arn);
      return { solution, solutionCreated, version, attached, metrics: null, elapsedSeconds: null };
    }
    const label = `train ${solution.name}/${version.id}`;
    const started = Date.now();
    let spinner: Spinner | undefined;
    try {
      spinner = await startSpinner(`${label}: ${version.status}`, this.uiOptions);
      version = await waitForTraining(clients, version.arn, {
        timeoutSeconds: flags.timeout,
        onStatus: (current, elapsed) => {
          if (VERSION_IN_FLIGHT.has(current.status))
            spinner?.update(`${label}: ${current.status} (${formatDuration(elapsed)})`);
        },
      });
      spinner.succeed(`${label}: ACTIVE in ${formatDuration(Date.now() - started)}`);
    } catch (error) {
      spinner?.fail(
        error instanceof MlpipeError && (error.code === 'TIMED_OUT' || error.code === 'INTERRUPTED')
          ? `${label}: still training`
          : `${label}: not trained`,
      );
      throw error;
    }
    const metrics = await solutionMetrics(clients, version.arn);
    const elapsedSeconds =
      version.created !== null && version.updated !== null
        ? (Date.parse(version.updated) - Date.parse(version.created)) / 1000
        : null;
    this.log(`Solution: ${solution.name} (${solution.recipe}${solution.performHPO ? ', HPO' : ''})`);
    this.log(`Version:  ${version.arn} (${version.trainingMode})`);
    if (elapsedSeconds !== null)
      this.log(
        `Time:     ${formatDuration(elapsedSeconds * 1000)}` +
          (version.trainingHours === null
            ? ''
            : ` (training ${formatDuration(version.trainingHours * 3_600_000)})`),
      );
    if (version.tunedHyperparameters !== null)
      this.log(
        wrap(
          'Tuned:    ',
          Object.entries(version.tunedHyperparameters).map(([name, value]) => `${name}=${value}`),
        ),
      );
    this.log('');
    this.log(
      renderTable(
        METRIC_LABELS.filter(([key]) => metrics[key] !== undefined).map(([key, label]) => ({
          metric: label,
          value: metrics[key]!.toFixed(4),
        })),
        [
          { key: 'metric', header: 'METRIC' },
          { key: 'value', header: 'VALUE' },
        ],
      ),
    );
    if (solution.recipe !== BASELINE_RECIPE) this.note('\nBeside the popularity baseline: `mlpipe metrics`.');
    return { solution, solutionCreated, version, attached, metrics, elapsedSeconds };
  }
}
