/**
 * The set of provisioners a CloudFormation service is built with. It also answers the template
 * engine's questions (which types exist, their GetAtt attributes, their replacement properties),
 * so validation and change-set diffs know exactly the types that can be provisioned.
 */
import { createResourceTypeRegistry, type ResourceTypeRegistry } from '../template/index.js';
import type { Provisioner } from './types.js';

export class ProvisionerRegistry {
  private readonly byType = new Map<string, Provisioner>();
  private typeRegistryCache: Required<ResourceTypeRegistry> | undefined;

  constructor(provisioners: readonly Provisioner[] = []) {
    for (const provisioner of provisioners) this.register(provisioner);
  }

  /** Adds (or replaces) the provisioner for its type. */
  register(provisioner: Provisioner): this {
    this.byType.set(provisioner.type, provisioner);
    this.typeRegistryCache = undefined;
    return this;
  }

  get(type: string): Provisioner | undefined {
    return this.byType.get(type);
  }

  types(): string[] {
    return [...this.byType.keys()].sort();
  }

  /** What `validateTemplate` and `diffTemplates` take. */
  typeRegistry(): Required<ResourceTypeRegistry> {
    this.typeRegistryCache ??= createResourceTypeRegistry(
      Object.fromEntries(
        [...this.byType.values()].map((provisioner) => [
          provisioner.type,
          { attributes: provisioner.attributes, replacementProperties: provisioner.replacementProperties },
        ]),
      ),
    );
    return this.typeRegistryCache;
  }
}
