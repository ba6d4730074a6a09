/**
 * Finding what a piece of template refers to: `Ref`s, `Fn::GetAtt`s, `Fn::Sub` variables (which are
 * implicit Refs and GetAtts) and the condition names `Fn::If` uses. Validation, the dependency graph
 * and change-set diffs all read references through here, so they agree on what counts.
 */
import { isTemplateObject, type TemplateObject, type TemplateValue } from './types.js';

export type Reference =
  | { readonly kind: 'Ref'; readonly target: string; readonly path: string }
  /** `attribute` is undefined when the attribute name is itself computed (`!GetAtt [R, !Ref P]`). */
  | {
      readonly kind: 'GetAtt';
      readonly target: string;
      readonly attribute: string | undefined;
      readonly path: string;
    }
  /** A condition name used by `Fn::If` or by `{"Condition": …}` inside a condition expression. */
  | { readonly kind: 'Condition'; readonly target: string; readonly path: string };

export interface ReferenceScanOptions {
  /** When given, only the branch of each `Fn::If` that these conditions select is scanned. */
  readonly conditions?: Readonly<Record<string, boolean>>;
  /** Scan as a condition expression: `{"Condition": name}` is a reference there (and only there). */
  readonly conditionExpression?: boolean;
}

/** The name of the intrinsic function a value calls, if it is one (`Ref` or `Fn::*`, as the only key). */
export function intrinsicName(value: TemplateValue | undefined): string | undefined {
  if (!isTemplateObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0] as string;
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

export type SubPart =
  | { readonly kind: 'text'; readonly text: string }
  /** `${!Name}`: the literal text `${Name}`. */
  | { readonly kind: 'escape'; readonly text: string }
  | { readonly kind: 'variable'; readonly name: string };

/** Splits an `Fn::Sub` string into literal text, `${!…}` escapes and `${…}` variables. */
export function parseSubString(text: string): SubPart[] {
  const parts: SubPart[] = [];
  let literal = '';
  let index = 0;
  while (index < text.length) {
    const start = text.indexOf('${', index);
    if (start < 0) break;
    const end = text.indexOf('}', start + 2);
    if (end < 0) break;
    literal += text.slice(index, start);
    const inner = text.slice(start + 2, end);
    if (inner.startsWith('!')) {
      if (literal) parts.push({ kind: 'text', text: literal });
      literal = '';
      parts.push({ kind: 'escape', text: inner.slice(1) });
    } else {
      if (literal) parts.push({ kind: 'text', text: literal });
      literal = '';
      parts.push({ kind: 'variable', name: inner.trim() });
    }
    index = end + 1;
  }
  literal += text.slice(index);
  if (literal) parts.push({ kind: 'text', text: literal });
  return parts;
}

/** A `${Name}` or `${Resource.Attribute}` Sub variable as the reference it stands for. */
export function subVariableReference(name: string, path: string): Reference {
  const dot = name.indexOf('.');
  if (dot < 0) return { kind: 'Ref', target: name, path };
  return { kind: 'GetAtt', target: name.slice(0, dot), attribute: name.slice(dot + 1), path };
}

/** `Fn::GetAtt` arguments in either accepted shape: `[Resource, Attribute]` or `"Resource.Attribute"`. */
export function getAttArguments(argument: TemplateValue): [TemplateValue, TemplateValue] | undefined {
  if (typeof argument === 'string') {
    const dot = argument.indexOf('.');
    return dot < 0 ? undefined : [argument.slice(0, dot), argument.slice(dot + 1)];
  }
  if (Array.isArray(argument) && argument.length === 2)
    return [argument[0] as TemplateValue, argument[1] as TemplateValue];
  return undefined;
}

const CONDITION_FUNCTIONS = new Set(['Fn::And', 'Fn::Or', 'Fn::Not']);

/** Every reference inside `value`, with JSON-pointer-style paths rooted at `path`. */
export function collectReferences(
  value: TemplateValue,
  path: string,
  options: ReferenceScanOptions = {},
): Reference[] {
  const found: Reference[] = [];
  scan(value, path, options.conditionExpression === true, options, found);
  return found;
}

function scan(
  value: TemplateValue,
  path: string,
  inCondition: boolean,
  options: ReferenceScanOptions,
  found: Reference[],
): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => scan(item, `${path}/${index}`, inCondition, options, found));
    return;
  }
  if (!isTemplateObject(value)) return;
  const fn = intrinsicName(value);
  if (fn === undefined) {
    const keys = Object.keys(value);
    if (inCondition && keys.length === 1 && keys[0] === 'Condition' && typeof value.Condition === 'string') {
      found.push({ kind: 'Condition', target: value.Condition, path: `${path}/Condition` });
      return;
    }
    for (const key of keys) scan(value[key] as TemplateValue, `${path}/${key}`, false, options, found);
    return;
  }
  const argument = value[fn] as TemplateValue;
  const here = `${path}/${fn}`;
  switch (fn) {
    case 'Ref':
      if (typeof argument === 'string') found.push({ kind: 'Ref', target: argument, path: here });
      return;
    case 'Fn::GetAtt': {
      const args = getAttArguments(argument);
      if (!args || typeof args[0] !== 'string') return;
      const [target, attribute] = args;
      found.push({
        kind: 'GetAtt',
        target,
        attribute: typeof attribute === 'string' ? attribute : undefined,
        path: here,
      });
      if (typeof attribute !== 'string') scan(attribute, `${here}/1`, false, options, found);
      return;
    }
    case 'Fn::Sub':
      scanSub(argument, here, options, found);
      return;
    case 'Fn::If':
      scanIf(argument, here, inCondition, options, found);
      return;
    default:
      scan(argument, here, CONDITION_FUNCTIONS.has(fn), options, found);
  }
}

function scanSub(
  argument: TemplateValue,
  path: string,
  options: ReferenceScanOptions,
  found: Reference[],
): void {
  let text: TemplateValue | undefined = argument;
  let variables: TemplateObject = {};
  if (Array.isArray(argument)) {
    text = argument[0];
    const second = argument[1];
    if (isTemplateObject(second)) {
      variables = second;
      for (const [name, expression] of Object.entries(second)) {
        scan(expression, `${path}/1/${name}`, false, options, found);
      }
    }
  }
  if (typeof text !== 'string') return;
  for (const part of parseSubString(text)) {
    if (part.kind === 'variable' && !(part.name in variables))
      found.push(subVariableReference(part.name, path));
  }
}

function scanIf(
  argument: TemplateValue,
  path: string,
  inCondition: boolean,
  options: ReferenceScanOptions,
  found: Reference[],
): void {
  if (!Array.isArray(argument)) return;
  const [condition, whenTrue, whenFalse] = argument;
  if (typeof condition === 'string') found.push({ kind: 'Condition', target: condition, path: `${path}/0` });
  const chosen = typeof condition === 'string' ? options.conditions?.[condition] : undefined;
  if (whenTrue !== undefined && chosen !== false) scan(whenTrue, `${path}/1`, inCondition, options, found);
  if (whenFalse !== undefined && chosen !== true) scan(whenFalse, `${path}/2`, inCondition, options, found);
}
