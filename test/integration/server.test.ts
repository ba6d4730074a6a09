// The local stack's router and authentication, driven by real SDK clients and raw HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
  GetObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ListDatasetGroupsCommand, ListFiltersCommand, PersonalizeClient } from '@aws-sdk/client-personalize';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { sdkError } from '../helpers/sdk.js';

describe('local stack server', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack.stop();
  });

  it('answers its health endpoint without a signature', async () => {
    const health = (await (await fetch(`${stack.endpoint}/_mlpipe/health`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(health.service, 'mlpipe-local');
    assert.equal(health.dataDir, stack.dataDir);
  });

  it('refuses an unsigned S3 request with AccessDenied, as S3 does', async () => {
    const response = await fetch(`${stack.endpoint}/`);
    assert.equal(response.status, 403);
    const body = await response.text();
    assert.match(body, /<Code>AccessDenied<\/Code>/);
    assert.match(body, /<Message>Access Denied<\/Message>/);
  });

  it('refuses S3 requests signed with another secret or an unknown key', async () => {
    const wrongSecret = new S3Client({
      ...sdkConfig(stack),
      credentials: { accessKeyId: stack.credentials.accessKeyId, secretAccessKey: 'wrong-secret' },
      maxAttempts: 1,
    });
    const mismatch = await sdkError(wrongSecret.send(new ListBucketsCommand({})));
    assert.equal(mismatch.name, 'SignatureDoesNotMatch');
    assert.equal(mismatch.$metadata.httpStatusCode, 403);
    const unknownKey = new S3Client({
      ...sdkConfig(stack),
      credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const invalid = await sdkError(unknownKey.send(new ListBucketsCommand({})));
    assert.equal(invalid.name, 'InvalidAccessKeyId');
    assert.equal(invalid.message, 'The AWS Access Key Id you provided does not exist in our records.');
    wrongSecret.destroy();
    unknownKey.destroy();
  });

  it('accepts correctly signed S3 requests', async () => {
    const s3 = new S3Client(sdkConfig(stack));
    await s3.send(new CreateBucketCommand({ Bucket: 'signed-ok' }));
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === 'signed-ok'));
    s3.destroy();
  });

  it('answers AWS JSON operations it does not implement with an error naming the operation', async () => {
    const personalize = new PersonalizeClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials: stack.credentials,
    });
    const error = await sdkError(personalize.send(new ListFiltersCommand({})));
    assert.equal(error.name, 'UnknownOperationException');
    assert.equal(
      error.message,
      'The mlpipe local stack does not implement Personalize operation ListFilters.',
    );
    assert.equal(error.$metadata.httpStatusCode, 400);
    personalize.destroy();
  });

  it('refuses AWS JSON requests that are unsigned or signed with the wrong key', async () => {
    const unsigned = await fetch(stack.endpoint, {
      method: 'POST',
      headers: {
        'x-amz-target': 'AmazonPersonalize.ListDatasetGroups',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{}',
    });
    assert.equal(unsigned.status, 400);
    assert.deepEqual(await unsigned.json(), {
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
    const personalize = new PersonalizeClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'x' },
    });
    const error = await sdkError(personalize.send(new ListDatasetGroupsCommand({})));
    assert.equal(error.name, 'UnrecognizedClientException');
    assert.equal(error.message, 'The security token included in the request is invalid.');
    personalize.destroy();
  });

  it('keeps committed data across a restart on the same data dir', async () => {
    const first = await startTestStack();
    const s3 = new S3Client(sdkConfig(first));
    await s3.send(new CreateBucketCommand({ Bucket: 'durable' }));
    await s3.send(new PutObjectCommand({ Bucket: 'durable', Key: 'raw/a.dat', Body: 'hello\n' }));
    s3.destroy();
    await first.stop({ keepData: true });
    const second = await startTestStack({ dataDir: first.dataDir });
    const again = new S3Client(sdkConfig(second));
    const object = await again.send(new GetObjectCommand({ Bucket: 'durable', Key: 'raw/a.dat' }));
    assert.equal(await object.Body?.transformToString(), 'hello\n');
    again.destroy();
    await second.stop();
  });
});
