// Stalled clients (issue 10, item 8): a client that stops sending a request's head or body is
// answered RequestTimeout (400) and disconnected after the idle timeout, as S3 does, and a body cut
// off so leaves nothing behind; an upload whose bytes keep coming is never cut off however long it
// takes; and many stalled connections held open do not keep a normal request from being served.
// Raw sockets against real servers; every wait is on an event (a close, a response), never a pause.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { sdkError } from '../helpers/sdk.js';
import { signRequest } from '../helpers/signing.js';
import { timeoutsFromEnv } from '../../src/local/server.js';

const KiB = 1024;
/** Bounds each suite on a busy machine; without the limits a stalled request would hang it for ever. */
const SUITE = { timeout: 180_000 };

/** A raw connection: what it received, and a promise settled when the server closes it. */
interface RawConnection {
  socket: net.Socket;
  received(): string;
  /** Bytes received so far. */
  length(): number;
  closed: Promise<void>;
}

function connect(stack: TestStack): Promise<RawConnection> {
  const url = new URL(stack.endpoint);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(url.port), url.hostname);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => undefined); // a reset after the answer is still a close
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => Buffer.concat(chunks).toString('utf8'),
        length: () => chunks.reduce((sum, chunk) => sum + chunk.length, 0),
        closed,
      }),
    );
    socket.once('error', reject);
  });
}

/** The head of a signed PUT announcing `length` bytes (sent as UNSIGNED-PAYLOAD). */
async function signedPutHead(
  stack: TestStack,
  requestPath: string,
  length: number,
  query: Record<string, string> = {},
): Promise<string> {
  const url = new URL(stack.endpoint);
  const signed = await signRequest(stack, {
    service: 's3',
    method: 'PUT',
    path: requestPath,
    query,
    headers: { 'content-length': String(length), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  const headers = { ...signed.headers, host: url.host };
  return (
    `PUT ${signed.path} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n'
  );
}

/** Waits until the server has removed every partial body (it does so once the socket is gone). */
async function tmpEmptied(stack: TestStack): Promise<void> {
  const tmp = path.join(stack.dataDir, 's3', 'tmp');
  while ((await readdir(tmp)).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

function assertRequestTimeout(reply: string): void {
  assert.match(reply, /^HTTP\/1\.1 400 /, reply);
  assert.match(reply, /connection: close/i, reply);
  assert.match(reply, /<Code>RequestTimeout<\/Code>/, reply);
  assert.match(
    reply,
    /<Message>Your socket connection to the server was not read from or written to within the timeout period\. Idle connections will be closed\.<\/Message>/,
  );
}

describe('stalled clients are cut off (short timeouts)', SUITE, () => {
  let stack: TestStack;
  let s3: S3Client;
  const bucket = 'stalls';

  before(async () => {
    stack = await startTestStack({ headersTimeoutMs: 400, idleTimeoutMs: 400 });
    s3 = new S3Client({ ...sdkConfig(stack), maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept', Body: 'survivor' }));
  });
  after(async () => {
    s3.destroy();
    await stack.stop();
  });

  it('answers a head that stops half-way with RequestTimeout and closes', async () => {
    const connection = await connect(stack);
    connection.socket.write(`PUT /${bucket}/never HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le`);
    await connection.closed;
    assertRequestTimeout(connection.received());
    const missing = await sdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'never' })));
    assert.equal(missing.$metadata.httpStatusCode, 404);
    assert.ok(stack.logs.some((line) => /400 RequestTimeout: a request head/.test(line)));
  });

  it('closes a connection that never sends a byte, without an answer', async () => {
    const connection = await connect(stack);
    await connection.closed;
    assert.equal(connection.received(), '');
  });

  it('answers a PUT whose body stops with RequestTimeout, keeping the old object and no partial body', async () => {
    const connection = await connect(stack);
    connection.socket.write(await signedPutHead(stack, `/${bucket}/kept`, 512 * KiB));
    connection.socket.write(randomBytes(100 * KiB));
    await connection.closed;
    assertRequestTimeout(connection.received());
    assert.match(connection.received(), /<Resource>\/stalls\/kept<\/Resource>/);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept' }));
    assert.equal(await got.Body!.transformToString(), 'survivor');
    await tmpEmptied(stack);
    assert.deepEqual(await readdir(path.join(stack.dataDir, 's3', 'tmp')), []);
    assert.ok(
      stack.logs.some((line) =>
        /PUT \/stalls\/kept 400 RequestTimeout: no bytes for 400 ms mid-body/.test(line),
      ),
    );
  });

  it('records no part for an UploadPart whose body stops', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multi' }));
    const connection = await connect(stack);
    connection.socket.write(
      await signedPutHead(stack, `/${bucket}/multi`, 5 * 1024 * KiB, {
        partNumber: '1',
        uploadId: UploadId!,
      }),
    );
    connection.socket.write(randomBytes(256 * KiB));
    await connection.closed;
    assertRequestTimeout(connection.received());
    await tmpEmptied(stack);
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'multi', UploadId }));
    assert.equal(parts.Parts, undefined);
  });

  it('disconnects a client that stops reading the object it asked for', async () => {
    // Larger than loopback's socket buffers on both sides, so the server's writes back up.
    const big = randomBytes(24 * 1024 * KiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: big }));
    const connection = await connect(stack);
    connection.socket.pause();
    const signed = await signRequest(stack, { service: 's3', method: 'GET', path: `/${bucket}/big` });
    const head =
      `GET ${signed.path} HTTP/1.1\r\n` +
      Object.entries({ ...signed.headers, host: new URL(stack.endpoint).host })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      '\r\n';
    connection.socket.write(head);
    const stopped = /GET \/stalls\/big: the client stopped reading the answer for 400 ms; disconnected/;
    while (!stack.logs.some((line) => stopped.test(line)))
      await new Promise((resolve) => setTimeout(resolve, 20));
    connection.socket.resume();
    await connection.closed;
    assert.match(connection.received().slice(0, 20), /^HTTP\/1\.1 200 /);
    assert.ok(connection.length() < big.length, 'the answer was cut short when the client stopped reading');
  });

  it('answers a head that trickles in for longer than the headers timeout with RequestTimeout', async () => {
    const connection = await connect(stack);
    // One header line every 50 ms keeps the connection busy (the idle timeout never fires) but the
    // head never ends: the headers timeout does.
    let n = 0;
    connection.socket.write(`GET /${bucket} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    const timer = setInterval(() => {
      if (!connection.socket.destroyed) connection.socket.write(`x-trickle-${n++}: ${'a'.repeat(8)}\r\n`);
    }, 50);
    try {
      await connection.closed;
    } finally {
      clearInterval(timer);
    }
    assertRequestTimeout(connection.received());
  });
});

describe('a slow upload that keeps sending is never cut off', SUITE, () => {
  let stack: TestStack;
  let s3: S3Client;

  before(async () => {
    stack = await startTestStack({ idleTimeoutMs: 1500 });
    s3 = new S3Client({ ...sdkConfig(stack), maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'slow' }));
  });
  after(async () => {
    s3.destroy();
    await stack.stop();
  });

  it('stores a body sent in small pieces over more than twice the idle timeout', async () => {
    const piece = 4 * KiB;
    const pieces = 80; // at one piece each 50 ms: 4 s, well past the 1.5 s idle timeout
    const data = randomBytes(piece * pieces);
    const connection = await connect(stack);
    connection.socket.write(await signedPutHead(stack, '/slow/trickled', data.length));
    let sent = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        connection.socket.write(data.subarray(sent * piece, (sent + 1) * piece));
        sent++;
        if (sent === pieces) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
    });
    // The answer arrives after the last byte; wait for it, then close our side.
    while (!/\r\n\r\n/.test(connection.received()) && !connection.socket.destroyed) {
      await new Promise((resolve) => connection.socket.once('data', resolve).once('close', resolve));
    }
    connection.socket.end();
    assert.match(connection.received(), /^HTTP\/1\.1 200 /, connection.received());
    const got = await s3.send(new GetObjectCommand({ Bucket: 'slow', Key: 'trickled' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
  });
});

describe('stalled connections do not block others (default timeouts)', SUITE, () => {
  let stack: TestStack;
  let s3: S3Client;

  before(async () => {
    stack = await startTestStack();
    s3 = new S3Client({ ...sdkConfig(stack), maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'busy' }));
  });
  after(async () => {
    s3.destroy();
    await stack.stop();
  });

  it('serves requests while 150 stalled heads and 50 stalled bodies are held open', async () => {
    const stalled: RawConnection[] = [];
    for (let i = 0; i < 150; i++) {
      const connection = await connect(stack);
      connection.socket.write(`GET /busy/${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-amz-`);
      stalled.push(connection);
    }
    for (let i = 0; i < 50; i++) {
      const connection = await connect(stack);
      connection.socket.write(await signedPutHead(stack, `/busy/part-${i}`, 64 * KiB));
      connection.socket.write(randomBytes(KiB));
      stalled.push(connection);
    }
    let closedEarly = 0;
    for (const connection of stalled) void connection.closed.then(() => closedEarly++);

    const body = randomBytes(300 * KiB);
    await s3.send(new PutObjectCommand({ Bucket: 'busy', Key: 'normal', Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'busy', Key: 'normal' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    assert.equal(closedEarly, 0, 'the stalled connections are still open (60 s / 30 s limits)');

    for (const connection of stalled) connection.socket.destroy();
    await Promise.all(stalled.map((connection) => connection.closed));
    await tmpEmptied(stack);
    for (let i = 0; i < 50; i++) {
      const missing = await sdkError(s3.send(new HeadObjectCommand({ Bucket: 'busy', Key: `part-${i}` })));
      assert.equal(missing.$metadata.httpStatusCode, 404);
    }
  });
});

describe('timeouts from the environment', () => {
  it('reads MLPIPE_LOCAL_HEADERS_TIMEOUT_MS and MLPIPE_LOCAL_IDLE_TIMEOUT_MS, and names a bad one', () => {
    assert.deepEqual(timeoutsFromEnv({}), {});
    assert.deepEqual(
      timeoutsFromEnv({ MLPIPE_LOCAL_HEADERS_TIMEOUT_MS: '5000', MLPIPE_LOCAL_IDLE_TIMEOUT_MS: '0' }),
      { headersTimeoutMs: 5000, idleTimeoutMs: 0 },
    );
    assert.throws(
      () => timeoutsFromEnv({ MLPIPE_LOCAL_IDLE_TIMEOUT_MS: '20s' }),
      /^Error: MLPIPE_LOCAL_IDLE_TIMEOUT_MS=20s is not a whole number of milliseconds\. Set it to e\.g\. 30000, 0 for no limit, or unset it for the default\.$/,
    );
  });
});
