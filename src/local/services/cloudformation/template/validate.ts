/**
 * ValidateTemplate / CreateStack's template checks: section structure, parameter declarations,
 * mappings, conditions, resource declarations and types (through an injectable registry),
 * every Ref / GetAtt / Sub variable / DependsOn target, intrinsic-function shapes, and dependency
 * cycles. Problems are collected with CloudFormation's wording into one `TemplateError`.
 */
import { findCycleMembers, buildDependencyGraph } from './graph.js';
import { SUPPORTED_FUNCTIONS, unsupportedFunctionMessage, USAGE } from './intrinsics.js';
import { parameterKind } from './parameters.js';
import { parseTemplate } from './parse.js';
import { collectReferences, getAttArguments, intrinsicName, type Reference } from './references.js';
import {
  isTemplateObject,
  PSEUDO_PARAMETER_NAMES,
  TemplateError,
  type Mappings,
  type OutputDeclaration,
  type ParameterDeclaration,
  type ResourceDeclaration,
  type ResourceTypeRegistry,
  type Template,
  type TemplateObject,
  type TemplateValue,
} from './types.js';

export interface ValidateOptions {
  /** Known resource types and their attributes; without one, every type and attribute is accepted. */
  readonly registry?: ResourceTypeRegistry;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const SECTIONS = [
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Transform',
  'Rules',
  'Resources',
  'Outputs',
];
const PARAMETER_KEYS = [
  'Type',
  'Default',
  'AllowedValues',
  'AllowedPattern',
  'ConstraintDescription',
  'Description',
  'MinLength',
  'MaxLength',
  'MinValue',
  'MaxValue',
  'NoEcho',
];
const RESOURCE_KEYS = [
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
];
const OUTPUT_KEYS = ['Value', 'Description', 'Export', 'Condition'];
const DELETION_POLICIES = ['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot'];
const UPDATE_REPLACE_POLICIES = ['Delete', 'Retain', 'Snapshot'];
const CONDITION_FUNCTIONS = ['Fn::And', 'Fn::Equals', 'Fn::Not', 'Fn::Or'];
const ALPHANUMERIC = /^[A-Za-z0-9]+$/;
const LIMITS = { Parameters: 200, Resources: 500, Outputs: 200 } as const;
const NOT_BOOLEAN_OPERATION =
  'Template format error: Conditions can only be boolean operations on parameters and other conditions';

/** Problems found so far, each once, in the order found. */
class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    if (!this.list.includes(message)) this.list.push(message);
  }
}

function scalarString(value: TemplateValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function numberOf(value: TemplateValue | undefined): number | undefined {
  const text = scalarString(value);
  if (text === undefined || text.trim() === '') return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

function checkCount(section: keyof typeof LIMITS, count: number, problems: Problems): void {
  if (count > LIMITS[section]) {
    const noun = section.toLowerCase();
    problems.add(
      `Template format error: Number of ${noun}, ${count}, is greater than maximum allowed, ${LIMITS[section]}`,
    );
  }
}

function parseParameters(
  section: TemplateValue | undefined,
  problems: Problems,
): Record<string, ParameterDeclaration> {
  const parameters: Record<string, ParameterDeclaration> = {};
  if (section === undefined || section === null) return parameters;
  if (!isTemplateObject(section)) {
    problems.add('Template format error: Parameters must be a map of parameter declarations');
    return parameters;
  }
  checkCount('Parameters', Object.keys(section).length, problems);
  for (const [name, raw] of Object.entries(section)) {
    if (!ALPHANUMERIC.test(name))
      problems.add(`Template format error: Parameter name ${name} is non alphanumeric.`);
    if (!isTemplateObject(raw) || raw.Type === undefined) {
      problems.add('Template format error: Every Parameters object must contain a Type member.');
      continue;
    }
    if (typeof raw.Type !== 'string') {
      problems.add('Template format error: Every Type member of a parameter must be a string.');
      continue;
    }
    const kind = parameterKind(raw.Type);
    if (kind === undefined) problems.add(`Template format error: Unrecognized parameter type: ${raw.Type}`);
    if (kind === 'unsupported') {
      problems.add(
        `Template format error: Parameter ${name} has type ${raw.Type}, which the local stack does not support ` +
          '(SSM parameter types need AWS Systems Manager); use type String and pass the value instead',
      );
    }
    for (const key of Object.keys(raw)) {
      if (!PARAMETER_KEYS.includes(key))
        problems.add(`Template format error: Invalid template parameter property '${key}'`);
    }
    const declaration: Mutable<ParameterDeclaration> = { Type: raw.Type, NoEcho: false };
    for (const key of ['Default', 'AllowedPattern', 'ConstraintDescription', 'Description'] as const) {
      if (raw[key] === undefined) continue;
      const text = scalarString(raw[key]);
      if (text === undefined)
        problems.add(`Template format error: Every ${key} member of a parameter must be a string.`);
      else declaration[key] = text;
    }
    for (const key of ['MinLength', 'MaxLength', 'MinValue', 'MaxValue'] as const) {
      if (raw[key] === undefined) continue;
      const number = numberOf(raw[key]);
      if (number === undefined)
        problems.add(`Template format error: Every ${key} member of a parameter must be a number.`);
      else declaration[key] = number;
    }
    if (raw.AllowedValues !== undefined) {
      const values = Array.isArray(raw.AllowedValues) ? raw.AllowedValues.map(scalarString) : [undefined];
      if (values.some((value) => value === undefined)) {
        problems.add(
          'Template format error: Every AllowedValues member of a parameter must be a list of strings.',
        );
      } else {
        declaration.AllowedValues = values as string[];
      }
    }
    if (declaration.AllowedPattern !== undefined) {
      try {
        new RegExp(declaration.AllowedPattern, 'u');
      } catch {
        problems.add(
          `Template format error: AllowedPattern of parameter ${name} is not a valid regular expression`,
        );
      }
    }
    if (raw.NoEcho !== undefined) {
      const noEcho = scalarString(raw.NoEcho)?.toLowerCase();
      if (noEcho !== 'true' && noEcho !== 'false') {
        problems.add('Template format error: Every NoEcho member of a parameter must be true or false.');
      }
      declaration.NoEcho = noEcho === 'true';
    }
    parameters[name] = declaration;
  }
  return parameters;
}

function parseMappings(section: TemplateValue | undefined, problems: Problems): Mappings {
  const mappings: Record<string, Record<string, TemplateObject>> = {};
  if (section === undefined || section === null) return mappings;
  if (!isTemplateObject(section)) {
    problems.add('Template format error: Mappings must be a map of mappings');
    return mappings;
  }
  for (const [name, mapping] of Object.entries(section)) {
    if (!ALPHANUMERIC.test(name))
      problems.add(`Template format error: Mapping name ${name} is non alphanumeric.`);
    if (!isTemplateObject(mapping) || Object.keys(mapping).length === 0) {
      problems.add(
        `Template format error: Every Mappings member must be a non-empty map (/Mappings/${name})`,
      );
      continue;
    }
    const entries: Record<string, TemplateObject> = {};
    for (const [topKey, second] of Object.entries(mapping)) {
      if (!isTemplateObject(second)) {
        problems.add(
          `Template format error: Every Mappings attribute must be a map (/Mappings/${name}/${topKey})`,
        );
        continue;
      }
      for (const [secondKey, value] of Object.entries(second)) {
        const scalars = Array.isArray(value) ? value : [value];
        if (scalars.some((item) => scalarString(item) === undefined)) {
          problems.add(
            `Template format error: Every Mappings value must be a String or a List of Strings (/Mappings/${name}/${topKey}/${secondKey})`,
          );
        }
      }
      entries[topKey] = second;
    }
    mappings[name] = entries;
  }
  return mappings;
}

function parseConditions(
  section: TemplateValue | undefined,
  problems: Problems,
): Record<string, TemplateValue> {
  if (section === undefined || section === null) return {};
  if (!isTemplateObject(section)) {
    problems.add('Template format error: Conditions must be a map of condition expressions');
    return {};
  }
  for (const [name, expression] of Object.entries(section)) {
    if (!ALPHANUMERIC.test(name))
      problems.add(`Template format error: Condition name ${name} is non alphanumeric.`);
    const fn = intrinsicName(expression);
    const isConditionReference =
      isTemplateObject(expression) &&
      Object.keys(expression).length === 1 &&
      typeof expression.Condition === 'string';
    if (!isConditionReference && (fn === undefined || !CONDITION_FUNCTIONS.includes(fn))) {
      problems.add(NOT_BOOLEAN_OPERATION);
    }
  }
  return section;
}

function parseResources(
  section: TemplateValue | undefined,
  parameters: Readonly<Record<string, ParameterDeclaration>>,
  registry: ResourceTypeRegistry | undefined,
  problems: Problems,
): Record<string, ResourceDeclaration> {
  const resources: Record<string, ResourceDeclaration> = {};
  if (!isTemplateObject(section) || Object.keys(section).length === 0) {
    problems.add('Template format error: At least one Resources member must be defined.');
    return resources;
  }
  checkCount('Resources', Object.keys(section).length, problems);
  const unknownTypes: string[] = [];
  for (const [logicalId, raw] of Object.entries(section)) {
    if (!ALPHANUMERIC.test(logicalId))
      problems.add(`Template format error: Resource name ${logicalId} is non alphanumeric.`);
    if (Object.hasOwn(parameters, logicalId)) {
      problems.add(`Template format error: Resource ${logicalId} has the same logical ID as a parameter`);
    }
    if (!isTemplateObject(raw) || raw.Type === undefined || raw.Type === null) {
      problems.add('Template format error: Every Resources object must contain a Type member.');
      continue;
    }
    if (typeof raw.Type !== 'string') {
      problems.add('Template format error: Every Type member must be a string.');
      continue;
    }
    for (const key of Object.keys(raw)) {
      if (!RESOURCE_KEYS.includes(key)) problems.add(`Invalid template resource property '${key}'`);
    }
    if (registry && !registry.has(raw.Type) && !unknownTypes.includes(raw.Type)) unknownTypes.push(raw.Type);

    const resource: Mutable<ResourceDeclaration> = { Type: raw.Type, Properties: {}, DependsOn: [] };
    if (raw.Properties !== undefined && raw.Properties !== null) {
      if (isTemplateObject(raw.Properties)) resource.Properties = raw.Properties;
      else problems.add(`Template format error: Properties of resource ${logicalId} must be an object`);
    }
    const dependsOn = typeof raw.DependsOn === 'string' ? [raw.DependsOn] : raw.DependsOn;
    if (dependsOn !== undefined) {
      if (Array.isArray(dependsOn) && dependsOn.every((item) => typeof item === 'string')) {
        resource.DependsOn = dependsOn as string[];
      } else {
        problems.add(
          `Template format error: DependsOn of resource ${logicalId} must be a string or a list of strings`,
        );
      }
    }
    if (raw.Condition !== undefined) {
      if (typeof raw.Condition === 'string') resource.Condition = raw.Condition;
      else problems.add(`Template format error: Condition of resource ${logicalId} must be a string`);
    }
    for (const [key, allowed] of [
      ['DeletionPolicy', DELETION_POLICIES],
      ['UpdateReplacePolicy', UPDATE_REPLACE_POLICIES],
    ] as const) {
      const value = raw[key];
      if (value === undefined) continue;
      if (typeof value === 'string' && allowed.includes(value)) resource[key] = value;
      else
        problems.add(
          `Template format error: Unrecognized ${key} ${JSON.stringify(value)} for resource ${logicalId}`,
        );
    }
    for (const key of ['Metadata', 'CreationPolicy', 'UpdatePolicy'] as const) {
      if (raw[key] !== undefined) resource[key] = raw[key];
    }
    resources[logicalId] = resource;
  }
  if (unknownTypes.length > 0) {
    problems.add(`Template format error: Unrecognized resource types: [${unknownTypes.join(', ')}]`);
  }
  return resources;
}

function parseOutputs(
  section: TemplateValue | undefined,
  problems: Problems,
): Record<string, OutputDeclaration> {
  const outputs: Record<string, OutputDeclaration> = {};
  if (section === undefined || section === null) return outputs;
  if (!isTemplateObject(section)) {
    problems.add('Template format error: Outputs must be a map of output declarations');
    return outputs;
  }
  checkCount('Outputs', Object.keys(section).length, problems);
  const exportNames: string[] = [];
  for (const [key, raw] of Object.entries(section)) {
    if (!ALPHANUMERIC.test(key))
      problems.add(`Template format error: Output name ${key} is non alphanumeric.`);
    if (!isTemplateObject(raw) || raw.Value === undefined || raw.Value === null) {
      problems.add('Template format error: Every Outputs member must contain a Value object');
      continue;
    }
    for (const property of Object.keys(raw)) {
      if (!OUTPUT_KEYS.includes(property))
        problems.add(`Template format error: Invalid template output property '${property}'`);
    }
    const output: Mutable<OutputDeclaration> = { Value: raw.Value };
    if (raw.Description !== undefined) output.Description = raw.Description;
    if (raw.Export !== undefined) {
      if (isTemplateObject(raw.Export) && raw.Export.Name !== undefined && raw.Export.Name !== null) {
        output.ExportName = raw.Export.Name;
        const literal = scalarString(raw.Export.Name);
        if (literal !== undefined && exportNames.includes(literal)) {
          problems.add(`Template format error: Export name ${literal} is used by more than one output`);
        }
        if (literal !== undefined) exportNames.push(literal);
      } else {
        problems.add('Template format error: Every Export member must contain a Name object');
      }
    }
    if (raw.Condition !== undefined) {
      if (typeof raw.Condition === 'string') output.Condition = raw.Condition;
      else problems.add(`Template format error: Condition of output ${key} must be a string`);
    }
    outputs[key] = output;
  }
  return outputs;
}

/** Calls `visit` for every intrinsic-function node (not `{"Condition": …}`) in a value. */
function forEachIntrinsic(
  value: TemplateValue,
  path: string,
  visit: (fn: string, argument: TemplateValue, path: string) => void,
): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => forEachIntrinsic(item, `${path}/${index}`, visit));
    return;
  }
  if (!isTemplateObject(value)) return;
  const fn = intrinsicName(value);
  if (fn !== undefined) visit(fn, value[fn] as TemplateValue, `${path}/${fn}`);
  for (const [key, item] of Object.entries(value)) forEachIntrinsic(item, `${path}/${key}`, visit);
}

function isListOf(argument: TemplateValue, length: number): argument is TemplateValue[] {
  return Array.isArray(argument) && argument.length === length;
}

/** Argument-shape checks that need no parameter values (and static Fn::FindInMap lookups). */
function checkFunctionShapes(
  value: TemplateValue,
  path: string,
  mappings: Mappings,
  problems: Problems,
): void {
  forEachIntrinsic(value, path, (fn, argument) => {
    if (!SUPPORTED_FUNCTIONS.includes(fn)) {
      problems.add(unsupportedFunctionMessage(fn));
      return;
    }
    switch (fn) {
      case 'Ref':
        if (typeof argument !== 'string' || !argument) problems.add(USAGE.ref);
        return;
      case 'Fn::GetAtt': {
        const args = getAttArguments(argument);
        const attributeOk =
          args && (typeof args[1] === 'string' ? args[1] !== '' : intrinsicName(args[1]) !== undefined);
        if (!args || typeof args[0] !== 'string' || !args[0] || !attributeOk) problems.add(USAGE.getAtt);
        return;
      }
      case 'Fn::Sub': {
        const ok =
          typeof argument === 'string' ||
          (isListOf(argument, 2) && typeof argument[0] === 'string' && isTemplateObject(argument[1]));
        if (!ok) problems.add(USAGE.sub);
        return;
      }
      case 'Fn::Join':
        if (!isListOf(argument, 2) || typeof argument[0] !== 'string') problems.add(USAGE.join);
        return;
      case 'Fn::Select':
        if (!isListOf(argument, 2)) problems.add(USAGE.select);
        return;
      case 'Fn::Split':
        if (!isListOf(argument, 2) || typeof argument[0] !== 'string') problems.add(USAGE.split);
        return;
      case 'Fn::If':
        if (!isListOf(argument, 3) || typeof argument[0] !== 'string') problems.add(USAGE.if);
        return;
      case 'Fn::Equals':
        if (!isListOf(argument, 2)) problems.add(USAGE.equals);
        return;
      case 'Fn::Not':
        if (!isListOf(argument, 1)) problems.add(USAGE.not);
        return;
      case 'Fn::And':
      case 'Fn::Or':
        if (!Array.isArray(argument) || argument.length < 2 || argument.length > 10) {
          problems.add(
            `Template error: every ${fn} object requires a list of at least 2 and at most 10 boolean parameters.`,
          );
        }
        return;
      case 'Fn::FindInMap':
        checkFindInMap(argument, mappings, problems);
        return;
      default:
        return;
    }
  });
}

function checkFindInMap(argument: TemplateValue, mappings: Mappings, problems: Problems): void {
  if (!isListOf(argument, 3)) {
    problems.add(USAGE.findInMap);
    return;
  }
  const [mapName, topKey, secondKey] = argument.map(scalarString);
  if (mapName === undefined) return;
  const mapping = Object.hasOwn(mappings, mapName) ? mappings[mapName] : undefined;
  if (!mapping) {
    problems.add(
      `Template error: Mapping named '${mapName}' is not present in the 'Mappings' section of template.`,
    );
    return;
  }
  if (topKey === undefined || secondKey === undefined) return;
  const top = Object.hasOwn(mapping, topKey) ? mapping[topKey] : undefined;
  if (!top || !Object.hasOwn(top, secondKey)) {
    problems.add(`Template error: Unable to get mapping for ${mapName}::${topKey}::${secondKey}`);
  }
}

interface ReferenceScope {
  readonly parameters: Readonly<Record<string, ParameterDeclaration>>;
  readonly resources: Readonly<Record<string, ResourceDeclaration>>;
  readonly conditions: Readonly<Record<string, TemplateValue>>;
  readonly registry: ResourceTypeRegistry | undefined;
}

/** Checks references from the Resources or Outputs block; returns the unresolved names. */
function checkReferences(
  references: readonly Reference[],
  scope: ReferenceScope,
  problems: Problems,
): Set<string> {
  const unresolved = new Set<string>();
  for (const reference of references) {
    const { target } = reference;
    if (reference.kind === 'Condition') {
      if (!Object.hasOwn(scope.conditions, target))
        problems.add(`Template error: unresolved condition dependency ${target} in Fn::If`);
      continue;
    }
    if (reference.kind === 'Ref') {
      const known =
        Object.hasOwn(scope.parameters, target) ||
        Object.hasOwn(scope.resources, target) ||
        PSEUDO_PARAMETER_NAMES.includes(target);
      if (!known) unresolved.add(target);
      continue;
    }
    const resource = Object.hasOwn(scope.resources, target) ? scope.resources[target] : undefined;
    if (!resource) {
      problems.add(`Template error: instance of Fn::GetAtt references undefined resource ${target}`);
      continue;
    }
    const attributes =
      reference.attribute !== undefined ? scope.registry?.attributes(resource.Type) : undefined;
    if (attributes && reference.attribute !== undefined && !attributes.includes(reference.attribute)) {
      problems.add(
        `Template error: resource ${target} does not support attribute type ${reference.attribute} in Fn::GetAtt`,
      );
    }
  }
  return unresolved;
}

function checkConditionReferences(
  conditions: Readonly<Record<string, TemplateValue>>,
  parameters: Readonly<Record<string, ParameterDeclaration>>,
  problems: Problems,
): void {
  const notParameters = new Set<string>();
  const edges = new Map<string, string[]>();
  for (const [name, expression] of Object.entries(conditions)) {
    const uses: string[] = [];
    for (const reference of collectReferences(expression, `/Conditions/${name}`, {
      conditionExpression: true,
    })) {
      if (reference.kind === 'Condition') {
        if (Object.hasOwn(conditions, reference.target)) uses.push(reference.target);
        else problems.add(`Template error: unresolved condition dependency ${reference.target} in Condition`);
      } else if (
        reference.kind === 'GetAtt' ||
        (!Object.hasOwn(parameters, reference.target) && !PSEUDO_PARAMETER_NAMES.includes(reference.target))
      ) {
        notParameters.add(reference.target);
      }
    }
    edges.set(name, uses);
  }
  if (notParameters.size > 0) {
    problems.add(
      `Template format error: Unresolved dependencies [${[...notParameters].join(', ')}]. Cannot reference resources in the Conditions block of the template`,
    );
  }
  const cycle = findCycleMembers(Object.keys(conditions), edges);
  if (cycle.length > 0) {
    const order = Object.keys(conditions);
    cycle.sort((left, right) => order.indexOf(left) - order.indexOf(right));
    problems.add(`Template format error: Circular dependency between conditions: [${cycle.join(', ')}]`);
  }
}

/**
 * Validates a parsed template and returns its typed model. Throws a `TemplateError` whose
 * `messages` lists every problem found (its `message` is the first, as CloudFormation reports one).
 */
export function validateTemplate(raw: TemplateValue, options: ValidateOptions = {}): Template {
  if (!isTemplateObject(raw)) throw new TemplateError('Template format error: unsupported structure.');
  const problems = new Problems();

  const invalid = Object.keys(raw).filter((key) => !SECTIONS.includes(key));
  if (invalid.length > 0)
    problems.add(`Template format error: Invalid template property or properties [${invalid.join(', ')}]`);
  if (raw.Transform !== undefined) {
    const names = (Array.isArray(raw.Transform) ? raw.Transform : [raw.Transform]).map(
      (item) => scalarString(item) ?? JSON.stringify(item),
    );
    problems.add(
      `Template format error: Transform ${names.join(', ')} is not supported by the local stack; ` +
        'deploy the processed template (without a Transform section) instead',
    );
  }
  if (raw.Rules !== undefined) {
    problems.add('Template format error: the Rules section is not supported by the local stack');
  }
  const version = raw.AWSTemplateFormatVersion;
  if (version !== undefined && version !== '2010-09-09') {
    problems.add(
      `Template format error: Unsupported AWSTemplateFormatVersion ${scalarString(version) ?? ''}; use 2010-09-09`,
    );
  }
  const description = raw.Description;
  if (description !== undefined && scalarString(description) === undefined) {
    problems.add('Template format error: Every Description member must be a string.');
  }

  const parameters = parseParameters(raw.Parameters, problems);
  const mappings = parseMappings(raw.Mappings, problems);
  const conditions = parseConditions(raw.Conditions, problems);
  const resources = parseResources(raw.Resources, parameters, options.registry, problems);
  const outputs = parseOutputs(raw.Outputs, problems);

  for (const [name, expression] of Object.entries(conditions)) {
    checkFunctionShapes(expression, `/Conditions/${name}`, mappings, problems);
  }
  checkConditionReferences(conditions, parameters, problems);

  const scope: ReferenceScope = { parameters, resources, conditions, registry: options.registry };
  const unresolvedInResources = new Set<string>();
  for (const [logicalId, resource] of Object.entries(resources)) {
    for (const target of resource.DependsOn) {
      if (!Object.hasOwn(resources, target)) unresolvedInResources.add(target);
    }
    if (resource.Condition !== undefined && !Object.hasOwn(conditions, resource.Condition)) {
      problems.add(
        `Template format error: Unresolved condition dependency ${resource.Condition} in the Resources block of the template`,
      );
    }
    for (const part of ['Properties', 'Metadata', 'CreationPolicy', 'UpdatePolicy'] as const) {
      const value = resource[part];
      if (value === undefined) continue;
      const path = `/Resources/${logicalId}/${part}`;
      checkFunctionShapes(value, path, mappings, problems);
      for (const name of checkReferences(collectReferences(value, path), scope, problems))
        unresolvedInResources.add(name);
    }
  }
  if (unresolvedInResources.size > 0) {
    problems.add(
      `Template format error: Unresolved resource dependencies [${[...unresolvedInResources].join(', ')}] in the Resources block of the template`,
    );
  }

  const unresolvedInOutputs = new Set<string>();
  for (const [key, output] of Object.entries(outputs)) {
    if (output.Condition !== undefined && !Object.hasOwn(conditions, output.Condition)) {
      problems.add(
        `Template format error: Unresolved condition dependency ${output.Condition} in the Outputs block of the template`,
      );
    }
    for (const [part, value] of [
      ['Value', output.Value],
      ['Description', output.Description],
      ['Export/Name', output.ExportName],
    ] as const) {
      if (value === undefined) continue;
      const path = `/Outputs/${key}/${part}`;
      checkFunctionShapes(value, path, mappings, problems);
      for (const name of checkReferences(collectReferences(value, path), scope, problems))
        unresolvedInOutputs.add(name);
    }
  }
  if (unresolvedInOutputs.size > 0) {
    problems.add(
      `Template format error: Unresolved resource dependencies [${[...unresolvedInOutputs].join(', ')}] in the Outputs block of the template`,
    );
  }

  const template: Template = {
    ...(typeof version === 'string' ? { AWSTemplateFormatVersion: version } : {}),
    ...(description !== undefined && scalarString(description) !== undefined
      ? { Description: scalarString(description) as string }
      : {}),
    ...(raw.Metadata !== undefined ? { Metadata: raw.Metadata } : {}),
    Parameters: parameters,
    Mappings: mappings,
    Conditions: conditions,
    Resources: resources,
    Outputs: outputs,
  };
  if (problems.list.length === 0) {
    const cycle = buildDependencyGraph(template).cycle();
    if (cycle.length > 0) problems.add(`Circular dependency between resources: [${cycle.join(', ')}]`);
  }
  if (problems.list.length > 0) throw new TemplateError(problems.list);
  return template;
}

/** Parses and validates a template body (YAML or JSON). */
export function loadTemplate(body: string, options: ValidateOptions = {}): Template {
  return validateTemplate(parseTemplate(body), options);
}

export type Capability = 'CAPABILITY_IAM' | 'CAPABILITY_NAMED_IAM';

const IAM_NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Group': 'GroupName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName',
};

/**
 * Capabilities CreateStack / CreateChangeSet must be given for this template: CAPABILITY_IAM for
 * IAM resources, CAPABILITY_NAMED_IAM when one of them has a custom name.
 */
export function requiredCapabilities(template: Template): Capability[] {
  let iam = false;
  let named = false;
  for (const resource of Object.values(template.Resources)) {
    if (!resource.Type.startsWith('AWS::IAM::')) continue;
    iam = true;
    const nameProperty = IAM_NAME_PROPERTIES[resource.Type];
    if (nameProperty !== undefined && resource.Properties[nameProperty] !== undefined) named = true;
  }
  if (named) return ['CAPABILITY_NAMED_IAM'];
  return iam ? ['CAPABILITY_IAM'] : [];
}
