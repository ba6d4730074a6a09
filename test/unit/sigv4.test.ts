// SigV4 verification against signatures made by the AWS SDK's own signer (@smithy/signature-v4).
import assert from 'node:assert/strict';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  parseSignature,
  sha256Hex,
  uriEncode,
  verifySignature,
  type ParsedSignature,
} from '../../src/local/sigv4.js';

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const credentials = {
  accessKeyId: 'AKIAMLPIPETESTKEY000',
  secretAccessKey: 'secret/KEY+with=odd/chars0123456789abcd',
};
const now = new Date('2026-11-27T10:00:00Z');

function signer(service: string, uriEscapePath = service !== 's3'): SignatureV4 {
  return new SignatureV4({ credentials, region: 'us-east-1', service, sha256: NodeSha256, uriEscapePath });
}

function rawHeadersOf(headers: Record<string, string>): string[] {
  return Object.entries(headers).flat();
}

async function signAndVerify(
  request: HttpRequest,
  service: string,
  payloadHash: string,
  tamper: (parts: { rawHeaders: string[]; rawPath: string; rawQuery: string; method: string }) => void = () =>
    undefined,
  secret = credentials.secretAccessKey,
) {
  const signed = await signer(service).sign(request, { signingDate: now });
  const rawQuery = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(String(v))}`)
    .join('&');
  const parts = {
    method: signed.method,
    rawPath: signed.path,
    rawQuery,
    rawHeaders: rawHeadersOf(signed.headers),
  };
  tamper(parts);
  const parsed = parseSignature(parts, new URLSearchParams(parts.rawQuery));
  assert.ok(parsed !== undefined && !('kind' in parsed), 'signature parses');
  return verifySignature(parts, parsed as ParsedSignature, { payloadHash, secretAccessKey: secret, now });
}

describe('sigv4 verification', () => {
  it('accepts an AWS JSON request signed by the SDK signer', async () => {
    const body = JSON.stringify({ maxResults: 5 });
    const request = new HttpRequest({
      method: 'POST',
      hostname: '127.0.0.1',
      port: 4577,
      path: '/',
      headers: {
        host: '127.0.0.1:4577',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonPersonalize.ListDatasetGroups',
      },
      body,
    });
    assert.equal(await signAndVerify(request, 'personalize', sha256Hex(body)), undefined);
  });

  it('accepts an S3 request with a hostile key and query parameters', async () => {
    const key = "a b/ü/../%/+/!'()*~";
    const path = '/bucket/' + key.split('/').map(uriEncode).join('/');
    const request = new HttpRequest({
      method: 'GET',
      hostname: '127.0.0.1',
      path,
      query: { 'list-type': '2', prefix: 'raw/ x+y', 'continuation-token': 'abc=/+' },
      headers: { host: '127.0.0.1', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    assert.equal(await signAndVerify(request, 's3', 'UNSIGNED-PAYLOAD'), undefined);
  });

  it('rejects a wrong secret, a changed header, a changed path and a changed body hash', async () => {
    const make = () =>
      new HttpRequest({
        method: 'PUT',
        hostname: '127.0.0.1',
        path: '/bucket/key',
        headers: { host: '127.0.0.1', 'x-amz-content-sha256': sha256Hex('hello'), 'x-amz-meta-a': 'b' },
        body: 'hello',
      });
    const wrongSecret = await signAndVerify(
      make(),
      's3',
      sha256Hex('hello'),
      () => undefined,
      'not-the-secret',
    );
    assert.equal(wrongSecret?.kind, 'mismatch');
    const changedHeader = await signAndVerify(make(), 's3', sha256Hex('hello'), (p) => {
      const i = p.rawHeaders.indexOf('x-amz-meta-a');
      p.rawHeaders[i + 1] = 'c';
    });
    assert.equal(changedHeader?.kind, 'mismatch');
    const changedPath = await signAndVerify(make(), 's3', sha256Hex('hello'), (p) => {
      p.rawPath = '/bucket/other';
    });
    assert.equal(changedPath?.kind, 'mismatch');
    assert.equal((await signAndVerify(make(), 's3', sha256Hex('bye')))?.kind, 'mismatch');
  });

  it('rejects requests signed more than 15 minutes away from the server clock', async () => {
    const request = new HttpRequest({
      method: 'GET',
      hostname: 'h',
      path: '/',
      headers: { host: 'h', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    const signed = await signer('s3').sign(request, {
      signingDate: new Date(now.getTime() - 16 * 60 * 1000),
    });
    const parts = { method: 'GET', rawPath: '/', rawQuery: '', rawHeaders: rawHeadersOf(signed.headers) };
    const parsed = parseSignature(parts, new URLSearchParams()) as ParsedSignature;
    const problem = verifySignature(parts, parsed, {
      payloadHash: 'UNSIGNED-PAYLOAD',
      secretAccessKey: credentials.secretAccessKey,
      now,
    });
    assert.equal(problem?.kind, 'skewed');
  });

  it('verifies presigned URLs and their expiry', async () => {
    // As @aws-sdk/s3-request-presigner does: the unsigned-payload marker is hoisted into the query.
    const request = new HttpRequest({
      method: 'GET',
      hostname: '127.0.0.1',
      path: '/bucket/key.txt',
      headers: { host: '127.0.0.1', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    const presigned = await signer('s3').presign(request, {
      signingDate: now,
      expiresIn: 60,
      unhoistableHeaders: new Set(),
      hoistableHeaders: new Set(['x-amz-content-sha256']),
    });
    assert.equal(presigned.query?.['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
    const rawQuery = Object.entries(presigned.query ?? {})
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(String(v))}`)
      .join('&');
    const parts = {
      method: 'GET',
      rawPath: presigned.path,
      rawQuery,
      rawHeaders: rawHeadersOf(presigned.headers),
    };
    const parsed = parseSignature(parts, new URLSearchParams(rawQuery)) as ParsedSignature;
    assert.equal(parsed.presigned, true);
    const ok = verifySignature(parts, parsed, {
      payloadHash: 'UNSIGNED-PAYLOAD',
      secretAccessKey: credentials.secretAccessKey,
      now,
    });
    assert.equal(ok, undefined);
    const later = verifySignature(parts, parsed, {
      payloadHash: 'UNSIGNED-PAYLOAD',
      secretAccessKey: credentials.secretAccessKey,
      now: new Date(now.getTime() + 61_000),
    });
    assert.equal(later?.kind, 'expired');
  });

  it('reports missing and malformed signatures', () => {
    const base = { method: 'GET', rawPath: '/', rawQuery: '' };
    assert.equal(parseSignature({ ...base, rawHeaders: ['host', 'x'] }, new URLSearchParams()), undefined);
    const v2 = parseSignature(
      { ...base, rawHeaders: ['Authorization', 'AWS AKID:abc'] },
      new URLSearchParams(),
    );
    // Signature Version 2 is named as such (the server answers as AWS does: use AWS4-HMAC-SHA256).
    assert.deepEqual(v2, { kind: 'sigv2' });
    const v2Query = parseSignature(
      { ...base, rawHeaders: ['host', 'x'] },
      new URLSearchParams('AWSAccessKeyId=AKID&Expires=1893456000&Signature=abc%3D'),
    );
    assert.deepEqual(v2Query, { kind: 'sigv2' });
    const week = (expires: string) =>
      parseSignature(
        { ...base, rawHeaders: ['host', 'x'] },
        new URLSearchParams({
          'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
          'X-Amz-Credential': 'AK/20261127/us-east-1/s3/aws4_request',
          'X-Amz-Date': '20261127T100000Z',
          'X-Amz-Expires': expires,
          'X-Amz-SignedHeaders': 'host',
          'X-Amz-Signature': 'ab',
        }),
      );
    assert.equal((week('604800') as ParsedSignature).expiresSeconds, 604800);
    assert.deepEqual(week('604801'), {
      kind: 'query-parameters',
      message: 'X-Amz-Expires must be less than a week (in seconds) that is 604800',
    });
    assert.deepEqual(week('soon'), { kind: 'query-parameters', message: 'X-Amz-Expires should be a number' });
    assert.deepEqual(week('-1'), { kind: 'query-parameters', message: 'X-Amz-Expires must be non-negative' });
    const badScope = parseSignature(
      {
        ...base,
        rawHeaders: [
          'Authorization',
          'AWS4-HMAC-SHA256 Credential=AK/2026/us-east-1, SignedHeaders=host, Signature=ab',
          'X-Amz-Date',
          '20261127T100000Z',
        ],
      },
      new URLSearchParams(),
    );
    assert.equal((badScope as { kind: string }).kind, 'malformed');
  });
});
