/**
 * `CloudFormationService`, the local stack's CloudFormation: the stacks of `stacks.ts` completed
 * with change sets — Create (computed in the background, diffed against the stack; IMPORT ones
 * checked by `resource-import.ts`), Describe, List, Execute (run as a stack operation) and Delete.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError } from '../../core/errors.js';
import { assign, untilWritten } from '../../store/state-file.js';
import type { LocalContext } from '../../types.js';
import { pseudoParameters, stackParameterRecords, storedParameters } from './stack-runner.js';
import { IamStore } from './iam-store.js';
import { CloudFormationStore } from './stack-store.js';
import {
  diffTemplates,
  evaluateConditions,
  loadTemplate,
  type ResolvedParameters,
  type Template,
} from './template/index.js';
import {
  type ChangeRecord,
  type ChangeSetRecord,
  type OnFailure,
  type ResourceToImportRecord,
  type StackRecord,
} from './types.js';
import { checkResourcesToImport, importChanges } from './resource-import.js';
import {
  type ChangeSetRef,
  type CloudFormationServiceOptions,
  type CreateChangeSetInput,
} from './api-types.js';
import {
  NO_CHANGES_REASON,
  changeSetNotFound,
  checkName,
  checkTags,
  describeParameterList,
  isExecuted,
  page,
  validationError,
} from './stack-rules.js';
import { CloudFormationStacks } from './stacks.js';

export class CloudFormationService extends CloudFormationStacks {
  /** Opens the state under `<dataDir>/cloudformation/`, failing operations a restart interrupted. */
  static async open(
    ctx: LocalContext,
    options: CloudFormationServiceOptions,
  ): Promise<CloudFormationService> {
    const dir = path.join(ctx.dataDir, 'cloudformation');
    const store = await CloudFormationStore.open(dir);
    const iam = await IamStore.open(dir);
    const service = new CloudFormationService(ctx, store, iam, options.s3, options);
    await service.recover();
    return service;
  }

  // --- Change sets

  async createChangeSet(input: CreateChangeSetInput): Promise<{ Id: string; StackId: string }> {
    const name = checkName(input.ChangeSetName, 'changeSetName');
    const type = input.ChangeSetType ?? 'UPDATE';
    if (type !== 'CREATE' && type !== 'UPDATE' && type !== 'IMPORT') {
      throw validationError(
        `1 validation error detected: Value '${type}' at 'changeSetType' failed to satisfy constraint: Member must satisfy enum value set: [CREATE, UPDATE, IMPORT]`,
      );
    }
    if (type !== 'IMPORT' && input.ResourcesToImport !== undefined && input.ResourcesToImport.length > 0) {
      throw validationError('ResourcesToImport can only be specified for a change set of type IMPORT.');
    }
    let stack: StackRecord | undefined;
    if (type === 'CREATE') {
      const stackName = checkName(input.StackName, 'stackName');
      stack = this.liveStackByName(stackName);
      if (stack !== undefined && stack.status !== 'REVIEW_IN_PROGRESS') {
        throw validationError(
          `Stack [${stackName}] already exists and cannot be created again with the changeSet [${name}].`,
        );
      }
    } else if (type === 'IMPORT') {
      // Into an existing stack, or a new one (created in review, as a CREATE change set does).
      const stackName = checkName(input.StackName, 'stackName');
      stack = this.liveStackByName(stackName);
      if (stack !== undefined && stack.status !== 'REVIEW_IN_PROGRESS') this.checkUpdatable(stack);
    } else {
      stack = this.requireStack(input.StackName);
      this.checkUpdatable(stack);
    }
    /** The stack as it is deployed (UPDATE, or IMPORT into a stack that is not only in review). */
    const deployed = stack !== undefined && stack.status !== 'REVIEW_IN_PROGRESS' ? stack : undefined;
    // An executed change set stays describable but no longer holds its name (the AWS CLI names
    // its change sets by the second, so two quick deploys reuse one).
    if (stack?.changeSets.some((changeSet) => changeSet.name === name && !isExecuted(changeSet))) {
      throw new AwsError('AlreadyExistsException', `ChangeSet ${name} already exists`);
    }
    const body = await this.templateBody(input, deployed);
    const capabilities = [...(input.Capabilities ?? [])];
    const tags = input.Tags === undefined && stack !== undefined ? stack.tags : checkTags(input.Tags);
    const stackName = stack?.stackName ?? (input.StackName as string);
    const stackId = stack?.stackId ?? this.newStackId(stackName);
    const given = this.givenParameters(input.Parameters, deployed);
    const prepared = this.prepare({ stackId, stackName }, body, given, capabilities);
    const resourcesToImport =
      type === 'IMPORT'
        ? await this.checkImport({ stackId, stackName }, deployed, prepared, input.ResourcesToImport)
        : undefined;

    if (stack === undefined) {
      stack = this.newStack(stackId, stackName, 'REVIEW_IN_PROGRESS', {
        disableRollback: false,
        capabilities: [],
        tags: [],
        notificationArns: [],
        enableTerminationProtection: false,
        ...(input.RoleARN !== undefined ? { roleArn: input.RoleARN } : {}),
      });
      await this.store.add(stack);
      await this.engine.stackStatus(stack, 'REVIEW_IN_PROGRESS', 'User Initiated');
    }
    const changeSet: ChangeSetRecord = {
      id: `arn:aws:cloudformation:${this.ctx.region}:${this.ctx.accountId}:changeSet/${name}/${randomUUID()}`,
      name,
      type,
      ...(resourcesToImport !== undefined ? { resourcesToImport } : {}),
      ...(input.Description !== undefined ? { description: input.Description } : {}),
      templateBody: body,
      parameters: stackParameterRecords(prepared.parameters),
      noEcho: [...prepared.parameters.noEcho],
      capabilities,
      tags,
      notificationArns: input.NotificationARNs ?? stack.notificationArns,
      creationTime: this.ctx.now().toISOString(),
      status: 'CREATE_PENDING',
      executionStatus: 'UNAVAILABLE',
      changes: [],
    };
    const owner = stack;
    await this.store.commit(owner, () => {
      if (owner.changeSets.some((other) => other.name === name && !isExecuted(other)))
        throw new AwsError('AlreadyExistsException', `ChangeSet ${name} already exists`);
      owner.changeSets.push(changeSet);
      return () => {
        owner.changeSets = owner.changeSets.filter((other) => other !== changeSet);
      };
    });
    const work = (async () => {
      await sleep(0);
      let result: Partial<ChangeSetRecord>;
      try {
        const changes =
          resourcesToImport !== undefined
            ? importChanges(resourcesToImport)
            : this.computeChanges(owner, type === 'CREATE' ? 'CREATE' : 'UPDATE', prepared);
        const noop =
          type === 'UPDATE' && changes.length === 0 && this.unchanged(owner, body, prepared.parameters, tags);
        result = noop
          ? { changes, status: 'FAILED', statusReason: NO_CHANGES_REASON }
          : { changes, status: 'CREATE_COMPLETE', executionStatus: 'AVAILABLE' };
      } catch (error) {
        result = { status: 'FAILED', statusReason: (error as Error).message };
      }
      // Shown once written: on a full disk it waits for space (still CREATE_PENDING), or for the
      // stack to stop (the next start fails the change set).
      await untilWritten(
        () => this.store.commit(owner, () => assign(changeSet, result)),
        this.closing.signal,
      ).catch((error: unknown) =>
        this.ctx.log(`cloudformation: change set ${changeSet.id} not recorded: ${String(error)}`),
      );
    })();
    this.computing.set(changeSet.id, work);
    void work.finally(() => this.computing.delete(changeSet.id));
    return { Id: changeSet.id, StackId: stack.stackId };
  }

  /** The checks of an IMPORT change set (resource-import.ts), with what they need from the stacks. */
  protected checkImport(
    ref: Pick<StackRecord, 'stackId' | 'stackName'>,
    deployed: StackRecord | undefined,
    prepared: { template: Template; parameters: ResolvedParameters },
    requested: CreateChangeSetInput['ResourcesToImport'],
  ): Promise<ResourceToImportRecord[]> {
    const pseudo = pseudoParameters(ref, this.ctx);
    const importValue = (name: string): string | undefined => this.findExport(name, ref.stackId)?.value;
    const conditions = evaluateConditions(prepared.template, {
      parameters: prepared.parameters.values,
      pseudo,
    });
    // Resolves what can be without the resources; the new stack's record does not exist yet.
    const record =
      deployed ??
      this.newStack(ref.stackId, ref.stackName, 'REVIEW_IN_PROGRESS', {
        disableRollback: false,
        capabilities: [],
        tags: [],
        notificationArns: [],
        enableTerminationProtection: false,
      });
    return checkResourcesToImport(requested, {
      provisioners: this.provisioners,
      pseudo,
      existing: deployed,
      prepared,
      resolveContext: {
        ...this.engine.resolveContext(record, prepared.template, prepared.parameters, conditions),
        partial: true,
      },
      importValue,
      ownerOf: (type, physicalId) => this.ownerOf(type, physicalId),
      provisionContext: (logicalId) => this.engine.provisionContext(record, logicalId),
    });
  }

  protected computeChanges(
    stack: StackRecord,
    type: 'CREATE' | 'UPDATE',
    next: { template: Template; parameters: ResolvedParameters },
  ): ChangeRecord[] {
    const options = {
      pseudo: pseudoParameters(stack, this.ctx),
      registry: this.provisioners.typeRegistry(),
      importValue: (name: string) => this.findExport(name, stack.stackId)?.value,
    };
    let previous: { template: Template; parameters: ResolvedParameters['values'] } | undefined;
    if (type === 'UPDATE' && stack.templateBody !== undefined) {
      const template = loadTemplate(stack.templateBody);
      previous = { template, parameters: storedParameters(template, stack.parameters).values };
    }
    const changes = diffTemplates(
      previous,
      { template: next.template, parameters: next.parameters.values },
      options,
    );
    return changes.map((change): ChangeRecord => {
      const record = stack.resources[change.logicalId];
      const declared = next.template.Resources[change.logicalId];
      const resourceChange: ChangeRecord['ResourceChange'] = {
        Action: change.action,
        LogicalResourceId: change.logicalId,
        ResourceType: change.type,
        Scope: [...change.scope],
        Details: change.details.map((detail) => ({
          Target: {
            Attribute: 'Properties',
            Name: detail.name,
            RequiresRecreation: detail.requiresRecreation,
          },
          Evaluation: detail.evaluation,
          ChangeSource: detail.evaluation === 'Static' ? 'DirectModification' : 'ResourceReference',
          ...(detail.causingEntity !== undefined ? { CausingEntity: detail.causingEntity } : {}),
        })),
      };
      if (change.action !== 'Add' && record?.physicalId !== undefined) {
        resourceChange.PhysicalResourceId = record.physicalId;
      }
      if (change.action === 'Modify') {
        resourceChange.Replacement = change.replacement;
        if (change.replacement === 'True') {
          const retain = (declared?.UpdateReplacePolicy ?? record?.updateReplacePolicy) === 'Retain';
          resourceChange.PolicyAction = retain ? 'ReplaceAndRetain' : 'ReplaceAndDelete';
        }
      }
      if (change.action === 'Remove') {
        const policy = record?.deletionPolicy;
        resourceChange.PolicyAction =
          policy === 'Retain' || policy === 'RetainExceptOnCreate' ? 'Retain' : 'Delete';
      }
      return { Type: 'Resource', ResourceChange: resourceChange };
    });
  }

  async describeChangeSet(input: ChangeSetRef & { NextToken?: string }): Promise<Record<string, unknown>> {
    const { stack, changeSet } = this.findChangeSet(input);
    await this.settle(this.computing.get(changeSet.id));
    const { items, NextToken } = page(changeSet.changes, input.NextToken);
    return {
      ChangeSetName: changeSet.name,
      ChangeSetId: changeSet.id,
      StackId: stack.stackId,
      StackName: stack.stackName,
      Description: changeSet.description,
      Parameters:
        changeSet.parameters.length > 0
          ? describeParameterList(changeSet.parameters, changeSet.noEcho)
          : undefined,
      CreationTime: new Date(changeSet.creationTime),
      ExecutionStatus: changeSet.executionStatus,
      Status: changeSet.status,
      StatusReason: changeSet.statusReason,
      NotificationARNs: changeSet.notificationArns,
      RollbackConfiguration: {},
      Capabilities: changeSet.capabilities.length > 0 ? changeSet.capabilities : undefined,
      Tags: changeSet.tags.length > 0 ? changeSet.tags : undefined,
      Changes: items,
      IncludeNestedStacks: false,
      ...(NextToken ? { NextToken } : {}),
    };
  }

  async listChangeSets(input: { StackName?: string; NextToken?: string }): Promise<{
    Summaries: unknown[];
    NextToken?: string;
  }> {
    const stack = this.requireStack(input.StackName);
    const { items, NextToken } = page(stack.changeSets, input.NextToken);
    return {
      Summaries: items.map((changeSet) => ({
        StackId: stack.stackId,
        StackName: stack.stackName,
        ChangeSetId: changeSet.id,
        ChangeSetName: changeSet.name,
        ExecutionStatus: changeSet.executionStatus,
        Status: changeSet.status,
        StatusReason: changeSet.statusReason,
        CreationTime: new Date(changeSet.creationTime),
        Description: changeSet.description,
        IncludeNestedStacks: false,
      })),
      ...(NextToken ? { NextToken } : {}),
    };
  }

  async executeChangeSet(
    input: ChangeSetRef & { DisableRollback?: boolean },
  ): Promise<Record<string, never>> {
    const { stack, changeSet } = this.findChangeSet(input);
    await this.computing.get(changeSet.id);
    // Executing a change set deletes the stack's others (as AWS does): one executed meanwhile
    // leaves this one not found, whatever status it had.
    if (!stack.changeSets.includes(changeSet)) throw changeSetNotFound(input.ChangeSetName ?? changeSet.id);
    if (changeSet.executionStatus !== 'AVAILABLE') {
      throw new AwsError(
        'InvalidChangeSetStatus',
        `ChangeSet [${changeSet.id}] cannot be executed in its current execution status of [${changeSet.executionStatus}]`,
      );
    }
    if (changeSet.type === 'CREATE' && stack.status !== 'REVIEW_IN_PROGRESS') {
      throw validationError(`Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`);
    }
    if (changeSet.type === 'UPDATE') this.checkUpdatable(stack);
    if (changeSet.type === 'IMPORT' && stack.status !== 'REVIEW_IN_PROGRESS') this.checkUpdatable(stack);
    const given = Object.fromEntries(changeSet.parameters.map(({ key, value }) => [key, value]));
    const prepared = this.prepare(stack, changeSet.templateBody, given, changeSet.capabilities);
    const plan = this.plan(changeSet.templateBody, prepared, {
      capabilities: changeSet.capabilities,
      tags: changeSet.tags,
      notificationArns: changeSet.notificationArns,
      changeSetId: changeSet.id,
    });
    const onFailure: OnFailure = (input.DisableRollback ?? false) ? 'DO_NOTHING' : 'ROLLBACK';
    // Accepted once written (a full disk: ServiceUnavailable, the stack and change set as they were).
    await this.store.commit(stack, () => {
      if (!stack.changeSets.includes(changeSet)) throw changeSetNotFound(input.ChangeSetName ?? changeSet.id);
      if (changeSet.executionStatus !== 'AVAILABLE')
        throw new AwsError(
          'InvalidChangeSetStatus',
          `ChangeSet [${changeSet.id}] cannot be executed in its current execution status of [${changeSet.executionStatus}]`,
        );
      const undoChangeSet = assign(changeSet, { executionStatus: 'EXECUTE_IN_PROGRESS' });
      const undoStack = assign(stack, {
        // Executing one change set makes the stack's other change sets meaningless: AWS deletes them.
        changeSets: [changeSet],
        disableRollback: input.DisableRollback ?? false,
        ...(changeSet.type === 'CREATE' ? this.planFields(plan) : {}),
        status:
          changeSet.type === 'CREATE'
            ? 'CREATE_IN_PROGRESS'
            : changeSet.type === 'IMPORT'
              ? 'IMPORT_IN_PROGRESS'
              : 'UPDATE_IN_PROGRESS',
      });
      return () => {
        undoStack();
        undoChangeSet();
      };
    });
    const finish = async (): Promise<void> => {
      const succeeded =
        stack.status === 'CREATE_COMPLETE' ||
        stack.status === 'UPDATE_COMPLETE' ||
        stack.status === 'IMPORT_COMPLETE';
      changeSet.executionStatus = succeeded ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED';
      await this.store.save(stack);
    };
    if (changeSet.type === 'CREATE') {
      this.schedule(stack, async () => {
        await this.engine.create(stack, plan, onFailure);
        await finish();
      });
    } else if (changeSet.type === 'IMPORT') {
      const resources = changeSet.resourcesToImport ?? [];
      this.schedule(stack, async () => {
        await this.engine.import(stack, plan, resources);
        await finish();
      });
    } else {
      this.schedule(stack, async () => {
        await this.engine.update(stack, plan);
        await finish();
      });
    }
    return {};
  }

  async deleteChangeSet(input: ChangeSetRef): Promise<Record<string, never>> {
    const { stack, changeSet } = this.findChangeSet(input);
    if (changeSet.executionStatus === 'EXECUTE_IN_PROGRESS') {
      throw new AwsError(
        'InvalidChangeSetStatus',
        `Cannot delete ChangeSet [${changeSet.id}] while it is in status EXECUTE_IN_PROGRESS`,
      );
    }
    await this.store.commit(stack, () =>
      assign(stack, { changeSets: stack.changeSets.filter((candidate) => candidate !== changeSet) }),
    );
    return {};
  }

  /** For tests and `local status`: the stack record as stored. */
  stackRecord(nameOrId: string): StackRecord | undefined {
    return this.findStack(nameOrId);
  }
}

export type * from './api-types.js';
