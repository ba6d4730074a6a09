// Batch inference, campaigns and Personalize Runtime of the local stack checked against botocore's
// models (every operation's raw response body against its output shape, errors against the
// declared ones), and driven by the AWS CLI as an operator would: `aws personalize
// create-batch-inference-job` and `aws personalize-runtime get-recommendations`. The botocore part
// skips without python3/botocore, the CLI part without `aws`, each with a message.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsJsonRequest,
  checkError,
  checkOutput,
  checkShape,
  loadBotocoreModel,
  restJsonRequest,
  type ServiceModel,
} from '../helpers/botocore.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { awsCliAvailable, awsCliEnv, awsCliPath } from '../helpers/sdk.js';
import { trainSolutionVersions, until, type Trained } from '../helpers/trained.js';

const personalizeModel = loadBotocoreModel('personalize');
const runtimeModel = loadBotocoreModel('personalize-runtime');
const modelSkip =
  'skip' in personalizeModel
    ? `skipped: ${personalizeModel.skip}`
    : 'skip' in runtimeModel
      ? `skipped: ${runtimeModel.skip}`
      : false;
const cliSkip = awsCliAvailable() ? false : 'skipped: the aws CLI is not installed (Debian package awscli)';
const ROLE = 'arn:aws:iam::000000000000:role/personalize';
/** botocore types roleArn as a Personalize ARN; it holds an IAM role's ARN, as on AWS. */
const PATTERN_EXEMPT = {
  'BatchInferenceJob.roleArn': 'an IAM role ARN, as AWS returns it',
};

describe('batch inference, campaigns and Personalize Runtime against botocore and the AWS CLI', () => {
  let stack: TestStack;
  let trained: Trained;
  let s3: S3Client;

  before(async () => {
    stack = await startTestStack();
    s3 = new S3Client(sdkConfig(stack));
    trained = await trainSolutionVersions(stack, ['aws-user-personalization', 'aws-similar-items']);
    await s3.send(
      new PutObjectCommand({ Bucket: trained.bucket, Key: 'in/users.json', Body: '{"userId":"1"}\n' }),
    );
  });

  after(async () => {
    s3?.destroy();
    await stack?.stop();
  });

  describe(
    'responses conform to botocore’s personalize and personalize-runtime models',
    { skip: modelSkip },
    () => {
      const model = (personalizeModel as { model: ServiceModel }).model;
      const rtModel = (runtimeModel as { model: ServiceModel }).model;
      const problems: string[] = [];
      type Body = Record<string, unknown>;

      async function call<T = Body>(operation: string, body: object): Promise<T> {
        const r = await awsJsonRequest(stack, {
          service: 'personalize',
          target: `AmazonPersonalize.${operation}`,
          jsonVersion: '1.1',
          body,
        });
        assert.equal(r.status, 200, `${operation}: ${r.body}`);
        problems.push(...checkOutput(model, operation, r.body, { patternExempt: PATTERN_EXEMPT }));
        return (r.body === '' ? {} : JSON.parse(r.body)) as T;
      }

      async function fail(operation: string, body: object, expected: string): Promise<void> {
        const r = await awsJsonRequest(stack, {
          service: 'personalize',
          target: `AmazonPersonalize.${operation}`,
          jsonVersion: '1.1',
          body,
        });
        const { name, problems: more } = checkError(model, operation, r.status, r.body);
        problems.push(...more);
        assert.equal(name, expected, `${operation}: ${r.body}`);
      }

      async function runtime(
        operation: string,
        routePath: string,
        body: object,
        expectedError?: string,
      ): Promise<Body> {
        const r = await restJsonRequest(stack, { service: 'personalize', path: routePath, body });
        if (expectedError !== undefined) {
          assert.equal(r.headers.get('x-amzn-errortype'), expectedError, r.body);
          const declared = (rtModel.operations[operation]?.errors ?? []).map((e) => e.shape);
          assert.ok(declared.includes(expectedError), `${operation} declares ${expectedError}`);
          problems.push(...checkShape(rtModel, expectedError, JSON.parse(r.body), `${operation} error`));
          return {};
        }
        assert.equal(r.status, 200, `${operation}: ${r.body}`);
        problems.push(...checkOutput(rtModel, operation, r.body));
        return JSON.parse(r.body) as Body;
      }

      it('CreateBatchInferenceJob, DescribeBatchInferenceJob, ListBatchInferenceJobs and their errors', async () => {
        const version = trained.versions['aws-user-personalization']!;
        const { batchInferenceJobArn } = await call<{ batchInferenceJobArn: string }>(
          'CreateBatchInferenceJob',
          {
            jobName: 'conformance',
            solutionVersionArn: version,
            roleArn: ROLE,
            numResults: 5,
            jobInput: { s3DataSource: { path: `s3://${trained.bucket}/in/users.json` } },
            jobOutput: { s3DataDestination: { path: `s3://${trained.bucket}/out/` } },
            batchInferenceJobConfig: { itemExplorationConfig: { explorationWeight: '0.2' } },
          },
        );
        await until(
          () => call<{ batchInferenceJob: Body }>('DescribeBatchInferenceJob', { batchInferenceJobArn }),
          (r) => r.batchInferenceJob.status === 'ACTIVE',
          'batch job ACTIVE',
        );
        const list = await call<{ batchInferenceJobs: Body[] }>('ListBatchInferenceJobs', {
          solutionVersionArn: version,
        });
        assert.equal(list.batchInferenceJobs.length, 1);
        await fail(
          'DescribeBatchInferenceJob',
          { batchInferenceJobArn: `${batchInferenceJobArn}x` },
          'ResourceNotFoundException',
        );
        await fail('CreateBatchInferenceJob', { jobName: 'x' }, 'InvalidInputException');
        await fail('ListBatchInferenceJobs', { nextToken: '!!' }, 'InvalidNextTokenException');
        assert.deepEqual(problems, []);
      });

      it('campaigns and GetRecommendations / GetPersonalizedRanking', async () => {
        const { campaignArn } = await call<{ campaignArn: string }>('CreateCampaign', {
          name: 'conformance',
          solutionVersionArn: trained.versions['aws-user-personalization']!,
          minProvisionedTPS: 1,
          campaignConfig: {
            itemExplorationConfig: { explorationWeight: '0.3', explorationItemAgeCutOff: '30' },
          },
        });
        await until(
          () => call<{ campaign: Body }>('DescribeCampaign', { campaignArn }),
          (r) => r.campaign.status === 'ACTIVE',
          'campaign ACTIVE',
        );
        await call('ListCampaigns', {});
        await call('ListCampaigns', { solutionArn: trained.solutions['aws-user-personalization']! });
        await call('UpdateCampaign', { campaignArn, minProvisionedTPS: 2 });
        await until(
          () => call<{ campaign: { latestCampaignUpdate?: Body } }>('DescribeCampaign', { campaignArn }),
          (r) => r.campaign.latestCampaignUpdate?.status === 'ACTIVE',
          'update ACTIVE',
        );
        const recs = await runtime('GetRecommendations', '/recommendations', {
          campaignArn,
          userId: '1',
          numResults: 3,
        });
        assert.equal((recs.itemList as unknown[]).length, 3);
        await runtime('GetPersonalizedRanking', '/personalize-ranking', {
          campaignArn,
          userId: '1',
          inputList: ['1', '2'],
        });
        await runtime(
          'GetRecommendations',
          '/recommendations',
          { campaignArn, itemId: '1' },
          'InvalidInputException',
        );
        await runtime(
          'GetRecommendations',
          '/recommendations',
          { campaignArn: `${campaignArn}x`, userId: '1' },
          'ResourceNotFoundException',
        );
        await fail('DescribeCampaign', { campaignArn: `${campaignArn}x` }, 'ResourceNotFoundException');
        await fail(
          'CreateCampaign',
          { name: 'conformance', solutionVersionArn: trained.versions['aws-user-personalization']! },
          'ResourceAlreadyExistsException',
        );
        await call('DeleteCampaign', { campaignArn });
        await fail('UpdateCampaign', { campaignArn, minProvisionedTPS: 3 }, 'ResourceInUseException');
        assert.deepEqual(problems, []);
      });
    },
  );

  describe('the AWS CLI', { skip: cliSkip }, () => {
    let work: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {
      work = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-inference-cli-'));
      env = awsCliEnv(stack, work);
    });

    after(async () => {
      if (work !== undefined) await rm(work, { recursive: true, force: true });
    });

    const aws = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(
          awsCliPath(),
          ['--endpoint-url', stack.endpoint, '--output', 'json', ...args],
          { env, cwd: work },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });

    it('aws personalize create-batch-inference-job, then describe until ACTIVE; the .out is AWS’s shape', async () => {
      const create = await aws(
        'personalize',
        'create-batch-inference-job',
        '--job-name',
        'cli-job',
        '--solution-version-arn',
        trained.versions['aws-user-personalization']!,
        '--role-arn',
        ROLE,
        '--num-results',
        '4',
        '--job-input',
        `s3DataSource={path=s3://${trained.bucket}/in/users.json}`,
        '--job-output',
        `s3DataDestination={path=s3://${trained.bucket}/cli-out/}`,
      );
      assert.equal(create.code, 0, create.stderr);
      const { batchInferenceJobArn } = JSON.parse(create.stdout) as { batchInferenceJobArn: string };
      const described = await until(
        async () => {
          const r = await aws(
            'personalize',
            'describe-batch-inference-job',
            '--batch-inference-job-arn',
            batchInferenceJobArn,
          );
          assert.equal(r.code, 0, r.stderr);
          return JSON.parse(r.stdout) as { batchInferenceJob: { status: string; numResults: number } };
        },
        (r) => ['ACTIVE', 'CREATE FAILED'].includes(r.batchInferenceJob.status),
        'cli job',
      );
      assert.equal(described.batchInferenceJob.status, 'ACTIVE');
      assert.equal(described.batchInferenceJob.numResults, 4);
      const out = await s3.send(
        new GetObjectCommand({ Bucket: trained.bucket, Key: 'cli-out/users.json.out' }),
      );
      assert.match(
        await out.Body!.transformToString(),
        /^\{"input":\{"userId":"1"\},"output":\{"recommendedItems":\["[^"]+"(,"[^"]+"){3}\],"scores":\[[0-9.]+(,[0-9.]+){3}\]\},"error":null\}\n$/,
      );
      const refused = await aws(
        'personalize',
        'create-batch-inference-job',
        '--job-name',
        'cli-bad',
        '--solution-version-arn',
        trained.versions['aws-user-personalization']!,
        '--role-arn',
        ROLE,
        '--num-results',
        '501',
        '--job-input',
        `s3DataSource={path=s3://${trained.bucket}/in/users.json}`,
        '--job-output',
        `s3DataDestination={path=s3://${trained.bucket}/cli-out/}`,
      );
      assert.notEqual(refused.code, 0);
      assert.match(
        refused.stderr,
        /\(InvalidInputException\).*numResults must be a whole number from 1 to 500/,
      );
    });

    it('aws personalize-runtime get-recommendations from a campaign', async () => {
      const create = await aws(
        'personalize',
        'create-campaign',
        '--name',
        'cli-campaign',
        '--solution-version-arn',
        trained.versions['aws-similar-items']!,
      );
      assert.equal(create.code, 0, create.stderr);
      const { campaignArn } = JSON.parse(create.stdout) as { campaignArn: string };
      await until(
        async () => {
          const r = await aws('personalize', 'describe-campaign', '--campaign-arn', campaignArn);
          return (JSON.parse(r.stdout) as { campaign: { status: string } }).campaign.status;
        },
        (status) => status === 'ACTIVE',
        'cli campaign',
      );
      const item = trained.csv.split('\n')[1]!.split(',')[1]!;
      const recs = await aws(
        'personalize-runtime',
        'get-recommendations',
        '--campaign-arn',
        campaignArn,
        '--item-id',
        item,
        '--num-results',
        '3',
      );
      assert.equal(recs.code, 0, recs.stderr);
      const body = JSON.parse(recs.stdout) as {
        itemList: { itemId: string; score?: number }[];
        recommendationId: string;
      };
      assert.equal(body.itemList.length, 3);
      assert.ok(body.itemList.every((i) => typeof i.itemId === 'string' && i.score === undefined));
      const noUser = await aws(
        'personalize-runtime',
        'get-recommendations',
        '--campaign-arn',
        campaignArn,
        '--user-id',
        '1',
      );
      assert.notEqual(noUser.code, 0);
      assert.match(noUser.stderr, /\(InvalidInputException\).*itemId is required/);
    });
  });
});
