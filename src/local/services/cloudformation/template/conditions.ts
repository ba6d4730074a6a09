/**
 * Evaluating a template's Conditions for one set of parameter values, and deciding which
 * resources and outputs exist under them (a false `Condition` removes the resource or output).
 */
import { evaluateConditionExpression, type ResolveContext } from './intrinsics.js';
import { TemplateError, type Template } from './types.js';

export type ConditionValues = Readonly<Record<string, boolean>>;

/** Evaluates every condition (each once, in dependency order). */
export function evaluateConditions(
  template: Template,
  ctx: Pick<ResolveContext, 'parameters' | 'pseudo'>,
): Record<string, boolean> {
  const values: Record<string, boolean> = {};
  const visiting: string[] = [];
  const resolveContext: ResolveContext = {
    parameters: ctx.parameters,
    pseudo: ctx.pseudo,
    mappings: template.Mappings,
  };

  const evaluate = (name: string, path: string, usedIn: string): boolean => {
    if (Object.hasOwn(values, name)) return values[name] as boolean;
    const expression = Object.hasOwn(template.Conditions, name) ? template.Conditions[name] : undefined;
    if (expression === undefined) {
      throw new TemplateError(
        `Template error: unresolved condition dependency ${name} in ${usedIn} (at ${path})`,
        path,
      );
    }
    const cycleStart = visiting.indexOf(name);
    if (cycleStart >= 0) {
      throw new TemplateError(
        `Template format error: Circular dependency between conditions: [${visiting.slice(cycleStart).join(', ')}]`,
      );
    }
    visiting.push(name);
    const value = evaluateConditionExpression(expression, resolveContext, evaluate, `/Conditions/${name}`);
    visiting.pop();
    values[name] = value;
    return value;
  };

  for (const name of Object.keys(template.Conditions)) evaluate(name, `/Conditions/${name}`, 'Conditions');
  return values;
}

function holds(
  condition: string | undefined,
  conditions: ConditionValues,
  block: 'Resources' | 'Outputs',
): boolean {
  if (condition === undefined) return true;
  const value = Object.hasOwn(conditions, condition) ? conditions[condition] : undefined;
  if (value === undefined) {
    throw new TemplateError(
      `Template format error: Unresolved condition dependency ${condition} in the ${block} block of the template`,
    );
  }
  return value;
}

/** Logical IDs of the resources that exist under these conditions, in template order. */
export function includedResources(template: Template, conditions: ConditionValues): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => holds(resource.Condition, conditions, 'Resources'))
    .map(([logicalId]) => logicalId);
}

/** Keys of the outputs that exist under these conditions, in template order. */
export function includedOutputs(template: Template, conditions: ConditionValues): string[] {
  return Object.entries(template.Outputs)
    .filter(([, output]) => holds(output.Condition, conditions, 'Outputs'))
    .map(([key]) => key);
}
