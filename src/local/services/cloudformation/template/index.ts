/**
 * The CloudFormation template engine, pure: parse (YAML/JSON, short forms → long forms),
 * validate, resolve parameters, evaluate conditions, resolve intrinsic functions, order
 * resources by dependency, and diff two stack versions for change sets. No AWS calls, no I/O.
 */
export {
  evaluateConditions,
  includedOutputs,
  includedResources,
  type ConditionValues,
} from './conditions.js';
export {
  diffTemplates,
  type ChangeSetSide,
  type DiffOptions,
  type PropertyChange,
  type ReplacementDecision,
  type ResourceChange,
} from './diff.js';
export { buildDependencyGraph, type DependencyGraph, type DependencyGraphOptions } from './graph.js';
export {
  partitionOf,
  resolveOutputs,
  resolveResourceProperties,
  resolveValue,
  sameTemplateValue,
  SUPPORTED_FUNCTIONS,
  type ResolveContext,
  type ResolvedOutput,
} from './intrinsics.js';
export {
  describeParameters,
  MASKED_PARAMETER_VALUE,
  parameterKind,
  resolveParameters,
  type ParameterKind,
  type ResolvedParameters,
} from './parameters.js';
export { detectTemplateFormat, parseTemplate, SHORT_FORM_TAGS, type TemplateFormat } from './parse.js';
export { collectReferences, type Reference, type ReferenceScanOptions } from './references.js';
export { createResourceTypeRegistry, type ResourceTypeSpec } from './registry.js';
export {
  isTemplateObject,
  PSEUDO_PARAMETER_NAMES,
  TemplateError,
  TemplateParseError,
  type Mappings,
  type OutputDeclaration,
  type ParameterDeclaration,
  type ParameterValue,
  type PseudoParameters,
  type ResourceDeclaration,
  type ResourceTypeRegistry,
  type Template,
  type TemplateObject,
  type TemplateScalar,
  type TemplateValue,
} from './types.js';
export {
  loadTemplate,
  requiredCapabilities,
  validateTemplate,
  type Capability,
  type ValidateOptions,
} from './validate.js';
