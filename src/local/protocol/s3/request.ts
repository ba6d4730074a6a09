/**
 * Reading an S3 REST request into AWS-shaped members: the bucket and key of the path, headers and
 * query parameters by the names S3's model binds them to, integers and HTTP dates, and the body —
 * streamed (aws-chunked framing removed, chunk signatures verified, trailers collected) for the
 * operations whose payload is the object, or read whole and checked against its digests for the
 * small XML and JSON documents. What the members mean is the wire's business (services/s3/wire.ts).
 */
import type { Readable } from 'node:stream';
import { AwsError } from '../../core/errors.js';
import { checksumClaim, verifyBufferedBody, type BodyClaimMembers } from '../../services/s3/request-body.js';
import { signingKey } from '../../sigv4.js';
import type { AwsRequest } from '../../types.js';
import { AwsChunkedDecoder, isAwsChunked, type ChunkSigningContext } from '../aws-chunked.js';
import type { Target } from './routes.js';
import { parseXmlDocument, type XmlElement } from './xml.js';

/** Largest XML/JSON request body read into memory (DeleteObjects of 1,000 long keys fits). */
export const MAX_SMALL_BODY = 4 * 1024 * 1024;

/** The `Checksum<ALGORITHM>` members and the `x-amz-checksum-*` headers that carry them. */
const CHECKSUM_HEADERS = [
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
  'SHA512',
  'MD5',
  'XXHASH64',
  'XXHASH3',
  'XXHASH128',
].map((algorithm) => [`x-amz-checksum-${algorithm.toLowerCase()}`, `Checksum${algorithm}`] as const);

/** One request as the REST binding reads it. */
export class S3HttpRequest {
  constructor(
    readonly req: AwsRequest,
    readonly target: Target,
    /** The stack's secret key: signed streaming uploads carry chunk signatures made with it. */
    private readonly secretAccessKey: string,
  ) {}

  get bucket(): string {
    return this.target.bucket!;
  }

  get key(): string {
    return this.target.key!;
  }

  header(name: string): string | undefined {
    return this.req.headers[name];
  }

  query(name: string): string | undefined {
    return this.req.query.get(name) ?? undefined;
  }

  /** An integer query parameter (InvalidArgument naming it when it is not one). */
  intQuery(name: string): number | undefined {
    const value = this.query(name);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value.trim())) {
      throw new AwsError('InvalidArgument', `Provided ${name} not an integer or within integer range`, 400, {
        ArgumentName: name,
        ArgumentValue: value,
      });
    }
    return Number(value);
  }

  /** `partNumber` (InvalidArgument when it is not a number). */
  partNumber(): number | undefined {
    const value = this.query('partNumber');
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) {
      throw new AwsError(
        'InvalidArgument',
        'Part number must be an integer between 1 and 10000, inclusive',
        400,
        {
          ArgumentName: 'partNumber',
          ArgumentValue: value,
        },
      );
    }
    return Number(value);
  }

  /** An HTTP-date header; one that is not a date is ignored, as S3 ignores it. */
  dateHeader(name: string): Date | undefined {
    const value = this.header(name);
    if (value === undefined) return undefined;
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }

  /** `x-amz-meta-*` headers as the Metadata map (names without the prefix). */
  metadata(): Record<string, string> | undefined {
    let metadata: Record<string, string> | undefined;
    for (const [name, value] of Object.entries(this.req.headers)) {
      if (!name.startsWith('x-amz-meta-') || name.length <= 'x-amz-meta-'.length) continue;
      // No prototype: `x-amz-meta-__proto__` is metadata like any other name.
      metadata ??= Object.create(null) as Record<string, string>;
      metadata[name.slice('x-amz-meta-'.length)] = value;
    }
    return metadata;
  }

  /** `Checksum<ALGORITHM>` members from `x-amz-checksum-*` headers. */
  checksumValues(): Record<string, string> {
    const members: Record<string, string> = {};
    for (const [header, member] of CHECKSUM_HEADERS) {
      const value = this.header(header);
      if (value !== undefined) members[member] = value;
    }
    return members;
  }

  /** What the headers say about the body (length, digests, trailers, signed hash), body not read. */
  private claims(options: { checksumValues: boolean }): BodyClaimMembers {
    const headers = this.req.headers;
    const members: BodyClaimMembers = options.checksumValues ? { ...this.checksumValues() } : {};
    const md5 = headers['content-md5'];
    if (md5 !== undefined) members.ContentMD5 = md5;
    const hint = headers['x-amz-sdk-checksum-algorithm'];
    if (hint !== undefined) members.ChecksumAlgorithm = hint;
    if (this.req.expectedPayloadSha256 !== undefined) members.$payloadSha256 = this.req.expectedPayloadSha256;
    if (!isAwsChunked(headers)) {
      const length = headers['content-length'];
      if (length !== undefined && /^\d+$/.test(length.trim())) members.ContentLength = Number(length);
    }
    return members;
  }

  /**
   * The body as the object's payload: a stream of its decoded bytes (aws-chunked framing removed,
   * never buffered whole) with the members that describe it.
   */
  streamingBody(): BodyClaimMembers & { Body: Readable } {
    const members = this.claims({ checksumValues: true });
    const headers = this.req.headers;
    if (!isAwsChunked(headers)) return { ...members, Body: this.req.body };
    const announced = headers['x-amz-decoded-content-length'];
    let decodedLength: number | undefined;
    if (announced !== undefined) {
      if (!/^\d+$/.test(announced.trim())) {
        throw new AwsError('InvalidArgument', 'x-amz-decoded-content-length is not a valid length.', 400, {
          ArgumentName: 'x-amz-decoded-content-length',
          ArgumentValue: announced,
        });
      }
      decodedLength = Number(announced);
    }
    const decoder = new AwsChunkedDecoder({
      ...(decodedLength === undefined ? {} : { decodedContentLength: decodedLength }),
      ...this.chunkSigning(),
    });
    pipeInto(this.req.body, decoder);
    if (decodedLength !== undefined) members.ContentLength = decodedLength;
    const names = (headers['x-amz-trailer'] ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== '');
    if (names.length > 0) members.$trailers = { names, values: () => decoder.trailers };
    return { ...members, Body: decoder };
  }

  /** Signing material for STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies, so chunk signatures are checked. */
  private chunkSigning(): { signing?: ChunkSigningContext } {
    const mode = this.req.headers['x-amz-content-sha256'] ?? '';
    if (!mode.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) return {};
    const authorization = this.req.headers.authorization ?? '';
    const credential = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization);
    const signature = /Signature=([0-9a-fA-F]{64})/.exec(authorization);
    const amzDate = this.req.headers['x-amz-date'];
    if (!credential || !signature || amzDate === undefined) {
      throw new AwsError(
        'InvalidRequest',
        'Signed streaming uploads must be signed with an Authorization header (not a presigned URL).',
        400,
      );
    }
    const [, , scopeDate, region, service] = credential as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    return {
      signing: {
        signingKey: signingKey(this.secretAccessKey, scopeDate, region, service),
        amzDate,
        scope: `${scopeDate}/${region}/${service}/aws4_request`,
        seedSignature: signature[1]!.toLowerCase(),
        signedTrailer: mode.endsWith('-TRAILER'),
      },
    };
  }

  /**
   * Reads a small (XML/JSON) body whole and verifies every digest the client sent for it. With
   * `checksumValues: false` the `x-amz-checksum-*` headers describe something else (the whole
   * object, on CompleteMultipartUpload) and are not checked against this body.
   */
  async readSmallBody(limit = MAX_SMALL_BODY, options = { checksumValues: true }): Promise<Buffer> {
    const streamed = this.streamingBody();
    const members: Record<string, unknown> = { ...streamed };
    if (!options.checksumValues) for (const [, member] of CHECKSUM_HEADERS) delete members[member];
    // The claims are checked before the body is read, so a request S3 would refuse is refused at once.
    checksumClaim(members as BodyClaimMembers);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of streamed.Body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        throw new AwsError('MaxMessageLengthExceeded', 'Your request was too big.', 400, {
          MaxMessageLengthBytes: String(limit),
        });
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    verifyBufferedBody(body, members as BodyClaimMembers);
    return body;
  }

  async readXml(root: string, options?: { checksumValues: boolean }): Promise<XmlElement> {
    const body = await this.readSmallBody(MAX_SMALL_BODY, options);
    return parseXmlDocument(body.toString('utf8'), root);
  }
}

/** Pipes the raw request into the decoder, carrying aborts and errors across (pipe alone does not). */
function pipeInto(source: Readable, decoder: AwsChunkedDecoder): void {
  // Errors surface through the decoder's consumer; this listener only keeps an early framing error
  // (before anyone reads) from becoming an unhandled 'error' event.
  decoder.on('error', () => undefined);
  source.on('error', (error) => decoder.destroy(error));
  source.on('close', () => {
    if (!source.readableEnded) decoder.destroy(new Error('The request body ended prematurely.'));
  });
  source.pipe(decoder);
}
