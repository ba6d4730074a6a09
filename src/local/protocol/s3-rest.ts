/**
 * S3's REST-XML binding for the local stack: maps a signed request (method, path-style URL,
 * sub-resource query, headers, body) to an `S3Service` operation and renders its result or error
 * the way S3 does on the wire. Owns everything HTTP-shaped about S3 — key decoding, header
 * metadata, checksum headers and trailers, aws-chunked bodies, `encoding-type=url`, the
 * `<Error>` document — and nothing about storage. Operations the local stack does not implement
 * answer 501 NotImplemented naming the operation.
 */
import { uriEncode } from '../sigv4.js';
import { escapeXml } from './xml.js';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { AwsError } from '../core/errors.js';
import { AwsChunkedDecoder, isAwsChunked, stripAwsChunked, type ChunkSigningContext } from './aws-chunked.js';
import { signingKey } from '../sigv4.js';
import type { AwsRequest, AwsResponse } from '../types.js';
import {
  CHECKSUM_ALGORITHMS,
  checksumHeaderName,
  checksumMemberName,
  checksumOf,
  isUnsupportedChecksumAlgorithm,
  isValidChecksumValue,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
  type ChecksumType,
} from '../services/s3/checksums.js';
import type {
  BodyInput,
  ChecksumClaim,
  ListObjectsOutput,
  ListObjectsV2Output,
  ObjectAttributes,
  ObjectDescription,
  ObjectSummary,
  Owner,
  ReadConditions,
  S3Service,
  StoredChecksum,
} from '../services/s3/s3-service.js';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
/** Largest XML/JSON request body read into memory (DeleteObjects of 1,000 long keys fits). */
const MAX_SMALL_BODY = 4 * 1024 * 1024;
const MAX_POLICY_BYTES = 20 * 1024;
/** Representation headers S3 stores with an object and returns on GET/HEAD. */
const STORED_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
  'x-amz-website-redirect-location',
  'x-amz-storage-class',
];
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
  'response-content-language': 'content-language',
  'response-content-type': 'content-type',
  'response-expires': 'expires',
};
const XML_MALFORMED_MESSAGE =
  'The XML you provided was not well-formed or did not validate against our published schema';

// Values are escaped by `escapeXml()` (the builder's own escaping leaves \r, which XML parsers fold).
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: false,
});
const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  removeNSPrefix: true,
  isArray: (name) => name === 'Object' || name === 'Part',
});

// --- Operation table: method + sub-resource → operation name (from S3's model)

const BUCKET_SUBRESOURCES: Record<string, Record<string, string>> = {
  GET: {
    abac: 'GetBucketAbac',
    accelerate: 'GetBucketAccelerateConfiguration',
    acl: 'GetBucketAcl',
    analytics: 'GetBucketAnalyticsConfiguration',
    cors: 'GetBucketCors',
    encryption: 'GetBucketEncryption',
    'intelligent-tiering': 'GetBucketIntelligentTieringConfiguration',
    inventory: 'GetBucketInventoryConfiguration',
    lifecycle: 'GetBucketLifecycleConfiguration',
    location: 'GetBucketLocation',
    logging: 'GetBucketLogging',
    metadataConfiguration: 'GetBucketMetadataConfiguration',
    metadataTable: 'GetBucketMetadataTableConfiguration',
    metrics: 'GetBucketMetricsConfiguration',
    notification: 'GetBucketNotificationConfiguration',
    'object-lock': 'GetObjectLockConfiguration',
    ownershipControls: 'GetBucketOwnershipControls',
    policy: 'GetBucketPolicy',
    policyStatus: 'GetBucketPolicyStatus',
    publicAccessBlock: 'GetPublicAccessBlock',
    replication: 'GetBucketReplication',
    requestPayment: 'GetBucketRequestPayment',
    session: 'CreateSession',
    tagging: 'GetBucketTagging',
    uploads: 'ListMultipartUploads',
    versioning: 'GetBucketVersioning',
    versions: 'ListObjectVersions',
    website: 'GetBucketWebsite',
  },
  PUT: {
    abac: 'PutBucketAbac',
    accelerate: 'PutBucketAccelerateConfiguration',
    acl: 'PutBucketAcl',
    analytics: 'PutBucketAnalyticsConfiguration',
    cors: 'PutBucketCors',
    encryption: 'PutBucketEncryption',
    'intelligent-tiering': 'PutBucketIntelligentTieringConfiguration',
    inventory: 'PutBucketInventoryConfiguration',
    lifecycle: 'PutBucketLifecycleConfiguration',
    logging: 'PutBucketLogging',
    metadataInventoryTable: 'UpdateBucketMetadataInventoryTableConfiguration',
    metadataJournalTable: 'UpdateBucketMetadataJournalTableConfiguration',
    metrics: 'PutBucketMetricsConfiguration',
    notification: 'PutBucketNotificationConfiguration',
    'object-lock': 'PutObjectLockConfiguration',
    ownershipControls: 'PutBucketOwnershipControls',
    policy: 'PutBucketPolicy',
    publicAccessBlock: 'PutPublicAccessBlock',
    replication: 'PutBucketReplication',
    requestPayment: 'PutBucketRequestPayment',
    tagging: 'PutBucketTagging',
    versioning: 'PutBucketVersioning',
    website: 'PutBucketWebsite',
  },
  DELETE: {
    analytics: 'DeleteBucketAnalyticsConfiguration',
    cors: 'DeleteBucketCors',
    encryption: 'DeleteBucketEncryption',
    'intelligent-tiering': 'DeleteBucketIntelligentTieringConfiguration',
    inventory: 'DeleteBucketInventoryConfiguration',
    lifecycle: 'DeleteBucketLifecycle',
    metadataConfiguration: 'DeleteBucketMetadataConfiguration',
    metadataTable: 'DeleteBucketMetadataTableConfiguration',
    metrics: 'DeleteBucketMetricsConfiguration',
    ownershipControls: 'DeleteBucketOwnershipControls',
    policy: 'DeleteBucketPolicy',
    publicAccessBlock: 'DeletePublicAccessBlock',
    replication: 'DeleteBucketReplication',
    tagging: 'DeleteBucketTagging',
    website: 'DeleteBucketWebsite',
  },
  POST: {
    delete: 'DeleteObjects',
    metadataConfiguration: 'CreateBucketMetadataConfiguration',
    metadataTable: 'CreateBucketMetadataTableConfiguration',
  },
};

/** GET sub-resources that list when no `id` names one configuration. */
const LISTABLE: Record<string, string> = {
  analytics: 'ListBucketAnalyticsConfigurations',
  'intelligent-tiering': 'ListBucketIntelligentTieringConfigurations',
  inventory: 'ListBucketInventoryConfigurations',
  metrics: 'ListBucketMetricsConfigurations',
};

const OBJECT_SUBRESOURCES: Record<string, Record<string, string>> = {
  GET: {
    acl: 'GetObjectAcl',
    attributes: 'GetObjectAttributes',
    'legal-hold': 'GetObjectLegalHold',
    retention: 'GetObjectRetention',
    tagging: 'GetObjectTagging',
    torrent: 'GetObjectTorrent',
    uploadId: 'ListParts',
  },
  PUT: {
    acl: 'PutObjectAcl',
    encryption: 'UpdateObjectEncryption',
    'legal-hold': 'PutObjectLegalHold',
    renameObject: 'RenameObject',
    retention: 'PutObjectRetention',
    tagging: 'PutObjectTagging',
  },
  DELETE: { tagging: 'DeleteObjectTagging', uploadId: 'AbortMultipartUpload' },
  POST: {
    uploads: 'CreateMultipartUpload',
    uploadId: 'CompleteMultipartUpload',
    restore: 'RestoreObject',
    select: 'SelectObjectContent',
  },
};

interface Target {
  bucket: string | undefined;
  key: string | undefined;
}

/** Names the S3 operation a request is for (implemented or not). */
export function operationFor(
  method: string,
  target: Target,
  query: URLSearchParams,
  headers: Record<string, string>,
): string {
  if (target.bucket === undefined) return method === 'GET' ? 'ListBuckets' : 'MethodNotAllowed';
  if (target.key === undefined) {
    const table = BUCKET_SUBRESOURCES[method] ?? {};
    for (const [subresource, operation] of Object.entries(table)) {
      if (!query.has(subresource)) continue;
      if (method === 'GET' && LISTABLE[subresource] !== undefined && !query.has('id'))
        return LISTABLE[subresource]!;
      return operation;
    }
    switch (method) {
      case 'GET':
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      case 'HEAD':
        return 'HeadBucket';
      case 'PUT':
        return 'CreateBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'POST':
        return 'PostObject';
      default:
        return 'MethodNotAllowed';
    }
  }
  const table = OBJECT_SUBRESOURCES[method] ?? {};
  for (const [subresource, operation] of Object.entries(table)) {
    if (query.has(subresource)) return operation;
  }
  const copy = headers['x-amz-copy-source'] !== undefined;
  switch (method) {
    case 'GET':
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'PUT':
      if (query.has('partNumber') && query.has('uploadId')) return copy ? 'UploadPartCopy' : 'UploadPart';
      return copy ? 'CopyObject' : 'PutObject';
    case 'DELETE':
      return 'DeleteObject';
    default:
      return 'MethodNotAllowed';
  }
}

// --- Entry points

/** Handles one S3 REST request; never throws (errors become S3 error responses). */
export async function handleS3Request(req: AwsRequest, s3: S3Service): Promise<AwsResponse> {
  try {
    const target = parseTarget(req.rawPath);
    const operation = operationFor(req.method, target, req.query, req.headers);
    const handler = HANDLERS[operation];
    if (operation === 'MethodNotAllowed') {
      throw new AwsError(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        405,
        {
          Method: req.method,
          ResourceType:
            target.key !== undefined ? 'OBJECT' : target.bucket !== undefined ? 'BUCKET' : 'SERVICE',
        },
      );
    }
    if (handler === undefined) {
      throw new AwsError(
        'NotImplemented',
        `The mlpipe local stack does not implement S3 operation ${operation}.`,
        501,
      );
    }
    const response = await handler(new RequestView(req, target, s3));
    response.headers['x-amz-request-id'] = req.requestId;
    response.headers['x-amz-id-2'] ??= hostId();
    return response;
  } catch (error) {
    return encodeS3Error(toAwsError(error, req, s3), {
      method: req.method,
      requestId: req.requestId,
      resource: req.rawPath,
    });
  }
}

function toAwsError(error: unknown, req: AwsRequest, s3: S3Service): AwsError {
  if (error instanceof AwsError) return error;
  if (req.body.destroyed && !req.body.readableEnded) {
    // The client went away mid-body; nobody will read this answer, and it is not our fault.
    return new AwsError('IncompleteBody', 'The request body terminated unexpectedly.', 400);
  }
  s3.log(`s3: internal error in ${req.method} ${req.rawPath}: ${(error as Error)?.stack ?? String(error)}`);
  return new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500);
}

/** S3's `<Error>` document (no body for HEAD, as S3 sends none). */
export function encodeS3Error(
  error: AwsError,
  req: { method: string; requestId: string; resource?: string },
): AwsResponse {
  const headers: Record<string, string> = { 'x-amz-request-id': req.requestId, 'x-amz-id-2': hostId() };
  if (req.method === 'HEAD' || error.status === 304) return { status: error.status, headers };
  const body: Record<string, unknown> = { Code: escapeXml(error.code), Message: escapeXml(error.message) };
  for (const [name, value] of Object.entries(error.fields)) {
    if (/^[A-Za-z][A-Za-z0-9-]*$/.test(name) && !(name in body)) body[name] = escapeXml(value);
  }
  if (req.resource !== undefined && body.Resource === undefined) body.Resource = escapeXml(req.resource);
  body.RequestId = req.requestId;
  body.HostId = headers['x-amz-id-2'];
  headers['content-type'] = 'application/xml';
  return { status: error.status, headers, body: XML_DECLARATION + builder.build({ Error: body }) };
}

function hostId(): string {
  return randomBytes(24).toString('base64');
}

/** Splits a path-style path into bucket and key (percent-decoded; keys may contain anything). */
function parseTarget(rawPath: string): Target {
  if (!rawPath.startsWith('/')) throw invalidUri(rawPath);
  const rest = rawPath.slice(1);
  if (rest === '') return { bucket: undefined, key: undefined };
  const slash = rest.indexOf('/');
  const bucket = decode(slash < 0 ? rest : rest.slice(0, slash), rawPath);
  const key = slash < 0 ? '' : decode(rest.slice(slash + 1), rawPath);
  return { bucket, key: key === '' ? undefined : key };
}

function decode(value: string, rawPath: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw invalidUri(rawPath);
  }
}

function invalidUri(rawPath: string): AwsError {
  return new AwsError('InvalidURI', "Couldn't parse the specified URI.", 400, { URI: rawPath });
}

// --- Request helpers

/** A request with the bits every handler needs. */
class RequestView {
  constructor(
    readonly req: AwsRequest,
    readonly target: Target,
    readonly s3: S3Service,
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

  /** `encoding-type=url` was requested: keys in the answer must be URL-encoded. */
  urlEncoding(): boolean {
    const value = this.query('encoding-type');
    if (value === undefined) return false;
    if (value.toLowerCase() !== 'url') {
      throw new AwsError('InvalidArgument', 'Invalid Encoding Method specified in Request', 400, {
        ArgumentName: 'encoding-type',
        ArgumentValue: value,
      });
    }
    return true;
  }

  /**
   * The request body as a stream of its decoded bytes (aws-chunked framing removed), with what
   * the client claimed about it: length, MD5, checksum (header or trailer), signed SHA-256.
   */
  bodyInput(): BodyInput {
    const headers = this.req.headers;
    const input: BodyInput = { body: this.req.body };
    let trailers: (() => Readonly<Record<string, string>>) | undefined;
    if (isAwsChunked(headers)) {
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
      input.body = decoder;
      if (decodedLength !== undefined) input.contentLength = decodedLength;
      trailers = () => decoder.trailers;
    } else {
      const length = headers['content-length'];
      if (length !== undefined && /^\d+$/.test(length.trim())) input.contentLength = Number(length);
    }
    const md5 = headers['content-md5'];
    if (md5 !== undefined) input.contentMd5 = md5;
    const claim = checksumClaim(headers, trailers);
    if (claim !== undefined) input.checksum = claim;
    if (this.req.expectedPayloadSha256 !== undefined) input.expectedSha256 = this.req.expectedPayloadSha256;
    return input;
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
        signingKey: signingKey(this.s3.credentials.secretAccessKey, scopeDate, region, service),
        amzDate,
        scope: `${scopeDate}/${region}/${service}/aws4_request`,
        seedSignature: signature[1]!.toLowerCase(),
        signedTrailer: mode.endsWith('-TRAILER'),
      },
    };
  }

  /** Reads a small (XML/JSON) body whole and verifies every digest the client sent for it. */
  async readSmallBody(limit = MAX_SMALL_BODY): Promise<Buffer> {
    const input = this.bodyInput();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of input.body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        throw new AwsError('MaxMessageLengthExceeded', 'Your request was too big.', 400, {
          MaxMessageLengthBytes: String(limit),
        });
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    verifySmallBody(body, input);
    return body;
  }

  async readXml(root: string, limit?: number): Promise<Record<string, unknown>> {
    const body = await this.readSmallBody(limit);
    const text = body.toString('utf8');
    if (text.trim() === '' || XMLValidator.validate(text) !== true) {
      throw new AwsError('MalformedXML', XML_MALFORMED_MESSAGE, 400);
    }
    const parsed = parser.parse(text) as Record<string, unknown>;
    const element = parsed[root];
    if (element === undefined) throw new AwsError('MalformedXML', XML_MALFORMED_MESSAGE, 400);
    return typeof element === 'object' && element !== null ? (element as Record<string, unknown>) : {};
  }

  /** Content-Type, stored representation headers and `x-amz-meta-*` user metadata of the request. */
  objectAttributes(): ObjectAttributes {
    const headers = this.req.headers;
    const stored: Record<string, string> = {};
    for (const name of STORED_HEADERS) {
      const value = headers[name];
      if (value === undefined) continue;
      if (name === 'content-encoding') {
        const rest = stripAwsChunked(value);
        if (rest !== undefined) stored[name] = rest;
      } else if (name === 'x-amz-storage-class') {
        if (value !== 'STANDARD') stored[name] = value;
      } else {
        stored[name] = value;
      }
    }
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith('x-amz-meta-') && name.length > 'x-amz-meta-'.length)
        metadata[name.slice(11)] = value;
    }
    const attributes: ObjectAttributes = { headers: stored, metadata };
    if (headers['content-type'] !== undefined) attributes.contentType = headers['content-type'];
    return attributes;
  }

  readConditions(prefix = ''): ReadConditions {
    const conditions: ReadConditions = {};
    const ifMatch = this.header(`${prefix}if-match`);
    const ifNoneMatch = this.header(`${prefix}if-none-match`);
    const ifModifiedSince = httpDate(this.header(`${prefix}if-modified-since`));
    const ifUnmodifiedSince = httpDate(this.header(`${prefix}if-unmodified-since`));
    if (ifMatch !== undefined) conditions.ifMatch = ifMatch;
    if (ifNoneMatch !== undefined) conditions.ifNoneMatch = ifNoneMatch;
    if (ifModifiedSince !== undefined) conditions.ifModifiedSince = ifModifiedSince;
    if (ifUnmodifiedSince !== undefined) conditions.ifUnmodifiedSince = ifUnmodifiedSince;
    return conditions;
  }

  writeConditions(): { ifMatch?: string; ifNoneMatch?: string } {
    const conditions: { ifMatch?: string; ifNoneMatch?: string } = {};
    const ifMatch = this.header('if-match');
    const ifNoneMatch = this.header('if-none-match');
    if (ifMatch !== undefined) conditions.ifMatch = ifMatch;
    if (ifNoneMatch !== undefined) conditions.ifNoneMatch = ifNoneMatch;
    return conditions;
  }

  /** `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, the key URL-encoded. */
  copySource(): { bucket: string; key: string; versionId?: string } {
    const raw = this.header('x-amz-copy-source')!;
    let value = raw;
    let versionId: string | undefined;
    const q = value.indexOf('?');
    if (q >= 0) {
      versionId = new URLSearchParams(value.slice(q + 1)).get('versionId') ?? undefined;
      value = value.slice(0, q);
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      throw new AwsError('InvalidArgument', 'Invalid copy source encoding.', 400, {
        ArgumentName: 'x-amz-copy-source',
        ArgumentValue: raw,
      });
    }
    if (decoded.startsWith('/')) decoded = decoded.slice(1);
    const slash = decoded.indexOf('/');
    if (slash <= 0 || slash === decoded.length - 1) {
      throw new AwsError('InvalidArgument', 'Invalid copy source object key', 400, {
        ArgumentName: 'x-amz-copy-source',
        ArgumentValue: raw,
      });
    }
    const source: { bucket: string; key: string; versionId?: string } = {
      bucket: decoded.slice(0, slash),
      key: decoded.slice(slash + 1),
    };
    if (versionId !== undefined) source.versionId = versionId;
    return source;
  }

  checksumAlgorithmHeader(name: string): ChecksumAlgorithm | undefined {
    const value = this.header(name);
    if (value === undefined) return undefined;
    return requireAlgorithm(value, name);
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

function requireAlgorithm(value: string, header: string): ChecksumAlgorithm {
  const algorithm = parseChecksumAlgorithm(value);
  if (algorithm !== undefined) return algorithm;
  if (isUnsupportedChecksumAlgorithm(value)) throw unsupportedAlgorithm(value);
  throw new AwsError('InvalidRequest', `Value for ${header} header is invalid.`, 400);
}

function unsupportedAlgorithm(name: string): AwsError {
  return new AwsError(
    'InvalidRequest',
    `The mlpipe local stack does not support the ${name.toUpperCase()} checksum algorithm; use ${CHECKSUM_ALGORITHMS.join(', ')}.`,
    400,
  );
}

const NON_VALUE_CHECKSUM_HEADERS = new Set([
  'x-amz-checksum-mode',
  'x-amz-checksum-type',
  'x-amz-checksum-algorithm',
]);

/** The checksum a request claims for its body, from `x-amz-checksum-*`, `x-amz-trailer` or the SDK hint. */
function checksumClaim(
  headers: Record<string, string>,
  trailers: (() => Readonly<Record<string, string>>) | undefined,
): ChecksumClaim | undefined {
  const claims: ChecksumClaim[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-checksum-') || NON_VALUE_CHECKSUM_HEADERS.has(name)) continue;
    const suffix = name.slice('x-amz-checksum-'.length);
    const algorithm = parseChecksumAlgorithm(suffix);
    if (algorithm === undefined) {
      if (isUnsupportedChecksumAlgorithm(suffix)) throw unsupportedAlgorithm(suffix);
      continue;
    }
    claims.push({ algorithm, value: value.trim() });
  }
  const trailerNames = (headers['x-amz-trailer'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  for (const name of trailerNames) {
    if (!name.startsWith('x-amz-checksum-')) continue;
    const suffix = name.slice('x-amz-checksum-'.length);
    const algorithm = parseChecksumAlgorithm(suffix);
    if (algorithm === undefined) {
      if (isUnsupportedChecksumAlgorithm(suffix)) throw unsupportedAlgorithm(suffix);
      throw new AwsError('InvalidRequest', `The trailer ${name} is not a supported checksum.`, 400);
    }
    claims.push({ algorithm, trailer: () => trailers?.()[name] });
  }
  if (claims.length > 1) {
    throw new AwsError(
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      400,
    );
  }
  const hint = headers['x-amz-sdk-checksum-algorithm'];
  const hinted = hint === undefined ? undefined : requireAlgorithm(hint, 'x-amz-sdk-checksum-algorithm');
  const claim = claims[0];
  if (claim !== undefined && hinted !== undefined && hinted !== claim.algorithm) {
    throw new AwsError(
      'InvalidRequest',
      `Value for x-amz-sdk-checksum-algorithm header is invalid: the request carries a ${claim.algorithm} checksum.`,
      400,
    );
  }
  return claim ?? (hinted === undefined ? undefined : { algorithm: hinted });
}

/** Digest checks for bodies read into memory (the streaming path does these in S3Service). */
function verifySmallBody(body: Buffer, input: BodyInput): void {
  if (input.contentLength !== undefined && body.length !== input.contentLength) {
    throw new AwsError(
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header.',
      400,
    );
  }
  if (input.expectedSha256 !== undefined) {
    const computed = digestOf('SHA256', body).toString('hex');
    if (computed !== input.expectedSha256) {
      throw new AwsError(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
        { ClientComputedContentSHA256: input.expectedSha256, S3ComputedContentSHA256: computed },
      );
    }
  }
  if (
    input.contentMd5 !== undefined &&
    digestOf('MD5', body).toString('base64') !== input.contentMd5.trim()
  ) {
    throw new AwsError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
  }
  const claim = input.checksum;
  if (claim !== undefined) {
    const expected = claim.value ?? claim.trailer?.();
    const name = checksumHeaderName(claim.algorithm);
    if (expected === undefined) {
      if (claim.trailer !== undefined) {
        throw new AwsError(
          'InvalidRequest',
          `The ${name} trailer announced in x-amz-trailer was not sent.`,
          400,
        );
      }
      return;
    }
    if (!isValidChecksumValue(claim.algorithm, expected)) {
      throw new AwsError('InvalidRequest', `Value for ${name} header is invalid.`, 400);
    }
    if (digestOf(claim.algorithm, body).toString('base64') !== expected) {
      throw new AwsError(
        'BadDigest',
        `The ${claim.algorithm} you specified did not match the calculated checksum.`,
        400,
      );
    }
  }
}

function digestOf(algorithm: ChecksumAlgorithm, body: Buffer): Buffer {
  return Buffer.from(checksumOf(algorithm, body), 'base64');
}

function httpDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

// --- Rendering

/** S3's `encoding-type=url`: percent-encoding clients undo with unquote_plus / decodeURIComponent. */
function urlEncode(value: string): string {
  return uriEncode(value).replace(/%2F/g, '/');
}

function xmlResponse(root: string, content: Record<string, unknown>, status = 200): AwsResponse {
  const body = XML_DECLARATION + builder.build({ [root]: { '@_xmlns': NS, ...content } });
  return { status, headers: { 'content-type': 'application/xml' }, body };
}

function empty(status: number, headers: Record<string, string> = {}): AwsResponse {
  return { status, headers };
}

function isoDate(date: Date): string {
  return date.toISOString();
}

function ownerXml(owner: Owner): Record<string, string> {
  return { ID: owner.id, DisplayName: escapeXml(owner.displayName) };
}

function checksumHeaders(
  checksum: StoredChecksum | { algorithm: ChecksumAlgorithm; value: string } | undefined,
): Record<string, string> {
  if (checksum === undefined) return {};
  const headers: Record<string, string> = { [checksumHeaderName(checksum.algorithm)]: checksum.value };
  if ('type' in checksum) headers['x-amz-checksum-type'] = checksum.type;
  return headers;
}

function checksumMembers(
  checksum: StoredChecksum | { algorithm: ChecksumAlgorithm; value: string } | undefined,
): Record<string, string> {
  if (checksum === undefined) return {};
  const members: Record<string, string> = { [checksumMemberName(checksum.algorithm)]: checksum.value };
  if ('type' in checksum) members.ChecksumType = checksum.type;
  return members;
}

function summaryXml(
  summary: ObjectSummary,
  encodeKey: (key: string) => string,
  owner?: Owner,
): Record<string, unknown> {
  const element: Record<string, unknown> = {
    Key: encodeKey(summary.key),
    LastModified: isoDate(summary.lastModified),
    ETag: escapeXml(summary.etag),
  };
  if (summary.checksumAlgorithm !== undefined) element.ChecksumAlgorithm = summary.checksumAlgorithm;
  if (summary.checksumType !== undefined) element.ChecksumType = summary.checksumType;
  element.Size = summary.size;
  if (owner !== undefined) element.Owner = ownerXml(owner);
  element.StorageClass = 'STANDARD';
  return element;
}

function objectHeaders(
  description: ObjectDescription,
  overrides: Record<string, string>,
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': description.contentType,
    'content-length': String(description.contentLength),
    etag: description.etag,
    'last-modified': description.lastModified.toUTCString(),
    'accept-ranges': 'bytes',
    ...description.headers,
  };
  for (const [name, value] of Object.entries(description.metadata)) headers[`x-amz-meta-${name}`] = value;
  if (description.contentRange !== undefined) headers['content-range'] = description.contentRange;
  if (description.partsCount !== undefined) headers['x-amz-mp-parts-count'] = String(description.partsCount);
  Object.assign(headers, checksumHeaders(description.checksum), overrides);
  return headers;
}

// --- Handlers

type Handler = (r: RequestView) => Promise<AwsResponse>;

const HANDLERS: Record<string, Handler> = {
  ListBuckets: async (r) => {
    const maxBuckets = r.intQuery('max-buckets');
    const prefix = r.query('prefix');
    const token = r.query('continuation-token');
    const output = await r.s3.listBuckets({
      ...(maxBuckets === undefined ? {} : { maxBuckets }),
      ...(prefix === undefined ? {} : { prefix }),
      ...(token === undefined ? {} : { continuationToken: token }),
    });
    return xmlResponse('ListAllMyBucketsResult', {
      Owner: ownerXml(output.owner),
      Buckets: {
        Bucket: output.buckets.map((bucket) => ({
          Name: bucket.name,
          CreationDate: isoDate(bucket.creationDate),
          BucketRegion: bucket.region,
        })),
      },
      ...(output.continuationToken === undefined ? {} : { ContinuationToken: output.continuationToken }),
      ...(output.prefix === undefined ? {} : { Prefix: escapeXml(output.prefix) }),
    });
  },

  CreateBucket: async (r) => {
    const body = await r.readSmallBody(64 * 1024);
    let locationConstraint: string | undefined;
    if (body.length > 0) {
      const xml = body.toString('utf8');
      if (XMLValidator.validate(xml) !== true) throw new AwsError('MalformedXML', XML_MALFORMED_MESSAGE, 400);
      const parsed = parser.parse(xml) as { CreateBucketConfiguration?: { LocationConstraint?: unknown } };
      const value = parsed.CreateBucketConfiguration?.LocationConstraint;
      if (typeof value === 'string') locationConstraint = value.trim();
    }
    const output = await r.s3.createBucket({
      bucket: r.bucket,
      ...(locationConstraint === undefined ? {} : { locationConstraint }),
    });
    return empty(200, { location: output.location });
  },

  HeadBucket: async (r) => {
    const output = await r.s3.headBucket({ bucket: r.bucket });
    return empty(200, { 'x-amz-bucket-region': output.region, 'x-amz-access-point-alias': 'false' });
  },

  DeleteBucket: async (r) => {
    await r.s3.deleteBucket({ bucket: r.bucket });
    return empty(204);
  },

  GetBucketLocation: async (r) => {
    const { locationConstraint } = await r.s3.getBucketLocation({ bucket: r.bucket });
    const body =
      XML_DECLARATION +
      builder.build({ LocationConstraint: { '@_xmlns': NS, '#text': locationConstraint ?? '' } });
    return { status: 200, headers: { 'content-type': 'application/xml' }, body };
  },

  PutBucketPolicy: async (r) => {
    const body = await r.readSmallBody(MAX_POLICY_BYTES);
    await r.s3.putBucketPolicy({ bucket: r.bucket, policy: body.toString('utf8') });
    return empty(204);
  },

  GetBucketPolicy: async (r) => {
    const { policy } = await r.s3.getBucketPolicy({ bucket: r.bucket });
    return { status: 200, headers: { 'content-type': 'application/json' }, body: policy };
  },

  DeleteBucketPolicy: async (r) => {
    await r.s3.deleteBucketPolicy({ bucket: r.bucket });
    return empty(204);
  },

  PutPublicAccessBlock: async (r) => {
    const xml = await r.readXml('PublicAccessBlockConfiguration');
    const flag = (name: string): boolean | undefined => {
      const value = xml[name];
      if (value === undefined) return undefined;
      if (typeof value !== 'string' || !/^(true|false)$/i.test(value.trim())) {
        throw new AwsError('MalformedXML', XML_MALFORMED_MESSAGE, 400);
      }
      return value.trim().toLowerCase() === 'true';
    };
    const configuration: Record<string, boolean> = {};
    for (const name of [
      'BlockPublicAcls',
      'IgnorePublicAcls',
      'BlockPublicPolicy',
      'RestrictPublicBuckets',
    ]) {
      const value = flag(name);
      if (value !== undefined) configuration[name] = value;
    }
    await r.s3.putPublicAccessBlock({ bucket: r.bucket, configuration });
    return empty(200);
  },

  GetPublicAccessBlock: async (r) => {
    const { configuration } = await r.s3.getPublicAccessBlock({ bucket: r.bucket });
    return xmlResponse('PublicAccessBlockConfiguration', { ...configuration });
  },

  DeletePublicAccessBlock: async (r) => {
    await r.s3.deletePublicAccessBlock({ bucket: r.bucket });
    return empty(204);
  },

  ListObjectsV2: async (r) => {
    const encode = r.urlEncoding();
    const enc = encode ? urlEncode : escapeXml;
    const maxKeys = r.intQuery('max-keys');
    const input = {
      bucket: r.bucket,
      ...optional('prefix', r.query('prefix')),
      ...optional('delimiter', r.query('delimiter')),
      ...optional('continuationToken', r.query('continuation-token')),
      ...optional('startAfter', r.query('start-after')),
      ...(maxKeys === undefined ? {} : { maxKeys }),
    };
    const output: ListObjectsV2Output = await r.s3.listObjectsV2(input);
    const fetchOwner = r.query('fetch-owner') === 'true';
    return xmlResponse('ListBucketResult', {
      Name: output.name,
      Prefix: enc(output.prefix),
      ...(output.continuationToken === undefined
        ? {}
        : { ContinuationToken: escapeXml(output.continuationToken) }),
      ...(output.startAfter === undefined ? {} : { StartAfter: enc(output.startAfter) }),
      KeyCount: output.keyCount,
      MaxKeys: output.maxKeys,
      ...(output.delimiter === undefined ? {} : { Delimiter: enc(output.delimiter) }),
      ...(encode ? { EncodingType: 'url' } : {}),
      IsTruncated: output.isTruncated,
      ...(output.nextContinuationToken === undefined
        ? {}
        : { NextContinuationToken: output.nextContinuationToken }),
      Contents: output.contents.map((summary) =>
        summaryXml(summary, enc, fetchOwner ? output.owner : undefined),
      ),
      CommonPrefixes: output.commonPrefixes.map((prefix) => ({ Prefix: enc(prefix) })),
    });
  },

  ListObjects: async (r) => {
    const encode = r.urlEncoding();
    const enc = encode ? urlEncode : escapeXml;
    const maxKeys = r.intQuery('max-keys');
    const output: ListObjectsOutput = await r.s3.listObjects({
      bucket: r.bucket,
      ...optional('prefix', r.query('prefix')),
      ...optional('delimiter', r.query('delimiter')),
      ...optional('marker', r.query('marker')),
      ...(maxKeys === undefined ? {} : { maxKeys }),
    });
    return xmlResponse('ListBucketResult', {
      Name: output.name,
      Prefix: enc(output.prefix),
      Marker: enc(output.marker),
      ...(output.nextMarker === undefined ? {} : { NextMarker: enc(output.nextMarker) }),
      MaxKeys: output.maxKeys,
      ...(output.delimiter === undefined ? {} : { Delimiter: enc(output.delimiter) }),
      ...(encode ? { EncodingType: 'url' } : {}),
      IsTruncated: output.isTruncated,
      Contents: output.contents.map((summary) => summaryXml(summary, enc, output.owner)),
      CommonPrefixes: output.commonPrefixes.map((prefix) => ({ Prefix: enc(prefix) })),
    });
  },

  PutObject: async (r) => {
    const output = await r.s3.putObject({
      bucket: r.bucket,
      key: r.key,
      ...r.bodyInput(),
      ...r.objectAttributes(),
      ...r.writeConditions(),
    });
    return empty(200, { etag: output.etag, ...checksumHeaders(output.checksum) });
  },

  GetObject: async (r) => {
    const input = objectReadInput(r);
    const output = await r.s3.getObject(input);
    const { body, ...description } = output;
    return { status: output.status, headers: objectHeaders(description, responseOverrides(r)), body };
  },

  HeadObject: async (r) => {
    const description = await r.s3.headObject(objectReadInput(r));
    return empty(description.status, objectHeaders(description, responseOverrides(r)));
  },

  DeleteObject: async (r) => {
    await r.s3.deleteObject({ bucket: r.bucket, key: r.key });
    return empty(204);
  },

  DeleteObjects: async (r) => {
    const xml = await r.readXml('Delete');
    const objects = (Array.isArray(xml.Object) ? xml.Object : []) as Record<string, unknown>[];
    const list = objects.map((object) => {
      const key = object.Key;
      if (typeof key !== 'string') throw new AwsError('MalformedXML', XML_MALFORMED_MESSAGE, 400);
      const versionId = typeof object.VersionId === 'string' ? object.VersionId : undefined;
      return versionId === undefined ? { key } : { key, versionId };
    });
    if (list.length === 0) throw new AwsError('MalformedXML', XML_MALFORMED_MESSAGE, 400);
    const quiet = typeof xml.Quiet === 'string' && xml.Quiet.trim().toLowerCase() === 'true';
    const output = await r.s3.deleteObjects({ bucket: r.bucket, objects: list });
    return xmlResponse('DeleteResult', {
      Deleted: quiet
        ? []
        : output.deleted.map((entry) => ({
            Key: escapeXml(entry.key),
            ...(entry.versionId === undefined ? {} : { VersionId: escapeXml(entry.versionId) }),
          })),
      Error: output.errors.map((entry) => ({
        Key: escapeXml(entry.key),
        ...(entry.versionId === undefined ? {} : { VersionId: escapeXml(entry.versionId) }),
        Code: entry.code,
        Message: escapeXml(entry.message),
      })),
    });
  },

  CopyObject: async (r) => {
    const source = r.copySource();
    const directive = (r.header('x-amz-metadata-directive') ?? 'COPY').toUpperCase();
    if (directive !== 'COPY' && directive !== 'REPLACE') {
      throw new AwsError('InvalidArgument', 'Unknown metadata directive.', 400, {
        ArgumentName: 'x-amz-metadata-directive',
        ArgumentValue: directive,
      });
    }
    const checksumAlgorithm = r.checksumAlgorithmHeader('x-amz-checksum-algorithm');
    const output = await r.s3.copyObject({
      bucket: r.bucket,
      key: r.key,
      sourceBucket: source.bucket,
      sourceKey: source.key,
      ...(source.versionId === undefined ? {} : { sourceVersionId: source.versionId }),
      metadataDirective: directive,
      ...(directive === 'REPLACE' ? r.objectAttributes() : {}),
      sourceConditions: r.readConditions('x-amz-copy-source-'),
      ...(checksumAlgorithm === undefined ? {} : { checksumAlgorithm }),
      changesOtherAttributes:
        r.header('x-amz-storage-class') !== undefined ||
        r.header('x-amz-server-side-encryption') !== undefined ||
        r.header('x-amz-website-redirect-location') !== undefined,
      ...r.writeConditions(),
    });
    return xmlResponse('CopyObjectResult', {
      ETag: escapeXml(output.etag),
      LastModified: isoDate(output.lastModified),
      ...checksumMembers(output.checksum),
    });
  },

  CreateMultipartUpload: async (r) => {
    const checksumAlgorithm = r.checksumAlgorithmHeader('x-amz-checksum-algorithm');
    const typeHeader = r.header('x-amz-checksum-type');
    let checksumType: ChecksumType | undefined;
    if (typeHeader !== undefined) {
      const upper = typeHeader.trim().toUpperCase();
      if (upper !== 'COMPOSITE' && upper !== 'FULL_OBJECT') {
        throw new AwsError('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.', 400);
      }
      checksumType = upper;
    }
    const output = await r.s3.createMultipartUpload({
      bucket: r.bucket,
      key: r.key,
      ...r.objectAttributes(),
      ...(checksumAlgorithm === undefined ? {} : { checksumAlgorithm }),
      ...(checksumType === undefined ? {} : { checksumType }),
    });
    const response = xmlResponse('InitiateMultipartUploadResult', {
      Bucket: output.bucket,
      Key: escapeXml(output.key),
      UploadId: output.uploadId,
    });
    if (output.checksumAlgorithm !== undefined)
      response.headers['x-amz-checksum-algorithm'] = output.checksumAlgorithm;
    if (output.checksumType !== undefined) response.headers['x-amz-checksum-type'] = output.checksumType;
    return response;
  },

  UploadPart: async (r) => {
    const output = await r.s3.uploadPart({
      bucket: r.bucket,
      key: r.key,
      uploadId: r.query('uploadId')!,
      partNumber: partNumberOf(r),
      ...r.bodyInput(),
    });
    return empty(200, { etag: output.etag, ...checksumHeaders(output.checksum) });
  },

  UploadPartCopy: async (r) => {
    const source = r.copySource();
    const range = r.header('x-amz-copy-source-range');
    const output = await r.s3.uploadPartCopy({
      bucket: r.bucket,
      key: r.key,
      uploadId: r.query('uploadId')!,
      partNumber: partNumberOf(r),
      sourceBucket: source.bucket,
      sourceKey: source.key,
      ...(source.versionId === undefined ? {} : { sourceVersionId: source.versionId }),
      ...(range === undefined ? {} : { sourceRange: range }),
      sourceConditions: r.readConditions('x-amz-copy-source-'),
    });
    return xmlResponse('CopyPartResult', {
      ETag: escapeXml(output.etag),
      LastModified: isoDate(output.lastModified),
      ...checksumMembers(output.checksum),
    });
  },

  CompleteMultipartUpload: async (r) => {
    const xml = await r.readXml('CompleteMultipartUpload');
    const rawParts = (Array.isArray(xml.Part) ? xml.Part : []) as Record<string, unknown>[];
    const parts = rawParts.map((part) => {
      const number = typeof part.PartNumber === 'string' ? part.PartNumber.trim() : '';
      const etag = typeof part.ETag === 'string' ? part.ETag.trim() : undefined;
      if (!/^\d+$/.test(number) || etag === undefined)
        throw new AwsError('MalformedXML', XML_MALFORMED_MESSAGE, 400);
      const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
      for (const algorithm of CHECKSUM_ALGORITHMS) {
        const value = part[checksumMemberName(algorithm)];
        if (typeof value === 'string' && value.trim() !== '') checksums[algorithm] = value.trim();
      }
      return { partNumber: Number(number), etag, checksums };
    });
    const claim = checksumClaim(r.req.headers, undefined);
    const typeHeader = r.header('x-amz-checksum-type')?.trim().toUpperCase();
    const objectSize = r.header('x-amz-mp-object-size');
    const output = await r.s3.completeMultipartUpload({
      bucket: r.bucket,
      key: r.key,
      uploadId: r.query('uploadId')!,
      parts,
      ...(claim?.value === undefined ? {} : { checksum: { algorithm: claim.algorithm, value: claim.value } }),
      ...(typeHeader === 'COMPOSITE' || typeHeader === 'FULL_OBJECT' ? { checksumType: typeHeader } : {}),
      ...(objectSize !== undefined && /^\d+$/.test(objectSize) ? { objectSize: Number(objectSize) } : {}),
      ...r.writeConditions(),
    });
    const host = r.header('host') ?? 'localhost';
    const location = `http://${host}/${output.bucket}/${output.key.split('/').map(urlEncode).join('/')}`;
    return xmlResponse('CompleteMultipartUploadResult', {
      Location: escapeXml(location),
      Bucket: output.bucket,
      Key: escapeXml(output.key),
      ETag: escapeXml(output.etag),
      ...checksumMembers(output.checksum),
    });
  },

  AbortMultipartUpload: async (r) => {
    await r.s3.abortMultipartUpload({ bucket: r.bucket, key: r.key, uploadId: r.query('uploadId')! });
    return empty(204);
  },

  ListParts: async (r) => {
    const maxParts = r.intQuery('max-parts');
    const marker = r.intQuery('part-number-marker');
    const output = await r.s3.listParts({
      bucket: r.bucket,
      key: r.key,
      uploadId: r.query('uploadId')!,
      ...(maxParts === undefined ? {} : { maxParts }),
      ...(marker === undefined ? {} : { partNumberMarker: marker }),
    });
    return xmlResponse('ListPartsResult', {
      Bucket: output.bucket,
      Key: escapeXml(output.key),
      UploadId: output.uploadId,
      PartNumberMarker: output.partNumberMarker,
      ...(output.nextPartNumberMarker === undefined
        ? {}
        : { NextPartNumberMarker: output.nextPartNumberMarker }),
      MaxParts: output.maxParts,
      IsTruncated: output.isTruncated,
      Part: output.parts.map((part) => ({
        PartNumber: part.partNumber,
        LastModified: isoDate(part.lastModified),
        ETag: escapeXml(part.etag),
        Size: part.size,
        ...checksumMembers(part.checksum),
      })),
      Initiator: ownerXml(output.owner),
      Owner: ownerXml(output.owner),
      StorageClass: 'STANDARD',
      ...(output.checksumAlgorithm === undefined ? {} : { ChecksumAlgorithm: output.checksumAlgorithm }),
      ...(output.checksumType === undefined ? {} : { ChecksumType: output.checksumType }),
    });
  },

  ListMultipartUploads: async (r) => {
    const encode = r.urlEncoding();
    const enc = encode ? urlEncode : escapeXml;
    const maxUploads = r.intQuery('max-uploads');
    const output = await r.s3.listMultipartUploads({
      bucket: r.bucket,
      ...optional('prefix', r.query('prefix')),
      ...optional('delimiter', r.query('delimiter')),
      ...optional('keyMarker', r.query('key-marker')),
      ...optional('uploadIdMarker', r.query('upload-id-marker')),
      ...(maxUploads === undefined ? {} : { maxUploads }),
    });
    return xmlResponse('ListMultipartUploadsResult', {
      Bucket: output.bucket,
      KeyMarker: enc(output.keyMarker),
      UploadIdMarker: output.uploadIdMarker,
      ...(output.nextKeyMarker === undefined ? {} : { NextKeyMarker: enc(output.nextKeyMarker) }),
      ...(output.nextUploadIdMarker === undefined ? {} : { NextUploadIdMarker: output.nextUploadIdMarker }),
      Prefix: enc(output.prefix),
      ...(output.delimiter === undefined ? {} : { Delimiter: enc(output.delimiter) }),
      MaxUploads: output.maxUploads,
      ...(encode ? { EncodingType: 'url' } : {}),
      IsTruncated: output.isTruncated,
      Upload: output.uploads.map((upload) => ({
        Key: enc(upload.key),
        UploadId: upload.uploadId,
        Initiator: ownerXml(output.owner),
        Owner: ownerXml(output.owner),
        StorageClass: 'STANDARD',
        Initiated: isoDate(upload.initiated),
        ...(upload.checksumAlgorithm === undefined ? {} : { ChecksumAlgorithm: upload.checksumAlgorithm }),
        ...(upload.checksumType === undefined ? {} : { ChecksumType: upload.checksumType }),
      })),
      CommonPrefixes: output.commonPrefixes.map((prefix) => ({ Prefix: enc(prefix) })),
    });
  },
};

function optional<K extends string>(name: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: string };
}

function partNumberOf(r: RequestView): number {
  const value = r.query('partNumber') ?? '';
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

function objectReadInput(r: RequestView): Parameters<S3Service['getObject']>[0] {
  const range = r.header('range');
  const partNumber = r.query('partNumber');
  return {
    bucket: r.bucket,
    key: r.key,
    ...r.readConditions(),
    ...(range === undefined ? {} : { range }),
    ...(partNumber === undefined ? {} : { partNumber: partNumberOf(r) }),
    checksumMode: (r.header('x-amz-checksum-mode') ?? '').toUpperCase() === 'ENABLED',
  };
}

function responseOverrides(r: RequestView): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const [parameter, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = r.query(parameter);
    if (value !== undefined) overrides[header] = value;
  }
  return overrides;
}
