/**
 * Change-set diffs: what happens to each resource when a stack moves from one (template,
 * parameters) to another. Properties are compared after resolving everything that does not need
 * the physical resources; references to resources stay symbolic and compare structurally, and a
 * reference to a resource that is itself replaced (Ref) or updated (GetAtt) is a dynamic change,
 * as CloudFormation reports it.
 */
import { evaluateConditions, includedResources } from './conditions.js';
import { buildDependencyGraph } from './graph.js';
import { resolveValue, sameTemplateValue, type ResolveContext } from './intrinsics.js';
import { collectReferences } from './references.js';
import {
  isTemplateObject,
  type ParameterValue,
  type PseudoParameters,
  type ResourceTypeRegistry,
  type Template,
  type TemplateObject,
  type TemplateValue,
} from './types.js';

/** One side of a change set: a validated template and its resolved parameter values. */
export interface ChangeSetSide {
  readonly template: Template;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
}

export interface DiffOptions {
  readonly pseudo: PseudoParameters;
  /** Which properties force a replacement, per type; without it no property change replaces. */
  readonly registry?: Pick<ResourceTypeRegistry, 'replacementProperties'>;
  readonly importValue?: (exportName: string) => string | undefined;
}

export type ReplacementDecision = 'True' | 'False' | 'Conditional';

export interface PropertyChange {
  readonly name: string;
  /** Static: the template/parameters changed it. Dynamic: it refers to a resource that changes. */
  readonly evaluation: 'Static' | 'Dynamic';
  readonly requiresRecreation: 'Never' | 'Always';
  /** For dynamic changes: the resource whose change causes it. */
  readonly causingEntity?: string;
}

export interface ResourceChange {
  readonly action: 'Add' | 'Modify' | 'Remove';
  readonly logicalId: string;
  readonly type: string;
  /** Only meaningful for Modify; 'False' for Add and Remove. */
  readonly replacement: ReplacementDecision;
  /** Top-level property names that (may) change, for Modify. */
  readonly changedProperties: readonly string[];
  readonly scope: ReadonlyArray<'Properties' | 'Metadata'>;
  readonly details: readonly PropertyChange[];
}

interface ResolvedResource {
  readonly type: string;
  readonly properties: TemplateObject;
  readonly metadata: TemplateValue | undefined;
}

interface EvaluatedSide {
  readonly conditions: Readonly<Record<string, boolean>>;
  readonly resources: ReadonlyMap<string, ResolvedResource>;
}

function evaluateSide(side: ChangeSetSide, options: DiffOptions): EvaluatedSide {
  const { template, parameters } = side;
  const conditions = evaluateConditions(template, { parameters, pseudo: options.pseudo });
  const ctx: ResolveContext = {
    parameters,
    pseudo: options.pseudo,
    mappings: template.Mappings,
    conditions,
    partial: true,
    ...(options.importValue ? { importValue: options.importValue } : {}),
  };
  const resources = new Map<string, ResolvedResource>();
  for (const logicalId of includedResources(template, conditions)) {
    const resource = template.Resources[logicalId];
    if (!resource) continue;
    const properties = resolveValue(resource.Properties, ctx, `/Resources/${logicalId}/Properties`);
    const metadata =
      resource.Metadata === undefined
        ? undefined
        : resolveValue(resource.Metadata, ctx, `/Resources/${logicalId}/Metadata`);
    resources.set(logicalId, {
      type: resource.Type,
      properties: isTemplateObject(properties) ? properties : {},
      metadata,
    });
  }
  return { conditions, resources };
}

/** The resource whose change makes this (statically unchanged) value change, if any. */
function dynamicCause(
  value: TemplateValue,
  replaced: ReadonlySet<string>,
  modified: ReadonlySet<string>,
): string | undefined {
  for (const reference of collectReferences(value, '')) {
    if (reference.kind === 'Ref' && replaced.has(reference.target)) return reference.target;
    if (reference.kind === 'GetAtt' && modified.has(reference.target)) return reference.target;
  }
  return undefined;
}

function sameOptional(left: TemplateValue | undefined, right: TemplateValue | undefined): boolean {
  if (left === undefined || right === undefined) return left === right;
  return sameTemplateValue(left, right);
}

function modification(
  logicalId: string,
  before: ResolvedResource,
  now: ResolvedResource,
  replacementProperties: readonly string[],
  replaced: ReadonlySet<string>,
  modified: ReadonlySet<string>,
): ResourceChange | undefined {
  const details: PropertyChange[] = [];
  const names = [...new Set([...Object.keys(now.properties), ...Object.keys(before.properties)])];
  for (const name of names) {
    const requiresRecreation = replacementProperties.includes(name) ? 'Always' : 'Never';
    const value = now.properties[name];
    if (!sameOptional(before.properties[name], value)) {
      details.push({ name, evaluation: 'Static', requiresRecreation });
      continue;
    }
    const causingEntity = value === undefined ? undefined : dynamicCause(value, replaced, modified);
    if (causingEntity !== undefined)
      details.push({ name, evaluation: 'Dynamic', requiresRecreation, causingEntity });
  }
  const typeChanged = before.type !== now.type;
  const metadataChanged = !sameOptional(before.metadata, now.metadata);
  if (!typeChanged && details.length === 0 && !metadataChanged) return undefined;
  const replacement: ReplacementDecision =
    typeChanged ||
    details.some((detail) => detail.evaluation === 'Static' && detail.requiresRecreation === 'Always')
      ? 'True'
      : details.some((detail) => detail.requiresRecreation === 'Always')
        ? 'Conditional'
        : 'False';
  const scope: Array<'Properties' | 'Metadata'> = [];
  if (details.length > 0 || typeChanged) scope.push('Properties');
  if (metadataChanged) scope.push('Metadata');
  return {
    action: 'Modify',
    logicalId,
    type: now.type,
    replacement,
    changedProperties: details.map((detail) => detail.name),
    scope,
    details,
  };
}

/**
 * Per-resource changes from `previous` to `next` (`previous` undefined: a stack being created).
 * Adds and modifications come in the new template's order, then removals in the old one's.
 * Identical templates and parameters give an empty list. A Type change is always a replacement.
 */
export function diffTemplates(
  previous: ChangeSetSide | undefined,
  next: ChangeSetSide,
  options: DiffOptions,
): ResourceChange[] {
  const before = previous ? evaluateSide(previous, options) : undefined;
  const after = evaluateSide(next, options);
  const replaced = new Set<string>();
  const modified = new Set<string>();
  const changes = new Map<string, ResourceChange>();

  // Creation order, so a dependency's fate is known before its dependents are compared.
  for (const logicalId of buildDependencyGraph(next.template, {
    conditions: after.conditions,
  }).creationOrder()) {
    const now = after.resources.get(logicalId) as ResolvedResource;
    const old = before?.resources.get(logicalId);
    if (!old) {
      changes.set(logicalId, {
        action: 'Add',
        logicalId,
        type: now.type,
        replacement: 'False',
        changedProperties: [],
        scope: [],
        details: [],
      });
      continue;
    }
    const replacementProperties = options.registry?.replacementProperties?.(now.type) ?? [];
    const change = modification(logicalId, old, now, replacementProperties, replaced, modified);
    if (!change) continue;
    modified.add(logicalId);
    if (change.replacement !== 'False') replaced.add(logicalId);
    changes.set(logicalId, change);
  }

  const result: ResourceChange[] = [];
  for (const logicalId of after.resources.keys()) {
    const change = changes.get(logicalId);
    if (change) result.push(change);
  }
  for (const [logicalId, old] of before?.resources ?? []) {
    if (after.resources.has(logicalId)) continue;
    result.push({
      action: 'Remove',
      logicalId,
      type: old.type,
      replacement: 'False',
      changedProperties: [],
      scope: [],
      details: [],
    });
  }
  return result;
}
