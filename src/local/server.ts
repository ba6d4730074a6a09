/**
 * The local stack's HTTP server: opens the services of the services list (services/index.ts) into
 * a registry with one clock and one jobs layer, accepts a request, works out which service and
 * wire protocol it is for from what the services declare (`X-Amz-Target` → AWS JSON, a
 * form-encoded `Action` → Query, a declared REST-JSON route for the signing name → REST-JSON,
 * anything else → S3 REST-XML), checks its SigV4 signature against the stack's own credentials,
 * and hands it to that protocol's codec and the service's operation. Services never see HTTP.
 *
 * Internal endpoints (unsigned, 127.0.0.1 only): `/_mlpipe/health`, `/_mlpipe/status`; the control
 * endpoint `POST /_mlpipe/reset` (only with server.json's control token: the server deletes every
 * service's state under its own lock — requests arriving meanwhile wait, those in flight finish
 * first — and reopens its services); with test hooks on (`testHooks`, env MLPIPE_LOCAL_TEST_HOOKS=1 for a detached server) also
 * `POST /_mlpipe/test/hold` and `/_mlpipe/test/release` (`{"kind": "<job kind>"}`) and
 * `GET /_mlpipe/test/held?kind=…`, which hold jobs of a kind in their running status so end-to-end
 * tests can observe them in flight.
 *
 * Faults: a full disk (ENOSPC, EDQUOT) fails only the write that hit it, with the protocol's
 * `ServiceUnavailable` (503) error — reads go on — and is logged once until space is back. The
 * SigV4 credential scope must name this stack's region and the service the request is for.
 *
 * Stalled clients, as S3 treats them: a request head must arrive within the headers timeout, and a
 * connection on which the client sends nothing for the idle timeout — mid-head or mid-body — is
 * answered `RequestTimeout` (400) and closed; a body cut off so leaves nothing behind, as a client
 * that disconnects does. There is no limit on a whole request: an upload of any size goes on as
 * long as its bytes keep coming. A client that stops reading an answer is disconnected after the
 * idle timeout; a request the server itself is still working on is never cut off.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { statfsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ScaledClock, type Clock } from './core/clock.js';
import { AwsError, isDiskFull } from './core/errors.js';
import { ServiceRegistry, type OpenedService } from './core/registry.js';
import type { JsonVersion, RestJsonRoute, ServiceDefinition } from './core/service.js';
import { Jobs } from './jobs/jobs.js';
import { decodeJsonBody, encodeJsonError, encodeJsonResult, parseTarget } from './protocol/json.js';
import {
  decodeQueryBody,
  decodeQueryRequest,
  encodeQueryError,
  encodeQueryResult,
} from './protocol/query.js';
import { decodeRestJsonInput, encodeRestJsonError, encodeRestJsonResult } from './protocol/rest-json.js';
import { encodeS3Error, handleS3Request } from './protocol/s3/index.js';
import { SERVICES } from './services/index.js';
import {
  EMPTY_SHA256,
  parseSignature,
  sha256Hex,
  UNSIGNED_PAYLOAD,
  verifySignature,
  type ParsedSignature,
  type SignatureProblem,
} from './sigv4.js';
import {
  CONTROL_TOKEN_HEADER,
  DamagedIdentityError,
  FILE_MODE,
  HEALTH_PATH,
  localPaths,
  quarantineFile,
  readIdentity,
  removeStackData,
  RESET_PATH,
  STATUS_PATH,
  TEST_HOOK_PATHS,
  type LocalIdentity,
} from './contract.js';
import { secureDataDir } from './store/permissions.js';
import { writeFileAtomicSync } from '../shared/atomic-file.js';
import type { AwsRequest, AwsResponse, LocalContext } from './types.js';

/** Largest non-S3 request body accepted (AWS JSON APIs cap payloads far below this). */
const MAX_BUFFERED_BODY = 16 * 1024 * 1024;

/** AWS JSON target prefixes of services not served (yet), so their requests get a precise error. */
const UNSERVED_JSON_TARGETS = new Map<string, { name: string; version: JsonVersion; signingName: string }>([
  ['AWSEvents', { name: 'EventBridge', version: '1.1', signingName: 'events' }],
]);

/** Free bytes below which the disk still counts as full after an ENOSPC. */
const DISK_FULL_MARGIN = 1024 * 1024;

/** How long a client may take to send a request's head (as Node's and most servers' default). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 60_000;
/** How long a connection may carry no bytes, mid-request, before it is cut off (S3: about 20 s). */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Environment variables a server process reads its timeouts from (milliseconds; 0 = no limit). */
export const HEADERS_TIMEOUT_ENV = 'MLPIPE_LOCAL_HEADERS_TIMEOUT_MS';
export const IDLE_TIMEOUT_ENV = 'MLPIPE_LOCAL_IDLE_TIMEOUT_MS';

const REQUEST_TIMEOUT_MESSAGE =
  'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.';

/**
 * The timeouts set in the environment ({@link HEADERS_TIMEOUT_ENV}, {@link IDLE_TIMEOUT_ENV});
 * throws naming the variable when one is not a whole number of milliseconds.
 */
export function timeoutsFromEnv(
  env: NodeJS.ProcessEnv,
): Pick<LocalServerOptions, 'headersTimeoutMs' | 'idleTimeoutMs'> {
  const read = (name: string): number | undefined => {
    const text = env[name];
    if (text === undefined || text.trim() === '') return undefined;
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text.trim()))) {
      throw new Error(
        `${name}=${text} is not a whole number of milliseconds. Set it to e.g. 30000, 0 for no limit, or unset it for the default.`,
      );
    }
    return Number(text.trim());
  };
  const headersTimeoutMs = read(HEADERS_TIMEOUT_ENV);
  const idleTimeoutMs = read(IDLE_TIMEOUT_ENV);
  return {
    ...(headersTimeoutMs === undefined ? {} : { headersTimeoutMs }),
    ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
  };
}

/** A request being served on a connection, for the idle timeout's decisions. */
interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  requestId: string;
  method: string;
  rawPath: string;
  /** Known once routed: the protocol whose error document a cut-off answers with. */
  protocol?: Protocol;
  /** Set when the idle timeout answered it: the handler's own answer is dropped. */
  cutOff: boolean;
}

type Protocol =
  | {
      kind: 'json';
      service: OpenedService | undefined;
      version: JsonVersion;
      name: string;
      operation: string;
      /** The SigV4 signing name requests for this target must be scoped to. */
      signingName: string | undefined;
    }
  | { kind: 'query'; signingName: string; service: OpenedService | undefined }
  | {
      kind: 'rest-json';
      service: OpenedService;
      route: RestJsonRoute;
      members: Record<string, string>;
    }
  | { kind: 's3' };

export interface LocalServerOptions {
  dataDir: string;
  identity: LocalIdentity;
  version: string;
  host?: string;
  /** Wall time for SigV4's clock-skew check (default: the system clock). */
  now?: () => Date;
  /** The stack's clock (default: a ScaledClock with `timeScale`). Tests pass a ManualClock. */
  clock?: Clock;
  /** Real ms per AWS ms of waiting (default DEFAULT_TIME_SCALE); ignored when `clock` is given. */
  timeScale?: number;
  /** The services to serve (default: the services list). */
  services?: readonly ServiceDefinition<unknown>[];
  /** Serve the test-hook endpoints (holding jobs in flight). Never on by default. */
  testHooks?: boolean;
  /** Secret that the control endpoints (reset) require; without one they are not served. */
  controlToken?: string;
  /** Time allowed for a request's head, in ms (default DEFAULT_HEADERS_TIMEOUT_MS; 0: no limit). */
  headersTimeoutMs?: number;
  /** Time a connection may send nothing mid-request, in ms (default DEFAULT_IDLE_TIMEOUT_MS; 0: no limit). */
  idleTimeoutMs?: number;
  log?: (line: string) => void;
}

export class LocalServer {
  readonly context: LocalContext;
  readonly clock: Clock;
  private jobsValue: Jobs;
  private readonly http: http.Server;
  /** Set while the server resets itself: requests wait for it. */
  private gate: Promise<void> | undefined;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  /** Set from the first ENOSPC until space is back (the fault is logged once). */
  private diskFull = false;
  private readonly startedAt = new Date();
  private readonly wallTime: () => Date;
  private registryValue: ServiceRegistry | undefined;
  private readonly idleTimeoutMs: number;
  /** The request each connection is serving. */
  private readonly exchanges = new WeakMap<Socket, Exchange>();
  /** Bytes a connection had carried when its last request ended: more means a new head has begun. */
  private readonly servedBytes = new WeakMap<Socket, number>();

  private constructor(private readonly options: LocalServerOptions) {
    this.clock = options.clock ?? new ScaledClock(options.timeScale);
    this.wallTime = options.now ?? (() => new Date());
    this.context = {
      dataDir: options.dataDir,
      region: options.identity.region,
      accountId: options.identity.accountId,
      credentials: {
        accessKeyId: options.identity.accessKeyId,
        secretAccessKey: options.identity.secretAccessKey,
      },
      now: () => this.clock.now(),
      log: options.log ?? (() => undefined),
    };
    this.jobsValue = new Jobs(this.clock, this.context.log);
    const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.http = http.createServer(
      {
        // No limit on a whole request: an upload of hundreds of MB takes as long as it takes while
        // its bytes keep coming. A stalled one is cut off by the idle timeout instead.
        requestTimeout: 0,
        headersTimeout,
        // Node checks the head deadline on this interval (its default, 30 s, would more than double a short one).
        connectionsCheckingInterval:
          headersTimeout > 0 ? Math.max(10, Math.min(30_000, Math.floor(headersTimeout / 4))) : 30_000,
      },
      (req, res) => {
        void this.handle(req, res);
      },
    );
    this.http.keepAliveTimeout = 5000;
    this.http.timeout = this.idleTimeoutMs;
    this.http.on('timeout', (socket: Socket) => this.onIdle(socket));
    this.http.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
      this.onClientError(error, socket),
    );
  }

  /** Opens every service's state from the data dir, in dependency order. */
  static async create(options: LocalServerOptions): Promise<LocalServer> {
    const server = new LocalServer(options);
    const fixed = await secureDataDir(options.dataDir);
    if (fixed > 0)
      server.context.log(`made ${fixed} file(s) and folder(s) of the data dir private (0600/0700)`);
    server.registryValue = await server.openServices();
    return server;
  }

  private openServices(): Promise<ServiceRegistry> {
    return ServiceRegistry.open(this.options.services ?? SERVICES, {
      context: this.context,
      clock: this.clock,
      jobs: this.jobsValue,
    });
  }

  /** The jobs layer (tests hold jobs of a kind through it). */
  get jobs(): Jobs {
    return this.jobsValue;
  }

  /**
   * Deletes every service's state while holding the data dir (this server owns its lock): waits
   * for requests in flight, holds new ones back, closes the services, removes their files
   * (keeping credentials, which are rewritten from memory if damaged), and opens them afresh.
   */
  async reset(): Promise<{ removedBytes: number }> {
    while (this.gate !== undefined) await this.gate;
    let open!: () => void;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    try {
      if (this.inFlight > 0) {
        this.context.log(
          `reset: waiting for ${this.inFlight} request(s) in flight; new ones wait for the reset`,
        );
        await new Promise<void>((resolve) => (this.drained = resolve));
      }
      this.drained = undefined;
      await this.registry.close();
      const removedBytes = await removeStackData(this.options.dataDir);
      this.rewriteIdentityIfDamaged();
      this.jobsValue = new Jobs(this.clock, this.context.log);
      this.registryValue = await this.openServices();
      this.context.log(`reset: removed ${removedBytes} bytes of state`);
      return { removedBytes };
    } finally {
      this.gate = undefined;
      open();
    }
  }

  private rewriteIdentityIfDamaged(): void {
    const dataDir = this.options.dataDir;
    try {
      if (readIdentity(dataDir) !== undefined) return;
    } catch (error) {
      if (!(error instanceof DamagedIdentityError)) throw error;
      this.context.log(`reset: quarantined damaged ${error.file} as ${quarantineFile(dataDir, error.file)}`);
    }
    writeFileAtomicSync(
      localPaths(dataDir).credentials,
      JSON.stringify(this.options.identity, null, 2) + '\n',
      FILE_MODE,
    );
  }

  /** The opened services: `invoke` any operation in-process, look a service up. */
  get registry(): ServiceRegistry {
    return this.registryValue!;
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
    // Each service closes before those it depends on, its jobs first: CloudFormation lets its
    // operations finish; Glue runs in flight end FAILED; imports are left as they are on disk (the
    // next start records them as interrupted).
    await this.registry.close();
  }

  /** What the stack holds, for `mlpipe local status`. */
  stats(): Record<string, Record<string, number>> {
    return this.registry.stats();
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
    const exchange = this.track(req, res, { requestId, method, rawPath });
    if (rawPath !== HEALTH_PATH && rawPath !== RESET_PATH) {
      while (this.gate !== undefined) await this.gate;
    }
    this.inFlight++;
    try {
      if (rawPath === HEALTH_PATH || rawPath === STATUS_PATH) {
        response = this.internal(rawPath);
      } else if (rawPath === RESET_PATH && this.options.controlToken !== undefined) {
        this.inFlight--; // a reset waits for the other requests, not for itself
        try {
          response = await this.control(req);
        } finally {
          this.inFlight++;
        }
      } else if (this.options.testHooks === true && TEST_HOOK_PATHS.has(rawPath)) {
        response = await this.testHook(req, rawPath, rawQuery);
      } else {
        const protocol = this.protocolFor(req, rawPath, rawQuery);
        exchange.protocol = protocol;
        if (protocol.kind === 'json') label = `${protocol.name}.${protocol.operation}`;
        if (protocol.kind === 'rest-json')
          label = `${protocol.service.definition.displayName}.${protocol.route.operation}`;
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
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
    if (exchange.cutOff) return; // answered RequestTimeout and logged by the idle timeout
    if (this.diskFull && response.status < 300) this.checkSpaceBack();
    await this.send(req, res, response);
    if (rawPath === HEALTH_PATH || rawPath === STATUS_PATH) return; // polled by the CLI: not worth a log line
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    this.context.log(
      `${new Date().toISOString()} ${requestId} ${label} ${response.status} ${ms.toFixed(1)}ms`,
    );
  }

  /** Records the request a connection serves until its answer is done (see onIdle). */
  private track(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    info: { requestId: string; method: string; rawPath: string },
  ): Exchange {
    const exchange: Exchange = { req, res, ...info, cutOff: false };
    const socket = req.socket;
    this.exchanges.set(socket, exchange);
    res.once('close', () => {
      if (this.exchanges.get(socket) !== exchange) return;
      this.exchanges.delete(socket);
      this.servedBytes.set(socket, socket.bytesRead);
    });
    return exchange;
  }

  /**
   * A connection carried no bytes for the idle timeout. A client that stopped mid-head or
   * mid-body is answered RequestTimeout and disconnected (the body's consumer then fails as for a
   * client that went away, so nothing half-written stays); one that stopped reading its answer is
   * disconnected; an idle keep-alive connection is closed. When the stall is the server's own —
   * the request is being worked on, or its body waits unread in our buffers — the timer is re-armed.
   */
  private onIdle(socket: Socket): void {
    const exchange = this.exchanges.get(socket);
    if (exchange === undefined) {
      if (socket.bytesRead > (this.servedBytes.get(socket) ?? 0)) this.refuseRaw(socket, 'a request head');
      else socket.destroy();
      return;
    }
    const { req, res } = exchange;
    if (!req.complete && req.readableLength === 0 && !exchange.cutOff) {
      this.cutOff(exchange);
      return;
    }
    if (res.headersSent && res.writableNeedDrain) {
      this.context.log(
        `${new Date().toISOString()} ${exchange.requestId} ${exchange.method} ${exchange.rawPath}: the client stopped reading the answer for ${this.idleTimeoutMs} ms; disconnected`,
      );
      socket.destroy();
      return;
    }
    socket.setTimeout(this.idleTimeoutMs);
  }

  /** Answers a request whose client stopped sending its body with RequestTimeout, then closes. */
  private cutOff(exchange: Exchange): void {
    exchange.cutOff = true;
    const { req, res } = exchange;
    const timeout = new AwsError('RequestTimeout', REQUEST_TIMEOUT_MESSAGE, 400);
    const response = this.encodeError(exchange.protocol ?? { kind: 's3' }, timeout, exchange);
    this.context.log(
      `${new Date().toISOString()} ${exchange.requestId} ${exchange.method} ${exchange.rawPath} 400 RequestTimeout: no bytes for ${this.idleTimeoutMs} ms mid-body (${req.socket.bytesRead} bytes read); disconnected`,
    );
    if (res.headersSent) {
      req.destroy(timeout);
      return;
    }
    const body = typeof response.body === 'string' ? Buffer.from(response.body) : Buffer.alloc(0);
    res.writeHead(response.status, {
      server: 'mlpipe-local',
      ...response.headers,
      'content-length': String(body.length),
      connection: 'close',
    });
    // Once the answer is sent, the unread body ends in an error: its consumer fails as for a
    // client that went away (removing what it had written), and the connection closes.
    res.end(exchange.method === 'HEAD' ? undefined : body, () => req.destroy(timeout));
  }

  /** RequestTimeout written straight to a connection with no request yet (a stalled head). */
  private refuseRaw(socket: Duplex, what: string): void {
    const requestId = randomUUID();
    const response = encodeS3Error(new AwsError('RequestTimeout', REQUEST_TIMEOUT_MESSAGE, 400), {
      method: 'GET',
      requestId,
    });
    const body = Buffer.from(typeof response.body === 'string' ? response.body : '');
    const headers = Object.entries({ ...response.headers, 'content-length': String(body.length) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    this.context.log(
      `${new Date().toISOString()} ${requestId} 400 RequestTimeout: ${what} did not arrive in time; disconnected`,
    );
    socket.end(
      Buffer.concat([Buffer.from(`HTTP/1.1 400 Bad Request\r\n${headers}connection: close\r\n\r\n`), body]),
      () => socket.destroy(),
    );
  }

  /**
   * Errors on a connection's byte stream: a head not complete within the headers timeout gets S3's
   * RequestTimeout; a parse error Node's own answer (400, or 431/413), written — as Node does —
   * only while no answer to a request on it has begun.
   */
  private onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    const exchange = this.exchanges.get(socket as Socket);
    if (!socket.writable || exchange?.res.headersSent === true || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // Only a head that has begun is answered; a connection that never spoke is just closed.
      if ((socket as Socket).bytesRead > (this.servedBytes.get(socket as Socket) ?? 0))
        this.refuseRaw(socket, 'a request head (headers timeout)');
      else socket.destroy();
      return;
    }
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
          ? '413 Payload Too Large'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`, () => socket.destroy());
  }

  private internal(rawPath: string): AwsResponse {
    const health = {
      service: 'mlpipe-local',
      version: this.options.version,
      pid: process.pid,
      dataDir: this.options.dataDir,
      startedAt: this.startedAt.toISOString(),
    };
    const body =
      rawPath === STATUS_PATH
        ? { ...health, timeScale: this.clock.timeScale, services: this.stats() }
        : health;
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  }

  /** The control endpoint (reset), for the holder of server.json's control token only. */
  private async control(req: http.IncomingMessage): Promise<AwsResponse> {
    const json = (status: number, body: unknown): AwsResponse => ({
      status,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const given = Buffer.from(String(req.headers[CONTROL_TOKEN_HEADER] ?? ''));
    const expected = Buffer.from(this.options.controlToken ?? '');
    if (expected.length === 0 || given.length !== expected.length || !timingSafeEqual(given, expected))
      return json(403, { message: 'The control token is missing or wrong.' });
    if (req.method !== 'POST') return json(405, { message: 'Use POST.' });
    req.resume();
    return json(200, await this.reset());
  }

  /** After a full disk: once a request succeeds and space is free again, say so (and re-arm the log). */
  private checkSpaceBack(): void {
    try {
      const stats = statfsSync(this.options.dataDir);
      if (stats.bavail * stats.bsize < DISK_FULL_MARGIN) return;
    } catch {
      return;
    }
    this.diskFull = false;
    this.context.log(`${new Date().toISOString()} disk: space is available again; writes are accepted`);
  }

  /** The test hooks: hold or release jobs of a kind, or count those waiting at a hold. */
  private async testHook(req: http.IncomingMessage, rawPath: string, rawQuery: string): Promise<AwsResponse> {
    const json = (status: number, body: unknown): AwsResponse => ({
      status,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (rawPath.endsWith('/held')) {
      const kind = new URLSearchParams(rawQuery).get('kind') ?? '';
      return json(200, { kind, held: this.jobs.heldCount(kind) });
    }
    if (req.method !== 'POST') return json(405, { message: 'Use POST.' });
    const input = decodeJsonBody(await readBody(req, 64 * 1024));
    const kind = input.kind;
    if (typeof kind !== 'string' || kind === '')
      return json(400, { message: 'Give {"kind": "<job kind>"}.' });
    if (rawPath.endsWith('/hold')) this.jobs.hold(kind);
    else this.jobs.release(kind);
    return json(200, { kind, held: rawPath.endsWith('/hold') });
  }

  private protocolFor(req: http.IncomingMessage, rawPath: string, rawQuery: string): Protocol {
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') {
      const parsed = parseTarget(target);
      const prefix = parsed?.prefix ?? target;
      const service = this.registry.byTargetPrefix(prefix);
      const declared = service?.definition.protocol;
      const unserved = UNSERVED_JSON_TARGETS.get(prefix);
      return {
        kind: 'json',
        service,
        version: declared?.kind === 'json' ? declared.version : (unserved?.version ?? '1.1'),
        name: service?.definition.displayName ?? unserved?.name ?? prefix,
        operation: parsed?.operation ?? '',
        signingName: service?.definition.signingName ?? unserved?.signingName,
      };
    }
    const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const contentType = req.headers['content-type'] ?? '';
    if (
      req.method === 'POST' &&
      contentType.startsWith('application/x-www-form-urlencoded') &&
      rawQuery === '' &&
      scope !== undefined &&
      scope !== 's3'
    ) {
      return { kind: 'query', signingName: scope, service: this.registry.querySigningName(scope) };
    }
    if (scope !== undefined && scope !== 's3') {
      const match = this.registry.restJsonRoute(scope, req.method ?? 'GET', rawPath);
      if (match !== undefined) return { kind: 'rest-json', ...match };
    }
    return { kind: 's3' };
  }

  private encodeError(
    protocol: Protocol,
    error: unknown,
    info: { requestId: string; method: string; rawPath: string },
  ): AwsResponse {
    let awsError: AwsError;
    if (error instanceof AwsError) {
      awsError = error;
    } else if (isDiskFull(error)) {
      // What the client sees: a temporary server-side refusal it may retry later. Nothing was
      // committed (every write persists before it is applied).
      awsError = new AwsError(
        'ServiceUnavailable',
        'The local stack could not write to its data dir: no space left on the device. Reads still work; free some space and retry.',
        503,
      );
      if (!this.diskFull) {
        this.diskFull = true;
        this.context.log(
          `${new Date().toISOString()} disk: no space left in ${this.options.dataDir} (${(error as Error).message}); writes are refused until space is freed`,
        );
      }
    } else {
      awsError = new AwsError(
        'InternalFailure',
        `Internal error: ${(error as Error)?.message ?? String(error)}`,
        500,
      );
      this.context.log(`internal error: ${(error as Error)?.stack ?? String(error)}`);
    }
    switch (protocol.kind) {
      case 'json':
        return encodeJsonError(awsError, protocol.version, info.requestId);
      case 'query': {
        const declared = protocol.service?.definition.protocol;
        return encodeQueryError(
          awsError,
          info.requestId,
          declared?.kind === 'query'
            ? declared.xmlns
            : `http://${protocol.signingName}.amazonaws.com/doc/2010-05-15/`,
        );
      }
      case 'rest-json':
        return encodeRestJsonError(awsError, info.requestId);
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
        const service = protocol.service;
        const declared = service?.definition.protocol;
        if (service === undefined || declared?.kind !== 'query') {
          throw new AwsError(
            'InvalidAction',
            `The mlpipe local stack does not implement the ${protocol.signingName} Query API yet.`,
            400,
          );
        }
        const request = decodeQueryRequest(decodeQueryBody(body));
        const name = service.definition.displayName;
        info.label = `${name}.${request.action || '(none)'}`;
        const handler = Object.hasOwn(service.operations, request.action)
          ? service.operations[request.action]
          : undefined;
        if (handler === undefined) {
          throw new AwsError(
            'InvalidAction',
            request.action === ''
              ? 'The request must contain the parameter Action.'
              : `The mlpipe local stack does not implement ${name} action ${request.action}.`,
            400,
          );
        }
        const result = await handler(request.input);
        return encodeQueryResult(request.action, result, info.requestId, declared.xmlns);
      }
      if (protocol.kind === 'rest-json') {
        const result = await this.registry.invoke(
          protocol.service.definition.name,
          protocol.route.operation,
          decodeRestJsonInput(body, protocol.members),
        );
        return encodeRestJsonResult(result, protocol.route.successStatus ?? 200, info.requestId);
      }
      // Own operations only: `AWSGlue.constructor` or `.__proto__` name nothing.
      const operation =
        protocol.service !== undefined && Object.hasOwn(protocol.service.operations, protocol.operation)
          ? protocol.service.operations[protocol.operation]
          : undefined;
      if (protocol.service === undefined || operation === undefined) {
        throw new AwsError(
          'UnknownOperationException',
          `The mlpipe local stack does not implement ${protocol.name} operation ${protocol.operation || '(none)'}.`,
        );
      }
      const result = await operation(decodeJsonBody(body));
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
    } else if (parsed === undefined || 'kind' in parsed) {
      // Unsigned, or signed in a way refused below: the signature's problem is the answer.
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
    const s3 = this.registry.restXml();
    if (s3 === undefined)
      throw new AwsError('NotImplemented', 'The mlpipe local stack does not serve S3.', 501);
    return handleS3Request(awsRequest, {
      operations: s3.operations,
      secretAccessKey: this.context.credentials.secretAccessKey,
      log: this.context.log,
    });
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
    // The credential scope must name this endpoint's region and the service the request is for.
    if (parsed.region !== this.context.region) {
      throw authError(protocol, {
        kind: 'scope',
        part: 'region',
        given: parsed.region,
        expected: this.context.region,
        presigned: parsed.presigned,
      });
    }
    const service = expectedSigningName(protocol);
    if (service !== undefined && parsed.service !== service) {
      throw authError(protocol, {
        kind: 'scope',
        part: 'service',
        given: parsed.service,
        expected: service,
        presigned: parsed.presigned,
      });
    }
    if (parsed.accessKeyId !== this.context.credentials.accessKeyId) {
      throw authError(protocol, { kind: 'unknown-key', accessKeyId: parsed.accessKeyId });
    }
    const problem = verifySignature(parts, parsed, {
      payloadHash,
      secretAccessKey: this.context.credentials.secretAccessKey,
      now: this.wallTime(),
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

/** The signing name a request's credential scope must carry, when the route knows it. */
function expectedSigningName(protocol: Protocol): string | undefined {
  switch (protocol.kind) {
    case 's3':
      return 's3';
    case 'json':
      return protocol.signingName;
    case 'rest-json':
      return protocol.service.definition.signingName;
    case 'query':
      return protocol.signingName; // routed by the scope's service itself
  }
}

function flattenHeaders(rawHeaders: string[]): Record<string, string> {
  // No prototype: a header named `__proto__` or `constructor` is a header like any other.
  const headers = Object.create(null) as Record<string, string>;
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
      case 'sigv2':
        return new AwsError(
          'InvalidRequest',
          'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
          400,
        );
      case 'query-parameters':
        return new AwsError('AuthorizationQueryParametersError', problem.message, 400);
      case 'scope': {
        const wrong =
          problem.part === 'region'
            ? `the region '${problem.given}' is wrong; expecting '${problem.expected}'`
            : `incorrect service "${problem.given}". This endpoint belongs to "${problem.expected}".`;
        const fields: Record<string, string> = problem.part === 'region' ? { Region: problem.expected } : {};
        return problem.presigned
          ? new AwsError(
              'AuthorizationQueryParametersError',
              `Error parsing the X-Amz-Credential parameter; ${wrong}`,
              400,
              fields,
            )
          : new AwsError(
              'AuthorizationHeaderMalformed',
              `The authorization header is malformed; ${wrong}`,
              400,
              fields,
            );
      }
    }
  }
  const status = protocol.kind === 'query' || protocol.kind === 'rest-json' ? 403 : 400;
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
    case 'sigv2':
      return new AwsError(
        'IncompleteSignatureException',
        'Signature Version 2 is not supported; sign requests with Signature Version 4 (AWS4-HMAC-SHA256).',
        status,
      );
    case 'query-parameters':
      return new AwsError('IncompleteSignatureException', problem.message, status);
    case 'scope':
      return new AwsError(
        protocol.kind === 'query' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException',
        problem.part === 'region'
          ? 'Credential should be scoped to a valid region. '
          : `Credential should be scoped to correct service: '${problem.expected}'. `,
        status,
      );
  }
}
