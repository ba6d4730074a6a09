/**
 * The resource dependency graph: explicit `DependsOn` plus implicit `Ref` / `Fn::GetAtt` /
 * `Fn::Sub` references, giving a stable creation order (ties broken by template order), its
 * reverse for deletion, and the resources on a dependency cycle.
 */
import { includedResources, type ConditionValues } from './conditions.js';
import { collectReferences } from './references.js';
import {
  PSEUDO_PARAMETER_NAMES,
  TemplateError,
  type ResourceDeclaration,
  type Template,
  type TemplateValue,
} from './types.js';

export interface DependencyGraphOptions {
  /**
   * Evaluated conditions: resources whose Condition is false are left out, and only the chosen
   * branch of each `Fn::If` counts. Without them every resource and both branches count (as for
   * ValidateTemplate, which has no parameter values).
   */
  readonly conditions?: ConditionValues;
}

export interface DependencyGraph {
  /** Resources in the graph, in template order. */
  readonly resources: readonly string[];
  /** What a resource needs to exist first, in template order. */
  dependenciesOf(logicalId: string): readonly string[];
  /** Resources that need this one, in template order. */
  dependentsOf(logicalId: string): readonly string[];
  /** Resources on a dependency cycle, in template order; empty when there is none. */
  cycle(): readonly string[];
  /** Dependencies first; among resources ready at the same time, template order. Throws on a cycle. */
  creationOrder(): string[];
  /** The reverse of the creation order: dependents are deleted before what they depend on. */
  deletionOrder(): string[];
}

/** The parts of a resource whose references are dependencies (not Condition, DeletionPolicy, …). */
function referencingParts(resource: ResourceDeclaration): Array<[string, TemplateValue | undefined]> {
  return [
    ['Properties', resource.Properties],
    ['Metadata', resource.Metadata],
    ['CreationPolicy', resource.CreationPolicy],
    ['UpdatePolicy', resource.UpdatePolicy],
  ];
}

/** The logical IDs one resource depends on (unfiltered: may name parameters and pseudo parameters). */
function referencedNames(
  logicalId: string,
  resource: ResourceDeclaration,
  conditions?: ConditionValues,
): string[] {
  const names = [...resource.DependsOn];
  for (const [part, value] of referencingParts(resource)) {
    if (value === undefined) continue;
    const references = collectReferences(
      value,
      `/Resources/${logicalId}/${part}`,
      conditions ? { conditions } : {},
    );
    for (const reference of references) if (reference.kind !== 'Condition') names.push(reference.target);
  }
  return names;
}

export function buildDependencyGraph(
  template: Template,
  options: DependencyGraphOptions = {},
): DependencyGraph {
  const resources = options.conditions
    ? includedResources(template, options.conditions)
    : Object.keys(template.Resources);
  const position = new Map(resources.map((logicalId, index) => [logicalId, index]));
  const byOrder = (left: string, right: string): number =>
    (position.get(left) ?? 0) - (position.get(right) ?? 0);

  const dependencies = new Map<string, string[]>();
  const dependents = new Map<string, string[]>(resources.map((logicalId) => [logicalId, []]));
  const unresolved = new Set<string>();
  for (const logicalId of resources) {
    const resource = template.Resources[logicalId] as ResourceDeclaration;
    const needs = new Set<string>();
    for (const name of referencedNames(logicalId, resource, options.conditions)) {
      if (position.has(name)) needs.add(name);
      else if (!Object.hasOwn(template.Parameters, name) && !PSEUDO_PARAMETER_NAMES.includes(name))
        unresolved.add(name);
    }
    const sorted = [...needs].sort(byOrder);
    dependencies.set(logicalId, sorted);
    for (const need of sorted) dependents.get(need)?.push(logicalId);
  }
  if (unresolved.size > 0) {
    throw new TemplateError(
      `Template format error: Unresolved resource dependencies [${[...unresolved].join(', ')}] in the Resources block of the template`,
    );
  }
  for (const list of dependents.values()) list.sort(byOrder);

  let cycleMembers: string[] | undefined;
  const cycle = (): string[] => (cycleMembers ??= findCycleMembers(resources, dependencies).sort(byOrder));

  const creationOrder = (): string[] => {
    const members = cycle();
    if (members.length > 0) {
      throw new TemplateError(`Circular dependency between resources: [${members.join(', ')}]`);
    }
    const placed = new Set<string>();
    const order: string[] = [];
    while (order.length < resources.length) {
      const next = resources.find(
        (logicalId) =>
          !placed.has(logicalId) && (dependencies.get(logicalId) ?? []).every((need) => placed.has(need)),
      ) as string;
      placed.add(next);
      order.push(next);
    }
    return order;
  };

  return {
    resources,
    dependenciesOf: (logicalId) => dependencies.get(logicalId) ?? [],
    dependentsOf: (logicalId) => dependents.get(logicalId) ?? [],
    cycle,
    creationOrder,
    deletionOrder: () => creationOrder().reverse(),
  };
}

/** Members of strongly connected components with more than one node, or a self-dependency (Tarjan). */
export function findCycleMembers(
  nodes: readonly string[],
  edges: ReadonlyMap<string, readonly string[]>,
): string[] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const members: string[] = [];
  let counter = 0;

  const connect = (node: string): void => {
    index.set(node, counter);
    lowLink.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        lowLink.set(node, Math.min(lowLink.get(node) as number, lowLink.get(next) as number));
      } else if (onStack.has(next)) {
        lowLink.set(node, Math.min(lowLink.get(node) as number, index.get(next) as number));
      }
    }
    if (lowLink.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (edges.get(node) ?? []).includes(node)) members.push(...component);
  };

  for (const node of nodes) if (!index.has(node)) connect(node);
  return members;
}
