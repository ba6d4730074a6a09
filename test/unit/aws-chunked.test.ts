// The aws-chunked body decoder: framing, trailers, chunk signatures and every way a body can be
// malformed, fed through in arbitrary pieces the way sockets deliver them.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import {
  AwsChunkedDecoder,
  isAwsChunked,
  stripAwsChunked,
  type AwsChunkedOptions,
  type ChunkSigningContext,
} from '../../src/local/protocol/aws-chunked.js';
import { AwsError } from '../../src/local/core/errors.js';

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(data));
  return out.toString('base64');
}

/** Frames `data` the way the SDK does for STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
function frameUnsigned(data: Buffer, chunkSize: number, trailers: Record<string, string> = {}): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    const chunk = data.subarray(offset, offset + chunkSize);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n'));
  for (const [name, value] of Object.entries(trailers)) parts.push(Buffer.from(`${name}:${value}\r\n`));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

const SIGNING_KEY = createHmac('sha256', 'key').update('scope').digest();
const SCOPE = '20250101/us-east-1/s3/aws4_request';
const AMZ_DATE = '20250101T000000Z';
const SEED = 'a'.repeat(64);

function sign(stringToSign: string): string {
  return createHmac('sha256', SIGNING_KEY).update(stringToSign).digest('hex');
}

/** Frames `data` as STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] with valid chunk signatures. */
function frameSigned(data: Buffer, chunkSize: number, trailers?: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  let previous = SEED;
  const chunkLine = (chunk: Buffer): string => {
    const signature = sign(
      [
        'AWS4-HMAC-SHA256-PAYLOAD',
        AMZ_DATE,
        SCOPE,
        previous,
        EMPTY_SHA256,
        createHash('sha256').update(chunk).digest('hex'),
      ].join('\n'),
    );
    previous = signature;
    return `${chunk.length.toString(16)};chunk-signature=${signature}\r\n`;
  };
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    const chunk = data.subarray(offset, offset + chunkSize);
    parts.push(Buffer.from(chunkLine(chunk)), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(chunkLine(Buffer.alloc(0))));
  if (trailers !== undefined) {
    const lines = Object.entries(trailers).map(([name, value]) => `${name}:${value}\n`);
    for (const [name, value] of Object.entries(trailers)) parts.push(Buffer.from(`${name}:${value}\r\n`));
    const trailerSignature = sign(
      [
        'AWS4-HMAC-SHA256-TRAILER',
        AMZ_DATE,
        SCOPE,
        previous,
        createHash('sha256').update(lines.join('')).digest('hex'),
      ].join('\n'),
    );
    parts.push(Buffer.from(`x-amz-trailer-signature:${trailerSignature}\r\n`));
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

function signing(signedTrailer: boolean): ChunkSigningContext {
  return { signingKey: SIGNING_KEY, amzDate: AMZ_DATE, scope: SCOPE, seedSignature: SEED, signedTrailer };
}

/** Splits a buffer into pieces of random sizes (including 1-byte pieces that split CRLFs). */
function randomPieces(body: Buffer, maxPiece: number): Buffer[] {
  const pieces: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const size = 1 + Math.floor(Math.random() * maxPiece);
    pieces.push(body.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

async function decode(
  pieces: Buffer[],
  options: AwsChunkedOptions = {},
): Promise<{ data: Buffer; trailers: Record<string, string>; decoder: AwsChunkedDecoder }> {
  const decoder = new AwsChunkedDecoder(options);
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces, { objectMode: false }),
    decoder,
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) out.push(chunk);
    },
  );
  return { data: Buffer.concat(out), trailers: { ...decoder.trailers }, decoder };
}

async function decodeError(pieces: Buffer[], options: AwsChunkedOptions = {}): Promise<AwsError> {
  try {
    await decode(pieces, options);
  } catch (error) {
    assert.ok(error instanceof AwsError, `expected an AwsError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected decoding to fail');
}

describe('aws-chunked decoder', () => {
  it('decodes an SDK-style unsigned body with a CRC32 trailer, whole', async () => {
    const data = randomBytes(200_000);
    const body = frameUnsigned(data, 65_536, { 'x-amz-checksum-crc32': crc32Base64(data) });
    const result = await decode([body], { decodedContentLength: data.length });
    assert.ok(result.data.equals(data));
    assert.deepEqual(result.trailers, { 'x-amz-checksum-crc32': crc32Base64(data) });
    assert.equal(result.decoder.decodedLength, data.length);
  });

  it('decodes the same body split at arbitrary boundaries (CRLFs and headers split too)', async () => {
    const data = randomBytes(50_000);
    const body = frameUnsigned(data, 8_192, { 'x-amz-checksum-crc32': crc32Base64(data) });
    for (const maxPiece of [1, 2, 3, 7, 100, 9_000]) {
      const result = await decode(randomPieces(body, maxPiece), { decodedContentLength: data.length });
      assert.ok(result.data.equals(data), `piece size up to ${maxPiece}`);
      assert.equal(result.trailers['x-amz-checksum-crc32'], crc32Base64(data));
    }
  });

  it('decodes an empty body and bodies without trailers', async () => {
    const empty = await decode([Buffer.from('0\r\n\r\n')], { decodedContentLength: 0 });
    assert.equal(empty.data.length, 0);
    assert.deepEqual(empty.trailers, {});
    const data = Buffer.from('hello world');
    const plain = await decode([frameUnsigned(data, 4)]);
    assert.ok(plain.data.equals(data));
  });

  it('accepts upper-case hex sizes and chunk extensions it does not know', async () => {
    const data = randomBytes(300);
    const body = Buffer.concat([Buffer.from('12C;foo=bar\r\n'), data, Buffer.from('\r\n0\r\n\r\n')]);
    const result = await decode([body], { decodedContentLength: 300 });
    assert.ok(result.data.equals(data));
  });

  it('verifies chunk signatures of STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies', async () => {
    const data = randomBytes(70_000);
    const body = frameSigned(data, 65_536);
    const result = await decode(randomPieces(body, 5_000), {
      decodedContentLength: data.length,
      signing: signing(false),
    });
    assert.ok(result.data.equals(data));
  });

  it('verifies the trailer signature of STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER bodies', async () => {
    const data = randomBytes(20_000);
    const body = frameSigned(data, 8_192, { 'x-amz-checksum-crc32': crc32Base64(data) });
    const result = await decode([body], { decodedContentLength: data.length, signing: signing(true) });
    assert.ok(result.data.equals(data));
    assert.deepEqual(result.trailers, { 'x-amz-checksum-crc32': crc32Base64(data) });
  });

  it('decodes signed bodies without verifying when no signing context is given', async () => {
    const data = randomBytes(10_000);
    const result = await decode([frameSigned(data, 4_096)], { decodedContentLength: data.length });
    assert.ok(result.data.equals(data));
  });

  it('rejects a tampered chunk of a signed body', async () => {
    const data = randomBytes(20_000);
    const body = frameSigned(data, 8_192);
    // Flip one data byte inside the second chunk.
    const at = body.indexOf('\r\n', body.indexOf('\r\n', 0) + 2 + 8_192) + 2 + 100;
    body[at] = body[at]! ^ 0xff;
    const error = await decodeError([body], { signing: signing(false) });
    assert.equal(error.code, 'SignatureDoesNotMatch');
    assert.equal(error.status, 403);
  });

  it('rejects a signed stream whose chunks carry no signature', async () => {
    const data = randomBytes(100);
    const error = await decodeError([frameUnsigned(data, 50)], { signing: signing(false) });
    assert.equal(error.code, 'InvalidRequest');
  });

  it('rejects truncated bodies with IncompleteBody', async () => {
    const data = randomBytes(10_000);
    const body = frameUnsigned(data, 4_096, { 'x-amz-checksum-crc32': crc32Base64(data) });
    for (const cut of [5, 4_000, body.length - 30, body.length - 2, body.length - 1]) {
      const error = await decodeError([body.subarray(0, cut)]);
      assert.equal(error.code, 'IncompleteBody', `cut at ${cut}`);
      assert.equal(error.status, 400);
    }
  });

  it('rejects a decoded length that differs from x-amz-decoded-content-length', async () => {
    const data = randomBytes(1_000);
    const body = frameUnsigned(data, 512);
    const short = await decodeError([body], { decodedContentLength: 1_001 });
    assert.equal(short.code, 'IncompleteBody');
    const long = await decodeError([body], { decodedContentLength: 999 });
    assert.equal(long.code, 'IncompleteBody');
  });

  it('rejects malformed framing with InvalidRequest', async () => {
    const cases: [string, Buffer][] = [
      ['non-hex size', Buffer.from('zz\r\nhello\r\n0\r\n\r\n')],
      ['empty size', Buffer.from('\r\nhello\r\n0\r\n\r\n')],
      ['data not followed by CRLF', Buffer.from('5\r\nhelloXX0\r\n\r\n')],
      ['size larger than the data before the next header', Buffer.from('3\r\nhello\r\n0\r\n\r\n')],
      ['trailer without a colon', Buffer.from('5\r\nhello\r\n0\r\nnot-a-header\r\n\r\n')],
      ['data after the final chunk', Buffer.from('5\r\nhello\r\n0\r\n\r\nextra')],
      ['overlong header line', Buffer.from('1'.repeat(10_000))],
    ];
    for (const [name, body] of cases) {
      const error = await decodeError([body]);
      assert.equal(error.code, 'InvalidRequest', name);
      assert.equal(error.status, 400, name);
    }
  });

  it('streams a 100 MiB body in constant memory', async () => {
    const chunk = randomBytes(64 * 1024);
    const chunks = 1_600; // 100 MiB decoded, never held at once
    const header = Buffer.from(`${chunk.length.toString(16)}\r\n`);
    const crlf = Buffer.from('\r\n');
    async function* body(): AsyncGenerator<Buffer> {
      for (let i = 0; i < chunks; i++) yield Buffer.concat([header, chunk, crlf]);
      yield Buffer.from('0\r\n\r\n');
    }
    const decoder = new AwsChunkedDecoder({ decodedContentLength: chunk.length * chunks });
    const before = process.memoryUsage().rss;
    let total = 0;
    let peak = 0;
    await pipeline(Readable.from(body()), decoder, async (source: AsyncIterable<Buffer>) => {
      for await (const piece of source) {
        total += piece.length;
        peak = Math.max(peak, process.memoryUsage().rss - before);
      }
    });
    assert.equal(total, chunk.length * chunks);
    assert.ok(peak < 64 * 1024 * 1024, `rss grew by ${peak} bytes`);
  });
});

describe('aws-chunked helpers', () => {
  it('recognises aws-chunked bodies by Content-Encoding or STREAMING- payload hash', () => {
    assert.equal(isAwsChunked({ 'content-encoding': 'aws-chunked' }), true);
    assert.equal(isAwsChunked({ 'content-encoding': 'gzip, aws-chunked' }), true);
    assert.equal(isAwsChunked({ 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }), true);
    assert.equal(
      isAwsChunked({ 'content-encoding': 'gzip', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }),
      false,
    );
    assert.equal(isAwsChunked({}), false);
  });

  it('strips aws-chunked from Content-Encoding and keeps the rest', () => {
    assert.equal(stripAwsChunked('aws-chunked'), undefined);
    assert.equal(stripAwsChunked('gzip,aws-chunked'), 'gzip');
    assert.equal(stripAwsChunked('aws-chunked, br'), 'br');
    assert.equal(stripAwsChunked(undefined), undefined);
    // The other codings keep the client's text.
    assert.equal(stripAwsChunked('deflate, gzip'), 'deflate, gzip');
    assert.equal(stripAwsChunked('aws-chunked, deflate, gzip'), 'deflate, gzip');
  });
});
