/**
 * The intrinsic-function resolver: turns template values into concrete values given parameter
 * values, pseudo parameters, mappings, evaluated conditions, and callbacks for what only the
 * provisioning engine knows (physical IDs, resource attributes, other stacks' exports).
 *
 * In `partial` mode (change-set diffs) a reference that cannot be resolved yet stays in place as
 * its long-form intrinsic, with everything around it resolved as far as possible, so two versions
 * of a template can be compared structurally.
 */
import { getAttArguments, intrinsicName, parseSubString, subVariableReference } from './references.js';
import {
  isTemplateObject,
  PSEUDO_PARAMETER_NAMES,
  TemplateError,
  type Mappings,
  type ParameterValue,
  type PseudoParameters,
  type Template,
  type TemplateObject,
  type TemplateValue,
} from './types.js';

export interface ResolveContext {
  /** Resolved parameter values (see `resolveParameters`). */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  readonly pseudo: PseudoParameters;
  readonly mappings?: Mappings;
  /** Evaluated conditions (see `evaluateConditions`); needed by `Fn::If`. */
  readonly conditions?: Readonly<Record<string, boolean>>;
  /** The physical ID `Ref` returns for a resource; undefined when not known (yet). */
  readonly ref?: (logicalId: string) => TemplateValue | undefined;
  /** A resource attribute's value; undefined when not known (yet). */
  readonly getAtt?: (logicalId: string, attribute: string) => TemplateValue | undefined;
  /** Another stack's export; undefined when there is no such export. */
  readonly importValue?: (exportName: string) => string | undefined;
  /** Leave unresolvable references in place instead of failing (for change-set diffs). */
  readonly partial?: boolean;
}

/** Functions this engine implements (what ValidateTemplate accepts). */
export const SUPPORTED_FUNCTIONS: readonly string[] = [
  'Fn::And',
  'Fn::Base64',
  'Fn::Equals',
  'Fn::FindInMap',
  'Fn::GetAtt',
  'Fn::GetAZs',
  'Fn::If',
  'Fn::ImportValue',
  'Fn::Join',
  'Fn::Not',
  'Fn::Or',
  'Fn::Select',
  'Fn::Split',
  'Fn::Sub',
  'Ref',
];

export const USAGE = {
  ref: 'Template error: every Ref object must have a single String value.',
  getAtt: 'Template error: every Fn::GetAtt object requires two non-empty parameters',
  sub:
    "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string " +
    'as first argument, and an optional second argument to specify a mapping of values to replace in the string',
  join:
    'Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of ' +
    'strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.',
  select:
    'Template error: Fn::Select requires a list argument with two elements: an integer index and a list',
  split:
    'Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to ' +
    'be split or a function that returns a string to be split.',
  if: 'Template error: every Fn::If object requires three parameters: a condition name, a value if true and a value if false',
  findInMap:
    'Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the ' +
    'attribute for return value',
  equals: 'Template error: every Fn::Equals object requires a list of 2 string parameters.',
  not: 'Template error: every Fn::Not object requires a list with exactly 1 boolean parameter.',
  base64: 'Template error: every Fn::Base64 object must have a String value',
  importValue: 'Template error: every Fn::ImportValue object must have a String value',
} as const;

export function unsupportedFunctionMessage(name: string): string {
  return `Template format error: Encountered unsupported function: ${name} Supported functions are: [${SUPPORTED_FUNCTIONS.join(', ')}]`;
}

function andOrUsage(name: string): string {
  return `Template error: every ${name} object requires a list of at least 2 and at most 10 boolean parameters.`;
}

/** `aws`, `aws-cn` or `aws-us-gov`, as the region implies. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const NO_VALUE: unique symbol = Symbol('AWS::NoValue');
type Resolved = TemplateValue | typeof NO_VALUE;

function scalarText(value: Resolved): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Deep equality where scalars compare by their string form (`5` equals `"5"`), as CloudFormation compares. */
export function sameTemplateValue(left: TemplateValue, right: TemplateValue): boolean {
  if (Array.isArray(left) || Array.isArray(right)) {
    return (
      Array.isArray(left) &&
      Array.isArray(right) &&
      left.length === right.length &&
      left.every((item, index) => sameTemplateValue(item, right[index] as TemplateValue))
    );
  }
  if (isTemplateObject(left) || isTemplateObject(right)) {
    if (!isTemplateObject(left) || !isTemplateObject(right)) return false;
    const keys = Object.keys(left);
    return (
      keys.length === Object.keys(right).length &&
      keys.every(
        (key) =>
          Object.hasOwn(right, key) &&
          sameTemplateValue(left[key] as TemplateValue, right[key] as TemplateValue),
      )
    );
  }
  return (scalarText(left) ?? '') === (scalarText(right) ?? '');
}

type ConditionLookup = (name: string, path: string, usedIn: string) => boolean;

class Resolver {
  constructor(
    private readonly ctx: ResolveContext,
    private readonly lookupCondition: ConditionLookup,
  ) {}

  fail(message: string, path: string): never {
    throw new TemplateError(path ? `${message} (at ${path})` : message, path || undefined);
  }

  value(value: TemplateValue, path: string): Resolved {
    if (Array.isArray(value)) {
      const items: TemplateValue[] = [];
      value.forEach((item, index) => {
        const resolved = this.value(item, `${path}/${index}`);
        if (resolved !== NO_VALUE) items.push(resolved);
      });
      return items;
    }
    if (!isTemplateObject(value)) return value;
    const fn = intrinsicName(value);
    if (fn !== undefined) return this.call(fn, value[fn] as TemplateValue, `${path}/${fn}`);
    const object: TemplateObject = {};
    for (const [key, item] of Object.entries(value)) {
      const resolved = this.value(item, `${path}/${key}`);
      if (resolved !== NO_VALUE) object[key] = resolved;
    }
    return object;
  }

  /** A condition expression: `{"Condition": name}`, a boolean, or a function returning one. */
  condition(value: TemplateValue, path: string): boolean | TemplateValue {
    if (isTemplateObject(value) && Object.keys(value).length === 1 && typeof value.Condition === 'string') {
      return this.lookupCondition(value.Condition, `${path}/Condition`, 'Condition');
    }
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    const fn = intrinsicName(value);
    if (fn !== undefined && isTemplateObject(value)) {
      const result = this.call(fn, value[fn] as TemplateValue, `${path}/${fn}`);
      if (typeof result === 'boolean' || (this.ctx.partial && result !== NO_VALUE && intrinsicName(result))) {
        return result;
      }
    }
    return this.fail(
      'Template format error: Conditions can only be boolean operations on parameters and other conditions',
      path,
    );
  }

  private call(fn: string, argument: TemplateValue, path: string): Resolved {
    switch (fn) {
      case 'Ref':
        if (typeof argument !== 'string') return this.fail(USAGE.ref, path);
        return this.ref(argument, path);
      case 'Fn::GetAtt':
        return this.getAtt(argument, path);
      case 'Fn::Sub':
        return this.sub(argument, path);
      case 'Fn::Join':
        return this.join(argument, path);
      case 'Fn::Select':
        return this.select(argument, path);
      case 'Fn::Split':
        return this.split(argument, path);
      case 'Fn::If':
        return this.if(argument, path);
      case 'Fn::FindInMap':
        return this.findInMap(argument, path);
      case 'Fn::ImportValue':
        return this.importValue(argument, path);
      case 'Fn::Base64':
        return this.base64(argument, path);
      case 'Fn::GetAZs':
        return this.getAZs(argument, path);
      case 'Fn::Equals':
        return this.equals(argument, path);
      case 'Fn::And':
      case 'Fn::Or':
        return this.andOr(fn, argument, path);
      case 'Fn::Not':
        return this.not(argument, path);
      default:
        return this.fail(unsupportedFunctionMessage(fn), path);
    }
  }

  private unresolved(fn: string, argument: TemplateValue): TemplateObject {
    return { [fn]: argument };
  }

  private ref(name: string, path: string): Resolved {
    const parameter = Object.hasOwn(this.ctx.parameters, name) ? this.ctx.parameters[name] : undefined;
    if (parameter !== undefined) return Array.isArray(parameter) ? [...parameter] : parameter;
    if (PSEUDO_PARAMETER_NAMES.includes(name)) return this.pseudo(name);
    const physicalId = this.ctx.ref?.(name);
    if (physicalId !== undefined) return physicalId;
    if (this.ctx.partial) return { Ref: name };
    return this.fail(
      `Template error: Ref ${name} cannot be resolved: it is neither a parameter nor a created resource`,
      path,
    );
  }

  private pseudo(name: string): Resolved {
    const { pseudo } = this.ctx;
    switch (name) {
      case 'AWS::AccountId':
        return pseudo.accountId;
      case 'AWS::Region':
        return pseudo.region;
      case 'AWS::StackId':
        return pseudo.stackId;
      case 'AWS::StackName':
        return pseudo.stackName;
      case 'AWS::Partition':
        return pseudo.partition ?? partitionOf(pseudo.region);
      case 'AWS::URLSuffix':
        return pseudo.urlSuffix ?? (pseudo.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com');
      case 'AWS::NotificationARNs':
        return [...(pseudo.notificationArns ?? [])];
      default:
        return NO_VALUE;
    }
  }

  private getAtt(argument: TemplateValue, path: string): Resolved {
    const args = getAttArguments(argument);
    if (!args) return this.fail(USAGE.getAtt, path);
    const [target, attributeExpression] = args;
    const attribute = this.value(attributeExpression, `${path}/1`);
    if (typeof target !== 'string' || !target) return this.fail(USAGE.getAtt, path);
    if (attribute !== NO_VALUE && intrinsicName(attribute))
      return this.unresolved('Fn::GetAtt', [target, attribute]);
    if (typeof attribute !== 'string' || !attribute) return this.fail(USAGE.getAtt, path);
    return this.attribute(target, attribute, path);
  }

  private attribute(target: string, attribute: string, path: string): Resolved {
    const value = this.ctx.getAtt?.(target, attribute);
    if (value !== undefined) return value;
    if (this.ctx.partial) return this.unresolved('Fn::GetAtt', [target, attribute]);
    return this.fail(
      `Template error: Fn::GetAtt ${target}.${attribute} cannot be resolved: no such value yet`,
      path,
    );
  }

  private sub(argument: TemplateValue, path: string): Resolved {
    let text: string;
    let variables: TemplateObject = {};
    if (typeof argument === 'string') {
      text = argument;
    } else if (
      Array.isArray(argument) &&
      argument.length === 2 &&
      typeof argument[0] === 'string' &&
      isTemplateObject(argument[1])
    ) {
      text = argument[0];
      variables = argument[1];
    } else {
      return this.fail(USAGE.sub, path);
    }
    const values = new Map<string, Resolved>();
    for (const [name, expression] of Object.entries(variables)) {
      values.set(name, this.value(expression, `${path}/1/${name}`));
    }
    let output = '';
    let partialText = '';
    const pending: TemplateObject = {};
    let unresolved = false;
    for (const part of parseSubString(text)) {
      if (part.kind === 'text') {
        output += part.text;
        partialText += part.text;
        continue;
      }
      if (part.kind === 'escape') {
        output += `\${${part.text}}`;
        partialText += `\${!${part.text}}`;
        continue;
      }
      let value: Resolved;
      if (values.has(part.name)) {
        value = values.get(part.name) as Resolved;
      } else {
        const reference = subVariableReference(part.name, path);
        value =
          reference.kind === 'GetAtt'
            ? this.attribute(reference.target, reference.attribute ?? '', path)
            : this.ref(reference.target, path);
      }
      if (value !== NO_VALUE && intrinsicName(value)) {
        unresolved = true;
        partialText += `\${${part.name}}`;
        if (values.has(part.name)) pending[part.name] = value;
        continue;
      }
      const piece = scalarText(value);
      if (piece === undefined) {
        return this.fail(`Template error: variable ${part.name} in Fn::Sub must resolve to a string`, path);
      }
      output += piece;
      partialText += piece;
    }
    if (!unresolved) return output;
    return Object.keys(pending).length > 0
      ? this.unresolved('Fn::Sub', [partialText, pending])
      : this.unresolved('Fn::Sub', partialText);
  }

  private join(argument: TemplateValue, path: string): Resolved {
    if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') {
      return this.fail(USAGE.join, path);
    }
    const delimiter = argument[0];
    const list = this.value(argument[1] as TemplateValue, `${path}/1`);
    if (list !== NO_VALUE && intrinsicName(list)) return this.unresolved('Fn::Join', [delimiter, list]);
    if (!Array.isArray(list)) return this.fail(USAGE.join, path);
    const pieces: string[] = [];
    let unresolved = false;
    for (const item of list) {
      if (intrinsicName(item)) {
        unresolved = true;
        continue;
      }
      const piece = scalarText(item);
      if (piece === undefined) return this.fail(USAGE.join, path);
      pieces.push(piece);
    }
    return unresolved ? this.unresolved('Fn::Join', [delimiter, list]) : pieces.join(delimiter);
  }

  private select(argument: TemplateValue, path: string): Resolved {
    if (!Array.isArray(argument) || argument.length !== 2) return this.fail(USAGE.select, path);
    const index = this.value(argument[0] as TemplateValue, `${path}/0`);
    const list = this.value(argument[1] as TemplateValue, `${path}/1`);
    if (index === NO_VALUE || list === NO_VALUE) return this.fail(USAGE.select, path);
    if (intrinsicName(index) || intrinsicName(list)) return this.unresolved('Fn::Select', [index, list]);
    const indexText = scalarText(index)?.trim() ?? '';
    if (!/^\d+$/.test(indexText) || !Array.isArray(list)) return this.fail(USAGE.select, path);
    const position = Number(indexText);
    if (position >= list.length) {
      return this.fail(
        `Template error: Fn::Select cannot select nonexistent value at index ${position}`,
        path,
      );
    }
    return list[position] as TemplateValue;
  }

  private split(argument: TemplateValue, path: string): Resolved {
    if (
      !Array.isArray(argument) ||
      argument.length !== 2 ||
      typeof argument[0] !== 'string' ||
      !argument[0]
    ) {
      return this.fail(USAGE.split, path);
    }
    const delimiter = argument[0];
    const source = this.value(argument[1] as TemplateValue, `${path}/1`);
    if (source !== NO_VALUE && intrinsicName(source))
      return this.unresolved('Fn::Split', [delimiter, source]);
    const text = scalarText(source);
    if (text === undefined) return this.fail(USAGE.split, path);
    return text.split(delimiter);
  }

  private if(argument: TemplateValue, path: string): Resolved {
    if (!Array.isArray(argument) || argument.length !== 3 || typeof argument[0] !== 'string') {
      return this.fail(USAGE.if, path);
    }
    const chosen = this.lookupCondition(argument[0], `${path}/0`, 'Fn::If') ? 1 : 2;
    return this.value(argument[chosen] as TemplateValue, `${path}/${chosen}`);
  }

  private findInMap(argument: TemplateValue, path: string): Resolved {
    if (!Array.isArray(argument) || argument.length !== 3) return this.fail(USAGE.findInMap, path);
    const keys = argument.map((item, index) => this.value(item, `${path}/${index}`));
    if (keys.some((key) => key !== NO_VALUE && intrinsicName(key))) {
      return this.unresolved(
        'Fn::FindInMap',
        keys.map((key) => (key === NO_VALUE ? null : key)),
      );
    }
    const [mapName, topKey, secondKey] = keys.map(scalarText);
    if (mapName === undefined || topKey === undefined || secondKey === undefined) {
      return this.fail(USAGE.findInMap, path);
    }
    const mapping = this.ctx.mappings?.[mapName];
    if (!mapping || !Object.hasOwn(this.ctx.mappings ?? {}, mapName)) {
      return this.fail(
        `Template error: Mapping named '${mapName}' is not present in the 'Mappings' section of template.`,
        path,
      );
    }
    const top = Object.hasOwn(mapping, topKey) ? mapping[topKey] : undefined;
    const value = top && Object.hasOwn(top, secondKey) ? top[secondKey] : undefined;
    if (value === undefined) {
      return this.fail(`Template error: Unable to get mapping for ${mapName}::${topKey}::${secondKey}`, path);
    }
    return structuredClone(value);
  }

  private importValue(argument: TemplateValue, path: string): Resolved {
    const name = this.value(argument, path);
    if (name !== NO_VALUE && intrinsicName(name)) return this.unresolved('Fn::ImportValue', name);
    if (typeof name !== 'string' || !name) return this.fail(USAGE.importValue, path);
    const value = this.ctx.importValue?.(name);
    if (value !== undefined) return value;
    if (this.ctx.partial) return this.unresolved('Fn::ImportValue', name);
    return this.fail(`No export named ${name} found.`, path);
  }

  private base64(argument: TemplateValue, path: string): Resolved {
    const value = this.value(argument, path);
    if (value !== NO_VALUE && intrinsicName(value)) return this.unresolved('Fn::Base64', value);
    const text = scalarText(value);
    if (text === undefined) return this.fail(USAGE.base64, path);
    return Buffer.from(text, 'utf8').toString('base64');
  }

  private getAZs(argument: TemplateValue, path: string): Resolved {
    const value = argument === null ? '' : this.value(argument, path);
    if (value !== NO_VALUE && intrinsicName(value)) return this.unresolved('Fn::GetAZs', value);
    const region = scalarText(value);
    if (region === undefined)
      return this.fail('Template error: every Fn::GetAZs object requires a region name', path);
    const name = region || this.ctx.pseudo.region;
    return ['a', 'b', 'c'].map((zone) => `${name}${zone}`);
  }

  private equals(argument: TemplateValue, path: string): Resolved {
    if (!Array.isArray(argument) || argument.length !== 2) return this.fail(USAGE.equals, path);
    const [left, right] = argument.map((item, index) => this.value(item, `${path}/${index}`)) as [
      Resolved,
      Resolved,
    ];
    const l = left === NO_VALUE ? '' : left;
    const r = right === NO_VALUE ? '' : right;
    if (intrinsicName(l) || intrinsicName(r)) return this.unresolved('Fn::Equals', [l, r]);
    return sameTemplateValue(l, r);
  }

  private andOr(fn: 'Fn::And' | 'Fn::Or', argument: TemplateValue, path: string): Resolved {
    if (!Array.isArray(argument) || argument.length < 2 || argument.length > 10) {
      return this.fail(andOrUsage(fn), path);
    }
    const results = argument.map((item, index) => this.condition(item, `${path}/${index}`));
    if (results.some((result) => typeof result !== 'boolean')) return this.unresolved(fn, results);
    return fn === 'Fn::And' ? results.every(Boolean) : results.some(Boolean);
  }

  private not(argument: TemplateValue, path: string): Resolved {
    if (!Array.isArray(argument) || argument.length !== 1) return this.fail(USAGE.not, path);
    const result = this.condition(argument[0] as TemplateValue, `${path}/0`);
    return typeof result === 'boolean' ? !result : this.unresolved('Fn::Not', [result]);
  }
}

function conditionsLookup(ctx: ResolveContext): ConditionLookup {
  return (name, path, usedIn) => {
    const value = ctx.conditions && Object.hasOwn(ctx.conditions, name) ? ctx.conditions[name] : undefined;
    if (value === undefined) {
      throw new TemplateError(
        `Template error: unresolved condition dependency ${name} in ${usedIn} (at ${path})`,
        path,
      );
    }
    return value;
  };
}

/**
 * Resolves every intrinsic function in `value`. Returns undefined when the whole value is
 * `AWS::NoValue` (the property it belongs to is to be removed); inside objects and lists,
 * `AWS::NoValue` removes the key or element. `path` (e.g. `/Resources/Bucket/Properties`) is
 * used to locate errors.
 */
export function resolveValue(
  value: TemplateValue,
  ctx: ResolveContext,
  path = '',
): TemplateValue | undefined {
  const resolved = new Resolver(ctx, conditionsLookup(ctx)).value(value, path);
  return resolved === NO_VALUE ? undefined : resolved;
}

/**
 * Evaluates one condition expression (the value of a `Conditions` entry). `lookup` supplies
 * the other conditions it names; `evaluateConditions` uses it to evaluate them in dependency order.
 */
export function evaluateConditionExpression(
  expression: TemplateValue,
  ctx: ResolveContext,
  lookup: (name: string, path: string, usedIn: string) => boolean,
  path: string,
): boolean {
  const resolver = new Resolver({ ...ctx, partial: false }, lookup);
  const result = resolver.condition(expression, path);
  if (typeof result !== 'boolean') {
    return resolver.fail(
      'Template format error: Conditions can only be boolean operations on parameters and other conditions',
      path,
    );
  }
  return result;
}

/** A resource's resolved `Properties` (`{}` when it has none). */
export function resolveResourceProperties(
  template: Template,
  logicalId: string,
  ctx: ResolveContext,
): TemplateObject {
  const resource = template.Resources[logicalId];
  if (!resource)
    throw new TemplateError(`Template error: resource ${logicalId} is not defined in the template`);
  const resolved = resolveValue(resource.Properties, ctx, `/Resources/${logicalId}/Properties`);
  return isTemplateObject(resolved) ? resolved : {};
}

export interface ResolvedOutput {
  readonly OutputKey: string;
  readonly OutputValue: string;
  readonly Description?: string;
  readonly ExportName?: string;
}

function outputText(value: TemplateValue | undefined, path: string, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(
    `Template format error: The ${what} field of every Outputs member must evaluate to a String. (at ${path})`,
    path,
  );
}

/** The stack's Outputs: those whose Condition holds, resolved, in template order. */
export function resolveOutputs(template: Template, ctx: ResolveContext): ResolvedOutput[] {
  const outputs: ResolvedOutput[] = [];
  for (const [key, output] of Object.entries(template.Outputs)) {
    if (
      output.Condition !== undefined &&
      !conditionsLookup(ctx)(output.Condition, `/Outputs/${key}/Condition`, 'Outputs')
    ) {
      continue;
    }
    const base = `/Outputs/${key}`;
    const result: { -readonly [K in keyof ResolvedOutput]: ResolvedOutput[K] } = {
      OutputKey: key,
      OutputValue: outputText(resolveValue(output.Value, ctx, `${base}/Value`), `${base}/Value`, 'Value'),
    };
    if (output.Description !== undefined) {
      result.Description = outputText(
        resolveValue(output.Description, ctx, `${base}/Description`),
        `${base}/Description`,
        'Description',
      );
    }
    if (output.ExportName !== undefined) {
      result.ExportName = outputText(
        resolveValue(output.ExportName, ctx, `${base}/Export/Name`),
        `${base}/Export/Name`,
        'Export Name',
      );
    }
    outputs.push(result);
  }
  return outputs;
}
