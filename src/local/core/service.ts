/**
 * The service contract: what a local service declares once, in its folder's `service.ts`, for the
 * router, `local status`, the CloudFormation provisioners and the Step Functions task binder to
 * read from the one services list (services/index.ts). A service is AWS-shaped at this seam: its
 * operations are keyed by AWS operation name, take the AWS-shaped input (members as in the
 * `@aws-sdk/client-*` request types) and return the AWS-shaped output, and fail with `AwsError`.
 * How the input travels on the wire is the protocol's business (protocol/), not the service's.
 */
import type { Clock } from './clock.js';
import type { JobScope } from '../jobs/jobs.js';
import type { LocalContext } from '../types.js';

export type JsonVersion = '1.0' | '1.1';

/** A REST-JSON route: `POST /recommendations` → GetRecommendations. */
export interface RestJsonRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** The path; `{member}` segments are bound to input members (percent-decoded). */
  readonly path: string;
  readonly operation: string;
  /** Status of a successful response (200 unless AWS uses another). */
  readonly successStatus?: number;
}

/** How requests for a service travel. */
export type WireProtocol =
  /** AWS JSON: `POST /`, `X-Amz-Target: <targetPrefix>.<Operation>` (Glue, Personalize, Logs, Step Functions). */
  | { readonly kind: 'json'; readonly version: JsonVersion; readonly targetPrefix: string }
  /** Query: form-encoded `Action=…&Version=…`, XML responses (CloudFormation). */
  | { readonly kind: 'query'; readonly version: string; readonly xmlns: string }
  /** S3's REST-XML binding (protocol/s3/): method, path and sub-resources name the operation. */
  | { readonly kind: 'rest-xml' }
  /** REST-JSON: routes by method and path, JSON bodies (Personalize Runtime). */
  | { readonly kind: 'rest-json'; readonly routes: readonly RestJsonRoute[] };

/** One AWS operation: AWS-shaped input → AWS-shaped output; throws AwsError. */
// The input is untrusted wire data until the service has read it: operations check every member.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Operation = (input: any) => Promise<unknown>;
export type OperationTable = Readonly<Record<string, Operation>>;

/** Calls any service's operation in-process, by AWS name, with AWS-shaped input and output. */
export type Invoke = (service: string, operation: string, input: object) => Promise<unknown>;

/** What a service is opened with. */
export interface ServiceContext extends LocalContext {
  readonly clock: Clock;
  /** This service's jobs (closed with it). */
  readonly jobs: JobScope;
  /** The opened instance of a service this one lists in `dependsOn` (typed calls in-process). */
  service<T>(name: string): T;
  /** Any service's operation in-process, AWS-shaped (what Step Functions' aws-sdk tasks use). */
  readonly invoke: Invoke;
  /**
   * Whether `invoke(service, operation, …)` would find the operation: the services list answers,
   * so an operation added to a service's wire table is served everywhere at once (Step Functions
   * checks its Task states with it when a definition is created).
   */
  serves(service: string, operation: string): boolean;
}

export interface ServiceDefinition<S = unknown> {
  /** Key in the services list and in `local status`, e.g. `personalize`. */
  readonly name: string;
  /** How AWS names it in messages, e.g. `Personalize`. */
  readonly displayName: string;
  /** The SigV4 credential scope's service, e.g. `personalize`. */
  readonly signingName: string;
  readonly protocol: WireProtocol;
  /** Services opened before this one (and closed after it), whose instances `ctx.service` returns. */
  readonly dependsOn?: readonly string[];
  open(ctx: ServiceContext): Promise<S>;
  /** The AWS operation table of an opened instance (the service folder's `wire.ts`). */
  operations(service: S): OperationTable;
  /** Lets work in flight end and state reach disk; jobs are stopped by the jobs layer first. */
  close?(service: S): Promise<void>;
  /** Counts `local status` shows, e.g. `{ jobs: 1, runs: 3 }`. */
  stats?(service: S): Record<string, number>;
}

/**
 * Declares a service: `S` is checked across its members here, then erased for the services list
 * (the registry only ever hands a member back what that service's own `open` returned).
 */
export function defineService<S>(definition: ServiceDefinition<S>): ServiceDefinition<unknown> {
  return definition as unknown as ServiceDefinition<unknown>;
}
