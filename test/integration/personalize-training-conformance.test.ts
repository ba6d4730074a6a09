// Personalize's training responses of the local stack checked against botocore's service model:
// every solution, solution version and recipe operation is sent as a raw SigV4-signed AWS JSON 1.1
// request, and each raw body is validated recursively against the operation's output shape (or
// its declared errors).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsJsonRequest,
  checkError,
  checkOutput,
  loadBotocoreModel,
  type ServiceModel,
} from '../helpers/botocore.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { interactionsSchema, sampleInteractionsCsv } from '../helpers/personalize.js';
import { SOLUTION_VERSION_JOB_KIND } from '../../src/local/services/personalize/solutions.js';

const loaded = loadBotocoreModel('personalize');
const model: ServiceModel | undefined = 'model' in loaded ? loaded.model : undefined;
const skip = 'skip' in loaded ? `skipped: ${loaded.skip}` : false;

const OPERATIONS = [
  'ListRecipes',
  'DescribeRecipe',
  'CreateSolution',
  'DescribeSolution',
  'ListSolutions',
  'DeleteSolution',
  'CreateSolutionVersion',
  'DescribeSolutionVersion',
  'ListSolutionVersions',
  'StopSolutionVersionCreation',
  'GetSolutionMetrics',
];
const RECIPE = 'arn:aws:personalize:::recipe/';
const ENDED = new Set(['ACTIVE', 'CREATE FAILED', 'CREATE STOPPED']);

describe("local stack Personalize training responses conform to botocore's model", { skip }, () => {
  let stack: TestStack;
  let s3: S3Client;
  const exercised = new Set<string>();
  let problems: string[] = [];
  let groupArn: string;

  type Body = Record<string, unknown>;

  async function call<T = Body>(operation: string, body: object): Promise<T> {
    const response = await awsJsonRequest(stack, {
      service: 'personalize',
      target: `AmazonPersonalize.${operation}`,
      jsonVersion: '1.1',
      body,
    });
    assert.equal(response.status, 200, `${operation} ${JSON.stringify(body)}: ${response.body}`);
    problems.push(...checkOutput(model!, operation, response.body));
    exercised.add(operation);
    return (response.body === '' ? {} : JSON.parse(response.body)) as T;
  }

  async function fail(operation: string, body: object, expected: string): Promise<string> {
    const response = await awsJsonRequest(stack, {
      service: 'personalize',
      target: `AmazonPersonalize.${operation}`,
      jsonVersion: '1.1',
      body,
    });
    const { name, problems: errorProblems } = checkError(model!, operation, response.status, response.body);
    problems.push(...errorProblems);
    assert.equal(name, expected, `${operation} ${JSON.stringify(body)}: ${response.body}`);
    return (JSON.parse(response.body) as { message: string }).message;
  }

  async function settle(operation: string, body: object, member: string, done: Set<string>): Promise<Body> {
    for (let i = 0; i < 60_000; i++) {
      const value = (await call<Record<string, Body>>(operation, body))[member]!;
      if (done.has(value.status as string)) return value;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`${operation} did not settle`);
  }

  const solution = (solutionArn: string): Promise<Body> =>
    settle('DescribeSolution', { solutionArn }, 'solution', new Set(['ACTIVE']));
  const version = (solutionVersionArn: string): Promise<Body> =>
    settle('DescribeSolutionVersion', { solutionVersionArn }, 'solutionVersion', ENDED);

  before(async () => {
    stack = await startTestStack();
    s3 = new S3Client(sdkConfig(stack));
    await s3.send(new CreateBucketCommand({ Bucket: 'conf' }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'conf', Key: 'i.csv', Body: await sampleInteractionsCsv() }),
    );
    // The data side is set up in-process: its shapes are checked by personalize-conformance.
    const invoke = (operation: string, input: object) =>
      stack.server.registry.invoke('personalize', operation, input) as Promise<Record<string, Body>>;
    const active = async (operation: string, input: object, member: string): Promise<void> => {
      for (;;) {
        const resource = (await invoke(operation, input))[member]!;
        assert.notEqual(resource.status, 'CREATE FAILED', resource.failureReason as string);
        if (resource.status === 'ACTIVE') return;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    groupArn = (await invoke('CreateDatasetGroup', { name: 'conf-training' })).datasetGroupArn as never;
    const schemaArn = (await invoke('CreateSchema', { name: 'conf-i', schema: interactionsSchema() }))
      .schemaArn;
    await active('DescribeDatasetGroup', { datasetGroupArn: groupArn }, 'datasetGroup');
    const datasetArn = (
      await invoke('CreateDataset', {
        name: 'conf-i',
        datasetGroupArn: groupArn,
        datasetType: 'Interactions',
        schemaArn,
      })
    ).datasetArn;
    await active('DescribeDataset', { datasetArn }, 'dataset');
    const datasetImportJobArn = (
      await invoke('CreateDatasetImportJob', {
        jobName: 'conf-i',
        datasetArn,
        dataSource: { dataLocation: 's3://conf/i.csv' },
      })
    ).datasetImportJobArn;
    await active('DescribeDatasetImportJob', { datasetImportJobArn }, 'datasetImportJob');
  });

  after(async () => {
    s3?.destroy();
    await stack?.stop();
  });

  it('answers the recipe operations in the model shapes', async () => {
    problems = [];
    const all = await call<{ recipes: unknown[] }>('ListRecipes', { recipeProvider: 'SERVICE' });
    assert.equal(all.recipes.length, 3);
    const page = await call<{ nextToken: string }>('ListRecipes', { maxResults: 1 });
    await call('ListRecipes', { nextToken: page.nextToken });
    await call('ListRecipes', { domain: 'VIDEO_ON_DEMAND' });
    for (const name of ['aws-user-personalization', 'aws-popularity-count', 'aws-similar-items'])
      await call('DescribeRecipe', { recipeArn: `${RECIPE}${name}` });
    await fail('DescribeRecipe', { recipeArn: `${RECIPE}aws-sims` }, 'ResourceNotFoundException');
    await fail('ListRecipes', { recipeProvider: 'CUSTOM' }, 'InvalidInputException');
    await fail('ListRecipes', { nextToken: 'not a token!' }, 'InvalidNextTokenException');
    assert.deepEqual(problems, []);
  });

  it('answers the solution and solution version operations in the model shapes', async () => {
    problems = [];
    const { solutionArn } = await call<{ solutionArn: string }>('CreateSolution', {
      name: 'conf-hpo',
      datasetGroupArn: groupArn,
      recipeArn: `${RECIPE}aws-user-personalization`,
      performHPO: true,
      performAutoTraining: false,
      solutionConfig: {
        algorithmHyperParameters: { training_iterations: '1', neighbours: '20' },
        hpoConfig: {
          hpoObjective: { type: 'Maximize', metricName: 'normalized_discounted_cumulative_gain_at_10' },
          hpoResourceConfig: { maxNumberOfTrainingJobs: '2', maxParallelTrainingJobs: '1' },
          algorithmHyperParameterRanges: {
            integerHyperParameterRanges: [{ name: 'hidden_dimension', minValue: 32, maxValue: 40 }],
            continuousHyperParameterRanges: [{ name: 'regularization', minValue: 0.01, maxValue: 0.1 }],
          },
        },
      },
      tags: [{ tagKey: 'project', tagValue: 'conformance' }],
    });
    const pending = await call<{ solution: Body }>('DescribeSolution', { solutionArn });
    assert.ok(['CREATE PENDING', 'CREATE IN_PROGRESS', 'ACTIVE'].includes(pending.solution.status as string));
    const active = await solution(solutionArn);
    assert.equal(active.performAutoTraining, false);
    assert.equal(typeof active.creationDateTime, 'number');

    const { solutionVersionArn } = await call<{ solutionVersionArn: string }>('CreateSolutionVersion', {
      solutionArn,
      name: 'conf-v1',
      trainingMode: 'FULL',
    });
    const trained = await version(solutionVersionArn);
    assert.equal(trained.status, 'ACTIVE', trained.failureReason as string);
    assert.ok(trained.tunedHPOParams);
    assert.equal(typeof trained.trainingHours, 'number');
    const withLatest = await call<{ solution: { latestSolutionVersion: Body } }>('DescribeSolution', {
      solutionArn,
    });
    assert.equal(withLatest.solution.latestSolutionVersion.solutionVersionArn, solutionVersionArn);
    const metrics = await call<{ metrics: Record<string, number> }>('GetSolutionMetrics', {
      solutionVersionArn,
    });
    assert.equal(Object.keys(metrics.metrics).length, 8);
    const update = await call<{ solutionVersionArn: string }>('CreateSolutionVersion', {
      solutionArn,
      trainingMode: 'UPDATE',
    });
    assert.equal((await version(update.solutionVersionArn)).trainingMode, 'UPDATE');

    const { solutionArn: baseline } = await call<{ solutionArn: string }>('CreateSolution', {
      name: 'conf-popularity',
      datasetGroupArn: groupArn,
      recipeArn: `${RECIPE}aws-popularity-count`,
    });
    await solution(baseline);
    const hold = stack.server.jobs.hold(SOLUTION_VERSION_JOB_KIND);
    try {
      const held = await call<{ solutionVersionArn: string }>('CreateSolutionVersion', {
        solutionArn: baseline,
      });
      await fail(
        'GetSolutionMetrics',
        { solutionVersionArn: held.solutionVersionArn },
        'ResourceInUseException',
      );
      await fail('DeleteSolution', { solutionArn: baseline }, 'ResourceInUseException');
      await call('StopSolutionVersionCreation', { solutionVersionArn: held.solutionVersionArn });
      const stopped = await version(held.solutionVersionArn);
      assert.equal(stopped.status, 'CREATE STOPPED');
      await fail(
        'StopSolutionVersionCreation',
        { solutionVersionArn: held.solutionVersionArn },
        'InvalidInputException',
      );
      await fail(
        'GetSolutionMetrics',
        { solutionVersionArn: held.solutionVersionArn },
        'InvalidInputException',
      );
    } finally {
      hold.release();
    }

    const listed = await call<{ solutions: Body[] }>('ListSolutions', { datasetGroupArn: groupArn });
    assert.deepEqual(
      listed.solutions.map((s) => s.name),
      ['conf-popularity', 'conf-hpo'],
    );
    const first = await call<{ nextToken: string }>('ListSolutions', { maxResults: 1 });
    await call('ListSolutions', { nextToken: first.nextToken });
    const versions = await call<{ solutionVersions: Body[] }>('ListSolutionVersions', { solutionArn });
    assert.equal(versions.solutionVersions.length, 2);
    const all = await call<{ nextToken: string }>('ListSolutionVersions', { maxResults: 1 });
    await call('ListSolutionVersions', { nextToken: all.nextToken });

    const base = {
      name: 'conf-x',
      datasetGroupArn: groupArn,
      recipeArn: `${RECIPE}aws-user-personalization`,
    };
    await fail('CreateSolution', { ...base, name: 'conf-hpo' }, 'ResourceAlreadyExistsException');
    await fail(
      'CreateSolution',
      { ...base, datasetGroupArn: `${groupArn}-nope` },
      'ResourceNotFoundException',
    );
    await fail(
      'CreateSolution',
      { ...base, recipeArn: `${RECIPE}aws-next-best-action` },
      'ResourceNotFoundException',
    );
    await fail('CreateSolution', { ...base, performAutoTraining: true }, 'InvalidInputException');
    await fail(
      'CreateSolution',
      { ...base, solutionConfig: { algorithmHyperParameters: { bptt: 'many' } } },
      'InvalidInputException',
    );
    await fail('DescribeSolution', { solutionArn: `${solutionArn}-nope` }, 'ResourceNotFoundException');
    await fail('ListSolutions', { datasetGroupArn: `${groupArn}-nope` }, 'InvalidInputException');
    await fail('ListSolutions', { nextToken: '%%' }, 'InvalidNextTokenException');
    await fail('CreateSolutionVersion', { solutionArn: `${solutionArn}-nope` }, 'ResourceNotFoundException');
    await fail('CreateSolutionVersion', { solutionArn, trainingMode: 'PARTIAL' }, 'InvalidInputException');
    await fail('CreateSolutionVersion', { solutionArn, name: 'conf-v1' }, 'ResourceAlreadyExistsException');
    await fail(
      'DescribeSolutionVersion',
      { solutionVersionArn: `${solutionArn}/00000000` },
      'ResourceNotFoundException',
    );
    await fail('ListSolutionVersions', { solutionArn: `${solutionArn}-nope` }, 'ResourceNotFoundException');
    await fail('ListSolutionVersions', { nextToken: 'zzz' }, 'InvalidNextTokenException');
    await fail(
      'StopSolutionVersionCreation',
      { solutionVersionArn: `${solutionArn}/00000000` },
      'ResourceNotFoundException',
    );
    await fail(
      'GetSolutionMetrics',
      { solutionVersionArn: `${solutionArn}/00000000` },
      'ResourceNotFoundException',
    );

    await call('DeleteSolution', { solutionArn: baseline });
    await fail('DeleteSolution', { solutionArn: baseline }, 'ResourceNotFoundException');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      OPERATIONS.filter((op) => !exercised.has(op)),
      [],
    );
  });
});
