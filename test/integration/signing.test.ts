// SigV4 as AWS checks it (issue 10, item 7): the credential scope's region and service, presigned
// URLs valid for more than a week, Signature Version 2 (what AWS CLI v1 presigns for a custom
// endpoint), and non-ASCII `x-amz-meta-*` values — against a real server in this process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { awsCliAvailable, awsCliEnv, awsCliPath } from '../helpers/sdk.js';
import { send, signRequest, signedRequest } from '../helpers/signing.js';

describe('request signing', () => {
  let stack: TestStack;
  let s3: S3Client;
  let work: string;
  before(async () => {
    stack = await startTestStack();
    s3 = new S3Client(sdkConfig(stack));
    await s3.send(new CreateBucketCommand({ Bucket: 'signed' }));
    await s3.send(new PutObjectCommand({ Bucket: 'signed', Key: 'k', Body: 'body\n' }));
    work = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-signing-'));
  });
  after(async () => {
    s3.destroy();
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a credential scope naming another region', async () => {
    const s3Reply = await signedRequest(stack, {
      service: 's3',
      region: 'xx-nowhere-9',
      method: 'GET',
      path: '/signed/k',
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    assert.equal(s3Reply.status, 400);
    assert.match(s3Reply.body, /<Code>AuthorizationHeaderMalformed<\/Code>/);
    assert.match(
      s3Reply.body,
      /the region &apos;xx-nowhere-9&apos; is wrong; expecting &apos;us-east-1&apos;/,
    );
    assert.match(s3Reply.body, /<Region>us-east-1<\/Region>/);

    const glueReply = await signedRequest(stack, {
      service: 'glue',
      region: 'xx-nowhere-9',
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSGlue.GetJobs' },
      body: '{}',
    });
    assert.equal(glueReply.status, 400);
    assert.deepEqual(JSON.parse(glueReply.body), {
      __type: 'InvalidSignatureException',
      message: 'Credential should be scoped to a valid region. ',
    });
  });

  it('refuses a credential scope naming another service', async () => {
    const reply = await signedRequest(stack, {
      service: 'personalize',
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSGlue.GetJobs' },
      body: '{}',
    });
    assert.equal(reply.status, 400);
    assert.deepEqual(JSON.parse(reply.body), {
      __type: 'InvalidSignatureException',
      message: "Credential should be scoped to correct service: 'glue'. ",
    });
    const s3Reply = await signedRequest(stack, {
      service: 'glue',
      method: 'GET',
      path: '/signed/k',
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    assert.equal(s3Reply.status, 400);
    assert.match(s3Reply.body, /<Code>AuthorizationHeaderMalformed<\/Code>/);
    assert.match(
      s3Reply.body,
      /incorrect service &quot;glue&quot;\. This endpoint belongs to &quot;s3&quot;\./,
    );
  });

  it('refuses a presigned URL valid for more than a week, and accepts one valid for exactly a week', async () => {
    const week = await signRequest(stack, {
      service: 's3',
      method: 'GET',
      path: '/signed/k',
      // Hoisted into the query by the signer, as @aws-sdk/s3-request-presigner does.
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      presign: { expiresIn: 604800 },
    });
    const ok = await send(stack, { method: 'GET', path: week.path, headers: {} });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.body, 'body\n');
    // The SDK will not presign for longer: the URL is edited, and the parameters are checked first.
    const tooLong = await send(stack, {
      method: 'GET',
      path: week.path.replace('X-Amz-Expires=604800', 'X-Amz-Expires=604801'),
      headers: {},
    });
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body, /<Code>AuthorizationQueryParametersError<\/Code>/);
    assert.match(tooLong.body, /X-Amz-Expires must be less than a week \(in seconds\) that is 604800/);
  });

  it('answers a Signature Version 2 presigned URL (AWS CLI v1) as AWS does: use AWS4-HMAC-SHA256', async (t) => {
    if (!awsCliAvailable()) return t.skip('the aws CLI is not installed (Debian package awscli)');
    const url = execFileSync(
      awsCliPath(),
      ['s3', 'presign', 's3://signed/k', '--endpoint-url', stack.endpoint],
      {
        env: awsCliEnv(stack, work),
        encoding: 'utf8',
      },
    ).trim();
    const reply = await fetch(url);
    const body = await reply.text();
    // AWS CLI v2 and later v1 releases presign with SigV4, which the stack serves.
    if (!new URL(url).searchParams.has('AWSAccessKeyId')) {
      assert.equal(reply.status, 200, body);
      return;
    }
    assert.equal(reply.status, 400);
    assert.match(body, /<Code>InvalidRequest<\/Code>/);
    assert.match(
      body,
      /The authorization mechanism you have provided is not supported\. Please use AWS4-HMAC-SHA256\./,
    );
    // A SigV2 Authorization header gets the same answer.
    const header = await send(stack, {
      method: 'GET',
      path: '/signed/k',
      headers: { authorization: `AWS ${stack.credentials.accessKeyId}:c2lnbmF0dXJl` },
    });
    assert.equal(header.status, 400);
    assert.match(header.body, /Please use AWS4-HMAC-SHA256/);
  });

  it('accepts non-ASCII x-amz-meta-* values signed by the SDK and by the AWS CLI, and keeps their bytes', async () => {
    // The SDK for JavaScript sends a value's UTF-8 bytes, which HTTP clients read back one character
    // per byte: the bytes sent are the bytes stored and returned.
    const metadata = { note: 'café crème', city: 'Zürich' };
    await s3.send(new PutObjectCommand({ Bucket: 'signed', Key: 'meta', Body: 'm', Metadata: metadata }));
    const asSent = (value: string | undefined): string => Buffer.from(value ?? '', 'latin1').toString('utf8');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'signed', Key: 'meta' }));
    assert.equal(asSent(head.Metadata?.note), metadata.note);
    assert.equal(asSent(head.Metadata?.city), metadata.city);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'signed', Key: 'meta' }));
    assert.equal(asSent(got.Metadata?.note), metadata.note);
    await got.Body?.transformToString();

    // A client that signs the value's UTF-8 but sends each character as one Latin-1 byte (the
    // signing helper: the SDK's signer, then node:http) is accepted too.
    const put = await signedRequest(stack, {
      service: 's3',
      method: 'PUT',
      path: '/signed/latin1-meta',
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-meta-note': 'café crème' },
      body: 'm',
    });
    assert.equal(put.status, 200, put.body);
    const latin1Head = await s3.send(new HeadObjectCommand({ Bucket: 'signed', Key: 'latin1-meta' }));
    assert.equal(latin1Head.Metadata?.note, 'café crème');
  });
});
