/**
 * The local stack's HTTP server: accepts a request, works out which service and wire protocol it
 * is for (`X-Amz-Target` → AWS JSON, a form-encoded `Action` → Query, anything else → S3 REST),
 * checks its SigV4 signature against the stack's own credentials, and hands it to that
 * protocol's codec and the service behind it. Services never see HTTP.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AwsError } from './core/errors.js';
import {
  decodeJsonBody,
  encodeJsonError,
  encodeJsonResult,
  parseTarget,
  type JsonVersion,
} from './protocol/json.js';
import {
  decodeQueryBody,
  decodeQueryRequest,
  encodeQueryError,
  encodeQueryResult,
  type QueryObject,
} from './protocol/query.js';
import { encodeS3Error, handleS3Request } from './protocol/s3-rest.js';
import { CLOUDFORMATION_XMLNS, cloudFormationHandlers } from './services/cloudformation/handlers.js';
import { CloudFormationService } from './services/cloudformation/operations.js';
import { GlueService, glueHandlers } from './services/glue/operations.js';
import { PersonalizeService, personalizeHandlers } from './services/personalize/operations.js';
import { S3Service } from './services/s3/operations.js';
import {
  EMPTY_SHA256,
  parseSignature,
  sha256Hex,
  UNSIGNED_PAYLOAD,
  verifySignature,
  type ParsedSignature,
  type SignatureProblem,
} from './sigv4.js';
import { HEALTH_PATH, STATUS_PATH } from './contract.js';
import type { AwsRequest, AwsResponse, LocalContext } from './types.js';
import type { LocalIdentity } from './credentials.js';

/** Largest non-S3 request body accepted (AWS JSON APIs cap payloads far below this). */
const MAX_BUFFERED_BODY = 16 * 1024 * 1024;

/** An AWS JSON service: its `X-Amz-Target` prefix, protocol version and operation handlers. */
export interface JsonService {
  /** Display name used in "not implemented" errors, e.g. `Personalize`. */
  name: string;
  targetPrefix: string;
  /** SigV4 signing name (credential scope service), e.g. `personalize`. */
  signingName: string;
  version: JsonVersion;
  operations: Record<string, (input: Record<string, unknown>) => Promise<unknown>>;
}

/** An AWS Query service (form-encoded `Action=…` POSTs, XML responses), e.g. CloudFormation. */
export interface QueryService {
  /** Display name used in "not implemented" errors, e.g. `CloudFormation`. */
  name: string;
  /** SigV4 signing name (credential scope service), e.g. `cloudformation`. */
  signingName: string;
  /** API version, e.g. `2010-05-15`. */
  version: string;
  /** XML namespace of responses and errors. */
  xmlns: string;
  /** Action → handler; a handler returning undefined sends a response without a result element. */
  operations: Record<string, (input: QueryObject) => Promise<unknown>>;
}

/** Known AWS JSON target prefixes, so requests to services not served yet get a precise error. */
const KNOWN_JSON_TARGETS: Record<string, { name: string; version: JsonVersion }> = {
  AmazonPersonalize: { name: 'Personalize', version: '1.1' },
  AWSStepFunctions: { name: 'Step Functions', version: '1.0' },
  AWSGlue: { name: 'Glue', version: '1.1' },
  AWSEvents: { name: 'EventBridge', version: '1.1' },
};

type Protocol =
  | { kind: 'json'; service: JsonService | undefined; version: JsonVersion; name: string; operation: string }
  | { kind: 'query'; service: string; registered: QueryService | undefined }
  | { kind: 's3' };

export interface LocalServerOptions {
  dataDir: string;
  identity: LocalIdentity;
  version: string;
  host?: string;
  now?: () => Date;
  log?: (line: string) => void;
}

export class LocalServer {
  readonly context: LocalContext;
  private readonly http: http.Server;
  private readonly jsonServices = new Map<string, JsonService>();
  private readonly queryServices = new Map<string, QueryService>();
  private readonly startedAt = new Date();
  private s3!: S3Service;
  private cloudformation!: CloudFormationService;
  private glue!: GlueService;
  private personalize!: PersonalizeService;

  private constructor(private readonly options: LocalServerOptions) {
    this.context = {
      dataDir: options.dataDir,
      region: options.identity.region,
      accountId: options.identity.accountId,
      credentials: {
        accessKeyId: options.identity.accessKeyId,
        secretAccessKey: options.identity.secretAccessKey,
      },
      now: options.now ?? (() => new Date()),
      log: options.log ?? (() => undefined),
    };
    this.http = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    // Uploads of large objects can take a while on a busy laptop; AWS's own idle limit is minutes.
    this.http.requestTimeout = 0;
    this.http.keepAliveTimeout = 5000;
  }

  /** Opens every service's state from the data dir. */
  static async create(options: LocalServerOptions): Promise<LocalServer> {
    const server = new LocalServer(options);
    server.s3 = await S3Service.open(server.context);
    server.glue = await GlueService.open(server.context, { s3: server.s3 });
    server.personalize = await PersonalizeService.open(server.context, { s3: server.s3 });
    server.cloudformation = await CloudFormationService.open(server.context, {
      s3: server.s3,
      glue: server.glue,
      personalize: server.personalize,
    });
    server.registerQueryService({
      name: 'CloudFormation',
      signingName: 'cloudformation',
      version: '2010-05-15',
      xmlns: CLOUDFORMATION_XMLNS,
      operations: cloudFormationHandlers(server.cloudformation),
    });
    server.registerJsonService({
      name: 'Glue',
      targetPrefix: 'AWSGlue',
      signingName: 'glue',
      version: '1.1',
      operations: glueHandlers(server.glue),
    });
    server.registerJsonService({
      name: 'Personalize',
      targetPrefix: 'AmazonPersonalize',
      signingName: 'personalize',
      version: '1.1',
      operations: personalizeHandlers(server.personalize),
    });
    return server;
  }

  registerJsonService(service: JsonService): void {
    this.jsonServices.set(service.targetPrefix, service);
  }

  registerQueryService(service: QueryService): void {
    this.queryServices.set(service.signingName, service);
  }

  async listen(port: number): Promise<number> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.http.once('error', onError);
      this.http.listen(port, host, () => {
        this.http.off('error', onError);
        resolve();
      });
    });
    return (this.http.address() as AddressInfo).port;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
    // Background stack operations take milliseconds; let them finish rather than cut them mid-write.
    await this.cloudformation.close();
    // In-flight Glue runs are stopped and recorded as FAILED (the stack shut down mid-run).
    await this.glue.close();
    // In-flight imports are left as they are on disk; the next start records them as interrupted.
    await this.personalize.close();
  }

  /** What the stack holds, for `mlpipe local status`. */
  stats(): Record<string, Record<string, number>> {
    return {
      s3: this.s3.stats(),
      cloudformation: this.cloudformation.stats(),
      glue: this.glue.stats(),
      personalize: this.personalize.stats(),
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    let response: AwsResponse;
    let label = `${method} ${rawPath}`;
    try {
      if (rawPath === HEALTH_PATH || rawPath === STATUS_PATH) {
        response = this.internal(rawPath);
      } else {
        const protocol = this.protocolFor(req, rawQuery);
        if (protocol.kind === 'json') label = `${protocol.name}.${protocol.operation}`;
        const info: DispatchInfo = { requestId, method, rawPath, rawQuery };
        response = await this.dispatch(req, protocol, info).catch((error) =>
          this.encodeError(protocol, error, { requestId, method, rawPath }),
        );
        if (info.label !== undefined) label = info.label;
      }
    } catch (error) {
      response = {
        status: 500,
        headers: { 'content-type': 'text/plain' },
        body: `Internal error: ${(error as Error).message}`,
      };
    }
    await this.send(req, res, response);
    if (rawPath === HEALTH_PATH || rawPath === STATUS_PATH) return; // polled by the CLI: not worth a log line
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    this.context.log(
      `${new Date().toISOString()} ${requestId} ${label} ${response.status} ${ms.toFixed(1)}ms`,
    );
  }

  private internal(rawPath: string): AwsResponse {
    const health = {
      service: 'mlpipe-local',
      version: this.options.version,
      pid: process.pid,
      dataDir: this.options.dataDir,
      startedAt: this.startedAt.toISOString(),
    };
    const body = rawPath === STATUS_PATH ? { ...health, services: this.stats() } : health;
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  }

  private protocolFor(req: http.IncomingMessage, rawQuery: string): Protocol {
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') {
      const parsed = parseTarget(target);
      const prefix = parsed?.prefix ?? target;
      const service = this.jsonServices.get(prefix);
      const known = KNOWN_JSON_TARGETS[prefix];
      return {
        kind: 'json',
        service,
        version: service?.version ?? known?.version ?? '1.1',
        name: service?.name ?? known?.name ?? prefix,
        operation: parsed?.operation ?? '',
      };
    }
    const contentType = req.headers['content-type'] ?? '';
    if (
      req.method === 'POST' &&
      contentType.startsWith('application/x-www-form-urlencoded') &&
      rawQuery === ''
    ) {
      const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '');
      if (scope && scope[1] !== 's3') {
        return { kind: 'query', service: scope[1]!, registered: this.queryServices.get(scope[1]!) };
      }
    }
    return { kind: 's3' };
  }

  private encodeError(
    protocol: Protocol,
    error: unknown,
    info: { requestId: string; method: string; rawPath: string },
  ): AwsResponse {
    const awsError =
      error instanceof AwsError
        ? error
        : new AwsError(
            'InternalFailure',
            `Internal error: ${(error as Error)?.message ?? String(error)}`,
            500,
          );
    if (!(error instanceof AwsError))
      this.context.log(`internal error: ${(error as Error)?.stack ?? String(error)}`);
    switch (protocol.kind) {
      case 'json':
        return encodeJsonError(awsError, protocol.version, info.requestId);
      case 'query':
        return encodeQueryError(
          awsError,
          info.requestId,
          protocol.registered?.xmlns ?? `http://${protocol.service}.amazonaws.com/doc/2010-05-15/`,
        );
      case 's3':
        return encodeS3Error(awsError, {
          method: info.method,
          requestId: info.requestId,
          resource: info.rawPath,
        });
    }
  }

  private async dispatch(
    req: http.IncomingMessage,
    protocol: Protocol,
    info: DispatchInfo,
  ): Promise<AwsResponse> {
    const query = new URLSearchParams(info.rawQuery);
    const parts = {
      method: info.method,
      rawPath: info.rawPath,
      rawQuery: info.rawQuery,
      rawHeaders: req.rawHeaders,
    };
    const parsed = parseSignature(parts, query);

    if (protocol.kind !== 's3') {
      // Non-S3 bodies are small: read them whole, then the payload hash is known.
      const body = await readBody(req, MAX_BUFFERED_BODY);
      const claimed = req.headers['x-amz-content-sha256'];
      this.authenticate(protocol, parsed, parts, typeof claimed === 'string' ? claimed : sha256Hex(body));
      if (typeof claimed === 'string' && claimed !== sha256Hex(body) && claimed !== UNSIGNED_PAYLOAD) {
        throw authError(protocol, { kind: 'mismatch', stringToSign: '', canonicalRequest: '' });
      }
      if (protocol.kind === 'query') {
        const service = protocol.registered;
        if (service === undefined) {
          throw new AwsError(
            'InvalidAction',
            `The mlpipe local stack does not implement the ${protocol.service} Query API yet.`,
            400,
          );
        }
        const request = decodeQueryRequest(decodeQueryBody(body));
        info.label = `${service.name}.${request.action || '(none)'}`;
        const handler = Object.hasOwn(service.operations, request.action)
          ? service.operations[request.action]
          : undefined;
        if (handler === undefined) {
          throw new AwsError(
            'InvalidAction',
            request.action === ''
              ? 'The request must contain the parameter Action.'
              : `The mlpipe local stack does not implement ${service.name} action ${request.action}.`,
            400,
          );
        }
        const result = await handler(request.input);
        return encodeQueryResult(request.action, result, info.requestId, service.xmlns);
      }
      if (protocol.service === undefined) {
        throw new AwsError(
          'UnknownOperationException',
          `The mlpipe local stack does not implement ${protocol.name} operation ${protocol.operation || '(none)'}.`,
        );
      }
      const handler = protocol.service.operations[protocol.operation];
      if (handler === undefined) {
        throw new AwsError(
          'UnknownOperationException',
          `The mlpipe local stack does not implement ${protocol.name} operation ${protocol.operation || '(none)'}.`,
        );
      }
      const result = await handler(decodeJsonBody(body));
      return encodeJsonResult(result, protocol.version, info.requestId);
    }

    const claimed = req.headers['x-amz-content-sha256'];
    let payloadHash: string;
    if (parsed !== undefined && !('kind' in parsed) && parsed.presigned) {
      // Presigned S3 URLs carry the payload hash (if any) in the query, as the SDK presigner does.
      payloadHash =
        query.get('X-Amz-Content-Sha256') ??
        query.get('x-amz-content-sha256') ??
        (typeof claimed === 'string' ? claimed : UNSIGNED_PAYLOAD);
    } else if (typeof claimed === 'string') {
      payloadHash = claimed;
    } else if (parsed === undefined) {
      payloadHash = EMPTY_SHA256;
    } else {
      throw new AwsError(
        'InvalidRequest',
        'Missing required header for this request: x-amz-content-sha256',
        400,
      );
    }
    this.authenticate(protocol, parsed, parts, payloadHash);
    const awsRequest: AwsRequest = {
      requestId: info.requestId,
      method: info.method,
      rawPath: info.rawPath,
      rawQuery: info.rawQuery,
      query,
      headers: flattenHeaders(req.rawHeaders),
      body: req,
      expectedPayloadSha256: /^[0-9a-f]{64}$/i.test(payloadHash) ? payloadHash.toLowerCase() : undefined,
      signingService: parsed !== undefined && !('kind' in parsed) ? parsed.service : undefined,
    };
    return handleS3Request(awsRequest, this.s3);
  }

  /** Throws the protocol's AWS error unless the request is signed with the stack's credentials. */
  private authenticate(
    protocol: Protocol,
    parsed: ParsedSignature | SignatureProblem | undefined,
    parts: { method: string; rawPath: string; rawQuery: string; rawHeaders: string[] },
    payloadHash: string,
  ): void {
    if (parsed === undefined) throw authError(protocol, { kind: 'missing' });
    if ('kind' in parsed) throw authError(protocol, parsed);
    if (parsed.accessKeyId !== this.context.credentials.accessKeyId) {
      throw authError(protocol, { kind: 'unknown-key', accessKeyId: parsed.accessKeyId });
    }
    const problem = verifySignature(parts, parsed, {
      payloadHash,
      secretAccessKey: this.context.credentials.secretAccessKey,
      now: this.context.now(),
    });
    if (problem) throw authError(protocol, problem);
  }

  private async send(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    response: AwsResponse,
  ): Promise<void> {
    const headers: Record<string, string> = { server: 'mlpipe-local', ...response.headers };
    const body = response.body;
    if (!req.complete && !req.readableEnded && response.status >= 400) {
      // The request body was not consumed (an early error): close the connection rather than
      // reading an upload we are refusing.
      headers.connection = 'close';
    }
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      const buffer = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
      if (buffer !== undefined && headers['content-length'] === undefined) {
        headers['content-length'] = String(buffer.length);
      }
      res.writeHead(response.status, headers);
      res.end(req.method === 'HEAD' ? undefined : buffer);
      return;
    }
    res.writeHead(response.status, headers);
    try {
      await pipeline(body as Readable, res);
    } catch {
      res.destroy();
    }
  }
}

interface DispatchInfo {
  requestId: string;
  method: string;
  rawPath: string;
  rawQuery: string;
  /** Set by protocols that learn the operation from the body (Query's `Action`), for the log line. */
  label?: string;
}

function flattenHeaders(rawHeaders: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return headers;
}

async function readBody(req: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit)
      throw new AwsError('SerializationException', `Request body larger than ${limit} bytes.`, 413);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** The error AWS sends for each signature problem, in the requesting protocol's vocabulary. */
function authError(protocol: Protocol, problem: SignatureProblem): AwsError {
  const mismatch =
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
  if (protocol.kind === 's3') {
    switch (problem.kind) {
      case 'missing':
        return new AwsError('AccessDenied', 'Access Denied', 403);
      case 'malformed':
        return new AwsError('AuthorizationHeaderMalformed', problem.message, 400);
      case 'unknown-key':
        return new AwsError(
          'InvalidAccessKeyId',
          'The AWS Access Key Id you provided does not exist in our records.',
          403,
          { AWSAccessKeyId: problem.accessKeyId },
        );
      case 'mismatch':
        return new AwsError(
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
          403,
          problem.stringToSign === ''
            ? {}
            : { StringToSign: problem.stringToSign, CanonicalRequest: problem.canonicalRequest },
        );
      case 'skewed':
        return new AwsError(
          'RequestTimeTooSkewed',
          'The difference between the request time and the current time is too large.',
          403,
          { RequestTime: problem.amzDate },
        );
      case 'expired':
        return new AwsError('AccessDenied', 'Request has expired', 403);
    }
  }
  const status = protocol.kind === 'query' ? 403 : 400;
  switch (problem.kind) {
    case 'missing':
      return new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', status);
    case 'malformed':
      return new AwsError('IncompleteSignatureException', problem.message, status);
    case 'unknown-key':
      return new AwsError(
        protocol.kind === 'query' ? 'InvalidClientTokenId' : 'UnrecognizedClientException',
        'The security token included in the request is invalid.',
        status,
      );
    case 'mismatch':
      return new AwsError(
        protocol.kind === 'query' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException',
        mismatch,
        status,
      );
    case 'skewed':
      return new AwsError(
        'InvalidSignatureException',
        `Signature expired: ${problem.amzDate} is now earlier or later than the allowed 15 minutes of the server time.`,
        status,
      );
    case 'expired':
      return new AwsError('InvalidSignatureException', 'Signature expired.', status);
  }
}
