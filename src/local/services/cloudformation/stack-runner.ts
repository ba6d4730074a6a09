/**
 * The provisioning engine: runs a stack operation (create, update, delete) in the background,
 * resource by resource through the provisioners, with CloudFormation's lifecycle — statuses,
 * one event per resource status change plus stack-level events, rollback of whatever the
 * operation created or changed when a resource fails, replacements created first and the old
 * physical resources deleted in the cleanup phase, DeletionPolicy / UpdateReplacePolicy Retain,
 * exports checked against the other stacks.
 *
 * Resources are provisioned one at a time in dependency order (CloudFormation runs independent
 * ones in parallel; one at a time gives the same end state and a deterministic event order). The
 * stack record is saved after every resource step, so a crash loses at most the step in flight.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as tick } from 'node:timers/promises';
import type { LocalContext } from '../../types.js';
import type { ProvisionerRegistry } from './provisioners/registry.js';
import {
  ProvisionError,
  randomSuffix,
  type ProvisionContext,
  type Provisioner,
  type ProvisionerServices,
} from './provisioners/types.js';
import type { CloudFormationStore } from './stack-store.js';
import { assign } from '../../store/state-file.js';
import {
  buildDependencyGraph,
  evaluateConditions,
  loadTemplate,
  partitionOf,
  resolveOutputs,
  resolveParameters,
  resolveResourceProperties,
  resolveValue,
  sameTemplateValue,
  TemplateError,
  type PseudoParameters,
  type ResolveContext,
  type ResolvedOutput,
  type ResolvedParameters,
  type Template,
  type TemplateObject,
  type TemplateValue,
} from './template/index.js';
import type {
  OnFailure,
  ParameterRecord,
  ResourceRecord,
  ResourceToImportRecord,
  ResourceStatus,
  StackRecord,
  StackStatus,
  Tag,
} from './types.js';

export const STACK_RESOURCE_TYPE = 'AWS::CloudFormation::Stack';
export const RESTART_REASON = 'The local stack restarted while this operation was in progress.';

/** What the engine needs from the service that owns it. */
export interface EngineHost {
  readonly ctx: LocalContext;
  readonly store: CloudFormationStore;
  readonly provisioners: ProvisionerRegistry;
  readonly services: ProvisionerServices;
  /** A committed export of another stack. */
  findExport(
    name: string,
    excludeStackId?: string,
  ): { value: string; stackId: string; stackName: string } | undefined;
  /** Names of the live stacks (other than `excludeStackId`) importing an export. */
  importersOf(exportName: string, excludeStackId?: string): string[];
  /** The name of the live stack holding a physical resource of this type, if one does. */
  ownerOf(type: string, physicalId: string): string | undefined;
}

/** A validated request to bring a stack to a template + parameters. */
export interface StackPlan {
  templateBody: string;
  template: Template;
  parameters: ResolvedParameters;
  capabilities: string[];
  tags: Tag[];
  notificationArns: string[];
  changeSetId?: string;
}

type Step =
  | { kind: 'create'; logicalId: string }
  | { kind: 'update'; logicalId: string; before: ResourceRecord }
  | { kind: 'replace'; logicalId: string; before: ResourceRecord };

interface Failure {
  /** The stack's status reason. */
  reason: string;
}

type DeleteContext = 'stack' | 'create-rollback' | 'removed' | 'replaced' | 'update-rollback';

function isLive(record: ResourceRecord | undefined): record is ResourceRecord & { physicalId: string } {
  return (
    record !== undefined &&
    record.physicalId !== undefined &&
    record.status !== 'DELETE_COMPLETE' &&
    record.status !== 'DELETE_SKIPPED'
  );
}

/**
 * An event timestamp strictly after the stack's previous event: tools sort events by time and
 * dedupe them by EventId (which embeds the time), and several steps can happen in one millisecond.
 */
export function nextEventTime(stack: StackRecord, now: Date): string {
  const last = stack.events.at(-1);
  const previous = last === undefined ? 0 : Date.parse(last.timestamp);
  return new Date(Math.max(now.getTime(), previous + 1)).toISOString();
}

/** `reason` ending as a sentence followed by a space, ready for the next one (AWS's spacing). */
function sentence(reason: string): string {
  if (reason.endsWith(' ')) return reason;
  return reason.endsWith('.') ? `${reason} ` : `${reason}. `;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

export function stackParameterRecords(resolved: ResolvedParameters): ParameterRecord[] {
  return Object.entries(resolved.raw).map(([key, value]) => ({ key, value }));
}

/** Re-resolves a stack's stored parameter values against its template (defaults included). */
export function storedParameters(
  template: Template,
  parameters: readonly ParameterRecord[],
): ResolvedParameters {
  const given: Record<string, string> = {};
  for (const { key, value } of parameters) if (Object.hasOwn(template.Parameters, key)) given[key] = value;
  return resolveParameters(template, given);
}

export function pseudoParameters(
  stack: Pick<StackRecord, 'stackId' | 'stackName'>,
  ctx: LocalContext,
): PseudoParameters {
  return { stackName: stack.stackName, stackId: stack.stackId, region: ctx.region, accountId: ctx.accountId };
}

function failureMessage(error: unknown): string {
  if (error instanceof ProvisionError) {
    return `Resource handler returned message: "${error.message}" (RequestToken: ${randomUUID()}, HandlerErrorCode: ${error.handlerErrorCode})`;
  }
  if (error instanceof TemplateError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `Internal Failure: ${message}`;
}

interface EventFields {
  logicalId: string;
  physicalId?: string | undefined;
  resourceType: string;
  status: StackStatus | ResourceStatus;
  reason?: string | undefined;
  properties?: TemplateObject | undefined;
}

export class StackEngine {
  constructor(private readonly host: EngineHost) {}

  private now(): string {
    return this.host.ctx.now().toISOString();
  }

  // --- Events and statuses

  private pushEvent(stack: StackRecord, event: EventFields): void {
    stack.events.push(this.newEvent(stack, event));
  }

  /** The stack event that follows the stack's last one. */
  private newEvent(stack: StackRecord, event: EventFields): StackRecord['events'][number] {
    const timestamp = nextEventTime(stack, this.host.ctx.now());
    return {
      eventId:
        event.resourceType === STACK_RESOURCE_TYPE
          ? randomUUID()
          : `${event.logicalId}-${event.status}-${timestamp}`,
      timestamp,
      logicalId: event.logicalId,
      ...(event.physicalId !== undefined ? { physicalId: event.physicalId } : {}),
      resourceType: event.resourceType,
      status: event.status,
      ...(event.reason !== undefined ? { reason: event.reason } : {}),
      ...(event.properties !== undefined ? { properties: JSON.stringify(event.properties) } : {}),
    };
  }

  /**
   * Sets the stack status (and its reason) with a stack event, once that is on disk: a status that
   * cannot be written (a full disk) is not shown, and the operation ends there.
   */
  async stackStatus(
    stack: StackRecord,
    status: StackStatus,
    reason?: string,
    keepReason = false,
  ): Promise<void> {
    let event: StackRecord['events'][number] | undefined;
    await this.host.store.commit(stack, () => {
      const undoStatus = assign(stack, {
        status,
        statusReason: reason ?? (keepReason ? stack.statusReason : undefined),
      });
      const length = stack.events.length;
      // Made once: a second apply (after the write) adds the very event that was written.
      event ??= this.newEvent(stack, {
        logicalId: stack.stackName,
        physicalId: stack.stackId,
        resourceType: STACK_RESOURCE_TYPE,
        status,
        reason,
      });
      stack.events.push(event);
      return () => {
        stack.events.length = length;
        undoStatus();
      };
    });
  }

  private resourceStatus(
    stack: StackRecord,
    record: ResourceRecord,
    status: ResourceStatus,
    reason?: string,
    properties?: TemplateObject,
  ): void {
    record.status = status;
    record.updated = this.now();
    if (reason !== undefined) record.reason = reason;
    else delete record.reason;
    this.pushEvent(stack, {
      logicalId: record.logicalId,
      physicalId: record.physicalId,
      resourceType: record.type,
      status,
      reason,
      properties,
    });
  }

  // --- Contexts

  resolveContext(
    stack: StackRecord,
    template: Template,
    parameters: ResolvedParameters,
    conditions: Readonly<Record<string, boolean>>,
    imports?: Set<string>,
  ): ResolveContext {
    return {
      parameters: parameters.values,
      pseudo: pseudoParameters(stack, this.host.ctx),
      mappings: template.Mappings,
      conditions,
      ref: (logicalId) => {
        const record = stack.resources[logicalId];
        return isLive(record) ? record.physicalId : undefined;
      },
      getAtt: (logicalId, attribute) => {
        const record = stack.resources[logicalId];
        return isLive(record) && Object.hasOwn(record.attributes, attribute)
          ? record.attributes[attribute]
          : undefined;
      },
      importValue: (name) => {
        const found = this.host.findExport(name, stack.stackId);
        if (found !== undefined) imports?.add(name);
        return found?.value;
      },
    };
  }

  provisionContext(stack: StackRecord, logicalId: string): ProvisionContext {
    const { ctx } = this.host;
    return {
      stackName: stack.stackName,
      stackId: stack.stackId,
      logicalId,
      region: ctx.region,
      accountId: ctx.accountId,
      partition: partitionOf(ctx.region),
      urlSuffix: ctx.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com',
      services: this.host.services,
      now: ctx.now,
      log: ctx.log,
      generateName: ({ maxLength = 255, lowerCase = false } = {}) => {
        const suffix = randomSuffix();
        const budget = Math.max(2, maxLength - suffix.length - 2);
        let stackPart = stack.stackName;
        let logicalPart = logicalId;
        while (stackPart.length + logicalPart.length > budget) {
          if (stackPart.length >= logicalPart.length) stackPart = stackPart.slice(0, -1);
          else logicalPart = logicalPart.slice(0, -1);
        }
        const name = `${stackPart}-${logicalPart}-${suffix}`;
        return lowerCase ? name.toLowerCase() : name;
      },
    };
  }

  // --- Operations

  /** CreateStack / executing a CREATE change set. The stack record already holds the plan's settings. */
  async create(stack: StackRecord, plan: StackPlan, onFailure: OnFailure): Promise<void> {
    await this.stackStatus(stack, 'CREATE_IN_PROGRESS', 'User Initiated');
    const journal: Step[] = [];
    const result = await this.provision(stack, plan, journal);
    if (!('reason' in result)) {
      stack.outputs = result.outputs;
      stack.imports = result.imports;
      await this.stackStatus(stack, 'CREATE_COMPLETE');
      return;
    }
    if (onFailure === 'DO_NOTHING') {
      await this.stackStatus(stack, 'CREATE_FAILED', result.reason);
      return;
    }
    await this.stackStatus(
      stack,
      'ROLLBACK_IN_PROGRESS',
      `${sentence(result.reason)}Rollback requested by user.`,
    );
    const rollback = await this.rollbackCreate(stack, journal);
    if (rollback !== undefined) {
      await this.stackStatus(stack, 'ROLLBACK_FAILED', rollback);
      return;
    }
    await this.stackStatus(stack, 'ROLLBACK_COMPLETE', undefined, true);
    if (onFailure === 'DELETE') await this.delete(stack, []);
  }

  /** UpdateStack / executing an UPDATE change set. */
  async update(stack: StackRecord, plan: StackPlan): Promise<void> {
    const oldTemplateBody = stack.templateBody ?? '';
    const oldParameters = stack.parameters;
    stack.lastUpdatedTime = this.now();
    await this.stackStatus(stack, 'UPDATE_IN_PROGRESS', 'User Initiated');
    const journal: Step[] = [];
    const result = await this.provision(stack, plan, journal);
    if ('reason' in result) {
      if (stack.disableRollback) {
        await this.stackStatus(stack, 'UPDATE_FAILED', result.reason);
        return;
      }
      await this.stackStatus(stack, 'UPDATE_ROLLBACK_IN_PROGRESS', result.reason);
      const rollback = await this.rollbackUpdate(stack, journal);
      if (rollback !== undefined) await this.stackStatus(stack, 'UPDATE_ROLLBACK_FAILED', rollback);
      else await this.stackStatus(stack, 'UPDATE_ROLLBACK_COMPLETE');
      return;
    }
    // Committed: the stack now is the new template; what is left is deleting what it no longer has.
    takeTemplate(stack, plan, result);
    await this.stackStatus(stack, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    await this.cleanupAfterUpdate(stack, result.included, oldTemplateBody, oldParameters);
    await this.stackStatus(stack, 'UPDATE_COMPLETE');
  }

  /**
   * Executing an IMPORT change set: each resource to import is found by its identifier and joins
   * the stack as it is (nothing is created, changed or deleted); then the stack takes the
   * template. A resource that cannot be imported rolls the import back: the resources imported
   * so far leave the stack again, untouched.
   */
  async import(
    stack: StackRecord,
    plan: StackPlan,
    resources: readonly ResourceToImportRecord[],
  ): Promise<void> {
    const isNew = stack.templateBody === undefined;
    if (!isNew) stack.lastUpdatedTime = this.now();
    await this.stackStatus(stack, 'IMPORT_IN_PROGRESS', 'User Initiated');
    const imported: ResourceRecord[] = [];
    const result = await this.importResources(stack, plan, resources, imported);
    if ('reason' in result) {
      await this.stackStatus(stack, 'IMPORT_ROLLBACK_IN_PROGRESS', result.reason);
      for (const record of [...imported].reverse()) {
        await tick();
        this.resourceStatus(stack, record, 'IMPORT_ROLLBACK_COMPLETE');
        delete stack.resources[record.logicalId];
        await this.host.store.save(stack);
      }
      await this.stackStatus(stack, 'IMPORT_ROLLBACK_COMPLETE');
      return;
    }
    takeTemplate(stack, plan, result);
    await this.stackStatus(stack, 'IMPORT_COMPLETE');
  }

  /** The plan's conditions evaluated and its resources in creation order, or why not. */
  private creationOrder(
    stack: StackRecord,
    plan: StackPlan,
  ): { conditions: Record<string, boolean>; order: string[] } | Failure {
    try {
      const conditions = evaluateConditions(plan.template, {
        parameters: plan.parameters.values,
        pseudo: pseudoParameters(stack, this.host.ctx),
      });
      return { conditions, order: buildDependencyGraph(plan.template, { conditions }).creationOrder() };
    } catch (error) {
      return { reason: failureMessage(error) };
    }
  }

  private async importResources(
    stack: StackRecord,
    plan: StackPlan,
    resources: readonly ResourceToImportRecord[],
    imported: ResourceRecord[],
  ): Promise<{ outputs: ResolvedOutput[]; imports: string[] } | Failure> {
    const { template } = plan;
    const imports = new Set<string>();
    const ordered = this.creationOrder(stack, plan);
    if ('reason' in ordered) return ordered;
    const { conditions, order } = ordered;
    const rctx = this.resolveContext(stack, template, plan.parameters, conditions, imports);
    const wanted = new Map(resources.map((resource) => [resource.logicalId, resource]));
    for (const logicalId of order) {
      const resource = wanted.get(logicalId);
      if (resource === undefined) continue;
      await tick();
      const declaration = template.Resources[logicalId]!;
      let properties: TemplateObject = {};
      const record = this.newRecord(logicalId, declaration.Type, properties, declaration);
      record.status = 'IMPORT_IN_PROGRESS';
      stack.resources[logicalId] = record;
      imported.push(record);
      try {
        properties = resolveResourceProperties(template, logicalId, rctx);
        record.properties = properties;
        this.resourceStatus(stack, record, 'IMPORT_IN_PROGRESS', undefined, properties);
        await this.host.store.save(stack);
        const provisioner = this.host.provisioners.get(declaration.Type);
        if (provisioner?.read === undefined)
          throw new TemplateError(`Resource type ${declaration.Type} is not supported for resource import`);
        const found = await provisioner.read(resource.identifier, this.provisionContext(stack, logicalId));
        // Checked right before it is taken (no await in between): two imports of one resource
        // into two stacks cannot both succeed.
        const owner = this.host.ownerOf(declaration.Type, found.physicalId);
        if (owner !== undefined)
          throw new ProvisionError(`${found.physicalId} already exists in stack ${owner}`, 'AlreadyExists');
        record.physicalId = found.physicalId;
        record.attributes = { ...(found.attributes ?? {}) };
      } catch (error) {
        this.resourceStatus(stack, record, 'IMPORT_FAILED', failureMessage(error));
        await this.host.store.save(stack);
        return { reason: `The following resource(s) failed to import: [${logicalId}]. ` };
      }
      this.resourceStatus(stack, record, 'IMPORT_COMPLETE');
      await this.host.store.save(stack);
    }
    let outputs: ResolvedOutput[];
    try {
      outputs = resolveOutputs(template, rctx);
    } catch (error) {
      return { reason: failureMessage(error) };
    }
    const conflict = this.exportConflict(stack, outputs);
    if (conflict !== undefined) return { reason: conflict };
    return { outputs, imports: [...imports].sort() };
  }

  /** DeleteStack. `retain`: logical IDs to leave in place (only for a DELETE_FAILED stack). */
  async delete(stack: StackRecord, retain: readonly string[]): Promise<void> {
    await this.stackStatus(stack, 'DELETE_IN_PROGRESS', 'User Initiated');
    for (const output of stack.outputs) {
      if (output.ExportName === undefined) continue;
      const importers = this.host.importersOf(output.ExportName, stack.stackId);
      if (importers.length > 0) {
        await this.stackStatus(
          stack,
          'DELETE_FAILED',
          `Export ${output.ExportName} cannot be deleted as it is in use by ${importers.join(', ')}`,
        );
        return;
      }
    }
    const failed: string[] = [];
    const blocked = new Set<string>();
    const graph = this.graphFor(stack.templateBody, stack.parameters, stack);
    // Leftovers of an interrupted update first, then the stack's resources, dependents before dependencies.
    for (const record of [...stack.retiring].reverse()) {
      await tick();
      const problem = await this.deleteResource(stack, record, 'replaced');
      if (problem === undefined) stack.retiring.splice(stack.retiring.indexOf(record), 1);
      else failed.push(record.logicalId);
    }
    for (const logicalId of this.deletionOrder(stack, graph)) {
      const record = stack.resources[logicalId];
      if (record === undefined || record.status === 'DELETE_COMPLETE' || record.status === 'DELETE_SKIPPED')
        continue;
      if (blocked.has(logicalId)) continue;
      await tick();
      const problem = await this.deleteResource(
        stack,
        record,
        'stack',
        retain.includes(logicalId) ? 'Retain' : record.deletionPolicy,
      );
      if (problem !== undefined) {
        failed.push(logicalId);
        // What the failed resource depends on must outlive it.
        const pending = [...(graph?.dependenciesOf(logicalId) ?? [])];
        while (pending.length > 0) {
          const next = pending.pop() as string;
          if (blocked.has(next)) continue;
          blocked.add(next);
          pending.push(...(graph?.dependenciesOf(next) ?? []));
        }
      }
    }
    if (failed.length > 0) {
      await this.stackStatus(
        stack,
        'DELETE_FAILED',
        `The following resource(s) failed to delete: [${failed.join(', ')}]. `,
      );
      return;
    }
    stack.deletionTime = this.now();
    stack.outputs = [];
    stack.imports = [];
    await this.stackStatus(stack, 'DELETE_COMPLETE');
  }

  // --- Provisioning

  /**
   * Brings every resource of the plan's template to its resolved properties, recording each step
   * in `journal` for a rollback. Returns the outputs, or the failure.
   */
  private async provision(
    stack: StackRecord,
    plan: StackPlan,
    journal: Step[],
  ): Promise<{ outputs: ResolvedOutput[]; imports: string[]; included: string[] } | Failure> {
    const { template } = plan;
    const imports = new Set<string>();
    const ordered = this.creationOrder(stack, plan);
    if ('reason' in ordered) return ordered;
    const { conditions, order } = ordered;
    const rctx = this.resolveContext(stack, template, plan.parameters, conditions, imports);
    const earlyConflict = this.staticExportConflict(stack, template, plan.parameters, conditions);
    if (earlyConflict !== undefined) return { reason: earlyConflict };

    for (const logicalId of order) {
      await tick();
      const declaration = template.Resources[logicalId]!;
      const existing = stack.resources[logicalId];
      let properties: TemplateObject;
      try {
        properties = resolveResourceProperties(template, logicalId, rctx);
      } catch (error) {
        const reason = failureMessage(error);
        if (isLive(existing)) {
          this.resourceStatus(stack, existing, 'UPDATE_FAILED', reason);
        } else {
          const record = this.newRecord(logicalId, declaration.Type, {}, declaration);
          stack.resources[logicalId] = record;
          this.resourceStatus(stack, record, 'CREATE_FAILED', reason);
        }
        await this.host.store.save(stack);
        return { reason: this.failedReason(isLive(existing) ? 'update' : 'create', logicalId) };
      }
      let ok: boolean;
      if (!isLive(existing)) {
        ok = await this.createResource(stack, logicalId, declaration.Type, properties, declaration, journal);
        if (!ok) return { reason: this.failedReason('create', logicalId) };
        continue;
      }
      // Policies and metadata are CloudFormation's own bookkeeping: no provisioning needed.
      this.applyPolicies(existing, declaration);
      const provisioner = this.host.provisioners.get(declaration.Type);
      const replacement =
        existing.type !== declaration.Type ||
        (provisioner?.replacementProperties ?? []).some(
          (name) => !sameOptional(existing.properties[name], properties[name]),
        );
      if (replacement) {
        ok = await this.replaceResource(stack, existing, declaration.Type, properties, declaration, journal);
      } else if (!sameTemplateValue(existing.properties, properties)) {
        ok = await this.updateResource(stack, existing, properties, journal);
      } else {
        continue;
      }
      if (!ok) return { reason: this.failedReason('update', logicalId) };
    }

    let outputs: ResolvedOutput[];
    try {
      outputs = resolveOutputs(template, rctx);
    } catch (error) {
      return { reason: failureMessage(error) };
    }
    const conflict = this.exportConflict(stack, outputs);
    if (conflict !== undefined) return { reason: conflict };
    return { outputs, imports: [...imports].sort(), included: order };
  }

  private failedReason(kind: 'create' | 'update', logicalId: string): string {
    return `The following resource(s) failed to ${kind}: [${logicalId}]. `;
  }

  private newRecord(
    logicalId: string,
    type: string,
    properties: TemplateObject,
    declaration: Template['Resources'][string],
  ): ResourceRecord {
    const record: ResourceRecord = {
      logicalId,
      type,
      status: 'CREATE_IN_PROGRESS',
      updated: this.now(),
      properties,
      attributes: {},
    };
    this.applyPolicies(record, declaration);
    return record;
  }

  private applyPolicies(record: ResourceRecord, declaration: Template['Resources'][string]): void {
    if (declaration.DeletionPolicy !== undefined) record.deletionPolicy = declaration.DeletionPolicy;
    else delete record.deletionPolicy;
    if (declaration.UpdateReplacePolicy !== undefined)
      record.updateReplacePolicy = declaration.UpdateReplacePolicy;
    else delete record.updateReplacePolicy;
    if (declaration.Metadata !== undefined) record.metadata = declaration.Metadata;
    else delete record.metadata;
  }

  /** The type's provisioner, after CloudFormation's schema checks of the resolved properties. */
  private provisionerFor(type: string, logicalId: string, properties: TemplateObject): Provisioner {
    const provisioner = this.host.provisioners.get(type);
    if (provisioner === undefined) throw new TemplateError(`Unrecognized resource type ${type}`);
    const problems: string[] = [];
    for (const name of provisioner.requiredProperties ?? []) {
      if (properties[name] === undefined) problems.push(`#: required key [${name}] not found`);
    }
    if (provisioner.properties !== undefined) {
      for (const name of Object.keys(properties)) {
        if (!provisioner.properties.includes(name))
          problems.push(`#: extraneous key [${name}] is not permitted`);
      }
    }
    if (problems.length > 0) {
      throw new TemplateError(
        `Properties validation failed for resource ${logicalId} with message: [${problems.join(', ')}]`,
      );
    }
    return provisioner;
  }

  private async createResource(
    stack: StackRecord,
    logicalId: string,
    type: string,
    properties: TemplateObject,
    declaration: Template['Resources'][string],
    journal: Step[],
  ): Promise<boolean> {
    const record = this.newRecord(logicalId, type, properties, declaration);
    stack.resources[logicalId] = record;
    journal.push({ kind: 'create', logicalId });
    this.resourceStatus(stack, record, 'CREATE_IN_PROGRESS', undefined, properties);
    await this.host.store.save(stack);
    try {
      const provisioner = this.provisionerFor(type, logicalId, properties);
      const result = await provisioner.create(properties, this.provisionContext(stack, logicalId));
      record.physicalId = result.physicalId;
      record.attributes = { ...(result.attributes ?? {}) };
    } catch (error) {
      this.resourceStatus(stack, record, 'CREATE_FAILED', failureMessage(error));
      await this.host.store.save(stack);
      return false;
    }
    this.resourceStatus(stack, record, 'CREATE_IN_PROGRESS', 'Resource creation Initiated');
    this.resourceStatus(stack, record, 'CREATE_COMPLETE');
    await this.host.store.save(stack);
    return true;
  }

  private async replaceResource(
    stack: StackRecord,
    existing: ResourceRecord & { physicalId: string },
    type: string,
    properties: TemplateObject,
    declaration: Template['Resources'][string],
    journal: Step[],
  ): Promise<boolean> {
    const before = clone(existing);
    this.resourceStatus(
      stack,
      existing,
      'UPDATE_IN_PROGRESS',
      'Requested update requires the creation of a new physical resource; hence creating one.',
    );
    const record = this.newRecord(existing.logicalId, type, properties, declaration);
    record.status = 'UPDATE_IN_PROGRESS';
    stack.resources[existing.logicalId] = record;
    stack.retiring.push(before);
    journal.push({ kind: 'replace', logicalId: existing.logicalId, before });
    await this.host.store.save(stack);
    try {
      const provisioner = this.provisionerFor(type, existing.logicalId, properties);
      const result = await provisioner.create(properties, this.provisionContext(stack, existing.logicalId));
      record.physicalId = result.physicalId;
      record.attributes = { ...(result.attributes ?? {}) };
    } catch (error) {
      // The failure event names the physical resource that stays in place, as AWS's does.
      record.physicalId = before.physicalId;
      this.resourceStatus(stack, record, 'UPDATE_FAILED', failureMessage(error));
      delete record.physicalId;
      await this.host.store.save(stack);
      return false;
    }
    this.resourceStatus(stack, record, 'UPDATE_IN_PROGRESS', 'Resource creation Initiated');
    this.resourceStatus(stack, record, 'UPDATE_COMPLETE');
    await this.host.store.save(stack);
    return true;
  }

  private async updateResource(
    stack: StackRecord,
    existing: ResourceRecord & { physicalId: string },
    properties: TemplateObject,
    journal: Step[],
  ): Promise<boolean> {
    const before = clone(existing);
    journal.push({ kind: 'update', logicalId: existing.logicalId, before });
    this.resourceStatus(stack, existing, 'UPDATE_IN_PROGRESS', undefined, properties);
    await this.host.store.save(stack);
    try {
      const provisioner = this.provisionerFor(existing.type, existing.logicalId, properties);
      const result = await provisioner.update(
        existing.physicalId,
        properties,
        { properties: before.properties, attributes: before.attributes },
        this.provisionContext(stack, existing.logicalId),
      );
      existing.properties = properties;
      existing.attributes = { ...existing.attributes, ...(result.attributes ?? {}) };
    } catch (error) {
      this.resourceStatus(stack, existing, 'UPDATE_FAILED', failureMessage(error));
      await this.host.store.save(stack);
      return false;
    }
    this.resourceStatus(stack, existing, 'UPDATE_COMPLETE');
    await this.host.store.save(stack);
    return true;
  }

  /**
   * Deletes one physical resource (or skips it under a Retain policy). Returns the failure
   * reason, or undefined when it is gone or retained.
   */
  private async deleteResource(
    stack: StackRecord,
    record: ResourceRecord,
    context: DeleteContext,
    policyOverride?: string,
  ): Promise<string | undefined> {
    const policy =
      policyOverride ?? (context === 'replaced' ? record.updateReplacePolicy : record.deletionPolicy);
    // RetainExceptOnCreate keeps a resource except when the operation that created it rolls back.
    const retain =
      policy === 'Retain' ||
      (policy === 'RetainExceptOnCreate' && (context === 'stack' || context === 'removed'));
    if (record.physicalId === undefined) {
      this.resourceStatus(stack, record, 'DELETE_COMPLETE');
      await this.host.store.save(stack);
      return undefined;
    }
    if (retain) {
      this.resourceStatus(stack, record, 'DELETE_SKIPPED');
      await this.host.store.save(stack);
      return undefined;
    }
    this.resourceStatus(stack, record, 'DELETE_IN_PROGRESS');
    await this.host.store.save(stack);
    try {
      const provisioner = this.host.provisioners.get(record.type);
      if (provisioner === undefined) {
        this.host.ctx.log(
          `cloudformation: no provisioner for ${record.type}; forgetting ${record.physicalId}`,
        );
      } else {
        await provisioner.delete(
          record.physicalId,
          record.properties,
          this.provisionContext(stack, record.logicalId),
        );
      }
    } catch (error) {
      const reason = failureMessage(error);
      this.resourceStatus(stack, record, 'DELETE_FAILED', reason);
      await this.host.store.save(stack);
      return reason;
    }
    this.resourceStatus(stack, record, 'DELETE_COMPLETE');
    await this.host.store.save(stack);
    return undefined;
  }

  // --- Rollback and cleanup

  private async rollbackCreate(stack: StackRecord, journal: Step[]): Promise<string | undefined> {
    const failed: string[] = [];
    for (const step of [...journal].reverse()) {
      const record = stack.resources[step.logicalId];
      if (record === undefined) continue;
      await tick();
      const problem = await this.deleteResource(stack, record, 'create-rollback');
      if (problem !== undefined) failed.push(step.logicalId);
    }
    if (failed.length === 0) return undefined;
    return `The following resource(s) failed to delete: [${failed.join(', ')}]. `;
  }

  private async rollbackUpdate(stack: StackRecord, journal: Step[]): Promise<string | undefined> {
    const discard: ResourceRecord[] = [];
    const added: string[] = [];
    for (const step of [...journal].reverse()) {
      await tick();
      const current = stack.resources[step.logicalId];
      if (step.kind === 'create') {
        added.push(step.logicalId);
        if (current !== undefined) discard.push(current);
        continue;
      }
      if (step.kind === 'replace') {
        if (current !== undefined && current.physicalId !== undefined) discard.push(current);
        const index = stack.retiring.findIndex(
          (record) => record.logicalId === step.logicalId && record.physicalId === step.before.physicalId,
        );
        if (index >= 0) stack.retiring.splice(index, 1);
        const restored = clone(step.before);
        stack.resources[step.logicalId] = restored;
        this.resourceStatus(stack, restored, 'UPDATE_COMPLETE');
        await this.host.store.save(stack);
        continue;
      }
      if (current === undefined || current.physicalId === undefined) continue;
      this.resourceStatus(stack, current, 'UPDATE_IN_PROGRESS', undefined, step.before.properties);
      try {
        const provisioner = this.host.provisioners.get(current.type);
        await provisioner?.update(
          current.physicalId,
          step.before.properties,
          { properties: current.properties, attributes: current.attributes },
          this.provisionContext(stack, step.logicalId),
        );
      } catch (error) {
        const reason = failureMessage(error);
        this.resourceStatus(stack, current, 'UPDATE_FAILED', reason);
        await this.host.store.save(stack);
        return `The following resource(s) failed to update: [${step.logicalId}]. `;
      }
      const restored = clone(step.before);
      stack.resources[step.logicalId] = restored;
      this.resourceStatus(stack, restored, 'UPDATE_COMPLETE');
      await this.host.store.save(stack);
    }
    await this.stackStatus(stack, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    const failed: string[] = [];
    for (const record of discard) {
      await tick();
      // New physical resources of replacements are always deleted; added resources keep Retain.
      const wasAdded = added.includes(record.logicalId);
      const problem = await this.deleteResource(
        stack,
        record,
        wasAdded ? 'update-rollback' : 'replaced',
        wasAdded ? undefined : 'Delete',
      );
      if (problem !== undefined) failed.push(record.logicalId);
    }
    for (const logicalId of added) {
      const record = stack.resources[logicalId];
      if (record !== undefined && !isLive(record)) delete stack.resources[logicalId];
    }
    await this.host.store.save(stack);
    if (failed.length === 0) return undefined;
    return `The following resource(s) failed to delete: [${failed.join(', ')}]. `;
  }

  /** Deletes the replaced physical resources and the resources the new template no longer has. */
  private async cleanupAfterUpdate(
    stack: StackRecord,
    included: readonly string[],
    oldTemplateBody: string,
    oldParameters: readonly ParameterRecord[],
  ): Promise<void> {
    const oldGraph = this.graphFor(oldTemplateBody, oldParameters, stack);
    const removed = Object.keys(stack.resources).filter((logicalId) => !included.includes(logicalId));
    const order = oldGraph?.deletionOrder() ?? [];
    const rank = (logicalId: string): number => {
      const index = order.indexOf(logicalId);
      return index < 0 ? -1 : index;
    };
    const work: Array<{ record: ResourceRecord; context: DeleteContext }> = [
      ...stack.retiring.map((record) => ({ record, context: 'replaced' as const })),
      ...removed.map((logicalId) => ({ record: stack.resources[logicalId]!, context: 'removed' as const })),
    ].sort((left, right) => rank(left.record.logicalId) - rank(right.record.logicalId));
    for (const { record, context } of work) {
      await tick();
      if (context === 'removed' && !isLive(record)) {
        delete stack.resources[record.logicalId];
        continue;
      }
      // A failed cleanup does not fail the update (as on AWS): the old resource is left behind.
      await this.deleteResource(stack, record, context);
      if (context === 'replaced') stack.retiring.splice(stack.retiring.indexOf(record), 1);
      else delete stack.resources[record.logicalId];
    }
    await this.host.store.save(stack);
  }

  /** The dependency graph of a stack's template, or undefined when it has none usable. */
  private graphFor(
    templateBody: string | undefined,
    parameters: readonly ParameterRecord[],
    stack: StackRecord,
  ): ReturnType<typeof buildDependencyGraph> | undefined {
    if (templateBody === undefined || templateBody === '') return undefined;
    try {
      // No registry: a type whose provisioner went away must still be deletable.
      const template = loadTemplate(templateBody);
      const resolved = storedParameters(template, parameters);
      const conditions = evaluateConditions(template, {
        parameters: resolved.values,
        pseudo: pseudoParameters(stack, this.host.ctx),
      });
      return buildDependencyGraph(template, { conditions });
    } catch {
      return undefined;
    }
  }

  /** Resources to delete, dependents first; those the template does not order go first. */
  private deletionOrder(
    stack: StackRecord,
    graph: ReturnType<typeof buildDependencyGraph> | undefined,
  ): string[] {
    const ordered = graph?.deletionOrder() ?? [];
    const known = Object.keys(stack.resources);
    const extra = known.filter((logicalId) => !ordered.includes(logicalId)).reverse();
    return [...extra, ...ordered.filter((logicalId) => known.includes(logicalId))];
  }

  // --- Exports

  /** Export names that resolve without the stack's resources and clash with another stack's. */
  private staticExportConflict(
    stack: StackRecord,
    template: Template,
    parameters: ResolvedParameters,
    conditions: Readonly<Record<string, boolean>>,
  ): string | undefined {
    const ctx: ResolveContext = {
      ...this.resolveContext(stack, template, parameters, conditions),
      partial: true,
    };
    for (const [key, output] of Object.entries(template.Outputs)) {
      if (output.ExportName === undefined) continue;
      if (output.Condition !== undefined && conditions[output.Condition] === false) continue;
      let name: TemplateValue | undefined;
      try {
        name = resolveValue(output.ExportName, ctx, `/Outputs/${key}/Export/Name`);
      } catch {
        continue;
      }
      if (typeof name !== 'string') continue;
      const owner = this.host.findExport(name, stack.stackId);
      if (owner !== undefined)
        return `Export with name ${name} is already exported by stack ${owner.stackName}`;
    }
    return undefined;
  }

  /** Clashes with other stacks' exports, and exports in use that the update removes or changes. */
  private exportConflict(stack: StackRecord, outputs: readonly ResolvedOutput[]): string | undefined {
    for (const output of outputs) {
      if (output.ExportName === undefined) continue;
      const owner = this.host.findExport(output.ExportName, stack.stackId);
      if (owner !== undefined) {
        return `Export with name ${output.ExportName} is already exported by stack ${owner.stackName}`;
      }
    }
    for (const old of stack.outputs) {
      if (old.ExportName === undefined) continue;
      const importers = this.host.importersOf(old.ExportName, stack.stackId);
      if (importers.length === 0) continue;
      const now = outputs.find((output) => output.ExportName === old.ExportName);
      if (now === undefined)
        return `Cannot delete export ${old.ExportName} as it is in use by ${importers.join(', ')}.`;
      if (now.OutputValue !== old.OutputValue) {
        return `Cannot update export ${old.ExportName} as it is in use by ${importers.join(', ')}.`;
      }
    }
    return undefined;
  }
}

function sameOptional(left: TemplateValue | undefined, right: TemplateValue | undefined): boolean {
  if (left === undefined || right === undefined) return left === right;
  return sameTemplateValue(left, right);
}

/** The stack takes the plan's template, parameters and settings, and the outputs it resolved. */
function takeTemplate(
  stack: StackRecord,
  plan: StackPlan,
  result: { outputs: ResolvedOutput[]; imports: string[] },
): void {
  stack.templateBody = plan.templateBody;
  stack.parameters = stackParameterRecords(plan.parameters);
  stack.noEcho = [...plan.parameters.noEcho];
  if (plan.template.Description !== undefined) stack.description = plan.template.Description;
  else delete stack.description;
  stack.capabilities = plan.capabilities;
  stack.tags = plan.tags;
  stack.notificationArns = plan.notificationArns;
  stack.outputs = result.outputs;
  stack.imports = result.imports;
  if (plan.changeSetId !== undefined) stack.changeSetId = plan.changeSetId;
}
