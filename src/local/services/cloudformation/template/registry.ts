/**
 * A `ResourceTypeRegistry` built from a plain table of types, for provisioners to declare what
 * they support and for tests.
 */
import type { ResourceTypeRegistry } from './types.js';

export interface ResourceTypeSpec {
  /** Attribute names `Fn::GetAtt` accepts; omit to accept any. */
  readonly attributes?: readonly string[];
  /** Top-level properties whose change replaces the resource. */
  readonly replacementProperties?: readonly string[];
}

export function createResourceTypeRegistry(
  specs: Readonly<Record<string, ResourceTypeSpec>>,
): Required<ResourceTypeRegistry> {
  const spec = (type: string): ResourceTypeSpec | undefined =>
    Object.hasOwn(specs, type) ? specs[type] : undefined;
  return {
    has: (type) => spec(type) !== undefined,
    attributes: (type) => spec(type)?.attributes,
    replacementProperties: (type) => spec(type)?.replacementProperties ?? [],
  };
}
