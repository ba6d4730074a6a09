// Personalize training in the local stack, driven by the real PersonalizeClient: recipes,
// solutions and their lifecycle, solution versions trained by the recommender engine (FULL,
// UPDATE, HPO), stop, the in-progress quota, too little data, no import, a restart mid-training,
// and the trained model as batch inference and campaigns will load it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateDatasetImportJobCommand,
  CreateSchemaCommand,
  CreateSolutionCommand,
  CreateSolutionVersionCommand,
  DeleteDatasetGroupCommand,
  DeleteSolutionCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  DescribeDatasetImportJobCommand,
  DescribeRecipeCommand,
  DescribeSolutionCommand,
  DescribeSolutionVersionCommand,
  GetSolutionMetricsCommand,
  ListRecipesCommand,
  ListSolutionsCommand,
  ListSolutionVersionsCommand,
  PersonalizeClient,
  StopSolutionVersionCreationCommand,
  type CreateSolutionCommandInput,
  type SolutionVersion,
} from '@aws-sdk/client-personalize';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ManualClock } from '../../src/local/core/clock.js';
import type { Personalize } from '../../src/local/services/personalize/service.js';
import {
  INTERRUPTED_MESSAGE,
  MAX_VERSIONS_IN_PROGRESS,
  SOLUTION_VERSION_JOB_KIND,
} from '../../src/local/services/personalize/solutions.js';
import { modelFile } from '../../src/local/services/personalize/trained-models.js';
import { METRIC_NAMES, recommend } from '../../src/recommender/index.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import {
  interactionsSchema,
  ITEMS_WITH_CREATION_SCHEMA,
  sampleInteractionsCsv,
} from '../helpers/personalize.js';
import { sdkError } from '../helpers/sdk.js';

const BUCKET = 'lake';
const RECIPE = 'arn:aws:personalize:::recipe/';
/** Hyperparameters that keep aws-user-personalization quick on a busy machine. */
const QUICK = { hidden_dimension: '32', training_iterations: '2', neighbours: '20' };
const ENDED = new Set(['ACTIVE', 'CREATE FAILED', 'CREATE STOPPED']);

/** Polls `read` until `done` (a status change the service makes), yielding between reads. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 60_000; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`${what} did not happen`);
}

class Fixture {
  readonly personalize: PersonalizeClient;
  readonly s3: S3Client;
  private schemas = new Map<string, string>();

  constructor(readonly stack: TestStack) {
    this.personalize = new PersonalizeClient(sdkConfig(stack));
    this.s3 = new S3Client(sdkConfig(stack));
  }

  destroy(): void {
    this.personalize.destroy();
    this.s3.destroy();
  }

  private async schema(name: string, text: string): Promise<string> {
    let arn = this.schemas.get(name);
    if (arn === undefined) {
      arn = (await this.personalize.send(new CreateSchemaCommand({ name, schema: text }))).schemaArn!;
      this.schemas.set(name, arn);
    }
    return arn;
  }

  async group(name: string): Promise<string> {
    const { datasetGroupArn } = await this.personalize.send(new CreateDatasetGroupCommand({ name }));
    await until(
      () => this.personalize.send(new DescribeDatasetGroupCommand({ datasetGroupArn })),
      (r) => r.datasetGroup?.status === 'ACTIVE',
      `dataset group ${name} ACTIVE`,
    );
    return datasetGroupArn!;
  }

  async dataset(groupArn: string, type: 'Interactions' | 'Items', name: string): Promise<string> {
    const schemaArn =
      type === 'Interactions'
        ? await this.schema('interactions', interactionsSchema())
        : await this.schema('items', ITEMS_WITH_CREATION_SCHEMA);
    const { datasetArn } = await this.personalize.send(
      new CreateDatasetCommand({ name, datasetGroupArn: groupArn, datasetType: type, schemaArn }),
    );
    await until(
      () => this.personalize.send(new DescribeDatasetCommand({ datasetArn })),
      (r) => r.dataset?.status === 'ACTIVE',
      `dataset ${name} ACTIVE`,
    );
    return datasetArn!;
  }

  async importCsv(datasetArn: string, key: string, csv: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: csv }));
    const { datasetImportJobArn } = await this.personalize.send(
      new CreateDatasetImportJobCommand({
        jobName: key.replace(/[^a-zA-Z0-9]/g, '-'),
        datasetArn,
        dataSource: { dataLocation: `s3://${BUCKET}/${key}` },
        roleArn: 'arn:aws:iam::000000000000:role/personalize',
      }),
    );
    const job = await until(
      () => this.personalize.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn })),
      (r) => ['ACTIVE', 'CREATE FAILED'].includes(r.datasetImportJob?.status ?? ''),
      `import ${key}`,
    );
    assert.equal(job.datasetImportJob?.status, 'ACTIVE', job.datasetImportJob?.failureReason);
  }

  /** An ACTIVE dataset group whose interactions dataset has `csv` imported. */
  async groupWithData(name: string, csv: string): Promise<{ groupArn: string; interactionsArn: string }> {
    const groupArn = await this.group(name);
    const interactionsArn = await this.dataset(groupArn, 'Interactions', `${name}-interactions`);
    await this.importCsv(interactionsArn, `${name}/interactions.csv`, csv);
    return { groupArn, interactionsArn };
  }

  async solution(input: CreateSolutionCommandInput): Promise<string> {
    const { solutionArn } = await this.personalize.send(new CreateSolutionCommand(input));
    await until(
      () => this.personalize.send(new DescribeSolutionCommand({ solutionArn })),
      (r) => r.solution?.status === 'ACTIVE',
      `solution ${input.name} ACTIVE`,
    );
    return solutionArn!;
  }

  describeVersion(solutionVersionArn: string): Promise<SolutionVersion> {
    return this.personalize
      .send(new DescribeSolutionVersionCommand({ solutionVersionArn }))
      .then((r) => r.solutionVersion!);
  }

  ended(solutionVersionArn: string): Promise<SolutionVersion> {
    return until(
      () => this.describeVersion(solutionVersionArn),
      (v) => ENDED.has(v.status ?? ''),
      `solution version ${solutionVersionArn} to end`,
    );
  }

  async train(solutionArn: string, trainingMode?: 'FULL' | 'UPDATE'): Promise<SolutionVersion> {
    const { solutionVersionArn } = await this.personalize.send(
      new CreateSolutionVersionCommand({ solutionArn, ...(trainingMode ? { trainingMode } : {}) }),
    );
    return this.ended(solutionVersionArn!);
  }

  /** Waits until `n` versions wait at the test hold (recorded CREATE IN_PROGRESS). */
  held(n: number): Promise<number> {
    return until(
      async () => this.stack.server.jobs.heldCount(SOLUTION_VERSION_JOB_KIND),
      (count) => count === n,
      `${n} held trainings`,
    );
  }
}

describe('local stack Personalize training', () => {
  let stack: TestStack;
  let f: Fixture;
  let groupArn: string;
  let popularityArn: string;
  let personalizedArn: string;

  before(async () => {
    stack = await startTestStack();
    f = new Fixture(stack);
    await f.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    ({ groupArn } = await f.groupWithData('movies', await sampleInteractionsCsv()));
  });

  after(async () => {
    f?.destroy();
    await stack?.stop();
  });

  it('lists and describes the recipes it offers, and names them when asked for another', async () => {
    const { recipes } = await f.personalize.send(new ListRecipesCommand({}));
    assert.deepEqual(
      recipes?.map((r) => [r.name, r.recipeArn, r.status]),
      [
        ['aws-user-personalization', `${RECIPE}aws-user-personalization`, 'ACTIVE'],
        ['aws-popularity-count', `${RECIPE}aws-popularity-count`, 'ACTIVE'],
        ['aws-similar-items', `${RECIPE}aws-similar-items`, 'ACTIVE'],
      ],
    );
    const first = await f.personalize.send(new ListRecipesCommand({ maxResults: 2 }));
    assert.equal(first.recipes?.length, 2);
    const rest = await f.personalize.send(new ListRecipesCommand({ nextToken: first.nextToken }));
    assert.deepEqual(
      rest.recipes?.map((r) => r.name),
      ['aws-similar-items'],
    );
    assert.equal(rest.nextToken, undefined);
    assert.deepEqual((await f.personalize.send(new ListRecipesCommand({ domain: 'ECOMMERCE' }))).recipes, []);
    const { recipe } = await f.personalize.send(
      new DescribeRecipeCommand({ recipeArn: `${RECIPE}aws-similar-items` }),
    );
    assert.equal(recipe?.recipeType, 'RELATED_ITEMS');
    assert.equal(recipe?.algorithmArn, 'arn:aws:personalize:::algorithm/aws-similar-items');
    assert.ok(recipe?.creationDateTime instanceof Date);

    const sims = await sdkError(
      f.personalize.send(new DescribeRecipeCommand({ recipeArn: `${RECIPE}aws-sims` })),
    );
    assert.equal(sims.name, 'ResourceNotFoundException');
    assert.match(
      sims.message,
      /aws-sims is not offered by the local stack; it offers aws-user-personalization, aws-popularity-count, aws-similar-items/,
    );
    const none = await sdkError(
      f.personalize.send(new DescribeRecipeCommand({ recipeArn: `${RECIPE}nope` })),
    );
    assert.equal(none.name, 'ResourceNotFoundException');
    assert.match(none.message, /Could not find recipe .*nope\. The local stack offers/);
  });

  it('refuses solutions it cannot train, naming the member at fault', async () => {
    const base = {
      name: 'refused',
      datasetGroupArn: groupArn,
      recipeArn: `${RECIPE}aws-user-personalization`,
    };
    const refused = async (
      input: CreateSolutionCommandInput,
      name: string,
      message: RegExp,
    ): Promise<void> => {
      const error = await sdkError(f.personalize.send(new CreateSolutionCommand(input)));
      assert.equal(error.name, name, error.message);
      assert.match(error.message, message);
    };
    await refused({ ...base, recipeArn: undefined }, 'InvalidInputException', /recipeArn is required/);
    await refused(
      { ...base, recipeArn: `${RECIPE}aws-trending-now` },
      'ResourceNotFoundException',
      /not offered/,
    );
    await refused(
      { ...base, performAutoML: true },
      'InvalidInputException',
      /performAutoML is not supported/,
    );
    await refused(
      { ...base, performAutoTraining: true },
      'InvalidInputException',
      /performAutoTraining is not supported by the local stack: .*set performAutoTraining to false/,
    );
    await refused(
      { ...base, solutionConfig: { algorithmHyperParameters: { hidden_dimension: '9' } } },
      'InvalidInputException',
      /solutionConfig\.algorithmHyperParameters\.hidden_dimension: Invalid value "9" for hyperparameter hidden_dimension of aws-user-personalization: expected a value from 32 to 256/,
    );
    await refused(
      { ...base, solutionConfig: { algorithmHyperParameters: { hidden_dimensions: '64' } } },
      'InvalidInputException',
      /Unknown hyperparameter hidden_dimensions for aws-user-personalization; it takes hidden_dimension, bptt/,
    );
    await refused(
      { ...base, recipeArn: `${RECIPE}aws-popularity-count`, performHPO: true },
      'InvalidInputException',
      /performHPO: hyperparameter optimization is offered for aws-user-personalization only; aws-popularity-count has no hyperparameters/,
    );
    await refused(
      {
        ...base,
        performHPO: true,
        solutionConfig: {
          hpoConfig: {
            algorithmHyperParameterRanges: {
              integerHyperParameterRanges: [{ name: 'hidden_dimension', minValue: 64, maxValue: 32 }],
            },
          },
        },
      },
      'InvalidInputException',
      /integerHyperParameterRanges\[0\]: minValue 64 is greater than maxValue 32/,
    );
    await refused(
      { ...base, solutionConfig: { eventsConfig: { eventParametersList: [] } } },
      'InvalidInputException',
      /solutionConfig\.eventsConfig is not supported/,
    );
    await refused(
      { ...base, datasetGroupArn: `${groupArn}-nope` },
      'ResourceNotFoundException',
      /Could not find resource/,
    );
    await refused({ ...base, name: '-bad' }, 'InvalidInputException', /regular expression pattern/);
    assert.deepEqual((await f.personalize.send(new ListSolutionsCommand({}))).solutions, []);
  });

  it('moves a solution through CREATE PENDING and CREATE IN_PROGRESS to ACTIVE on the clock', async () => {
    const clock = new ManualClock();
    const clocked = await startTestStack({ clock });
    const g = new Fixture(clocked);
    try {
      // The dataset group's provisioning is on the same clock.
      const { datasetGroupArn } = await g.personalize.send(
        new CreateDatasetGroupCommand({ name: 'clocked' }),
      );
      const input = { name: 'clocked', datasetGroupArn, recipeArn: `${RECIPE}aws-popularity-count` };
      const early = await sdkError(g.personalize.send(new CreateSolutionCommand(input)));
      assert.equal(early.name, 'ResourceInUseException');
      assert.match(early.message, /is in CREATE PENDING state; wait until it is ACTIVE/);
      await clock.sleeping();
      await clock.advance(40_000);
      await until(
        () => g.personalize.send(new DescribeDatasetGroupCommand({ datasetGroupArn })),
        (r) => r.datasetGroup?.status === 'ACTIVE',
        'group ACTIVE',
      );
      const { solutionArn } = await g.personalize.send(new CreateSolutionCommand(input));
      const status = async (): Promise<string | undefined> =>
        (await g.personalize.send(new DescribeSolutionCommand({ solutionArn }))).solution?.status;
      await clock.sleeping();
      assert.equal(await status(), 'CREATE PENDING');
      const notYet = await sdkError(g.personalize.send(new CreateSolutionVersionCommand({ solutionArn })));
      assert.equal(notYet.name, 'ResourceInUseException');
      assert.match(notYet.message, /Solution .* is in CREATE PENDING state; wait until it is ACTIVE\./);
      await clock.advance(5_000);
      // Each status shows once it is written.
      await until(status, (s) => s === 'CREATE IN_PROGRESS', 'solution CREATE IN_PROGRESS');
      await clock.advance(10_000);
      await until(status, (s) => s === 'ACTIVE', 'solution ACTIVE');
      const again = await sdkError(g.personalize.send(new CreateSolutionCommand(input)));
      assert.equal(again.name, 'ResourceAlreadyExistsException');

      // No interactions imported: refused at once, saying what to do.
      const none = await sdkError(g.personalize.send(new CreateSolutionVersionCommand({ solutionArn })));
      assert.equal(none.name, 'InvalidInputException');
      assert.match(
        none.message,
        /Dataset group .*clocked has no Interactions dataset with a completed import: import interactions .* before creating a solution version\./,
      );
      assert.deepEqual(
        (await g.personalize.send(new ListSolutionVersionsCommand({ solutionArn }))).solutionVersions,
        [],
      );
    } finally {
      g.destroy();
      await clocked.stop();
    }
  });

  it('trains the popularity baseline and aws-user-personalization, with the metrics of the protocol', async () => {
    popularityArn = await f.solution({
      name: 'popularity',
      datasetGroupArn: groupArn,
      recipeArn: `${RECIPE}aws-popularity-count`,
    });
    const hold = stack.server.jobs.hold(SOLUTION_VERSION_JOB_KIND);
    const { solutionVersionArn } = await f.personalize.send(
      new CreateSolutionVersionCommand({ solutionArn: popularityArn, name: 'first' }),
    );
    assert.match(
      solutionVersionArn!,
      /^arn:aws:personalize:us-east-1:\d{12}:solution\/popularity\/[0-9a-f]{8}$/,
    );
    await f.held(1);
    const running = await f.describeVersion(solutionVersionArn!);
    assert.equal(running.status, 'CREATE IN_PROGRESS');
    assert.equal(running.trainingMode, 'FULL');
    assert.equal(running.trainingType, 'MANUAL');
    assert.equal(running.name, 'first');
    const early = await sdkError(f.personalize.send(new GetSolutionMetricsCommand({ solutionVersionArn })));
    assert.equal(early.name, 'ResourceInUseException');
    assert.match(early.message, /is in CREATE IN_PROGRESS state; its metrics are there once it is ACTIVE/);
    const named = await sdkError(
      f.personalize.send(new CreateSolutionVersionCommand({ solutionArn: popularityArn, name: 'first' })),
    );
    assert.equal(named.name, 'ResourceAlreadyExistsException');
    hold.release();
    const popularity = await f.ended(solutionVersionArn!);
    assert.equal(popularity.status, 'ACTIVE', popularity.failureReason);
    assert.ok((popularity.trainingHours ?? 0) > 0, 'trainingHours is the real training time');
    assert.equal(popularity.tunedHPOParams, undefined);
    const baseline = (await f.personalize.send(new GetSolutionMetricsCommand({ solutionVersionArn })))
      .metrics!;
    assert.deepEqual(Object.keys(baseline).sort(), [...METRIC_NAMES].sort());

    personalizedArn = await f.solution({
      name: 'personalized',
      datasetGroupArn: groupArn,
      recipeArn: `${RECIPE}aws-user-personalization`,
      solutionConfig: { algorithmHyperParameters: QUICK },
    });
    const trained = await f.train(personalizedArn);
    assert.equal(trained.status, 'ACTIVE', trained.failureReason);
    assert.deepEqual(trained.solutionConfig?.algorithmHyperParameters, QUICK);
    const metrics = (
      await f.personalize.send(
        new GetSolutionMetricsCommand({ solutionVersionArn: trained.solutionVersionArn }),
      )
    ).metrics!;
    for (const name of METRIC_NAMES)
      assert.ok(metrics[name]! >= 0 && metrics[name]! <= 1, `${name} ${metrics[name]}`);
    assert.ok(
      metrics.normalized_discounted_cumulative_gain_at_10! >
        baseline.normalized_discounted_cumulative_gain_at_10!,
      `personalized NDCG@10 ${metrics.normalized_discounted_cumulative_gain_at_10} above popularity's ${baseline.normalized_discounted_cumulative_gain_at_10}`,
    );
    assert.ok(
      stack.logs.some((l) =>
        /solution-version .*: training aws-user-personalization on 1500 interactions/.test(l),
      ),
    );
    assert.ok(
      stack.logs.some((l) =>
        /solution-version .*: trained in [\d.]+ s on 1500 interactions: NDCG@10/.test(l),
      ),
    );

    const { solution } = await f.personalize.send(
      new DescribeSolutionCommand({ solutionArn: personalizedArn }),
    );
    assert.equal(solution?.latestSolutionVersion?.solutionVersionArn, trained.solutionVersionArn);
    assert.equal(solution?.latestSolutionVersion?.status, 'ACTIVE');
    assert.equal(solution?.performAutoTraining, false);
    const listed = await f.personalize.send(new ListSolutionsCommand({ datasetGroupArn: groupArn }));
    assert.deepEqual(
      listed.solutions?.map((s) => [s.name, s.recipeArn]),
      [
        ['personalized', `${RECIPE}aws-user-personalization`],
        ['popularity', `${RECIPE}aws-popularity-count`],
      ],
    );
  });

  it('serves the trained model to the rest of the stack, loaded once', async () => {
    const versions = (
      await f.personalize.send(new ListSolutionVersionsCommand({ solutionArn: personalizedArn }))
    ).solutionVersions!;
    const arn = versions[0]!.solutionVersionArn!;
    assert.ok(existsSync(modelFile(stack.dataDir, arn)));
    const { models } = stack.server.registry.instance<Personalize>('personalize').solutions;
    const model = await models.get(arn);
    assert.strictEqual(await models.get(arn), model, 'the cached model');
    assert.equal(model.recipe, 'aws-user-personalization');
    const recs = recommend(model, { userId: model.users[0]!, numResults: 5 });
    assert.equal(recs.itemIds.length, 5);
    assert.ok(recs.scores!.every((s) => s > 0));
    await assert.rejects(models.get(`${arn.slice(0, -8)}00000000`), /Could not find resource/);
  });

  it('stops a version: CREATE STOPPING, then CREATE STOPPED, with no model and no metrics', async () => {
    const hold = stack.server.jobs.hold(SOLUTION_VERSION_JOB_KIND);
    let arn: string;
    try {
      ({ solutionVersionArn: arn } = (await f.personalize.send(
        new CreateSolutionVersionCommand({ solutionArn: popularityArn }),
      )) as { solutionVersionArn: string });
      await f.held(1);
      await f.personalize.send(new StopSolutionVersionCreationCommand({ solutionVersionArn: arn }));
    } finally {
      hold.release();
    }
    const stopped = await f.ended(arn);
    assert.equal(stopped.status, 'CREATE STOPPED');
    assert.equal(stopped.failureReason, undefined);
    const again = await sdkError(
      f.personalize.send(new StopSolutionVersionCreationCommand({ solutionVersionArn: arn })),
    );
    assert.equal(again.name, 'InvalidInputException');
    assert.match(
      again.message,
      /is in CREATE STOPPED state; only a version in CREATE PENDING or CREATE IN_PROGRESS can be stopped/,
    );
    const metrics = await sdkError(
      f.personalize.send(new GetSolutionMetricsCommand({ solutionVersionArn: arn })),
    );
    assert.equal(metrics.name, 'InvalidInputException');
    assert.match(metrics.message, /ended CREATE STOPPED; it has no metrics/);
    assert.equal(existsSync(modelFile(stack.dataDir, arn)), false);
  });

  it('stops a training that is running in its worker thread', async () => {
    // A long search (40 candidates); stopped as soon as the worker reports that it started.
    const slow = await f.solution({
      name: 'slow-search',
      datasetGroupArn: groupArn,
      recipeArn: `${RECIPE}aws-user-personalization`,
      performHPO: true,
      solutionConfig: { hpoConfig: { hpoResourceConfig: { maxNumberOfTrainingJobs: '40' } } },
    });
    const { solutionVersionArn } = await f.personalize.send(
      new CreateSolutionVersionCommand({ solutionArn: slow }),
    );
    const id = solutionVersionArn!;
    await until(
      async () => stack.logs.some((l) => l.includes(`${id}: training aws-user-personalization`)),
      (started) => started,
      'the worker to start training',
    );
    await f.personalize.send(new StopSolutionVersionCreationCommand({ solutionVersionArn: id }));
    const stopped = await f.ended(id);
    assert.equal(stopped.status, 'CREATE STOPPED');
    assert.equal(existsSync(modelFile(stack.dataDir, id)), false);
  });

  it(`allows ${MAX_VERSIONS_IN_PROGRESS} versions in progress, then LimitExceededException`, async () => {
    const hold = stack.server.jobs.hold(SOLUTION_VERSION_JOB_KIND);
    const arns: string[] = [];
    try {
      for (let i = 0; i < MAX_VERSIONS_IN_PROGRESS; i++)
        arns.push(
          (await f.personalize.send(new CreateSolutionVersionCommand({ solutionArn: popularityArn })))
            .solutionVersionArn!,
        );
      await f.held(1); // one trains at a time; the others wait pending
      assert.equal((await f.describeVersion(arns[1]!)).status, 'CREATE PENDING');
      const over = await sdkError(
        f.personalize.send(new CreateSolutionVersionCommand({ solutionArn: popularityArn })),
      );
      assert.equal(over.name, 'LimitExceededException');
      assert.match(over.message, /already 20 solution versions pending or in progress \(limit 20\)/);
      const inUse = await sdkError(
        f.personalize.send(new DeleteSolutionCommand({ solutionArn: popularityArn })),
      );
      assert.equal(inUse.name, 'ResourceInUseException');
      assert.match(inUse.message, /has a solution version in CREATE (PENDING|IN_PROGRESS) state/);
      for (const solutionVersionArn of arns)
        await f.personalize.send(new StopSolutionVersionCreationCommand({ solutionVersionArn }));
    } finally {
      hold.release();
    }
    for (const arn of arns) assert.equal((await f.ended(arn)).status, 'CREATE STOPPED');
  });

  it("fails a version on too little data with Personalize's message", async () => {
    // 1,000 interactions from 20 users: fewer than 25 users with two interactions.
    const rows = Array.from({ length: 1000 }, (_, i) => `few${i % 20},i${i},${1_100_000_000 + i}`);
    const { groupArn: few } = await f.groupWithData(
      'few-users',
      `USER_ID,ITEM_ID,TIMESTAMP\n${rows.join('\n')}\n`,
    );
    const solutionArn = await f.solution({
      name: 'few-users',
      datasetGroupArn: few,
      recipeArn: `${RECIPE}aws-popularity-count`,
    });
    const failed = await f.train(solutionArn);
    assert.equal(failed.status, 'CREATE FAILED');
    assert.equal(failed.failureReason, 'Dataset has fewer than 25 users with at least 2 interactions each.');
    // An event type no interaction has leaves nothing to train on.
    const clicks = await f.solution({
      name: 'clicks-only',
      datasetGroupArn: groupArn,
      recipeArn: `${RECIPE}aws-popularity-count`,
      eventType: 'click',
    });
    const none = await f.train(clicks);
    assert.equal(none.status, 'CREATE FAILED');
    assert.match(none.failureReason ?? '', /^Dataset has fewer than 1000 interactions/);
  });

  it('searches hyperparameters with performHPO and reports tunedHPOParams; UPDATE keeps them', async () => {
    const tuned = await f.solution({
      name: 'tuned',
      datasetGroupArn: groupArn,
      recipeArn: `${RECIPE}aws-user-personalization`,
      performHPO: true,
      solutionConfig: {
        algorithmHyperParameters: { training_iterations: '2', neighbours: '20' },
        hpoConfig: {
          hpoResourceConfig: { maxNumberOfTrainingJobs: '3' },
          algorithmHyperParameterRanges: {
            integerHyperParameterRanges: [{ name: 'hidden_dimension', minValue: 32, maxValue: 48 }],
            categoricalHyperParameterRanges: [{ name: 'recency_mask', values: ['true', 'false'] }],
          },
        },
      },
    });
    const update = await sdkError(
      f.personalize.send(new CreateSolutionVersionCommand({ solutionArn: tuned, trainingMode: 'UPDATE' })),
    );
    assert.equal(update.name, 'InvalidInputException');
    assert.match(
      update.message,
      /trainingMode UPDATE needs an ACTIVE solution version of tuned trained with FULL/,
    );
    const full = await f.train(tuned);
    assert.equal(full.status, 'ACTIVE', full.failureReason);
    assert.equal(full.performHPO, true);
    const params = full.tunedHPOParams?.algorithmHyperParameters ?? {};
    assert.ok(
      ['32', '37', '43', '48'].includes(params.hidden_dimension ?? ''),
      `hidden_dimension ${params.hidden_dimension}`,
    );
    assert.ok(['true', 'false'].includes(params.recency_mask ?? ''));
    assert.equal(
      params.training_iterations,
      '2',
      'the given hyperparameters are the base of every candidate',
    );
    assert.ok(
      stack.logs.some((l) => l.includes(`${full.solutionVersionArn}: hyperparameter search: candidate 3/3`)),
    );

    const updated = await f.train(tuned, 'UPDATE');
    assert.equal(updated.status, 'ACTIVE', updated.failureReason);
    assert.equal(updated.trainingMode, 'UPDATE');
    assert.deepEqual(updated.tunedHPOParams, full.tunedHPOParams);
    assert.ok(
      !stack.logs.some((l) => l.includes(`${updated.solutionVersionArn}: hyperparameter search`)),
      'an UPDATE searches nothing',
    );
    const popularity = await sdkError(
      f.personalize.send(
        new CreateSolutionVersionCommand({ solutionArn: popularityArn, trainingMode: 'UPDATE' }),
      ),
    );
    assert.match(
      popularity.message,
      /trainingMode UPDATE is for aws-user-personalization solutions; popularity uses aws-popularity-count/,
    );
    const autotrain = await sdkError(
      f.personalize.send(
        new CreateSolutionVersionCommand({ solutionArn: popularityArn, trainingMode: 'AUTOTRAIN' }),
      ),
    );
    assert.match(autotrain.message, /AUTOTRAIN is set by Personalize for automatic training/);
  });

  it("explores with the Items dataset's creation timestamps when it has them", async () => {
    const csv = await sampleInteractionsCsv();
    const { groupArn: withItems } = await f.groupWithData('with-items', csv);
    const itemsArn = await f.dataset(withItems, 'Items', 'with-items-items');
    const items = [
      ...new Set(
        csv
          .trim()
          .split('\n')
          .slice(1)
          .map((l) => l.split(',')[1]!),
      ),
    ];
    await f.importCsv(
      itemsArn,
      'with-items/items.csv',
      `ITEM_ID,CREATION_TIMESTAMP\n${items.map((id, k) => `${id},${k % 3 === 0 ? '' : 1_200_000_000 + k}`).join('\n')}\n`,
    );
    const solutionArn = await f.solution({
      name: 'with-items',
      datasetGroupArn: withItems,
      recipeArn: `${RECIPE}aws-user-personalization`,
      solutionConfig: { algorithmHyperParameters: QUICK },
    });
    const trained = await f.train(solutionArn);
    assert.equal(trained.status, 'ACTIVE', trained.failureReason);
    const withTime = items.filter((_, k) => k % 3 !== 0).length;
    assert.ok(
      stack.logs.some(
        (l) =>
          l.includes(
            `${trained.solutionVersionArn}: training aws-user-personalization on 1500 interactions`,
          ) && l.includes(`(${withTime} items with a creation time)`),
      ),
    );
  });

  it('keeps a dataset group while it has solutions; deleting a solution removes its versions and models', async () => {
    const inUse = await sdkError(
      f.personalize.send(new DeleteDatasetGroupCommand({ datasetGroupArn: groupArn })),
    );
    assert.equal(inUse.name, 'ResourceInUseException');
    const versions = (
      await f.personalize.send(new ListSolutionVersionsCommand({ solutionArn: personalizedArn }))
    ).solutionVersions!;
    await f.personalize.send(new DeleteSolutionCommand({ solutionArn: personalizedArn }));
    for (const v of versions) {
      assert.equal(existsSync(modelFile(stack.dataDir, v.solutionVersionArn!)), false);
      const gone = await sdkError(f.describeVersion(v.solutionVersionArn!));
      assert.equal(gone.name, 'ResourceNotFoundException');
    }
    const missing = await sdkError(
      f.personalize.send(new ListSolutionVersionsCommand({ solutionArn: personalizedArn })),
    );
    assert.equal(missing.name, 'ResourceNotFoundException');
    const unknownGroup = await sdkError(
      f.personalize.send(new ListSolutionsCommand({ datasetGroupArn: `${groupArn}-x` })),
    );
    assert.equal(unknownGroup.name, 'InvalidInputException');
  });

  it('fails a version that was training when the stack stopped, or died, with a reason on restart', async () => {
    const first = await startTestStack();
    const g = new Fixture(first);
    let versionArn: string;
    let killedArn: string;
    let stateFile: string;
    let snapshot: string;
    try {
      await g.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      const { groupArn: group } = await g.groupWithData('restart', await sampleInteractionsCsv());
      const solutionArn = await g.solution({
        name: 'restart',
        datasetGroupArn: group,
        recipeArn: `${RECIPE}aws-popularity-count`,
      });
      first.server.jobs.hold(SOLUTION_VERSION_JOB_KIND);
      versionArn = (await g.personalize.send(new CreateSolutionVersionCommand({ solutionArn })))
        .solutionVersionArn!;
      killedArn = (await g.personalize.send(new CreateSolutionVersionCommand({ solutionArn })))
        .solutionVersionArn!;
      await g.held(1);
      // What a server killed now would leave on disk: one version in progress, one pending.
      stateFile = `${first.dataDir}/personalize/solutions.json`;
      snapshot = readFileSync(stateFile, 'utf8');
      assert.match(snapshot, /"status": "CREATE IN_PROGRESS"/);
    } finally {
      g.destroy();
      await first.stop({ keepData: true });
    }
    // Stopped cleanly: both recorded failed at once.
    const second = await startTestStack({ dataDir: first.dataDir });
    const h = new Fixture(second);
    try {
      for (const arn of [versionArn, killedArn]) {
        const v = await h.describeVersion(arn);
        assert.equal(v.status, 'CREATE FAILED');
        assert.equal(v.failureReason, INTERRUPTED_MESSAGE);
      }
    } finally {
      h.destroy();
      await second.stop({ keepData: true });
    }
    // Killed: the state file still says in progress; the next start fails them with the reason.
    writeFileSync(stateFile, snapshot);
    const third = await startTestStack({ dataDir: first.dataDir });
    const k = new Fixture(third);
    try {
      for (const arn of [versionArn, killedArn]) {
        const v = await k.describeVersion(arn);
        assert.equal(v.status, 'CREATE FAILED');
        assert.equal(v.failureReason, INTERRUPTED_MESSAGE);
      }
    } finally {
      k.destroy();
      await third.stop();
    }
  });
});
