// Personalize batch inference in the local stack, driven by the real PersonalizeClient and
// S3Client: AWS's `.out` lines byte for byte (known and unknown users, error lines for malformed
// lines and lines without userId, itemId lines per recipe, no scores for popularity-count), numResults
// bounds, filterArn refused, an input prefix with several files and an empty file, the in-progress
// limit, output only at the end, a missing input, and a restart during a job.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBatchInferenceJobCommand,
  DescribeBatchInferenceJobCommand,
  ListBatchInferenceJobsCommand,
  PersonalizeClient,
  type CreateBatchInferenceJobCommandInput,
} from '@aws-sdk/client-personalize';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BATCH_INFERENCE_JOB_KIND,
  BATCH_INTERRUPTED_MESSAGE,
  FILTERS_NOT_SERVED_MESSAGE,
  MAX_BATCH_JOBS_IN_PROGRESS,
} from '../../src/local/services/personalize/batch-inference.js';
import type { Personalize } from '../../src/local/services/personalize/service.js';
import { recommend, similarItems } from '../../src/recommender/index.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { sdkError } from '../helpers/sdk.js';
import { trainSolutionVersions, until, type Trained } from '../helpers/trained.js';

const ROLE = 'arn:aws:iam::000000000000:role/personalize';
const ENDED = new Set(['ACTIVE', 'CREATE FAILED']);
/** Exactly AWS's shape of an answered line with scores (the documented example's form). */
const LINE_WITH_SCORES =
  /^\{"input":\{.*\},"output":\{"recommendedItems":\["[^"]+"(,"[^"]+")*\],"scores":\[\d\.\d{1,7}(,\d\.\d{1,7})*\]\},"error":null\}$/;

describe('Personalize batch inference (local stack, SDK)', () => {
  let stack: TestStack;
  let personalize: PersonalizeClient;
  let s3: S3Client;
  let trained: Trained;
  let upVersion: string;
  let jobCount = 0;

  before(async () => {
    stack = await startTestStack();
    personalize = new PersonalizeClient(sdkConfig(stack));
    s3 = new S3Client(sdkConfig(stack));
    trained = await trainSolutionVersions(stack, [
      'aws-user-personalization',
      'aws-popularity-count',
      'aws-similar-items',
    ]);
    upVersion = trained.versions['aws-user-personalization']!;
  });

  after(async () => {
    personalize?.destroy();
    s3?.destroy();
    await stack?.stop();
  });

  const put = (key: string, body: string): Promise<unknown> =>
    s3.send(new PutObjectCommand({ Bucket: trained.bucket, Key: key, Body: body }));

  async function read(key: string): Promise<string> {
    const r = await s3.send(new GetObjectCommand({ Bucket: trained.bucket, Key: key }));
    return r.Body!.transformToString('utf8');
  }

  async function keys(prefix: string): Promise<string[]> {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: trained.bucket, Prefix: prefix }));
    return (r.Contents ?? []).map((o) => o.Key!);
  }

  function jobInput(
    input: string,
    output: string,
    more: Partial<CreateBatchInferenceJobCommandInput> = {},
  ): CreateBatchInferenceJobCommandInput {
    return {
      jobName: `job-${++jobCount}`,
      solutionVersionArn: upVersion,
      roleArn: ROLE,
      jobInput: { s3DataSource: { path: `s3://${trained.bucket}/${input}` } },
      jobOutput: { s3DataDestination: { path: `s3://${trained.bucket}/${output}` } },
      ...more,
    };
  }

  async function run(input: CreateBatchInferenceJobCommandInput) {
    const { batchInferenceJobArn } = await personalize.send(new CreateBatchInferenceJobCommand(input));
    const done = await until(
      () => personalize.send(new DescribeBatchInferenceJobCommand({ batchInferenceJobArn })),
      (r) => ENDED.has(r.batchInferenceJob?.status ?? ''),
      `batch job ${input.jobName}`,
    );
    return done.batchInferenceJob!;
  }

  function model(arn: string) {
    return stack.server.registry.instance<Personalize>('personalize').solutions.models.get(arn);
  }

  it('answers every line in AWS’s exact shape: known users as the model ranks them, unknown users popular items, error lines for bad lines', async () => {
    const users = [
      ...new Set(
        trained.csv
          .split('\n')
          .slice(1, -1)
          .map((l) => l.split(',')[0]!),
      ),
    ].slice(0, 3);
    const input = [
      `{"userId":"${users[0]}"}`,
      `{"userId":"no-such-user"}`,
      'not json',
      '{"itemId":"5"}',
      '',
      `{"userId":"${users[1]}","itemList":[]}\r`,
      `["${users[2]}"]`,
      `{"userId":75}`,
      `{"userId":"${users[2]}"}`,
    ].join('\n');
    await put('batch-in/users.json', input);
    const job = await run(jobInput('batch-in/users.json', 'batch-out/', { numResults: 10 }));
    assert.equal(job.status, 'ACTIVE', job.failureReason);
    assert.equal(job.numResults, 10);
    assert.equal(job.batchInferenceJobMode, 'BATCH_INFERENCE');
    const out = await read('batch-out/users.json.out');
    assert.ok(out.endsWith('\n'));
    const lines = out.slice(0, -1).split('\n');
    // One line per input line, the blank one aside.
    assert.equal(lines.length, 8);
    const m = await model(upVersion);
    for (const [at, user] of [
      [0, users[0]!],
      [1, 'no-such-user'],
      [7, users[2]!],
    ] as const) {
      assert.match(lines[at]!, LINE_WITH_SCORES);
      const expected = recommend(m, { userId: user, numResults: 10 });
      const record = JSON.parse(lines[at]!) as {
        input: unknown;
        output: { recommendedItems: string[]; scores: number[] };
        error: null;
      };
      assert.deepEqual(record.input, { userId: user });
      assert.deepEqual(record.output.recommendedItems, expected.itemIds);
      assert.deepEqual(
        record.output.scores,
        expected.scores!.map((s) => Number(s.toFixed(7))),
      );
    }
    // An unknown user gets the popular items: the same list as a user with no history at all.
    const popular = recommend(m, { numResults: 10 }).itemIds;
    assert.deepEqual(JSON.parse(lines[1]!).output.recommendedItems, popular);
    // Error lines: the input echoed (as a string when it is not JSON), output null, the reason.
    assert.equal(
      lines[2],
      '{"input":"not json","output":null,"error":"Line 3 is not valid JSON: each line must be one JSON object such as {\\"userId\\":\\"75\\"}."}',
    );
    assert.match(lines[3]!, /^\{"input":\{"itemId":"5"\},"output":null,"error":"Line 4 has no userId: /);
    // Extra members are echoed as given; a CRLF line ending is not part of the line.
    assert.ok(
      lines[4]!.startsWith(`{"input":{"userId":"${users[1]}","itemList":[]},"output":{"recommendedItems":[`),
    );
    assert.match(lines[5]!, /^\{"input":\["[^"]+"\],"output":null,"error":"Line 7 is not a JSON object/);
    assert.match(lines[6]!, /^\{"input":\{"userId":75\},"output":null,"error":"userId must be a string/);
  });

  it('writes the documented example’s bytes for the documented recommendations', async () => {
    // The .out line of AWS's documentation (user 663) as the line writer produces it.
    const { formatRecommendationLine } =
      await import('../../src/local/services/personalize/batch-records.js');
    const items = ['368', '377', '25', '780', '1610'];
    const scores = [0.0406197, 0.0372557, 0.0254077, 0.0151975, 0.014991];
    assert.equal(
      formatRecommendationLine({ userId: '663' }, items, scores),
      '{"input":{"userId":"663"},"output":{"recommendedItems":["368","377","25","780","1610"],"scores":[0.0406197,0.0372557,0.0254077,0.0151975,0.014991]},"error":null}',
    );
    // Rounded to 7 places, never in exponent notation.
    assert.equal(
      formatRecommendationLine({ userId: '1' }, ['a', 'b', 'c'], [0.00341000004, 1.23e-7, 0.0063939999]),
      '{"input":{"userId":"1"},"output":{"recommendedItems":["a","b","c"],"scores":[0.00341,0.0000001,0.006394]},"error":null}',
    );
  });

  it('popularity-count lines carry no scores; aws-similar-items answers itemId lines with similar items and refuses userId lines', async () => {
    await put('pop-in/u.json', '{"userId":"1"}\n');
    const pop = await run(
      jobInput('pop-in/u.json', 'pop-out', { solutionVersionArn: trained.versions['aws-popularity-count']! }),
    );
    assert.equal(pop.status, 'ACTIVE', pop.failureReason);
    const popLine = (await read('pop-out/u.json.out')).trimEnd();
    assert.match(
      popLine,
      /^\{"input":\{"userId":"1"\},"output":\{"recommendedItems":\["[^"]+"(,"[^"]+"){24}\]\},"error":null\}$/,
    );

    const simsArn = trained.versions['aws-similar-items']!;
    const item = trained.csv.split('\n')[1]!.split(',')[1]!;
    await put('sims-in/items.json', `{"itemId":"${item}"}\n{"userId":"1"}\n`);
    const sims = await run(
      jobInput('sims-in/items.json', 'sims-out/', { solutionVersionArn: simsArn, numResults: 5 }),
    );
    assert.equal(sims.status, 'ACTIVE', sims.failureReason);
    const [first, second] = (await read('sims-out/items.json.out')).trimEnd().split('\n');
    const expected = similarItems(await model(simsArn), { itemId: item, numResults: 5 }).itemIds;
    assert.equal(
      first,
      `{"input":{"itemId":"${item}"},"output":{"recommendedItems":${JSON.stringify(expected)}},"error":null}`,
    );
    assert.match(second!, /^\{"input":\{"userId":"1"\},"output":null,"error":"Line 2 has no itemId: /);
  });

  it('reads every file under an input prefix into its own .out, an empty file into an empty .out', async () => {
    await put('multi/a.json', '{"userId":"1"}\n{"userId":"2"}\n');
    await put('multi/b.json', '{"userId":"3"}');
    await put('multi/empty.json', '');
    const job = await run(jobInput('multi/', 'multi-out/run1'));
    assert.equal(job.status, 'ACTIVE', job.failureReason);
    assert.deepEqual((await keys('multi-out/')).sort(), [
      'multi-out/run1/a.json.out',
      'multi-out/run1/b.json.out',
      'multi-out/run1/empty.json.out',
    ]);
    assert.equal((await read('multi-out/run1/a.json.out')).split('\n').length, 3);
    assert.equal((await read('multi-out/run1/b.json.out')).split('\n').length, 2);
    assert.equal(await read('multi-out/run1/empty.json.out'), '');
  });

  it('refuses numResults outside 1–500, a filter, an unknown or duplicate job, an unknown solution version, bad exploration', async () => {
    await put('bounds/u.json', '{"userId":"1"}\n');
    for (const numResults of [0, 501, -1]) {
      const e = await sdkError(
        personalize.send(new CreateBatchInferenceJobCommand(jobInput('bounds/u.json', 'o/', { numResults }))),
      );
      assert.equal(e.name, 'InvalidInputException');
      assert.match(e.message, /numResults must be a whole number from 1 to 500/);
    }
    const ok = await run(jobInput('bounds/u.json', 'bounds-out/', { numResults: 500 }));
    assert.equal(ok.status, 'ACTIVE');
    const filter = await sdkError(
      personalize.send(
        new CreateBatchInferenceJobCommand(
          jobInput('bounds/u.json', 'o/', {
            filterArn: 'arn:aws:personalize:us-east-1:000000000000:filter/f',
          }),
        ),
      ),
    );
    assert.equal(filter.name, 'InvalidInputException');
    assert.equal(filter.message, FILTERS_NOT_SERVED_MESSAGE);
    const unknown = await sdkError(
      personalize.send(
        new CreateBatchInferenceJobCommand(
          jobInput('bounds/u.json', 'o/', { solutionVersionArn: `${upVersion.slice(0, -8)}00000000` }),
        ),
      ),
    );
    assert.equal(unknown.name, 'ResourceNotFoundException');
    const duplicate = await sdkError(
      personalize.send(
        new CreateBatchInferenceJobCommand({ ...jobInput('bounds/u.json', 'o/'), jobName: ok.jobName }),
      ),
    );
    assert.equal(duplicate.name, 'ResourceAlreadyExistsException');
    const badPath = await sdkError(
      personalize.send(
        new CreateBatchInferenceJobCommand({
          ...jobInput('bounds/u.json', 'o/'),
          jobOutput: { s3DataDestination: { path: 'bucket/out' } },
        }),
      ),
    );
    assert.equal(badPath.name, 'InvalidInputException');
    assert.match(badPath.message, /jobOutput\.s3DataDestination\.path "bucket\/out" is not an S3 location/);
    const exploration = await sdkError(
      personalize.send(
        new CreateBatchInferenceJobCommand(
          jobInput('bounds/u.json', 'o/', {
            batchInferenceJobConfig: { itemExplorationConfig: { explorationWeight: '2' } },
          }),
        ),
      ),
    );
    assert.equal(exploration.name, 'InvalidInputException');
    assert.match(exploration.message, /explorationWeight "2" must be a number from 0 to 1/);
    const notFound = await sdkError(
      personalize.send(
        new DescribeBatchInferenceJobCommand({
          batchInferenceJobArn: 'arn:aws:personalize:us-east-1:000000000000:batch-inference-job/none',
        }),
      ),
    );
    assert.equal(notFound.name, 'ResourceNotFoundException');
  });

  it('applies itemExplorationConfig and echoes it', async () => {
    await put('explore/u.json', '{"userId":"1"}\n');
    const config = { itemExplorationConfig: { explorationWeight: '0', explorationItemAgeCutOff: '10' } };
    const job = await run(jobInput('explore/u.json', 'explore-out/', { batchInferenceJobConfig: config }));
    assert.equal(job.status, 'ACTIVE', job.failureReason);
    assert.deepEqual(job.batchInferenceJobConfig, config);
    const expected = recommend(await model(upVersion), {
      userId: '1',
      explorationWeight: 0,
      explorationItemAgeCutOff: 10,
    });
    assert.deepEqual(
      JSON.parse(await read('explore-out/u.json.out')).output.recommendedItems,
      expected.itemIds,
    );
  });

  it('fails a job whose input is missing, with the reason, and writes nothing', async () => {
    const job = await run(jobInput('nothing-here/', 'missing-out/'));
    assert.equal(job.status, 'CREATE FAILED');
    assert.equal(
      job.failureReason,
      `Invalid input data location: no input file found at s3://${trained.bucket}/nothing-here/.`,
    );
    assert.deepEqual(await keys('missing-out/'), []);
  });

  it('holds at most 5 jobs pending or in progress, shows nothing until a job ends, and lists newest first', async () => {
    await put('limit/u.json', '{"userId":"1"}\n');
    const hold = stack.server.jobs.hold(BATCH_INFERENCE_JOB_KIND);
    const arns: string[] = [];
    try {
      for (let i = 0; i < MAX_BATCH_JOBS_IN_PROGRESS; i++)
        arns.push(
          (
            await personalize.send(
              new CreateBatchInferenceJobCommand(jobInput('limit/u.json', `limit-out/${i}/`)),
            )
          ).batchInferenceJobArn!,
        );
      const e = await sdkError(
        personalize.send(new CreateBatchInferenceJobCommand(jobInput('limit/u.json', 'limit-out/x/'))),
      );
      assert.equal(e.name, 'LimitExceededException');
      const running = await until(
        () => personalize.send(new DescribeBatchInferenceJobCommand({ batchInferenceJobArn: arns[0] })),
        (r) => r.batchInferenceJob?.status === 'IN PROGRESS',
        'first job IN PROGRESS',
      );
      assert.equal(running.batchInferenceJob?.status, 'IN PROGRESS');
      const second = await personalize.send(
        new DescribeBatchInferenceJobCommand({ batchInferenceJobArn: arns[1] }),
      );
      assert.equal(second.batchInferenceJob?.status, 'PENDING');
      assert.deepEqual(await keys('limit-out/'), []);
      const page = await personalize.send(
        new ListBatchInferenceJobsCommand({ solutionVersionArn: upVersion, maxResults: 2 }),
      );
      assert.deepEqual(
        page.batchInferenceJobs?.map((j) => j.batchInferenceJobArn),
        [arns[4], arns[3]],
      );
      assert.ok(page.nextToken);
    } finally {
      hold.release();
    }
    for (const batchInferenceJobArn of arns)
      await until(
        () => personalize.send(new DescribeBatchInferenceJobCommand({ batchInferenceJobArn })),
        (r) => r.batchInferenceJob?.status === 'ACTIVE',
        'job ACTIVE',
      );
    assert.equal((await keys('limit-out/')).length, MAX_BATCH_JOBS_IN_PROGRESS);
  });

  it('a restart during a job ends it CREATE FAILED with the reason, and no output appears', async () => {
    await put('restart/u.json', '{"userId":"1"}\n');
    const hold = stack.server.jobs.hold(BATCH_INFERENCE_JOB_KIND);
    const { batchInferenceJobArn } = await personalize.send(
      new CreateBatchInferenceJobCommand(jobInput('restart/u.json', 'restart-out/')),
    );
    await until(
      async () => stack.server.jobs.heldCount(BATCH_INFERENCE_JOB_KIND),
      (n) => n === 1,
      'job held IN PROGRESS',
    );
    const dataDir = stack.dataDir;
    personalize.destroy();
    s3.destroy();
    await stack.stop({ keepData: true });
    hold.release();
    stack = await startTestStack({ dataDir });
    personalize = new PersonalizeClient(sdkConfig(stack));
    s3 = new S3Client(sdkConfig(stack));
    const { batchInferenceJob } = await personalize.send(
      new DescribeBatchInferenceJobCommand({ batchInferenceJobArn }),
    );
    assert.equal(batchInferenceJob?.status, 'CREATE FAILED');
    assert.equal(batchInferenceJob?.failureReason, BATCH_INTERRUPTED_MESSAGE);
    assert.deepEqual(await keys('restart-out/'), []);
  });
});
