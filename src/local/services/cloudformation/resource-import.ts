/**
 * Resource import (CreateChangeSet with ChangeSetType IMPORT): the checks CloudFormation makes
 * before it accepts the change set, worded as it words them, and the change set's `Import`
 * changes. What may be imported: a resource of a type whose provisioner can find an existing
 * physical resource by its identifier (`importIdentifier` + `read`), declared in the template with a
 * DeletionPolicy, existing, and in no stack yet; the template may change nothing else (no other
 * resource added, changed or removed, the Outputs as they are — none for a new stack).
 */
import type { ProvisionerRegistry } from './provisioners/index.js';
import { ProvisionError, type ProvisionContext } from './provisioners/types.js';
import {
  diffTemplates,
  isTemplateObject,
  loadTemplate,
  resolveValue,
  sameTemplateValue,
  type PseudoParameters,
  type ResolveContext,
  type ResolvedParameters,
  type Template,
} from './template/index.js';
import { storedParameters } from './stack-runner.js';
import { validationError } from './stack-rules.js';
import type { ChangeRecord, ResourceToImportRecord, StackRecord } from './types.js';

/** One member of CreateChangeSet's ResourcesToImport, as the wire hands it over. */
export interface ResourceToImportInput {
  ResourceType?: string;
  LogicalResourceId?: string;
  ResourceIdentifier?: Record<string, string>;
}

export interface ImportCheckContext {
  provisioners: ProvisionerRegistry;
  pseudo: PseudoParameters;
  /** The stack imported into, when it exists already (not only in review). */
  existing: StackRecord | undefined;
  prepared: { template: Template; parameters: ResolvedParameters };
  /** A context to resolve the template's values without its resources (`partial`). */
  resolveContext: ResolveContext;
  importValue: (name: string) => string | undefined;
  /** The stack that holds a physical resource of this type, if any. */
  ownerOf: (type: string, physicalId: string) => string | undefined;
  provisionContext: (logicalId: string) => ProvisionContext;
}

function list(ids: readonly string[]): string {
  return `[${ids.join(', ')}]`;
}

function missingMember(index: number, member: string): never {
  throw validationError(
    `1 validation error detected: Value null at 'resourcesToImport.${index}.member.${member}' failed to satisfy constraint: Member must not be null`,
  );
}

/** `{BucketName=lake}`, as CloudFormation prints an identifier. */
export function identifierText(identifier: Readonly<Record<string, string>>): string {
  return `{${Object.entries(identifier)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ')}}`;
}

/**
 * Checks an IMPORT change set's ResourcesToImport against its template, the stack and the
 * existing resources. Returns what to import (with each resource's physical ID as found now), or
 * throws the ValidationError CloudFormation answers CreateChangeSet with.
 */
export async function checkResourcesToImport(
  requested: readonly ResourceToImportInput[] | undefined,
  ctx: ImportCheckContext,
): Promise<ResourceToImportRecord[]> {
  if (requested === undefined || requested.length === 0) {
    throw validationError('ResourcesToImport must be specified for a change set of type IMPORT.');
  }
  const entries = requested.map((entry, position) => {
    const index = position + 1;
    if (entry.ResourceType === undefined || entry.ResourceType === '') missingMember(index, 'resourceType');
    if (entry.LogicalResourceId === undefined || entry.LogicalResourceId === '')
      missingMember(index, 'logicalResourceId');
    if (entry.ResourceIdentifier === undefined || Object.keys(entry.ResourceIdentifier).length === 0)
      missingMember(index, 'resourceIdentifier');
    return {
      type: entry.ResourceType,
      logicalId: entry.LogicalResourceId,
      identifier: { ...entry.ResourceIdentifier },
    };
  });
  const seen = new Set<string>();
  for (const { logicalId } of entries) {
    if (seen.has(logicalId))
      throw validationError(`Resource ${logicalId} is specified more than once in ResourcesToImport.`);
    seen.add(logicalId);
  }

  const unsupported = entries
    .map((entry) => entry.type)
    .filter((type) => {
      const provisioner = ctx.provisioners.get(type);
      return provisioner?.read === undefined || provisioner.importIdentifier === undefined;
    });
  if (unsupported.length > 0) {
    throw validationError(
      `The following resource types are not supported for resource import: ${[...new Set(unsupported)].join(',')}`,
    );
  }

  const { template } = ctx.prepared;
  const absent = entries
    .filter((entry) => !Object.hasOwn(template.Resources, entry.logicalId))
    .map((entry) => entry.logicalId);
  if (absent.length > 0) {
    throw validationError(
      `The logical resource ids ${list(absent)} provided in ResourceToImport do not exist in the template.`,
    );
  }
  for (const entry of entries) {
    const declared = template.Resources[entry.logicalId]!.Type;
    if (declared !== entry.type) {
      throw validationError(
        `The ResourceType ${entry.type} of resource to import [${entry.logicalId}] does not match its Type ${declared} in the template.`,
      );
    }
  }
  const noPolicy = entries
    .filter((entry) => template.Resources[entry.logicalId]!.DeletionPolicy === undefined)
    .map((entry) => entry.logicalId);
  if (noPolicy.length > 0) {
    throw validationError(
      `The following resources to import ${list(noPolicy)} must have DeletionPolicy attribute specified in the template.`,
    );
  }
  const inStack = entries
    .filter((entry) => ctx.existing !== undefined && Object.hasOwn(ctx.existing.resources, entry.logicalId))
    .map((entry) => entry.logicalId);
  if (inStack.length > 0) {
    throw validationError(
      `Resources ${list(inStack)} passed in ResourceToImport are already in a stack and cannot be imported.`,
    );
  }

  for (const entry of entries) {
    const keys = ctx.provisioners.get(entry.type)!.importIdentifier!;
    const given = Object.keys(entry.identifier).sort();
    if (given.length !== keys.length || !keys.every((key) => given.includes(key))) {
      throw validationError(
        `Invalid ResourceIdentifier ${identifierText(entry.identifier)} for resource to import [${entry.logicalId}]: ${entry.type} is identified by ${list([...keys])}.`,
      );
    }
    // The identifier properties the template gives must name the same resource.
    const properties = template.Resources[entry.logicalId]!.Properties;
    for (const key of keys) {
      if (!isTemplateObject(properties) || properties[key] === undefined) continue;
      const value = resolveValue(
        properties[key],
        ctx.resolveContext,
        `/Resources/${entry.logicalId}/Properties/${key}`,
      );
      if (typeof value === 'string' && value !== entry.identifier[key]) {
        throw validationError(
          `The ResourceIdentifier ${key}=${entry.identifier[key]} of resource to import [${entry.logicalId}] does not match its ${key} property in the template (${value}).`,
        );
      }
    }
  }

  checkNothingElseChanges(entries, ctx);

  const records: ResourceToImportRecord[] = [];
  for (const entry of entries) {
    const provisioner = ctx.provisioners.get(entry.type)!;
    let physicalId: string;
    try {
      physicalId = (await provisioner.read!(entry.identifier, ctx.provisionContext(entry.logicalId)))
        .physicalId;
    } catch (error) {
      if (error instanceof ProvisionError && error.handlerErrorCode === 'NotFound') {
        throw validationError(
          `Resource ${identifierText(entry.identifier)} of type ${entry.type} to import as [${entry.logicalId}] does not exist.`,
        );
      }
      throw error;
    }
    const owner = ctx.ownerOf(entry.type, physicalId);
    if (owner !== undefined) {
      throw validationError(
        `Resource ${identifierText(entry.identifier)} of type ${entry.type} to import as [${entry.logicalId}] already belongs to stack [${owner}] and cannot be imported.`,
      );
    }
    records.push({ ...entry, physicalId });
  }
  return records;
}

/** An import adds the resources it imports and nothing else: no other change to resources or outputs. */
function checkNothingElseChanges(
  entries: ReadonlyArray<{ logicalId: string }>,
  ctx: ImportCheckContext,
): void {
  const importing = new Set(entries.map((entry) => entry.logicalId));
  const { template, parameters } = ctx.prepared;
  let previous: { template: Template; parameters: ResolvedParameters['values'] } | undefined;
  if (ctx.existing?.templateBody !== undefined) {
    const old = loadTemplate(ctx.existing.templateBody);
    previous = { template: old, parameters: storedParameters(old, ctx.existing.parameters).values };
  }
  const changes = diffTemplates(
    previous,
    { template, parameters: parameters.values },
    {
      pseudo: ctx.pseudo,
      registry: ctx.provisioners.typeRegistry(),
      importValue: ctx.importValue,
    },
  );
  const others = changes
    .filter((change) => !(change.action === 'Add' && importing.has(change.logicalId)))
    .map((change) => change.logicalId);
  if (others.length > 0) {
    throw validationError(
      `You have modified resources ${list(others)} in your template that are not being imported. Update, create or delete operations cannot be executed during import operations.`,
    );
  }
  const before = previous?.template.Outputs ?? {};
  if (!sameTemplateValue(JSON.parse(JSON.stringify(before)), JSON.parse(JSON.stringify(template.Outputs)))) {
    throw validationError('As part of the import operation, you cannot modify or add [Outputs]');
  }
}

/** The change set's changes: one `Import` per resource. */
export function importChanges(resources: readonly ResourceToImportRecord[]): ChangeRecord[] {
  return resources.map((resource) => ({
    Type: 'Resource',
    ResourceChange: {
      Action: 'Import',
      LogicalResourceId: resource.logicalId,
      PhysicalResourceId: resource.physicalId,
      ResourceType: resource.type,
      Scope: [],
      Details: [],
    },
  }));
}
