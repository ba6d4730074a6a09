/**
 * Streaming decoder for S3's `Content-Encoding: aws-chunked` request bodies: the framing SDKs use
 * to send a body of known length in chunks with a checksum (and optionally a signature) in
 * trailing headers:
 *
 *     <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n … 0[;chunk-signature=<sig>]\r\n
 *     <trailer-name>:<value>\r\n … [x-amz-trailer-signature:<sig>\r\n]\r\n
 *
 * The decoder is a Transform that passes chunk data through as zero-copy slices of the incoming
 * buffers (constant memory, no per-byte loops: framing is found with Buffer.indexOf), collects the
 * trailers, checks the decoded length against `x-amz-decoded-content-length`, and can verify
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] chunk signatures. Framing problems surface as
 * `AwsError`s (400 IncompleteBody / InvalidRequest / SignatureDoesNotMatch) through the stream.
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AwsError } from '../core/errors.js';

const CRLF = Buffer.from('\r\n');
const CR = 0x0d;
const LF = 0x0a;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Longest chunk header or trailer line accepted (real ones are well under 200 bytes). */
const MAX_LINE = 8192;
/** Most trailer lines accepted. */
const MAX_TRAILERS = 32;

/** What is needed to verify chunk signatures: the request's SigV4 signing material. */
export interface ChunkSigningContext {
  /** Derived SigV4 signing key (kSigning) for the request's credential scope. */
  signingKey: Buffer;
  /** `YYYYMMDDTHHMMSSZ`, the request's `x-amz-date`. */
  amzDate: string;
  /** `YYYYMMDD/<region>/s3/aws4_request`. */
  scope: string;
  /** The signature of the request's headers (from `Authorization`); chunk 1 chains from it. */
  seedSignature: string;
  /** `…-TRAILER` variant: the trailer carries an `x-amz-trailer-signature`. */
  signedTrailer: boolean;
}

export interface AwsChunkedOptions {
  /** `x-amz-decoded-content-length`: the decoded body must be exactly this long. */
  decodedContentLength?: number;
  /** Verify `chunk-signature`s (signed streaming uploads). Omit for unsigned payloads. */
  signing?: ChunkSigningContext;
}

/** True when the request body uses aws-chunked framing. */
export function isAwsChunked(headers: Record<string, string | undefined>): boolean {
  const encoding = headers['content-encoding'];
  if (
    encoding !== undefined &&
    encoding.split(',').some((token) => token.trim().toLowerCase() === 'aws-chunked')
  ) {
    return true;
  }
  // Some clients announce the framing only through the payload hash.
  return (headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
}

/** Content-Encoding with the `aws-chunked` token removed (what S3 stores), or undefined if none remains. */
export function stripAwsChunked(contentEncoding: string | undefined): string | undefined {
  if (contentEncoding === undefined) return undefined;
  const tokens = contentEncoding.split(',');
  const rest = tokens.filter((token) => token.trim() !== '' && token.trim().toLowerCase() !== 'aws-chunked');
  if (rest.length === tokens.length) return contentEncoding; // nothing to strip: kept as sent
  // The other codings keep their text (`aws-chunked, deflate, gzip` → `deflate, gzip`).
  return rest.length === 0 ? undefined : rest.join(',').trim();
}

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

function incomplete(detail: string): AwsError {
  return new AwsError('IncompleteBody', `The request body terminated unexpectedly (${detail}).`, 400);
}

function malformed(detail: string): AwsError {
  return new AwsError('InvalidRequest', `Malformed aws-chunked request body: ${detail}.`, 400);
}

function signatureMismatch(what: string): AwsError {
  return new AwsError(
    'SignatureDoesNotMatch',
    `The ${what} signature we calculated does not match the signature you provided. Check your key and signing method.`,
    403,
  );
}

export class AwsChunkedDecoder extends Transform {
  private state: State = 'size';
  /** Partial header/trailer line carried over from the previous input buffer. */
  private pendingLine: Buffer[] = [];
  private pendingLineLength = 0;
  /** Bytes of the current chunk's data still to pass through. */
  private remaining = 0;
  /** How many bytes of the CRLF after a chunk's data have been seen (0 or 1). */
  private crlfSeen = 0;
  private decoded = 0;
  private readonly collected: Record<string, string> = {};
  private trailerCount = 0;
  private readonly expectedLength: number | undefined;
  private readonly signing: ChunkSigningContext | undefined;
  private previousSignature: string;
  private chunkSignature: string | undefined;
  private chunkHash: Hash | undefined;
  private trailerSignature: string | undefined;
  private readonly trailerLines: string[] = [];

  constructor(options: AwsChunkedOptions = {}) {
    super();
    this.expectedLength = options.decodedContentLength;
    this.signing = options.signing;
    this.previousSignature = options.signing?.seedSignature ?? '';
  }

  /** Trailing headers (names lower-cased), complete once the stream has ended. */
  get trailers(): Readonly<Record<string, string>> {
    return this.collected;
  }

  /** Decoded bytes passed through so far. */
  get decodedLength(): number {
    return this.decoded;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.state !== 'done') {
      callback(incomplete(this.state === 'trailer' ? 'missing the end of the trailer' : 'truncated chunk'));
      return;
    }
    if (this.expectedLength !== undefined && this.decoded !== this.expectedLength) {
      callback(
        new AwsError(
          'IncompleteBody',
          `You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header (${this.expectedLength} announced, ${this.decoded} sent).`,
          400,
        ),
      );
      return;
    }
    callback();
  }

  private consume(buf: Buffer): void {
    let pos = 0;
    const n = buf.length;
    while (pos < n) {
      switch (this.state) {
        case 'data': {
          const take = Math.min(this.remaining, n - pos);
          const slice = buf.subarray(pos, pos + take);
          this.chunkHash?.update(slice);
          this.push(slice);
          this.remaining -= take;
          pos += take;
          if (this.remaining === 0) this.state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          const expected = this.crlfSeen === 0 ? CR : LF;
          if (buf[pos] !== expected) throw malformed('chunk data is not followed by CRLF');
          pos++;
          if (++this.crlfSeen === 2) {
            this.crlfSeen = 0;
            this.finishChunk();
            this.state = 'size';
          }
          break;
        }
        case 'size':
        case 'trailer': {
          const line = this.readLine(buf, pos);
          if (line === undefined) return;
          pos = line.next;
          if (this.state === 'size') this.onSizeLine(line.text);
          else this.onTrailerLine(line.text);
          break;
        }
        case 'done':
          throw malformed('data after the final chunk');
      }
    }
  }

  /**
   * Reads one CRLF-terminated line starting at `pos`, joining it with any partial line from the
   * previous buffer. Returns undefined (and keeps the partial line) when the buffer ends first.
   */
  private readLine(buf: Buffer, pos: number): { text: string; next: number } | undefined {
    // A CR at the end of the previous buffer and the LF at the start of this one.
    if (this.pendingLineLength > 0 && buf[pos] === LF) {
      const last = this.pendingLine[this.pendingLine.length - 1]!;
      if (last[last.length - 1] === CR) {
        const joined = Buffer.concat(this.pendingLine, this.pendingLineLength);
        this.resetPending();
        return { text: joined.toString('latin1', 0, joined.length - 1), next: pos + 1 };
      }
    }
    const end = buf.indexOf(CRLF, pos);
    if (end < 0) {
      const rest = buf.subarray(pos);
      this.pendingLineLength += rest.length;
      if (this.pendingLineLength > MAX_LINE) throw malformed('chunk header or trailer line too long');
      // Copy: the caller may reuse its buffer after we return.
      this.pendingLine.push(Buffer.from(rest));
      return undefined;
    }
    let text: string;
    if (this.pendingLineLength > 0) {
      this.pendingLine.push(buf.subarray(pos, end));
      const joined = Buffer.concat(this.pendingLine);
      this.resetPending();
      text = joined.toString('latin1');
    } else {
      text = buf.toString('latin1', pos, end);
    }
    if (text.length > MAX_LINE) throw malformed('chunk header or trailer line too long');
    return { text, next: end + 2 };
  }

  private resetPending(): void {
    this.pendingLine = [];
    this.pendingLineLength = 0;
  }

  private onSizeLine(line: string): void {
    const semicolon = line.indexOf(';');
    const sizeText = (semicolon < 0 ? line : line.slice(0, semicolon)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) throw malformed(`invalid chunk size "${line.slice(0, 40)}"`);
    const size = parseInt(sizeText, 16);
    this.chunkSignature = undefined;
    if (semicolon >= 0) {
      for (const extension of line.slice(semicolon + 1).split(';')) {
        const eq = extension.indexOf('=');
        const name = (eq < 0 ? extension : extension.slice(0, eq)).trim();
        if (name === 'chunk-signature') this.chunkSignature = extension.slice(eq + 1).trim();
      }
    }
    if (this.signing !== undefined) {
      if (this.chunkSignature === undefined)
        throw malformed('chunk without chunk-signature in a signed stream');
      this.chunkHash = createHash('sha256');
    }
    if (this.expectedLength !== undefined && this.decoded + size > this.expectedLength) {
      throw new AwsError(
        'IncompleteBody',
        `The aws-chunked body is longer than the x-amz-decoded-content-length HTTP header (${this.expectedLength}).`,
        400,
      );
    }
    this.decoded += size;
    if (size === 0) {
      this.finishChunk();
      this.state = 'trailer';
    } else {
      this.remaining = size;
      this.state = 'data';
    }
  }

  /** Verifies the signature of the chunk just completed (signed streams only). */
  private finishChunk(): void {
    if (this.signing === undefined) return;
    const dataHash = this.chunkHash === undefined ? EMPTY_SHA256 : this.chunkHash.digest('hex');
    this.chunkHash = undefined;
    const stringToSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      this.signing.amzDate,
      this.signing.scope,
      this.previousSignature,
      EMPTY_SHA256,
      dataHash,
    ].join('\n');
    this.checkSignature(stringToSign, this.chunkSignature ?? '', 'chunk');
  }

  private checkSignature(stringToSign: string, given: string, what: string): void {
    const expected = createHmac('sha256', this.signing!.signingKey).update(stringToSign, 'utf8').digest();
    const givenBytes = Buffer.from(given, 'hex');
    if (givenBytes.length !== expected.length || !timingSafeEqual(givenBytes, expected)) {
      throw signatureMismatch(what);
    }
    this.previousSignature = given.toLowerCase();
  }

  private onTrailerLine(line: string): void {
    if (line === '') {
      this.finishTrailer();
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`invalid trailer line "${line.slice(0, 40)}"`);
    if (++this.trailerCount > MAX_TRAILERS) throw malformed('too many trailers');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      this.trailerSignature = value;
      return;
    }
    this.collected[name] = value;
    this.trailerLines.push(`${name}:${value}\n`);
  }

  private finishTrailer(): void {
    if (this.signing === undefined || !this.signing.signedTrailer) return;
    if (this.trailerSignature === undefined)
      throw malformed('missing x-amz-trailer-signature in a signed stream');
    const trailerHash = createHash('sha256').update(this.trailerLines.join(''), 'utf8').digest('hex');
    const stringToSign = [
      'AWS4-HMAC-SHA256-TRAILER',
      this.signing.amzDate,
      this.signing.scope,
      this.previousSignature,
      trailerHash,
    ].join('\n');
    this.checkSignature(stringToSign, this.trailerSignature, 'trailer');
  }
}
