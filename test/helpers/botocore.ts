/**
 * Conformance helpers: botocore's service models (loaded through the local python3, as the AWS CLI
 * ships them), a recursive check of a raw AWS JSON response body against an operation's output
 * shape or declared errors, the same for a REST-XML (S3) response document, and SigV4-signed raw
 * AWS JSON requests to a local stack.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser } from 'fast-xml-parser';

export interface ShapeRef {
  shape: string;
  timestampFormat?: string;
  /** REST-XML: the element's name, when not the member's; `location` set: not in the body. */
  locationName?: string;
  location?: string;
}

export interface Shape {
  type: string;
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  enum?: string[];
  pattern?: string;
  min?: number;
  max?: number;
  timestampFormat?: string;
  exception?: boolean;
  /** REST-XML lists: members repeated in place, without a wrapping element. */
  flattened?: boolean;
  locationName?: string;
}

export interface Operation {
  input?: ShapeRef;
  output?: ShapeRef;
  errors?: ShapeRef[];
}

export interface ServiceModel {
  metadata: { protocol: string; jsonVersion?: string; targetPrefix?: string; signingName?: string };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

const LOAD_MODEL = `
import json, sys
import botocore.session
loader = botocore.session.get_session().get_component('data_loader')
print(json.dumps(loader.load_service_model(sys.argv[1], sys.argv[2])))
`;

/**
 * botocore's `<kind>` model (`service-2`, `paginators-1`) for `service`, or the reason it cannot be
 * loaded (no python3, no botocore) so the caller can skip with it.
 */
export function loadBotocoreModel<T = ServiceModel>(
  service: string,
  kind = 'service-2',
): { model: T } | { skip: string } {
  try {
    const text = execFileSync('python3', ['-c', LOAD_MODEL, service, kind], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    return { model: JSON.parse(text) as T };
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') return { skip: 'python3 is not installed, so botocore models are unavailable' };
    const last = (e.stderr ?? e.message).trim().split('\n').pop();
    return { skip: `botocore's ${service} ${kind} model could not be loaded (${last})` };
  }
}

/**
 * Errors every AWS JSON service may return besides an operation's declared ones
 * (https://docs.aws.amazon.com/general/latest/gr/api-retries.html and the common-errors list).
 */
export const COMMON_ERRORS: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'IncompleteSignature',
  'InternalFailure',
  'InvalidAction',
  'InvalidClientTokenId',
  'InvalidParameterCombination',
  'InvalidParameterValue',
  'MissingAuthenticationTokenException',
  'NotAuthorized',
  'RequestExpired',
  'SerializationException',
  'ServiceUnavailable',
  'ThrottlingException',
  'UnknownOperationException',
  'UnrecognizedClientException',
  'ValidationException',
]);

export interface CheckOptions {
  /**
   * `Shape.member` paths whose declared pattern the real service does not honour either, with why
   * (e.g. botocore types `DatasetImportJob.roleArn` as a Personalize `Arn`, but it holds an IAM ARN).
   */
  patternExempt?: Record<string, string>;
}

/** Smithy `pattern` (ECMA-262-compatible, unanchored) as a JS RegExp. */
function patternRegExp(pattern: string): RegExp {
  return new RegExp(pattern, 'u');
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Problems with `value` as the wire form (AWS JSON) of `shapeName`: undeclared or missing required
 * members, wrong JSON types, enum values, string lengths and patterns, list/map sizes, numeric
 * ranges. Empty when it conforms. `where` names the place in messages.
 */
export function checkShape(
  model: ServiceModel,
  shapeName: string,
  value: unknown,
  where: string,
  options: CheckOptions = {},
  ref?: ShapeRef,
  memberPath?: string,
): string[] {
  const shape = model.shapes[shapeName];
  if (!shape) return [`${where}: the model has no shape ${shapeName}`];
  const problems: string[] = [];
  const bad = (what: string): void => void problems.push(`${where}: ${what} (shape ${shapeName})`);
  switch (shape.type) {
    case 'structure': {
      if (kindOf(value) !== 'object') {
        bad(`expected an object, got ${kindOf(value)}`);
        break;
      }
      const object = value as Record<string, unknown>;
      for (const name of shape.required ?? [])
        if (object[name] === undefined) bad(`required member ${name} is missing`);
      for (const [name, member] of Object.entries(object)) {
        const declared = shape.members?.[name];
        if (!declared) {
          bad(`member ${name} is not in the model`);
          continue;
        }
        problems.push(
          ...checkShape(
            model,
            declared.shape,
            member,
            `${where}.${name}`,
            options,
            declared,
            `${shapeName}.${name}`,
          ),
        );
      }
      break;
    }
    case 'list': {
      if (!Array.isArray(value)) {
        bad(`expected an array, got ${kindOf(value)}`);
        break;
      }
      if (shape.min !== undefined && value.length < shape.min)
        bad(`${value.length} items < min ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max)
        bad(`${value.length} items > max ${shape.max}`);
      value.forEach((item, i) =>
        problems.push(
          ...checkShape(model, shape.member!.shape, item, `${where}[${i}]`, options, shape.member),
        ),
      );
      break;
    }
    case 'map': {
      if (kindOf(value) !== 'object') {
        bad(`expected an object, got ${kindOf(value)}`);
        break;
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        problems.push(...checkShape(model, shape.key!.shape, k, `${where} key ${k}`, options, shape.key));
        problems.push(...checkShape(model, shape.value!.shape, v, `${where}.${k}`, options, shape.value));
      }
      break;
    }
    case 'string': {
      if (typeof value !== 'string') {
        bad(`expected a string, got ${kindOf(value)}`);
        break;
      }
      const length = [...value].length;
      if (shape.enum && !shape.enum.includes(value))
        bad(`${JSON.stringify(value)} is not one of ${shape.enum.join(', ')}`);
      if (shape.min !== undefined && length < shape.min) bad(`length ${length} < min ${shape.min}`);
      if (shape.max !== undefined && length > shape.max) bad(`length ${length} > max ${shape.max}`);
      const exempt = memberPath !== undefined && options.patternExempt?.[memberPath] !== undefined;
      if (shape.pattern !== undefined && !exempt && !patternRegExp(shape.pattern).test(value))
        bad(`${JSON.stringify(value)} does not match pattern ${shape.pattern}`);
      break;
    }
    case 'integer':
    case 'long':
    case 'short':
    case 'byte': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        bad(`expected an integer number, got ${JSON.stringify(value)}`);
        break;
      }
      if (shape.min !== undefined && value < shape.min) bad(`${value} < min ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) bad(`${value} > max ${shape.max}`);
      break;
    }
    case 'float':
    case 'double':
      if (typeof value !== 'number') bad(`expected a number, got ${kindOf(value)}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') bad(`expected a boolean, got ${kindOf(value)}`);
      break;
    case 'timestamp': {
      const format = ref?.timestampFormat ?? shape.timestampFormat ?? 'unixTimestamp';
      if (format === 'unixTimestamp') {
        if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
          bad(`expected epoch seconds as a JSON number, got ${JSON.stringify(value)}`);
        else if (value > 1e11) bad(`${value} looks like epoch milliseconds, not seconds`);
      } else if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
        bad(`expected a ${format} timestamp string, got ${JSON.stringify(value)}`);
      }
      break;
    }
    case 'blob':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) bad('expected base64 text');
      break;
    default:
      bad(`unsupported shape type ${shape.type}`);
  }
  return problems;
}

/** Problems with a successful response body of `operation` (an empty body for no output shape). */
export function checkOutput(
  model: ServiceModel,
  operation: string,
  body: string,
  options: CheckOptions = {},
): string[] {
  const op = model.operations[operation];
  if (!op) return [`${operation}: not in the model`];
  let value: unknown;
  try {
    value = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    return [`${operation}: the response body is not JSON: ${body.slice(0, 200)}`];
  }
  if (!op.output) {
    return kindOf(value) === 'object' && Object.keys(value as object).length === 0
      ? []
      : [`${operation}: has no output shape, but the body is ${body.slice(0, 200)}`];
  }
  return checkShape(model, op.output.shape, value, operation, options);
}

/**
 * Problems with an error response of `operation`: a 4xx/5xx status, `__type` (any `namespace#`
 * prefix dropped) one of its declared errors or a common one, a `message` string, and no member the
 * error shape does not declare. Returns the error name too.
 */
export function checkError(
  model: ServiceModel,
  operation: string,
  status: number,
  body: string,
): { name?: string; problems: string[] } {
  const problems: string[] = [];
  if (status < 400) problems.push(`${operation}: error answered with status ${status}`);
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return { problems: [...problems, `${operation}: the error body is not JSON: ${body.slice(0, 200)}`] };
  }
  const type = value.__type;
  if (typeof type !== 'string') return { problems: [...problems, `${operation}: the error has no __type`] };
  const name = type.slice(type.lastIndexOf('#') + 1);
  const declared = (model.operations[operation]?.errors ?? []).map((e) => e.shape);
  if (!declared.includes(name) && !COMMON_ERRORS.has(name))
    problems.push(`${operation}: error ${name} is neither declared (${declared.join(', ')}) nor common`);
  const message = value.message ?? value.Message;
  if (typeof message !== 'string' || message === '') problems.push(`${operation}: ${name} has no message`);
  const shape = model.shapes[name];
  if (shape?.exception) {
    // `message` is the AWS JSON error body's own member, there even where the model's exception
    // shape declares none (CloudWatch Logs' exceptions have no members in the model).
    const allowed = new Set(['__type', 'message', ...Object.keys(shape.members ?? {})]);
    for (const key of Object.keys(value))
      if (!allowed.has(key)) problems.push(`${operation}: ${name} has undeclared member ${key}`);
  }
  return { name, problems };
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The SDK signer's hash interface over node:crypto. */
export class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** A SigV4-signed AWS JSON request (`POST /`, `X-Amz-Target`) to a local stack, answered raw. */
export async function awsJsonRequest(
  stack: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
  request: { service: string; target: string; jsonVersion: string; body: unknown },
): Promise<RawResponse> {
  const url = new URL(stack.endpoint);
  const body = JSON.stringify(request.body);
  const signer = new SignatureV4({
    credentials: stack.credentials,
    region: stack.region,
    service: request.service,
    sha256: NodeSha256,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: {
        host: url.host,
        'content-type': `application/x-amz-json-${request.jsonVersion}`,
        'x-amz-target': request.target,
      },
      body,
    }),
  );
  const headers = { ...signed.headers };
  delete headers.host;
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** A SigV4-signed REST-JSON request (`POST <path>`, JSON body) to a local stack, answered raw. */
export async function restJsonRequest(
  stack: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
  request: { service: string; path: string; body: unknown },
): Promise<RawResponse> {
  const url = new URL(request.path, stack.endpoint);
  const body = JSON.stringify(request.body);
  const signer = new SignatureV4({
    credentials: stack.credentials,
    region: stack.region,
    service: request.service,
    sha256: NodeSha256,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    }),
  );
  const headers = { ...signed.headers };
  delete headers.host;
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** fast-xml-parser's ordered form: one key naming the element, its children (or `#text`). */
type XmlNode = Record<string, unknown>;

function elementName(node: XmlNode): string {
  return Object.keys(node).find((key) => key !== ':@')!;
}

function elementText(children: XmlNode[]): string | undefined {
  if (children.length === 0) return '';
  if (children.length === 1 && '#text' in children[0]!) return String(children[0]!['#text']);
  return undefined;
}

/**
 * Problems with a REST-XML response document (S3's) as `shapeName`: every element must be a member
 * the model declares (by its element name, flattened lists in place), with the member's type —
 * booleans `true|false`, integers, ISO 8601 timestamps, enum values, structures and lists by their
 * members. Empty when it conforms. `where` names the place in messages.
 */
export function checkRestXml(model: ServiceModel, shapeName: string, xml: string, where: string): string[] {
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    parseTagValue: false,
    trimValues: false,
  });
  const document = parser.parse(xml) as XmlNode[];
  const root = document.find((node) => !('?xml' in node));
  if (root === undefined) return [`${where}: no root element in ${xml.slice(0, 200)}`];
  const name = elementName(root);
  return checkXmlValue(model, shapeName, root[name] as XmlNode[], `${where} <${name}>`);
}

function checkXmlValue(model: ServiceModel, shapeName: string, children: XmlNode[], where: string): string[] {
  const shape = model.shapes[shapeName];
  if (!shape) return [`${where}: the model has no shape ${shapeName}`];
  const problems: string[] = [];
  const text = elementText(children);
  const scalar = (check: (value: string) => boolean, what: string): void => {
    if (text === undefined) problems.push(`${where}: expected ${what} text, found elements`);
    else if (!check(text)) problems.push(`${where}: ${JSON.stringify(text)} is not ${what}`);
  };
  switch (shape.type) {
    case 'structure': {
      for (const child of children) {
        if ('#text' in child) {
          if (String(child['#text']).trim() !== '')
            problems.push(`${where}: stray text ${String(child['#text'])}`);
          continue;
        }
        const element = elementName(child);
        let target: string | undefined;
        for (const [member, ref] of Object.entries(shape.members ?? {})) {
          if (ref.location !== undefined) continue; // a header or the status, not the body
          const memberShape = model.shapes[ref.shape];
          if (memberShape?.type === 'list' && memberShape.flattened === true) {
            const itemName = ref.locationName ?? memberShape.member?.locationName ?? member;
            if (itemName === element) target = memberShape.member!.shape;
          } else if ((ref.locationName ?? member) === element) {
            target = ref.shape;
          }
          if (target !== undefined) break;
        }
        if (target === undefined) problems.push(`${where}: <${element}> is not a member of ${shapeName}`);
        else
          problems.push(
            ...checkXmlValue(model, target, child[element] as XmlNode[], `${where} <${element}>`),
          );
      }
      break;
    }
    case 'list': {
      const itemName = shape.member?.locationName ?? 'member';
      for (const child of children) {
        if ('#text' in child) continue;
        const element = elementName(child);
        if (element !== itemName) problems.push(`${where}: <${element}> in a list of <${itemName}>`);
        else
          problems.push(
            ...checkXmlValue(
              model,
              shape.member!.shape,
              child[element] as XmlNode[],
              `${where} <${element}>`,
            ),
          );
      }
      break;
    }
    case 'boolean':
      scalar((value) => value === 'true' || value === 'false', 'a boolean');
      break;
    case 'integer':
    case 'long':
      scalar((value) => /^-?\d+$/.test(value), 'an integer');
      break;
    case 'timestamp':
      scalar((value) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value), 'an ISO 8601 timestamp');
      break;
    case 'string':
      scalar(
        (value) => shape.enum === undefined || shape.enum.includes(value),
        `one of ${(shape.enum ?? []).join(', ')}`,
      );
      break;
    default:
      if (text === undefined) problems.push(`${where}: expected ${shape.type} text, found elements`);
  }
  return problems;
}
