/**
 * What the IAM provisioners share: policy-document checks (IAM refuses a document without
 * `Statement`; CloudFormation refuses one that is not a JSON object) and ARN/ID formats.
 */
import { randomBytes } from 'node:crypto';
import { isTemplateObject, type TemplateObject } from '../template/index.js';
import { invalidProperty, ProvisionError, typeName, type ProvisionContext } from './types.js';

/** A policy document property as an object: templates may give it as an object or as JSON text. */
export function policyDocument(properties: TemplateObject, name: string): TemplateObject {
  let document = properties[name];
  if (document === undefined || document === null) {
    throw invalidProperty(`Property validation failure: [#: required key [${name}] not found]`);
  }
  if (typeof document === 'string') {
    try {
      document = JSON.parse(document) as TemplateObject;
    } catch {
      throw new ProvisionError(`Syntax errors in policy. (Service: Iam, Status Code: 400)`, 'InvalidRequest');
    }
  }
  if (!isTemplateObject(document)) {
    throw invalidProperty(
      `Property validation failure: [#/${name}: expected type: JSONObject, found: ${typeName(document)}]`,
    );
  }
  const statement = document.Statement;
  if (typeof document.Version !== 'string' || statement === undefined || statement === null) {
    throw new ProvisionError(
      `Syntax errors in policy: ${name} must have a Version and a Statement. (Service: Iam, Status Code: 400)`,
      'InvalidRequest',
    );
  }
  if (typeof statement !== 'object') {
    throw new ProvisionError(
      `Syntax errors in policy: ${name} Statement must be an object or a list. (Service: Iam, Status Code: 400)`,
      'InvalidRequest',
    );
  }
  return document;
}

/** IAM paths start and end with `/` (default `/`). */
export function iamPath(properties: TemplateObject, name = 'Path'): string {
  const value = properties[name];
  if (value === undefined || value === null) return '/';
  if (typeof value !== 'string' || !/^\/([\x21-\x7e]*\/)?$/.test(value)) {
    throw invalidProperty(
      `Property validation failure: [#/${name}: string [${String(value)}] does not match pattern (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)]`,
    );
  }
  return value;
}

/** IAM unique IDs: a type prefix (`AROA` roles, `ANPA` managed policies) and 17 characters. */
export function iamUniqueId(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = prefix;
  for (const byte of randomBytes(17)) out += alphabet[byte % alphabet.length];
  return out;
}

export function iamArn(ctx: ProvisionContext, kind: 'role' | 'policy', path: string, name: string): string {
  return `arn:${ctx.partition}:iam::${ctx.accountId}:${kind}${path}${name}`;
}
