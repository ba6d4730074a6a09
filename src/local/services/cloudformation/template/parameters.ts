/**
 * Template parameters: which declared types are supported, and resolving the values a caller
 * gives (plus Defaults) against the declarations' constraints, with CloudFormation's messages.
 */
import { TemplateError, type ParameterDeclaration, type ParameterValue, type Template } from './types.js';

/** How a parameter's value behaves: a string, a number (still a string to `Ref`), or a list of either. */
export type ParameterKind = 'String' | 'Number' | 'List<Number>' | 'CommaDelimitedList';

const AWS_SPECIFIC_TYPE = /^(AWS::EC2::[A-Za-z0-9]+::[A-Za-z0-9]+|AWS::Route53::HostedZone::Id)$/;

/**
 * The kind of a declared parameter type; `unsupported` for SSM parameter types (they need AWS
 * Systems Manager), undefined for a type CloudFormation does not know. AWS-specific EC2/Route 53
 * types are accepted as plain strings (the local stack has no EC2 to check them against).
 */
export function parameterKind(type: string): ParameterKind | 'unsupported' | undefined {
  if (type === 'String' || type === 'Number' || type === 'List<Number>' || type === 'CommaDelimitedList')
    return type;
  if (type.startsWith('AWS::SSM::') || type.startsWith('List<AWS::SSM::')) return 'unsupported';
  if (AWS_SPECIFIC_TYPE.test(type)) return 'String';
  const list = /^List<(.+)>$/.exec(type);
  if (list && AWS_SPECIFIC_TYPE.test(list[1] as string)) return 'CommaDelimitedList';
  return undefined;
}

export interface ResolvedParameters {
  /** What `Ref` returns for each parameter: a string, or a list of strings for list types. */
  readonly values: Readonly<Record<string, ParameterValue>>;
  /** Each value as given or defaulted, in template order (DescribeStacks' `Parameters`). */
  readonly raw: Readonly<Record<string, string>>;
  /** NoEcho parameters: describe output shows `****` for them. */
  readonly noEcho: readonly string[];
}

export const MASKED_PARAMETER_VALUE = '****';

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function isList(kind: ParameterKind): boolean {
  return kind === 'List<Number>' || kind === 'CommaDelimitedList';
}

function constraintProblem(
  name: string,
  declaration: ParameterDeclaration,
  kind: ParameterKind,
  value: string,
): string | undefined {
  const items = isList(kind) ? value.split(',').map((item) => item.trim()) : [value];
  const numeric = kind === 'Number' || kind === 'List<Number>';
  for (const item of items) {
    if (numeric && !NUMBER.test(item.trim())) return `Parameter '${name}' must be a number`;
  }
  const failed = (message: string): string =>
    declaration.ConstraintDescription !== undefined
      ? `Parameter '${name}' failed to satisfy constraint: ${declaration.ConstraintDescription}`
      : message;
  for (const item of items) {
    if (declaration.AllowedValues && !declaration.AllowedValues.includes(item)) {
      return failed(`Parameter '${name}' must be one of AllowedValues`);
    }
    if (numeric) {
      const number = Number(item);
      if (declaration.MinValue !== undefined && number < declaration.MinValue) {
        return failed(`Parameter '${name}' must be a number not less than ${declaration.MinValue}`);
      }
      if (declaration.MaxValue !== undefined && number > declaration.MaxValue) {
        return failed(`Parameter '${name}' must be a number not greater than ${declaration.MaxValue}`);
      }
      continue;
    }
    if (declaration.MinLength !== undefined && item.length < declaration.MinLength) {
      return failed(`Parameter '${name}' must contain at least ${declaration.MinLength} characters`);
    }
    if (declaration.MaxLength !== undefined && item.length > declaration.MaxLength) {
      return failed(`Parameter '${name}' must contain at most ${declaration.MaxLength} characters`);
    }
    // CloudFormation matches AllowedPattern against the whole value (Java's `matches`).
    if (
      declaration.AllowedPattern !== undefined &&
      !new RegExp(`^(?:${declaration.AllowedPattern})$`, 'u').test(item)
    ) {
      return failed(`Parameter '${name}' must match pattern ${declaration.AllowedPattern}`);
    }
  }
  return undefined;
}

/**
 * Resolves parameter values: given values win, then Defaults. Throws a `TemplateError` listing
 * every problem: unknown names, missing values, then constraint violations in template order.
 */
export function resolveParameters(
  template: Template,
  given: Readonly<Record<string, string>>,
): ResolvedParameters {
  const declared = template.Parameters;
  const unknown = Object.keys(given).filter((name) => !Object.hasOwn(declared, name));
  const missing = Object.entries(declared)
    .filter(([name, declaration]) => !Object.hasOwn(given, name) && declaration.Default === undefined)
    .map(([name]) => name);
  const problems: string[] = [];
  if (unknown.length > 0) problems.push(`Parameters: [${unknown.join(', ')}] do not exist in the template`);
  if (missing.length > 0) problems.push(`Parameters: [${missing.join(', ')}] must have values`);

  const values: Record<string, ParameterValue> = {};
  const raw: Record<string, string> = {};
  const noEcho: string[] = [];
  for (const [name, declaration] of Object.entries(declared)) {
    if (declaration.NoEcho) noEcho.push(name);
    const value = Object.hasOwn(given, name) ? given[name] : declaration.Default;
    if (value === undefined) continue;
    const kind = parameterKind(declaration.Type);
    if (kind === undefined || kind === 'unsupported') {
      problems.push(`Template format error: Unrecognized parameter type: ${declaration.Type}`);
      continue;
    }
    const problem = constraintProblem(name, declaration, kind, value);
    if (problem) problems.push(problem);
    raw[name] = value;
    values[name] = isList(kind) ? value.split(',').map((item) => item.trim()) : value;
  }
  if (problems.length > 0) throw new TemplateError(problems);
  return { values, raw, noEcho };
}

/** `[{ParameterKey, ParameterValue}]` as DescribeStacks shows them: NoEcho values masked. */
export function describeParameters(
  resolved: ResolvedParameters,
): Array<{ ParameterKey: string; ParameterValue: string }> {
  return Object.entries(resolved.raw).map(([ParameterKey, value]) => ({
    ParameterKey,
    ParameterValue: resolved.noEcho.includes(ParameterKey) ? MASKED_PARAMETER_VALUE : value,
  }));
}
