// The service registry and the clock seen from outside: a REST-JSON service declared only by its
// routes answers the real Personalize Runtime client; any operation can be invoked in-process with
// AWS-shaped input and AWS errors; `local status` counts come from the services list; and a manual
// clock decides when a dataset group leaves CREATE PENDING.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  CreateDatasetGroupCommand,
  DescribeDatasetGroupCommand,
  PersonalizeClient,
} from '@aws-sdk/client-personalize';
import {
  GetPersonalizedRankingCommand,
  GetRecommendationsCommand,
  PersonalizeRuntimeClient,
} from '@aws-sdk/client-personalize-runtime';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ManualClock } from '../../src/local/core/clock.js';
import { AwsError } from '../../src/local/core/errors.js';
import { defineService } from '../../src/local/core/service.js';
import { SERVICES } from '../../src/local/services/index.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { sdkError } from '../helpers/sdk.js';
import { until } from '../helpers/trained.js';

/**
 * A REST-JSON service declared as Personalize Runtime is: routes, signing name
 * `personalize`, and operations that answer from their input (what the router must deliver).
 */
const runtimeFixture = defineService({
  name: 'personalize-runtime',
  displayName: 'Personalize Runtime',
  signingName: 'personalize',
  protocol: {
    kind: 'rest-json',
    routes: [
      { method: 'POST', path: '/recommendations', operation: 'GetRecommendations' },
      { method: 'POST', path: '/personalize-ranking', operation: 'GetPersonalizedRanking' },
    ],
  },
  open: async () => ({}),
  operations: () => ({
    GetRecommendations: async (input: { userId?: string; numResults?: number }) => {
      if (input.userId === 'nobody')
        throw new AwsError('ResourceNotFoundException', 'No campaign for user nobody.', 404);
      return {
        itemList: Array.from({ length: input.numResults ?? 2 }, (_, i) => ({
          itemId: `${input.userId}-${i}`,
          score: 1 / (i + 2),
        })),
        recommendationId: 'RID-1',
      };
    },
    GetPersonalizedRanking: async (input: { inputList?: string[] }) => ({
      personalizedRanking: [...(input.inputList ?? [])].reverse().map((itemId) => ({ itemId })),
    }),
  }),
});

describe('service registry and clock', () => {
  const stacks: TestStack[] = [];
  after(async () => {
    for (const stack of stacks) await stack.stop();
  });

  it('routes REST-JSON requests to the service that declares the route, with restJson1 errors', async () => {
    // The fixture stands in for the real Personalize Runtime (tested in personalize-campaigns.test.ts).
    const stack = await startTestStack({
      services: [...SERVICES.filter((s) => s.name !== 'personalize-runtime'), runtimeFixture],
    });
    stacks.push(stack);
    const runtime = new PersonalizeRuntimeClient(sdkConfig(stack));
    try {
      const recs = await runtime.send(
        new GetRecommendationsCommand({
          campaignArn: 'arn:aws:personalize:us-east-1:000000000000:campaign/c',
          userId: '75',
          numResults: 3,
        }),
      );
      assert.deepEqual(
        recs.itemList?.map((i) => i.itemId),
        ['75-0', '75-1', '75-2'],
      );
      assert.equal(recs.recommendationId, 'RID-1');
      const ranking = await runtime.send(
        new GetPersonalizedRankingCommand({
          campaignArn: 'arn:aws:personalize:us-east-1:000000000000:campaign/c',
          userId: '75',
          inputList: ['a', 'b', 'c'],
        }),
      );
      assert.deepEqual(
        ranking.personalizedRanking?.map((i) => i.itemId),
        ['c', 'b', 'a'],
      );
      const missing = await sdkError(
        runtime.send(
          new GetRecommendationsCommand({
            campaignArn: 'arn:aws:personalize:us-east-1:000000000000:campaign/c',
            userId: 'nobody',
          }),
        ),
      );
      assert.equal(missing.name, 'ResourceNotFoundException');
      assert.equal(missing.message, 'No campaign for user nobody.');
      assert.equal(missing.$metadata.httpStatusCode, 404);
      const wrongKey = new PersonalizeRuntimeClient({
        ...sdkConfig(stack),
        credentials: { accessKeyId: 'AKIANOTTHESTACKSKEY0', secretAccessKey: 'x'.repeat(40) },
      });
      const refused = await sdkError(
        wrongKey.send(
          new GetRecommendationsCommand({ campaignArn: 'arn:aws:personalize:::campaign/c', userId: '1' }),
        ),
      );
      assert.equal(refused.name, 'UnrecognizedClientException');
      wrongKey.destroy();
    } finally {
      runtime.destroy();
    }
  });

  it('invokes any operation in-process by AWS name with AWS-shaped input, output and errors', async () => {
    const stack = await startTestStack();
    stacks.push(stack);
    const { registry } = stack.server;
    const created = (await registry.invoke('personalize', 'CreateDatasetGroup', { name: 'in-process' })) as {
      datasetGroupArn: string;
    };
    assert.match(created.datasetGroupArn, /^arn:aws:personalize:us-east-1:\d{12}:dataset-group\/in-process$/);
    assert.equal(registry.serves('personalize', 'CreateDatasetGroup'), true);
    assert.equal(registry.serves('personalize', 'NoSuchOperation'), false);
    assert.equal(registry.serves('nosuchservice', 'CreateDatasetGroup'), false);
    const personalize = new PersonalizeClient(sdkConfig(stack));
    const s3 = new S3Client(sdkConfig(stack));
    try {
      const seen = await personalize.send(
        new DescribeDatasetGroupCommand({ datasetGroupArn: created.datasetGroupArn }),
      );
      assert.equal(seen.datasetGroup?.name, 'in-process');
      await assert.rejects(
        registry.invoke('personalize', 'CreateDatasetGroup', { name: 'in-process' }),
        (error: unknown) => error instanceof AwsError && error.code === 'ResourceAlreadyExistsException',
      );
      await assert.rejects(
        registry.invoke('personalize', 'CreateEventTracker', {}),
        (error: unknown) =>
          error instanceof AwsError &&
          error.code === 'UnknownOperationException' &&
          /does not implement Personalize operation CreateEventTracker/.test(error.message),
      );
      await registry.invoke('s3', 'CreateBucket', { Bucket: 'invoked' });
      const put = (await registry.invoke('s3', 'PutObject', {
        Bucket: 'invoked',
        Key: 'a.txt',
        Body: 'hello',
      })) as {
        ETag: string;
      };
      assert.equal(put.ETag, '"5d41402abc4b2a76b9719d911017c592"');
      const object = await s3.send(new GetObjectCommand({ Bucket: 'invoked', Key: 'a.txt' }));
      assert.equal(await object.Body!.transformToString(), 'hello');
      const listed = (await registry.invoke('s3', 'ListObjectsV2', { Bucket: 'invoked' })) as {
        Contents: { Key: string }[];
      };
      assert.deepEqual(
        listed.Contents.map((o) => o.Key),
        ['a.txt'],
      );
      assert.deepEqual(Object.keys(stack.server.stats()), [
        's3',
        'logs',
        'glue',
        'personalize',
        'stepfunctions',
        'eventbridge',
        'cloudformation',
      ]);
      assert.equal(stack.server.stats().s3!.buckets, 1);
    } finally {
      personalize.destroy();
      s3.destroy();
    }
  });

  it('a manual clock decides when a dataset group moves through its provisioning delays', async () => {
    const clock = new ManualClock();
    const stack = await startTestStack({ clock });
    stacks.push(stack);
    const personalize = new PersonalizeClient(sdkConfig(stack));
    try {
      const { datasetGroupArn } = await personalize.send(new CreateDatasetGroupCommand({ name: 'clocked' }));
      const status = async (): Promise<string | undefined> =>
        (await personalize.send(new DescribeDatasetGroupCommand({ datasetGroupArn }))).datasetGroup?.status;
      await clock.sleeping();
      assert.equal(await status(), 'CREATE PENDING');
      await clock.advance(9_999);
      assert.equal(await status(), 'CREATE PENDING', 'not before 10 s of AWS time');
      await clock.advance(1);
      // Each status shows once it is written.
      await until(status, (s) => s === 'CREATE IN_PROGRESS', 'group CREATE IN_PROGRESS');
      await clock.advance(30_000);
      await until(status, (s) => s === 'ACTIVE', 'group ACTIVE');
    } finally {
      personalize.destroy();
    }
  });
});
