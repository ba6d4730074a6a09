/**
 * The provisioner plug-in point: one object per CloudFormation resource type that creates,
 * updates and deletes the physical resource through the local stack's services (in-process, no
 * HTTP), and declares what the template engine must know about the type (its `Fn::GetAtt`
 * attributes and which property changes force a replacement).
 *
 * To add a resource type: write one file exporting a `Provisioner`, and add it to the list in
 * `provisioners/index.ts`. Provisioners reach the other services through `services.invoke` — any
 * service's operation by its AWS name with AWS-shaped input, as the service registry serves it.
 */
import { randomBytes } from 'node:crypto';
import { AwsError } from '../../../core/errors.js';
import type { Clock } from '../../../core/clock.js';
import type { Invoke } from '../../../core/service.js';
import type { S3Service } from '../../s3/s3-service.js';
import type { IamStore } from '../iam-store.js';
import type { TemplateObject, TemplateValue } from '../template/index.js';

/** The services provisioners call. */
export interface ProvisionerServices {
  readonly s3: S3Service;
  readonly iam: IamStore;
  /** Any service's operation, in-process (the registry's); absent for a CloudFormation service alone. */
  readonly invoke?: Invoke;
  /** The stack's clock, for polling a resource while it stabilizes. */
  readonly clock?: Clock;
}

export interface ProvisionContext {
  readonly stackName: string;
  readonly stackId: string;
  readonly logicalId: string;
  readonly region: string;
  readonly accountId: string;
  /** `aws`, `aws-cn` or `aws-us-gov`. */
  readonly partition: string;
  readonly urlSuffix: string;
  readonly services: ProvisionerServices;
  readonly now: () => Date;
  readonly log: (line: string) => void;
  /**
   * A name the way CloudFormation generates one when the template gives none:
   * `<stack>-<logicalId>-<RANDOM>`, shortened to `maxLength`, lower-cased when asked (S3).
   */
  generateName(options?: { maxLength?: number; lowerCase?: boolean }): string;
}

export interface ProvisionResult {
  /** What `Ref` returns and DescribeStackResources shows as PhysicalResourceId. */
  readonly physicalId: string;
  /** `Fn::GetAtt` values, by attribute name. */
  readonly attributes?: Readonly<Record<string, TemplateValue>>;
}

export interface UpdateResult {
  /** New attribute values; omitted ones keep their previous values. */
  readonly attributes?: Readonly<Record<string, TemplateValue>>;
}

export interface PreviousState {
  readonly properties: TemplateObject;
  readonly attributes: Readonly<Record<string, TemplateValue>>;
}

export interface Provisioner {
  /** The resource type, e.g. `AWS::S3::Bucket`. */
  readonly type: string;
  /** Attribute names `Fn::GetAtt` accepts for this type. */
  readonly attributes: readonly string[];
  /** Top-level properties whose change creates a new physical resource (then deletes the old one). */
  readonly replacementProperties: readonly string[];
  /**
   * Top-level properties the type accepts: any other fails the resource, as CloudFormation's
   * schema validation does (so a typo fails locally too). Omit to accept any.
   */
  readonly properties?: readonly string[];
  /** Properties that must be present. */
  readonly requiredProperties?: readonly string[];
  /** Creates the physical resource from resolved properties. Throw to fail the resource. */
  create(properties: TemplateObject, ctx: ProvisionContext): Promise<ProvisionResult>;
  /**
   * Changes the physical resource in place (no replacement property changed). Also used to roll
   * an update back: then `properties` are the old ones and `previous` the failed new state.
   */
  update(
    physicalId: string,
    properties: TemplateObject,
    previous: PreviousState,
    ctx: ProvisionContext,
  ): Promise<UpdateResult>;
  /** Deletes the physical resource. A resource that is already gone counts as deleted. */
  delete(physicalId: string, properties: TemplateObject, ctx: ProvisionContext): Promise<void>;
  /**
   * Resource import (IMPORT change sets): the type's identifier properties (its primary
   * identifier in CloudFormation's resource schema, e.g. `BucketName`). A type without them
   * cannot be imported.
   */
  readonly importIdentifier?: readonly string[];
  /**
   * Finds the existing physical resource an import names, changing nothing: its physical ID and
   * the attributes `Fn::GetAtt` reads. Throws a `ProvisionError` with `NotFound` when it does not exist.
   */
  read?(identifier: Readonly<Record<string, string>>, ctx: ProvisionContext): Promise<ProvisionResult>;
}

/**
 * A provisioning failure, reported on the resource's event the way CloudFormation's resource
 * handlers word it: `Resource handler returned message: "…" (RequestToken: …, HandlerErrorCode: …)`.
 */
export class ProvisionError extends Error {
  constructor(
    message: string,
    readonly handlerErrorCode: string = 'GeneralServiceException',
  ) {
    super(message);
    this.name = 'ProvisionError';
  }
}

const HANDLER_CODES: Readonly<Record<number, string>> = {
  400: 'InvalidRequest',
  403: 'AccessDenied',
  404: 'NotFound',
  409: 'ResourceConflict',
};

/** Wraps a service's AwsError as CloudFormation reports a failed service call inside a handler. */
export function serviceFailure(error: unknown, service: string): Error {
  if (!(error instanceof AwsError)) return error instanceof Error ? error : new Error(String(error));
  const requestId = randomBytes(16).toString('hex');
  return new ProvisionError(
    `${error.message} (Service: ${service}, Status Code: ${error.status}, Request ID: ${requestId})`,
    HANDLER_CODES[error.status] ?? 'GeneralServiceException',
  );
}

/** An invalid property value, caught before any service is called. */
export function invalidProperty(message: string): ProvisionError {
  return new ProvisionError(message, 'InvalidRequest');
}

// --- Property readers shared by provisioners

export function optionalString(properties: TemplateObject, name: string): string | undefined {
  const value = properties[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw invalidProperty(
    `Property validation failure: [#/${name}: expected type: String, found: ${typeName(value)}]`,
  );
}

export function requiredString(properties: TemplateObject, name: string): string {
  const value = optionalString(properties, name);
  if (value === undefined || value === '') {
    throw invalidProperty(`Property validation failure: [#: required key [${name}] not found]`);
  }
  return value;
}

export function optionalBoolean(properties: TemplateObject, name: string): boolean | undefined {
  const value = properties[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw invalidProperty(
    `Property validation failure: [#/${name}: expected type: Boolean, found: ${typeName(value)}]`,
  );
}

export function optionalStringList(properties: TemplateObject, name: string): string[] {
  const value = properties[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw invalidProperty(`Property validation failure: [#/${name}: expected type: JSONArray of String]`);
  }
  return value as string[];
}

export function typeName(value: TemplateValue): string {
  if (Array.isArray(value)) return 'JSONArray';
  if (value === null) return 'Null';
  if (typeof value === 'object') return 'JSONObject';
  if (typeof value === 'number') return 'Number';
  if (typeof value === 'boolean') return 'Boolean';
  return 'String';
}

/** CloudFormation's random name suffix: 12 upper-case letters and digits. */
export function randomSuffix(length = 12): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

/**
 * A function calling `operation` of `service` through `services.invoke`; without a registry it
 * fails the resource, naming the service the stack lacks.
 */
export function serviceCall<I extends object, O>(
  ctx: ProvisionContext,
  service: string,
  displayName: string,
  operation: string,
): (input: I) => Promise<O> {
  return (input) => {
    const invoke = ctx.services.invoke;
    if (invoke === undefined)
      throw invalidProperty(`The local stack has no ${displayName} service to create resources in.`);
    return invoke(service, operation, input) as Promise<O>;
  };
}
