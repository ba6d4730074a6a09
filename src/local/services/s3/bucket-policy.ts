/**
 * Bucket policies as S3 checks them on PutBucketPolicy: the document's structure (JSON whose first
 * byte is `{`, Version, Statement as an object or a non-empty array, known fields only), each
 * statement's Effect, Principal or NotPrincipal (never NotPrincipal with Allow), Action or NotAction
 * (`s3:` actions, wildcards allowed), Resource or NotResource (ARNs naming this bucket or its
 * objects, wildcards allowed) and Condition's shape — refused with `MalformedPolicy` and S3's
 * messages. And whether a policy is public as S3 means it (an Allow to every principal without a
 * condition that fixes who or where the request comes from), which `BlockPublicPolicy` refuses.
 *
 * Policies are validated and stored, not evaluated: the local stack authorises every request by
 * its one credential (server.ts), whatever a policy says.
 */
import { AwsError } from '../../core/errors.js';

const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const DOCUMENT_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const PRINCIPAL_KINDS = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);

/**
 * Condition keys that, fixed to values without wildcards, make an Allow to everyone not public
 * (S3's list: who the caller is, or which account, organisation, network or resource it acts from).
 */
const RESTRICTING_KEYS = new Set([
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceaccount',
  'aws:sourceowner',
  'aws:sourceip',
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principalorgid',
  'aws:userid',
  's3:dataaccesspointarn',
  's3:dataaccesspointaccount',
]);
/** Condition operators that can fix a key (without IfExists, which lets a missing key through). */
const FIXING_OPERATORS = new Set([
  'stringequals',
  'stringequalsignorecase',
  'stringlike',
  'arnequals',
  'arnlike',
  'ipaddress',
]);

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function malformed(message: string): AwsError {
  return new AwsError('MalformedPolicy', message, 400);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A policy element that is one string or a non-empty array of them; undefined otherwise. */
function strings(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
}

/** `*` and `?` as in IAM: any run of characters, any one character. */
function globMatches(pattern: string, text: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(text);
}

function checkPrincipal(value: unknown): void {
  const invalid = (): AwsError => malformed('Invalid principal in policy');
  if (value === '*') return;
  if (!isObject(value) || Object.keys(value).length === 0) throw invalid();
  for (const [kind, given] of Object.entries(value)) {
    if (!PRINCIPAL_KINDS.has(kind)) throw invalid();
    const names = strings(given);
    if (names === undefined) throw invalid();
    for (const name of names) {
      const valid =
        kind === 'AWS'
          ? name === '*' || /^\d{12}$/.test(name) || /^arn:aws[a-z-]*:(iam|sts)::[^:]*:.+$/.test(name)
          : kind === 'Service'
            ? /^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$/.test(name)
            : kind === 'CanonicalUser'
              ? /^[0-9a-f]{64}$/.test(name)
              : name.length > 0;
      if (!valid) throw invalid();
    }
  }
}

function checkActions(value: unknown): void {
  const actions = strings(value);
  if (actions === undefined) throw malformed('Policy has invalid action');
  for (const action of actions) {
    if (action !== '*' && !/^s3:[A-Za-z0-9*?]+$/i.test(action)) throw malformed('Policy has invalid action');
  }
}

/** Every resource must be an S3 ARN whose bucket part matches this bucket (the bucket or its objects). */
function checkResources(value: unknown, bucket: string): void {
  const resources = strings(value);
  if (resources === undefined) throw malformed('Policy has invalid resource');
  for (const resource of resources) {
    const match = /^arn:aws[a-z-]*:s3:::(.+)$/.exec(resource);
    if (match === null) throw malformed('Policy has invalid resource');
    const path = match[1]!;
    const slash = path.indexOf('/');
    const bucketPattern = slash < 0 ? path : path.slice(0, slash);
    // `arn:aws:s3:::*` and `arn:aws:s3:::my*` name this bucket too; `*` may also run past a slash.
    if (!globMatches(bucketPattern, bucket) && !(slash < 0 && globMatches(path, `${bucket}/x`)))
      throw malformed('Policy has invalid resource');
  }
}

function checkCondition(value: unknown): void {
  if (!isObject(value)) throw malformed('Policy has an invalid condition block');
  for (const [operator, keys] of Object.entries(value)) {
    if (!/^[A-Za-z:]+$/.test(operator) || !isObject(keys) || Object.keys(keys).length === 0)
      throw malformed('Policy has an invalid condition block');
    for (const given of Object.values(keys)) {
      const values = Array.isArray(given) ? given : [given];
      if (
        values.length === 0 ||
        !values.every((v) => typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number')
      )
        throw malformed('Policy has an invalid condition block');
    }
  }
}

/** Parses and checks a bucket policy for `bucket`; throws MalformedPolicy with S3's message. */
export function validateBucketPolicy(text: string, bucket: string): PolicyStatement[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw malformed("Policies must be valid JSON and the first byte must be '{'");
  }
  if (!isObject(document) || !text.trimStart().startsWith('{'))
    throw malformed("Policies must be valid JSON and the first byte must be '{'");
  for (const field of Object.keys(document)) {
    if (!DOCUMENT_FIELDS.has(field)) throw malformed(`Unknown field ${field}`);
  }
  if (document.Version !== undefined && !VERSIONS.has(document.Version as string))
    throw malformed('The policy must contain a valid version string');
  if (document.Statement === undefined) throw malformed('Missing required field Statement');
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  if (statements.length === 0) throw malformed('Could not parse the policy: Statement is empty!');
  return statements.map((statement: unknown) => {
    if (!isObject(statement)) throw malformed('This policy contains invalid Json');
    for (const field of Object.keys(statement)) {
      if (!STATEMENT_FIELDS.has(field)) throw malformed(`Unknown field ${field}`);
    }
    if (statement.Effect === undefined) throw malformed('Missing required field Effect');
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny')
      throw malformed(`Invalid effect: ${String(statement.Effect)}`);
    const principal = statement.Principal ?? statement.NotPrincipal;
    if (principal === undefined) throw malformed('Missing required field Principal');
    if (statement.Principal !== undefined && statement.NotPrincipal !== undefined)
      throw malformed('Invalid principal in policy');
    // S3 refuses NotPrincipal with Allow: it would grant everyone but the named principals.
    if (statement.NotPrincipal !== undefined && statement.Effect === 'Allow')
      throw malformed('Invalid principal in policy');
    checkPrincipal(principal);
    if (statement.Action === undefined && statement.NotAction === undefined)
      throw malformed('Missing required field Action');
    if (statement.Action !== undefined && statement.NotAction !== undefined)
      throw malformed('Policy has invalid action');
    checkActions(statement.Action ?? statement.NotAction);
    if (statement.Resource === undefined && statement.NotResource === undefined)
      throw malformed('Missing required field Resource');
    if (statement.Resource !== undefined && statement.NotResource !== undefined)
      throw malformed('Policy has invalid resource');
    checkResources(statement.Resource ?? statement.NotResource, bucket);
    if (statement.Condition !== undefined) checkCondition(statement.Condition);
    return statement as unknown as PolicyStatement;
  });
}

function grantsEveryone(principal: unknown): boolean {
  if (principal === '*') return true;
  if (!isObject(principal)) return false;
  return (strings(principal.AWS) ?? []).includes('*');
}

/** Whether a condition fixes who or where the request comes from (S3's test for "not public"). */
function restricts(condition: PolicyStatement['Condition']): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    const name = operator.toLowerCase().replace(/^foranyvalue:/, '');
    if (!FIXING_OPERATORS.has(name)) continue;
    for (const [key, given] of Object.entries(keys)) {
      if (!RESTRICTING_KEYS.has(key.toLowerCase())) continue;
      const values = (Array.isArray(given) ? given : [given]).map(String);
      const fixed =
        key.toLowerCase() === 'aws:sourceip'
          ? values.every((v) => !/\/0$/.test(v) && v !== '0.0.0.0/0' && v !== '::/0')
          : values.every((v) => !/[*?]/.test(v));
      if (fixed) return true;
    }
  }
  return false;
}

/** True when a statement allows everyone (`*`, `{"AWS": "*"}`) with no condition that restricts it. */
export function isPublicPolicy(statements: readonly PolicyStatement[]): boolean {
  return statements.some(
    (statement) =>
      statement.Effect === 'Allow' && grantsEveryone(statement.Principal) && !restricts(statement.Condition),
  );
}
