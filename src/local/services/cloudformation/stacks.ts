/**
 * CloudFormation stacks in the local stack (the base of `CloudFormationService`): the API as typed
 * TypeScript calls with AWS's member names — Create/Update/Delete/DescribeStacks, ListStacks, stack
 * events and resources, templates, ValidateTemplate, exports and imports. Requests are validated
 * synchronously (template, parameters, capabilities, imports: `ValidationError` and nothing
 * provisioned); stack operations then run in the background in this process (`stack-runner.ts`),
 * with AWS's statuses, recovered after a restart.
 *
 * AWS tools poll with long sleeps (the CLI's `deploy` waits 5 s between change-set polls and
 * 30 s between stack polls; botocore's waiters 30 s). A local operation takes milliseconds, so
 * DescribeStacks / DescribeChangeSet on a stack with an operation in flight hold the answer up
 * to `settleMs` for it to finish; the answer is still a state the stack was really in.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError } from '../../core/errors.js';
import type { LocalContext } from '../../types.js';
import type { S3Service } from '../s3/s3-service.js';
import {
  pseudoParameters,
  nextEventTime,
  RESTART_REASON,
  StackEngine,
  stackParameterRecords,
  type EngineHost,
  type StackPlan,
} from './stack-runner.js';
import { IamStore } from './iam-store.js';
import {
  createDefaultProvisioners,
  type ProvisionerRegistry,
  type ProvisionerServices,
} from './provisioners/index.js';
import { CloudFormationStore } from './stack-store.js';
import { assign, untilWritten } from '../../store/state-file.js';
import {
  evaluateConditions,
  includedOutputs,
  includedResources,
  loadTemplate,
  parseTemplate,
  requiredCapabilities,
  resolveParameters,
  resolveValue,
  sameTemplateValue,
  TemplateError,
  type ResolveContext,
  type ResolvedParameters,
  type Template,
} from './template/index.js';
import {
  IN_PROGRESS_STATUSES,
  UPDATABLE_STATUSES,
  type OnFailure,
  type ResourceRecord,
  type StackRecord,
  type StackStatus,
  type Tag,
  type ChangeSetRecord,
} from './types.js';
import {
  type CloudFormationServiceOptions,
  type CreateStackInput,
  type DeleteStackInput,
  type ParameterInput,
  type TemplateSource,
  type UpdateStackInput,
  type ChangeSetRef,
} from './api-types.js';
import {
  MAX_TEMPLATE_BODY,
  capabilitiesReason,
  checkCapabilities,
  checkName,
  checkTags,
  describeParameterList,
  interruptedStatus,
  isDeleted,
  page,
  sameParameters,
  sameTags,
  stackNotFound,
  validationError,
  changeSetNotFound,
  isExecuted,
} from './stack-rules.js';

export class CloudFormationStacks implements EngineHost {
  readonly provisioners: ProvisionerRegistry;
  readonly services: ProvisionerServices;
  protected readonly engine: StackEngine;
  protected readonly settleMs: number;
  /** The tail of each stack's queue of background operations. */
  protected readonly running = new Map<string, Promise<void>>();
  /** Change sets being computed. */
  protected readonly computing = new Map<string, Promise<void>>();
  /** Aborted when the service closes: stops waiting for a full disk to have space. */
  protected readonly closing = new AbortController();

  protected constructor(
    readonly ctx: LocalContext,
    readonly store: CloudFormationStore,
    iam: IamStore,
    protected readonly s3: S3Service,
    options: CloudFormationServiceOptions,
  ) {
    this.provisioners = options.provisioners ?? createDefaultProvisioners();
    this.services = {
      s3,
      iam,
      ...(options.invoke === undefined ? {} : { invoke: options.invoke }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    };
    this.settleMs = options.settleMs ?? 3000;
    this.engine = new StackEngine(this);
  }

  protected async recover(): Promise<void> {
    for (const stack of this.store.stacks.values()) {
      let changed = false;
      for (const changeSet of stack.changeSets) {
        if (changeSet.status === 'CREATE_PENDING' || changeSet.status === 'CREATE_IN_PROGRESS') {
          changeSet.status = 'FAILED';
          changeSet.statusReason = RESTART_REASON;
          changeSet.executionStatus = 'UNAVAILABLE';
          changed = true;
        }
        if (changeSet.executionStatus === 'EXECUTE_IN_PROGRESS') {
          changeSet.executionStatus = 'EXECUTE_FAILED';
          changed = true;
        }
      }
      if (IN_PROGRESS_STATUSES.includes(stack.status)) {
        for (const record of [...Object.values(stack.resources), ...stack.retiring]) {
          const failed =
            record.status === 'CREATE_IN_PROGRESS'
              ? 'CREATE_FAILED'
              : record.status === 'UPDATE_IN_PROGRESS'
                ? 'UPDATE_FAILED'
                : record.status === 'DELETE_IN_PROGRESS'
                  ? 'DELETE_FAILED'
                  : record.status === 'IMPORT_IN_PROGRESS'
                    ? 'IMPORT_FAILED'
                    : undefined;
          if (failed === undefined) continue;
          const now = nextEventTime(stack, this.ctx.now());
          record.status = failed;
          record.reason = RESTART_REASON;
          record.updated = now;
          stack.events.push({
            eventId: `${record.logicalId}-${failed}-${now}`,
            timestamp: now,
            logicalId: record.logicalId,
            ...(record.physicalId !== undefined ? { physicalId: record.physicalId } : {}),
            resourceType: record.type,
            status: failed,
            reason: RESTART_REASON,
          });
        }
        const status = interruptedStatus(stack.status);
        this.ctx.log(
          `cloudformation: stack ${stack.stackName} was ${stack.status} at start-up; now ${status}`,
        );
        await this.engine.stackStatus(stack, status, RESTART_REASON);
        changed = false;
      }
      if (changed) await this.store.save(stack);
    }
  }

  stats(): { stacks: number } {
    return { stacks: [...this.store.stacks.values()].filter((stack) => !isDeleted(stack)).length };
  }

  /** Waits for operations in flight (they take milliseconds) so nothing writes after shutdown. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.idle();
  }

  /** Resolves once no stack operation or change-set computation is in flight (and state is on disk). */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.computing.size > 0) {
      await Promise.all([...this.running.values(), ...this.computing.values()]);
    }
    await this.store.flush();
  }

  // --- EngineHost

  findExport(
    name: string,
    excludeStackId?: string,
  ): { value: string; stackId: string; stackName: string } | undefined {
    for (const stack of this.store.stacks.values()) {
      if (stack.stackId === excludeStackId || isDeleted(stack)) continue;
      const output = stack.outputs.find((candidate) => candidate.ExportName === name);
      if (output !== undefined)
        return { value: output.OutputValue, stackId: stack.stackId, stackName: stack.stackName };
    }
    return undefined;
  }

  importersOf(exportName: string, excludeStackId?: string): string[] {
    return [...this.store.stacks.values()]
      .filter(
        (stack) =>
          stack.stackId !== excludeStackId && !isDeleted(stack) && stack.imports.includes(exportName),
      )
      .map((stack) => stack.stackName);
  }

  ownerOf(type: string, physicalId: string): string | undefined {
    for (const stack of this.store.stacks.values()) {
      if (isDeleted(stack)) continue;
      const held = Object.values(stack.resources).some(
        (record) =>
          record.type === type &&
          record.physicalId === physicalId &&
          record.status !== 'DELETE_COMPLETE' &&
          record.status !== 'DELETE_SKIPPED' &&
          record.status !== 'IMPORT_FAILED' &&
          record.status !== 'IMPORT_ROLLBACK_COMPLETE',
      );
      if (held) return stack.stackName;
    }
    return undefined;
  }

  // --- Lookup and scheduling

  protected liveStackByName(name: string): StackRecord | undefined {
    for (const stack of this.store.stacks.values()) {
      if (stack.stackName === name && !isDeleted(stack)) return stack;
    }
    return undefined;
  }

  /** By name (live stacks) or by stack ID (deleted ones too), as CloudFormation resolves StackName. */
  protected findStack(nameOrId: string | undefined): StackRecord | undefined {
    if (nameOrId === undefined || nameOrId === '') return undefined;
    if (nameOrId.startsWith('arn:')) return this.store.stacks.get(nameOrId);
    return this.liveStackByName(nameOrId);
  }

  protected requireStack(nameOrId: string | undefined): StackRecord {
    if (nameOrId === undefined || nameOrId === '') {
      throw validationError(
        "1 validation error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be null",
      );
    }
    const stack = this.findStack(nameOrId);
    if (stack === undefined) throw stackNotFound(nameOrId);
    return stack;
  }

  protected schedule(stack: StackRecord, work: () => Promise<void>): void {
    const previous = this.running.get(stack.stackId) ?? Promise.resolve();
    const next = previous.then(work).catch(async (error: unknown) => {
      // An engine bug or a disk error must not leave the stack IN_PROGRESS forever.
      this.ctx.log(
        `cloudformation: operation on ${stack.stackName} failed: ${(error as Error)?.stack ?? String(error)}`,
      );
      // Shown once written: on a full disk this waits for space (the stack still showing its last
      // written status), or for the stack to stop (the next start records the interruption).
      if (IN_PROGRESS_STATUSES.includes(stack.status)) {
        await untilWritten(
          () =>
            this.engine.stackStatus(
              stack,
              interruptedStatus(stack.status),
              `Internal Failure: ${(error as Error)?.message ?? String(error)}`,
            ),
          this.closing.signal,
        ).catch(() => undefined);
      }
    });
    this.running.set(stack.stackId, next);
    void next.then(() => {
      if (this.running.get(stack.stackId) === next) this.running.delete(stack.stackId);
    });
  }

  protected async settle(work: Promise<void> | undefined): Promise<void> {
    if (work === undefined || this.settleMs <= 0) return;
    const timer = new AbortController();
    await Promise.race([
      work,
      sleep(this.settleMs, undefined, { signal: timer.signal }).catch(() => undefined),
    ]);
    timer.abort();
  }

  protected newStackId(name: string): string {
    return `arn:aws:cloudformation:${this.ctx.region}:${this.ctx.accountId}:stack/${name}/${randomUUID()}`;
  }

  // --- Templates and parameters

  protected async templateBody(
    source: TemplateSource & { UsePreviousTemplate?: boolean },
    previous: StackRecord | undefined,
  ): Promise<string> {
    const { TemplateBody: body, TemplateURL: url } = source;
    if (source.UsePreviousTemplate === true) {
      if (body !== undefined || url !== undefined) {
        throw validationError('You cannot specify both usePreviousTemplate and Template Body/Template URL');
      }
      if (previous?.templateBody === undefined) throw validationError('No previous template to use.');
      return previous.templateBody;
    }
    if (body !== undefined && url !== undefined) {
      throw validationError('Exactly one of TemplateBody or TemplateUrl must be specified.');
    }
    if (body === undefined && url === undefined) {
      throw validationError('Either Template URL or Template Body must be specified.');
    }
    if (body !== undefined) {
      if (Buffer.byteLength(body, 'utf8') > MAX_TEMPLATE_BODY) {
        throw validationError(
          `1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TEMPLATE_BODY}`,
        );
      }
      return body;
    }
    return this.readTemplateUrl(url as string);
  }

  /** A template in (local) S3: virtual-hosted or path-style AWS URLs, or the local endpoint's. */
  protected async readTemplateUrl(url: string): Promise<string> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw validationError('TemplateURL must be a supported URL.');
    }
    const host = parsed.hostname;
    const pathParts = parsed.pathname.split('/').slice(1);
    let bucket: string | undefined;
    let key: string;
    const virtual = /^(.+)\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com(\.cn)?$/.exec(host);
    if (virtual && virtual[1] !== undefined) {
      bucket = virtual[1];
      key = pathParts.join('/');
    } else {
      bucket = pathParts[0];
      key = pathParts.slice(1).join('/');
    }
    if (bucket === undefined || bucket === '' || key === '')
      throw validationError('TemplateURL must be a supported URL.');
    try {
      const object = await this.s3.getObject({ bucket, key: decodeURIComponent(key) });
      const chunks: Buffer[] = [];
      for await (const chunk of object.body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    } catch (error) {
      throw validationError(`S3 error: ${(error as Error).message} (TemplateURL ${url})`);
    }
  }

  /**
   * Everything CloudFormation checks before accepting a request: the template (types, references,
   * cycles), parameter values, capabilities, and what can be resolved without the resources
   * (including every Fn::ImportValue). Throws ValidationError / InsufficientCapabilitiesException.
   */
  protected prepare(
    stack: Pick<StackRecord, 'stackId' | 'stackName'>,
    templateBody: string,
    given: Record<string, string>,
    capabilities: readonly string[],
  ): { template: Template; parameters: ResolvedParameters } {
    const template = loadTemplate(templateBody, { registry: this.provisioners.typeRegistry() });
    const parameters = resolveParameters(template, given);
    checkCapabilities(template, capabilities);
    const pseudo = pseudoParameters(stack, this.ctx);
    const conditions = evaluateConditions(template, { parameters: parameters.values, pseudo });
    const missing: string[] = [];
    const ctx: ResolveContext = {
      parameters: parameters.values,
      pseudo,
      mappings: template.Mappings,
      conditions,
      partial: true,
      importValue: (name) => {
        const found = this.findExport(name, stack.stackId);
        if (found === undefined && !missing.includes(name)) missing.push(name);
        return found?.value;
      },
    };
    for (const logicalId of includedResources(template, conditions)) {
      resolveValue(template.Resources[logicalId]!.Properties, ctx, `/Resources/${logicalId}/Properties`);
    }
    for (const key of includedOutputs(template, conditions)) {
      const output = template.Outputs[key]!;
      resolveValue(output.Value, ctx, `/Outputs/${key}/Value`);
      if (output.ExportName !== undefined)
        resolveValue(output.ExportName, ctx, `/Outputs/${key}/Export/Name`);
    }
    if (missing.length > 0) throw new TemplateError(`No export named ${missing[0]} found.`);
    return { template, parameters };
  }

  /** Parameter values of a request: given ones, previous ones where asked (updates only). */
  protected givenParameters(
    input: ParameterInput[] | undefined,
    previous: StackRecord | undefined,
  ): Record<string, string> {
    const given: Record<string, string> = {};
    for (const parameter of input ?? []) {
      const key = parameter.ParameterKey;
      if (key === undefined || key === '')
        throw validationError('ParameterKey must be specified for every parameter');
      if (parameter.UsePreviousValue === true) {
        if (parameter.ParameterValue !== undefined) {
          throw validationError(
            `Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true and non empty value for a parameter`,
          );
        }
        const old = previous?.parameters.find((entry) => entry.key === key);
        if (old === undefined) {
          throw validationError(
            `Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`,
          );
        }
        given[key] = old.value;
        continue;
      }
      given[key] = parameter.ParameterValue ?? '';
    }
    return given;
  }

  protected plan(
    templateBody: string,
    prepared: { template: Template; parameters: ResolvedParameters },
    settings: { capabilities: string[]; tags: Tag[]; notificationArns: string[]; changeSetId?: string },
  ): StackPlan {
    return { templateBody, ...prepared, ...settings };
  }

  /** True when a request would leave the stack exactly as it is. */
  protected unchanged(
    stack: StackRecord,
    templateBody: string,
    parameters: ResolvedParameters,
    tags: Tag[],
  ): boolean {
    if (stack.templateBody === undefined) return false;
    let same: boolean;
    try {
      same = sameTemplateValue(parseTemplate(stack.templateBody), parseTemplate(templateBody));
    } catch {
      same = false;
    }
    return (
      same &&
      sameParameters(stack.parameters, stackParameterRecords(parameters)) &&
      sameTags(stack.tags, tags)
    );
  }

  protected newStack(
    stackId: string,
    name: string,
    status: StackStatus,
    settings: {
      disableRollback: boolean;
      capabilities: string[];
      tags: Tag[];
      notificationArns: string[];
      timeoutInMinutes?: number;
      enableTerminationProtection: boolean;
      roleArn?: string;
    },
  ): StackRecord {
    const stack: StackRecord = {
      stackId,
      stackName: name,
      status,
      creationTime: this.ctx.now().toISOString(),
      disableRollback: settings.disableRollback,
      capabilities: settings.capabilities,
      tags: settings.tags,
      notificationArns: settings.notificationArns,
      enableTerminationProtection: settings.enableTerminationProtection,
      parameters: [],
      noEcho: [],
      outputs: [],
      imports: [],
      resources: {},
      retiring: [],
      events: [],
      changeSets: [],
    };
    if (settings.timeoutInMinutes !== undefined) stack.timeoutInMinutes = settings.timeoutInMinutes;
    if (settings.roleArn !== undefined) stack.roleArn = settings.roleArn;
    return stack;
  }

  protected applyPlanToNewStack(stack: StackRecord, plan: StackPlan): void {
    assign(stack, this.planFields(plan));
  }

  /** What a plan sets on a stack it creates. */
  protected planFields(plan: StackPlan): Partial<StackRecord> {
    return {
      templateBody: plan.templateBody,
      parameters: stackParameterRecords(plan.parameters),
      noEcho: [...plan.parameters.noEcho],
      ...(plan.template.Description !== undefined ? { description: plan.template.Description } : {}),
      capabilities: plan.capabilities,
      tags: plan.tags,
      notificationArns: plan.notificationArns,
      ...(plan.changeSetId !== undefined ? { changeSetId: plan.changeSetId } : {}),
    };
  }

  // --- Stacks

  async createStack(input: CreateStackInput): Promise<{ StackId: string }> {
    const name = checkName(input.StackName, 'stackName');
    if (this.liveStackByName(name) !== undefined) {
      throw new AwsError('AlreadyExistsException', `Stack [${name}] already exists`);
    }
    let onFailure: OnFailure = input.DisableRollback === true ? 'DO_NOTHING' : 'ROLLBACK';
    if (input.OnFailure !== undefined) {
      if (input.DisableRollback !== undefined) {
        throw validationError('You cannot specify both DisableRollback and OnFailure.');
      }
      if (!['DO_NOTHING', 'ROLLBACK', 'DELETE'].includes(input.OnFailure)) {
        throw validationError(
          `1 validation error detected: Value '${input.OnFailure}' at 'onFailure' failed to satisfy constraint: Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]`,
        );
      }
      onFailure = input.OnFailure as OnFailure;
    }
    if ((input.Parameters ?? []).some((parameter) => parameter.UsePreviousValue === true)) {
      throw validationError('UsePreviousValue cannot be used when creating a stack.');
    }
    const body = await this.templateBody(input, undefined);
    const capabilities = [...(input.Capabilities ?? [])];
    const tags = checkTags(input.Tags);
    const stackId = this.newStackId(name);
    const prepared = this.prepare(
      { stackId, stackName: name },
      body,
      this.givenParameters(input.Parameters, undefined),
      capabilities,
    );
    // The name may have been taken while the template was being read.
    if (this.liveStackByName(name) !== undefined) {
      throw new AwsError('AlreadyExistsException', `Stack [${name}] already exists`);
    }
    const plan = this.plan(body, prepared, {
      capabilities,
      tags,
      notificationArns: input.NotificationARNs ?? [],
    });
    const stack = this.newStack(stackId, name, 'CREATE_IN_PROGRESS', {
      disableRollback: onFailure === 'DO_NOTHING',
      capabilities,
      tags,
      notificationArns: plan.notificationArns,
      ...(input.TimeoutInMinutes !== undefined ? { timeoutInMinutes: input.TimeoutInMinutes } : {}),
      enableTerminationProtection: input.EnableTerminationProtection ?? false,
      ...(input.RoleARN !== undefined ? { roleArn: input.RoleARN } : {}),
    });
    this.applyPlanToNewStack(stack, plan);
    await this.store.add(stack);
    this.schedule(stack, () => this.engine.create(stack, plan, onFailure));
    return { StackId: stackId };
  }

  async updateStack(input: UpdateStackInput): Promise<{ StackId: string }> {
    const stack = this.requireStack(input.StackName);
    this.checkUpdatable(stack);
    const body = await this.templateBody(input, stack);
    const capabilities = [...(input.Capabilities ?? [])];
    const tags = input.Tags === undefined ? stack.tags : checkTags(input.Tags);
    const prepared = this.prepare(stack, body, this.givenParameters(input.Parameters, stack), capabilities);
    this.checkUpdatable(stack);
    if (this.unchanged(stack, body, prepared.parameters, tags)) {
      throw validationError('No updates are to be performed.');
    }
    const plan = this.plan(body, prepared, {
      capabilities,
      tags,
      notificationArns: input.NotificationARNs ?? stack.notificationArns,
    });
    // Accepted once written (a full disk: ServiceUnavailable, the stack as it was).
    await this.store.commit(stack, () => {
      this.checkUpdatable(stack);
      return assign(stack, { disableRollback: input.DisableRollback ?? false, status: 'UPDATE_IN_PROGRESS' });
    });
    this.schedule(stack, () => this.engine.update(stack, plan));
    return { StackId: stack.stackId };
  }

  protected checkUpdatable(stack: StackRecord): void {
    if (stack.status === 'REVIEW_IN_PROGRESS' || isDeleted(stack)) throw stackNotFound(stack.stackName);
    if (!UPDATABLE_STATUSES.includes(stack.status)) {
      throw validationError(`Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`);
    }
  }

  async deleteStack(input: DeleteStackInput): Promise<void> {
    if (input.StackName === undefined || input.StackName === '') {
      throw validationError(
        "1 validation error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be null",
      );
    }
    const stack = this.findStack(input.StackName);
    // Deleting a stack that does not exist (any more) succeeds, as on AWS.
    if (stack === undefined || isDeleted(stack)) return;
    if (stack.enableTerminationProtection) {
      throw validationError(
        `Stack [${stack.stackName}] cannot be deleted while TerminationProtection is enabled`,
      );
    }
    const retain = input.RetainResources ?? [];
    if (retain.length > 0 && stack.status !== 'DELETE_FAILED') {
      throw validationError(
        `Invalid operation on stack [${stack.stackId}]. RetainResources can only be specified when the stack is in the DELETE_FAILED state`,
      );
    }
    // Accepted once written (a full disk: ServiceUnavailable, the stack as it was).
    if (!this.running.has(stack.stackId))
      await this.store.commit(stack, () =>
        isDeleted(stack) ? () => undefined : assign(stack, { status: 'DELETE_IN_PROGRESS' }),
      );
    this.schedule(stack, async () => {
      if (isDeleted(stack)) return;
      await this.engine.delete(stack, retain);
    });
  }

  async describeStacks(input: {
    StackName?: string;
    NextToken?: string;
  }): Promise<{ Stacks: unknown[]; NextToken?: string }> {
    if (input.StackName !== undefined && input.StackName !== '') {
      const stack = this.requireStack(input.StackName);
      await this.settle(this.running.get(stack.stackId));
      if (!input.StackName.startsWith('arn:') && isDeleted(stack)) throw stackNotFound(input.StackName);
      return { Stacks: [this.describeStack(stack)] };
    }
    const stacks = [...this.store.stacks.values()].filter((stack) => !isDeleted(stack)).reverse();
    const { items, NextToken } = page(stacks, input.NextToken);
    return { Stacks: items.map((stack) => this.describeStack(stack)), ...(NextToken ? { NextToken } : {}) };
  }

  protected describeStack(stack: StackRecord): Record<string, unknown> {
    return {
      StackId: stack.stackId,
      StackName: stack.stackName,
      ChangeSetId: stack.changeSetId,
      Description: stack.description,
      Parameters:
        stack.parameters.length > 0 ? describeParameterList(stack.parameters, stack.noEcho) : undefined,
      CreationTime: new Date(stack.creationTime),
      DeletionTime: stack.deletionTime !== undefined ? new Date(stack.deletionTime) : undefined,
      LastUpdatedTime: stack.lastUpdatedTime !== undefined ? new Date(stack.lastUpdatedTime) : undefined,
      RollbackConfiguration: {},
      StackStatus: stack.status,
      StackStatusReason: stack.statusReason,
      DisableRollback: stack.disableRollback,
      NotificationARNs: stack.notificationArns,
      TimeoutInMinutes: stack.timeoutInMinutes,
      Capabilities: stack.capabilities.length > 0 ? stack.capabilities : undefined,
      Outputs:
        stack.outputs.length > 0
          ? stack.outputs.map((output) => ({
              OutputKey: output.OutputKey,
              OutputValue: output.OutputValue,
              Description: output.Description,
              ExportName: output.ExportName,
            }))
          : undefined,
      RoleARN: stack.roleArn,
      Tags: stack.tags,
      EnableTerminationProtection: stack.enableTerminationProtection,
      DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
    };
  }

  async listStacks(input: { StackStatusFilter?: string[]; NextToken?: string }): Promise<{
    StackSummaries: unknown[];
    NextToken?: string;
  }> {
    const filter = input.StackStatusFilter ?? [];
    const stacks = [...this.store.stacks.values()]
      .filter((stack) => filter.length === 0 || filter.includes(stack.status))
      .reverse();
    const { items, NextToken } = page(stacks, input.NextToken);
    return {
      StackSummaries: items.map((stack) => ({
        StackId: stack.stackId,
        StackName: stack.stackName,
        TemplateDescription: stack.description,
        CreationTime: new Date(stack.creationTime),
        LastUpdatedTime: stack.lastUpdatedTime !== undefined ? new Date(stack.lastUpdatedTime) : undefined,
        DeletionTime: stack.deletionTime !== undefined ? new Date(stack.deletionTime) : undefined,
        StackStatus: stack.status,
        StackStatusReason: stack.statusReason,
        DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
      })),
      ...(NextToken ? { NextToken } : {}),
    };
  }

  async describeStackEvents(input: { StackName?: string; NextToken?: string }): Promise<{
    StackEvents: unknown[];
    NextToken?: string;
  }> {
    const stack = this.requireStack(input.StackName);
    const events = [...stack.events].reverse();
    const { items, NextToken } = page(events, input.NextToken);
    return {
      StackEvents: items.map((event) => ({
        StackId: stack.stackId,
        EventId: event.eventId,
        StackName: stack.stackName,
        LogicalResourceId: event.logicalId,
        PhysicalResourceId: event.physicalId ?? '',
        ResourceType: event.resourceType,
        Timestamp: new Date(event.timestamp),
        ResourceStatus: event.status,
        ResourceStatusReason: event.reason,
        ResourceProperties: event.properties,
        ClientRequestToken: event.clientRequestToken,
      })),
      ...(NextToken ? { NextToken } : {}),
    };
  }

  protected resourceList(stack: StackRecord): ResourceRecord[] {
    return Object.values(stack.resources);
  }

  async listStackResources(input: { StackName?: string; NextToken?: string }): Promise<{
    StackResourceSummaries: unknown[];
    NextToken?: string;
  }> {
    const stack = this.requireStack(input.StackName);
    const { items, NextToken } = page(this.resourceList(stack), input.NextToken);
    return {
      StackResourceSummaries: items.map((record) => ({
        LogicalResourceId: record.logicalId,
        PhysicalResourceId: record.physicalId,
        ResourceType: record.type,
        LastUpdatedTimestamp: new Date(record.updated),
        ResourceStatus: record.status,
        ResourceStatusReason: record.reason,
        DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
      })),
      ...(NextToken ? { NextToken } : {}),
    };
  }

  async describeStackResources(input: {
    StackName?: string;
    LogicalResourceId?: string;
    PhysicalResourceId?: string;
  }): Promise<{ StackResources: unknown[] }> {
    let stack: StackRecord | undefined;
    if (input.StackName !== undefined && input.StackName !== '') {
      stack = this.requireStack(input.StackName);
    } else if (input.PhysicalResourceId !== undefined && input.PhysicalResourceId !== '') {
      stack = [...this.store.stacks.values()]
        .filter((candidate) => !isDeleted(candidate))
        .find((candidate) =>
          Object.values(candidate.resources).some((record) => record.physicalId === input.PhysicalResourceId),
        );
      if (stack === undefined) {
        throw validationError(`Stack for ${input.PhysicalResourceId} does not exist`);
      }
    } else {
      throw validationError('Either StackName or PhysicalResourceId must be specified.');
    }
    const found = stack;
    const records = this.resourceList(found).filter(
      (record) =>
        (input.LogicalResourceId === undefined || record.logicalId === input.LogicalResourceId) &&
        (input.PhysicalResourceId === undefined || record.physicalId === input.PhysicalResourceId),
    );
    return {
      StackResources: records.map((record) => ({
        StackName: found.stackName,
        StackId: found.stackId,
        LogicalResourceId: record.logicalId,
        PhysicalResourceId: record.physicalId,
        ResourceType: record.type,
        Timestamp: new Date(record.updated),
        ResourceStatus: record.status,
        ResourceStatusReason: record.reason,
        DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
      })),
    };
  }

  async describeStackResource(input: { StackName?: string; LogicalResourceId?: string }): Promise<{
    StackResourceDetail: unknown;
  }> {
    const stack = this.requireStack(input.StackName);
    const record =
      input.LogicalResourceId !== undefined && Object.hasOwn(stack.resources, input.LogicalResourceId)
        ? stack.resources[input.LogicalResourceId]
        : undefined;
    if (record === undefined) {
      throw validationError(
        `Resource ${input.LogicalResourceId ?? ''} does not exist for stack ${stack.stackName}`,
      );
    }
    return {
      StackResourceDetail: {
        StackName: stack.stackName,
        StackId: stack.stackId,
        LogicalResourceId: record.logicalId,
        PhysicalResourceId: record.physicalId,
        ResourceType: record.type,
        LastUpdatedTimestamp: new Date(record.updated),
        ResourceStatus: record.status,
        ResourceStatusReason: record.reason,
        Metadata: record.metadata !== undefined ? JSON.stringify(record.metadata) : undefined,
        DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
      },
    };
  }

  async getTemplate(input: { StackName?: string; ChangeSetName?: string; TemplateStage?: string }): Promise<{
    TemplateBody: string;
    StagesAvailable: string[];
  }> {
    let body: string | undefined;
    if (input.ChangeSetName !== undefined && input.ChangeSetName !== '') {
      body = this.findChangeSet({ ChangeSetName: input.ChangeSetName, StackName: input.StackName }).changeSet
        .templateBody;
    } else {
      const stack = this.requireStack(input.StackName);
      body = stack.templateBody ?? stack.changeSets.at(-1)?.templateBody;
      if (body === undefined) throw stackNotFound(input.StackName as string);
    }
    return { TemplateBody: body, StagesAvailable: ['Original', 'Processed'] };
  }

  async getTemplateSummary(input: TemplateSource & { StackName?: string }): Promise<Record<string, unknown>> {
    let body: string;
    if (input.StackName !== undefined && input.StackName !== '') {
      const stack = this.requireStack(input.StackName);
      const stored = stack.templateBody ?? stack.changeSets.at(-1)?.templateBody;
      if (stored === undefined) throw stackNotFound(input.StackName);
      body = stored;
    } else {
      body = await this.templateBody(input, undefined);
    }
    const template = loadTemplate(body, { registry: this.provisioners.typeRegistry() });
    const reason = capabilitiesReason(template);
    return {
      Parameters: Object.entries(template.Parameters).map(([key, declaration]) => ({
        ParameterKey: key,
        DefaultValue: declaration.Default,
        ParameterType: declaration.Type,
        NoEcho: declaration.NoEcho,
        Description: declaration.Description,
        ParameterConstraints:
          declaration.AllowedValues !== undefined ? { AllowedValues: [...declaration.AllowedValues] } : {},
      })),
      Description: template.Description,
      Capabilities: requiredCapabilities(template),
      CapabilitiesReason: reason,
      ResourceTypes: [...new Set(Object.values(template.Resources).map((resource) => resource.Type))],
      Version: template.AWSTemplateFormatVersion ?? '2010-09-09',
      DeclaredTransforms: [],
    };
  }

  async validateTemplate(input: TemplateSource): Promise<Record<string, unknown>> {
    const body = await this.templateBody(input, undefined);
    const template = loadTemplate(body, { registry: this.provisioners.typeRegistry() });
    const capabilities = requiredCapabilities(template);
    return {
      Parameters: Object.entries(template.Parameters).map(([key, declaration]) => ({
        ParameterKey: key,
        DefaultValue: declaration.Default,
        NoEcho: declaration.NoEcho,
        Description: declaration.Description,
      })),
      Description: template.Description,
      Capabilities: capabilities,
      CapabilitiesReason: capabilitiesReason(template),
      DeclaredTransforms: [],
    };
  }

  // --- Exports

  async listExports(input: { NextToken?: string }): Promise<{ Exports: unknown[]; NextToken?: string }> {
    const exports: Array<{ ExportingStackId: string; Name: string; Value: string }> = [];
    for (const stack of this.store.stacks.values()) {
      if (isDeleted(stack)) continue;
      for (const output of stack.outputs) {
        if (output.ExportName !== undefined) {
          exports.push({
            ExportingStackId: stack.stackId,
            Name: output.ExportName,
            Value: output.OutputValue,
          });
        }
      }
    }
    const { items, NextToken } = page(exports, input.NextToken);
    return { Exports: items, ...(NextToken ? { NextToken } : {}) };
  }

  async listImports(input: {
    ExportName?: string;
    NextToken?: string;
  }): Promise<{ Imports: string[]; NextToken?: string }> {
    const name = input.ExportName ?? '';
    if (this.findExport(name) === undefined) throw validationError(`Export '${name}' does not exist.`);
    const importers = this.importersOf(name);
    if (importers.length === 0) throw validationError(`Export '${name}' is not imported by any stack.`);
    const { items, NextToken } = page(importers, input.NextToken);
    return { Imports: items, ...(NextToken ? { NextToken } : {}) };
  }

  /** The change set a reference names (by ARN, or by name with its stack). */
  protected findChangeSet(ref: ChangeSetRef): { stack: StackRecord; changeSet: ChangeSetRecord } {
    const name = ref.ChangeSetName;
    if (name === undefined || name === '') {
      throw validationError(
        "1 validation error detected: Value null at 'changeSetName' failed to satisfy constraint: Member must not be null",
      );
    }
    if (name.startsWith('arn:')) {
      for (const stack of this.store.stacks.values()) {
        const changeSet = stack.changeSets.find((candidate) => candidate.id === name);
        if (changeSet !== undefined) return { stack, changeSet };
      }
      throw changeSetNotFound(name);
    }
    if (ref.StackName === undefined || ref.StackName === '') {
      throw validationError('StackName must be specified if ChangeSetName is not specified as an ARN.');
    }
    const stack = this.findStack(ref.StackName);
    const named = stack?.changeSets.filter((candidate) => candidate.name === name) ?? [];
    const changeSet = named.find((candidate) => !isExecuted(candidate)) ?? named.at(-1);
    if (stack === undefined || changeSet === undefined) throw changeSetNotFound(name);
    return { stack, changeSet };
  }
}
