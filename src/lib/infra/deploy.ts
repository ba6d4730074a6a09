/**
 * deploy / destroy: what `aws cloudformation deploy` does, per stack in dependency order —
 * create a change set (CREATE or UPDATE), wait for it, show it, confirm, execute, stream stack
 * events until a terminal status — plus deleting stacks in reverse order. "No changes" is success;
 * a failed stack names the failing resource and its reason (exit code 3). A bucket `destroy` kept
 * blocks a new stack: deploy can adopt it (a resource import, then the normal update), delete it, or
 * deploy with another name.
 */
import { readFile } from 'node:fs/promises';
import type {
  Change,
  CloudFormationClient,
  DescribeChangeSetCommandOutput,
  Parameter,
  Stack,
  StackEvent,
} from '@aws-sdk/client-cloudformation';
import { uploadStackAssets, type UploadedAsset } from './assets.js';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { ExitCode, MlpipeError, translateAwsError } from '../cli/errors.js';
import { describeStack, outputsOf, stackName, templatePath, type StackDefinition } from './stacks.js';
import { pollIntervals, waitFor } from '../cli/wait.js';
import { carryOutTeardown, planTeardown, type TeardownResult } from '../personalize/teardown.js';

export interface PlannedChange {
  action: string;
  logicalId: string;
  physicalId: string | null;
  type: string;
  replacement: string | null;
}

export interface StackEventLine {
  stack: string;
  timestamp: string;
  logicalId: string;
  type: string;
  status: string;
  reason: string | null;
}

export interface DeployedStack {
  key: string;
  stackName: string;
  /** created | updated | no-changes | change-set-created (with --no-execute) */
  result: 'created' | 'updated' | 'no-changes' | 'change-set-created';
  status: string | null;
  changeSetName: string | null;
  changes: PlannedChange[];
  outputs: Record<string, string>;
  /** Files uploaded to the lake for this stack before it was deployed. */
  assets: UploadedAsset[];
  /** The kept bucket this deploy adopted into the stack (a resource import), or null. */
  adoptedBucket: string | null;
}

export interface DeployOptions {
  stacks: StackDefinition[];
  /** `--parameter K=V` overrides, applied to every stack that declares K. */
  overrides: Record<string, string>;
  execute: boolean;
  /** Asked before executing a change set; false skips this stack's execution. */
  confirm: (stack: string, changes: PlannedChange[]) => Promise<boolean>;
  onPlan?: (stack: string, changes: PlannedChange[], changeSetType: 'CREATE' | 'UPDATE' | 'IMPORT') => void;
  onStatus?: (stack: string, status: string, elapsedMs: number) => void | Promise<void>;
  onEvent?: (event: StackEventLine) => void;
  onAssets?: (stack: string, assets: UploadedAsset[]) => void;
  /**
   * Parameters deploy has values for but does not pass, because the endpoint's ValidateTemplate
   * does not report them as declared (passing them would fail the change set): said, never silent.
   */
  onDroppedParameters?: (dropped: DroppedParameters) => void;
  /** Seconds to wait for each stack operation. */
  timeoutSeconds?: number;
  /**
   * A new stack would create a bucket that already exists (kept by `destroy`): what to do —
   * adopt it with its objects (a resource import), delete it (and its objects) and go on, go on
   * with another bucket name, or stop (the default).
   */
  onKeptBucket?: (kept: KeptBucket) => Promise<KeptBucketChoice>;
  /** An adoption starts: the bucket is imported into the stack as `logicalId`. */
  onAdopt?: (kept: KeptBucket, logicalId: string) => void;
}

export interface KeptBucket {
  stackName: string;
  bucket: string;
  /** Objects it holds (counted up to 1,000). */
  objects: number;
  moreObjects: boolean;
}
export type KeptBucketChoice =
  { action: 'adopt' } | { action: 'delete' } | { action: 'rename'; bucket: string } | { action: 'stop' };

export interface DroppedParameters {
  /** The stack the values were for; null for --parameter overrides no template reported. */
  stackName: string | null;
  template: string | null;
  parameters: string[];
  /** Where the values came from: mlpipe's settings for the stack, or --parameter. */
  source: 'settings' | 'flags';
}

const TERMINAL_FAILURES = new Set([
  'CREATE_FAILED',
  'ROLLBACK_COMPLETE',
  'ROLLBACK_FAILED',
  'UPDATE_ROLLBACK_COMPLETE',
  'UPDATE_ROLLBACK_FAILED',
  'UPDATE_FAILED',
  'DELETE_FAILED',
  'IMPORT_ROLLBACK_COMPLETE',
  'IMPORT_ROLLBACK_FAILED',
]);

function isTerminal(status: string): boolean {
  return !status.endsWith('_IN_PROGRESS');
}

function isNoChanges(reason: string | undefined): boolean {
  return /didn't contain changes|No updates are to be performed/i.test(reason ?? '');
}

function toPlanned(changes: Change[] | undefined): PlannedChange[] {
  return (changes ?? []).map((change) => ({
    action: change.ResourceChange?.Action ?? '?',
    logicalId: change.ResourceChange?.LogicalResourceId ?? '?',
    physicalId: change.ResourceChange?.PhysicalResourceId ?? null,
    type: change.ResourceChange?.ResourceType ?? '?',
    replacement: change.ResourceChange?.Replacement ?? null,
  }));
}

function eventLine(stack: string, event: StackEvent): StackEventLine {
  return {
    stack,
    timestamp: (event.Timestamp ?? new Date()).toISOString(),
    logicalId: event.LogicalResourceId ?? '?',
    type: event.ResourceType ?? '?',
    status: event.ResourceStatus ?? '?',
    reason: event.ResourceStatusReason ?? null,
  };
}

/**
 * Streams a stack's events that happened since `since`, oldest first, each once — once across the
 * streams sharing `seen` (one deploy's operations on a stack: replacing a failed stack, an import,
 * the update after it, which can follow each other within the second `since` allows for).
 */
class EventStream {
  constructor(
    private readonly cfn: CloudFormationClient,
    private readonly stack: string,
    private readonly since: Date,
    private readonly onEvent: ((event: StackEventLine) => void) | undefined,
    private readonly seen = new Set<string>(),
  ) {}

  readonly failures: StackEventLine[] = [];

  async pump(): Promise<void> {
    const { DescribeStackEventsCommand } = await import('@aws-sdk/client-cloudformation');
    const fresh: StackEvent[] = [];
    let nextToken: string | undefined;
    // Events come newest first; stop paging once we reach events from before this operation.
    outer: do {
      let page;
      try {
        page = await this.cfn.send(
          new DescribeStackEventsCommand({ StackName: this.stack, NextToken: nextToken }),
        );
      } catch (error) {
        // Deleted stacks are only describable by stack ID; by name they no longer exist: no more events.
        if ((error as { name?: string }).name === 'ValidationError') return;
        throw error;
      }
      for (const event of page.StackEvents ?? []) {
        if ((event.Timestamp?.getTime() ?? 0) < this.since.getTime() - 1000) break outer;
        if (event.EventId === undefined || this.seen.has(event.EventId)) continue;
        this.seen.add(event.EventId);
        fresh.push(event);
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    for (const event of fresh.reverse()) {
      const line = eventLine(this.stack, event);
      if (line.status.endsWith('_FAILED') && line.reason !== null) this.failures.push(line);
      this.onEvent?.(line);
    }
  }
}

async function waitForStack(
  clients: Clients,
  name: string,
  events: EventStream,
  options: Pick<DeployOptions, 'onStatus' | 'timeoutSeconds'>,
  what: string,
): Promise<string> {
  const stack = await waitFor({
    what,
    poll: async () => (await describeStack(clients, name))?.StackStatus ?? 'DELETE_COMPLETE',
    done: isTerminal,
    // Events first: the stack's final status line comes after the events that led to it.
    onPoll: async (status, elapsed) => {
      await events.pump();
      await options.onStatus?.(name, status, elapsed);
    },
    ...pollIntervals(clients.connection.target),
    timeoutMs: (options.timeoutSeconds ?? 3600) * 1000,
    reattach: `The operation goes on; watch it with \`mlpipe stacks\` or \`aws cloudformation describe-stack-events --stack-name ${name}\`.`,
  });
  await events.pump();
  return stack;
}

function failureError(
  name: string,
  status: string,
  events: EventStream,
  stackReason: string | undefined,
): MlpipeError {
  const first = events.failures.find((f) => f.logicalId !== name) ?? events.failures[0];
  const detail =
    first === undefined
      ? (stackReason ?? 'no reason was reported')
      : `${first.logicalId} (${first.type}) ${first.status}: ${first.reason}`;
  return new MlpipeError(`Stack ${name} ended ${status}: ${detail}`, {
    exit: ExitCode.jobFailed,
    code: 'STACK_FAILED',
    suggestions: [`See every event: aws cloudformation describe-stack-events --stack-name ${name}`],
  });
}

async function templateParameters(
  cfn: CloudFormationClient,
  body: string,
): Promise<{ declared: Set<string>; capabilities: string[] }> {
  const { ValidateTemplateCommand } = await import('@aws-sdk/client-cloudformation');
  const result = await cfn.send(new ValidateTemplateCommand({ TemplateBody: body }));
  return {
    declared: new Set((result.Parameters ?? []).map((p) => p.ParameterKey ?? '')),
    capabilities: result.Capabilities ?? [],
  };
}

interface CheckedTemplate {
  file: string;
  body: string;
  declared: Set<string>;
  capabilities: string[];
}

async function checkTemplate(
  clients: Clients,
  settings: Settings,
  definition: StackDefinition,
): Promise<CheckedTemplate> {
  const cfn = await clients.cloudformation();
  const file = templatePath(settings, definition);
  const body = await readFile(file, 'utf8');
  try {
    return { file, body, ...(await templateParameters(cfn, body)) };
  } catch (error) {
    throw translateAwsError(error, `Validating template ${file}`);
  }
}

async function deployStack(
  clients: Clients,
  settings: Settings,
  definition: StackDefinition,
  template: CheckedTemplate,
  options: DeployOptions,
  /** Events already shown by this deploy of the stack. */
  seen = new Set<string>(),
): Promise<DeployedStack> {
  const cfn = await clients.cloudformation();
  const sdk = await import('@aws-sdk/client-cloudformation');
  const name = stackName(settings, definition.key);
  const { body, declared, capabilities } = template;
  const assets = await uploadStackAssets(clients, settings, definition);
  if (assets.length > 0) options.onAssets?.(name, assets);
  const own = definition.parameters(settings);
  const dropped = Object.keys(own).filter((key) => own[key] !== undefined && !declared.has(key));
  if (dropped.length > 0)
    options.onDroppedParameters?.({
      stackName: name,
      template: template.file,
      parameters: dropped,
      source: 'settings',
    });
  const values = { ...own, ...options.overrides };
  let existing = await describeStack(clients, name);
  // A stack only in review (a change set never executed: `--no-execute`, or another deploy about
  // to execute its own) takes another CREATE change set as it is: executing ours deletes the
  // others. Deleting it instead could delete the stack another deploy has just created.
  const inReview = existing?.StackStatus === 'REVIEW_IN_PROGRESS';
  if (existing !== undefined && (await holdsNothing(clients, existing))) {
    await deleteEmptyStack(clients, name, existing, options, seen);
    existing = undefined;
  }
  if (existing !== undefined && !inReview && existing.StackStatus?.endsWith('_IN_PROGRESS'))
    throw busyError(name, existing.StackStatus);
  const changeSetType = existing === undefined || inReview ? 'CREATE' : 'UPDATE';
  const deployedKeys = new Set(inReview ? [] : (existing?.Parameters ?? []).map((p) => p.ParameterKey));
  const parameters: Parameter[] = [...declared].flatMap((key): Parameter[] => {
    if (values[key] !== undefined) return [{ ParameterKey: key, ParameterValue: values[key] }];
    // State a command set in place (the schedule) survives a plain redeploy.
    if (definition.keepDeployed?.includes(key) && deployedKeys.has(key))
      return [{ ParameterKey: key, UsePreviousValue: true }];
    return [];
  });

  const changeSetName = newChangeSetName();
  try {
    await cfn.send(
      new sdk.CreateChangeSetCommand({
        StackName: name,
        ChangeSetName: changeSetName,
        ChangeSetType: changeSetType,
        TemplateBody: body,
        Parameters: parameters,
        Capabilities: capabilities as never,
        Description: `mlpipe deploy of ${definition.template}`,
      }),
    );
  } catch (error) {
    throw (
      (await concurrentDeploy(clients, name, error)) ??
      translateAwsError(error, `Creating a change set for stack ${name}`)
    );
  }
  const changeSet = await waitForChangeSet(clients, name, changeSetName);
  if (changeSet.Status === 'FAILED') {
    if (isNoChanges(changeSet.StatusReason)) {
      await cfn
        .send(new sdk.DeleteChangeSetCommand({ StackName: name, ChangeSetName: changeSetName }))
        .catch(() => undefined);
      const stack = await describeStack(clients, name);
      return {
        key: definition.key,
        stackName: name,
        result: 'no-changes',
        status: stack?.StackStatus ?? null,
        changeSetName: null,
        changes: [],
        outputs: stack === undefined ? {} : outputsOf(stack),
        assets,
        adoptedBucket: null,
      };
    }
    throw new MlpipeError(
      `The change set for stack ${name} failed: ${changeSet.StatusReason ?? 'no reason given'}`,
      {
        exit: ExitCode.jobFailed,
        code: 'CHANGE_SET_FAILED',
      },
    );
  }
  const changes = toPlanned(changeSet.Changes);
  options.onPlan?.(name, changes, changeSetType);
  if (!options.execute || !(await options.confirm(name, changes))) {
    return {
      key: definition.key,
      stackName: name,
      result: 'change-set-created',
      status: existing?.StackStatus ?? 'REVIEW_IN_PROGRESS',
      changeSetName,
      changes,
      outputs: existing === undefined ? {} : outputsOf(existing),
      assets,
      adoptedBucket: null,
    };
  }
  const { status, events } = await executeChangeSet(clients, name, changeSetName, options, seen);
  const stack = await describeStack(clients, name);
  // Deleted while this deploy executed it: another deploy replaced the stack (it was only in review).
  if (status === 'DELETE_COMPLETE' && changeSetType === 'CREATE') throw busyError(name, 'being replaced');
  // Gone right after it ended well: another deploy (or destroy) deleted it meanwhile.
  if (stack === undefined && !TERMINAL_FAILURES.has(status)) throw busyError(name, 'being replaced');
  if (TERMINAL_FAILURES.has(status) || stack === undefined) {
    const failure = failureError(name, status, events, stack?.StackStatusReason);
    // A bucket kept by `destroy` (Retain) makes the next create fail: say so and offer the fixes.
    const bucket = parameters.find((p) => p.ParameterKey === 'BucketName')?.ParameterValue;
    const blocked = events.failures.find(
      (f) => f.type === 'AWS::S3::Bucket' && /already exists/i.test(f.reason ?? ''),
    );
    if (changeSetType === 'CREATE' && blocked !== undefined && bucket !== undefined) {
      const kept = await keptBucket(clients, name, bucket);
      if (kept !== undefined) {
        const choice = (await options.onKeptBucket?.(kept)) ?? { action: 'stop' };
        if (choice.action === 'stop') throw keptBucketError(kept, failure);
        if (choice.action === 'adopt')
          return adoptKeptBucket(clients, settings, definition, template, options, seen, {
            kept,
            logicalId: blocked.logicalId,
            parameters,
          });
        if (choice.action === 'delete') await deleteBucket(clients, kept.bucket);
        const overrides: Record<string, string> =
          choice.action === 'rename' ? { BucketName: choice.bucket } : {};
        // Once more, without asking about the bucket again: the failed stack is replaced first.
        return deployStack(
          clients,
          settings,
          definition,
          template,
          { ...options, overrides: { ...options.overrides, ...overrides }, onKeptBucket: undefined },
          seen,
        );
      }
    }
    throw failure;
  }
  return {
    key: definition.key,
    stackName: name,
    result: changeSetType === 'CREATE' ? 'created' : 'updated',
    status,
    changeSetName,
    changes,
    outputs: outputsOf(stack),
    assets,
    adoptedBucket: null,
  };
}

/** Executes a change set and follows the stack to a final status, its events shown once. */
async function executeChangeSet(
  clients: Clients,
  name: string,
  changeSetName: string,
  options: Pick<DeployOptions, 'onEvent' | 'onStatus' | 'timeoutSeconds'>,
  seen: Set<string>,
): Promise<{ status: string; events: EventStream }> {
  const cfn = await clients.cloudformation();
  const { ExecuteChangeSetCommand } = await import('@aws-sdk/client-cloudformation');
  const started = new Date();
  try {
    await cfn.send(new ExecuteChangeSetCommand({ StackName: name, ChangeSetName: changeSetName }));
  } catch (error) {
    throw (
      (await concurrentDeploy(clients, name, error)) ??
      translateAwsError(error, `Executing change set ${changeSetName} on stack ${name}`)
    );
  }
  const events = new EventStream(cfn, name, started, options.onEvent, seen);
  const status = await waitForStack(clients, name, events, options, `stack ${name}`);
  return { status, events };
}

function newChangeSetName(): string {
  return `mlpipe-${new Date()
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14)}-${Math.random().toString(36).slice(2, 6)}`;
}

async function waitForChangeSet(
  clients: Clients,
  name: string,
  changeSetName: string,
): Promise<DescribeChangeSetCommandOutput> {
  const cfn = await clients.cloudformation();
  const sdk = await import('@aws-sdk/client-cloudformation');
  return waitFor({
    what: `change set ${changeSetName}`,
    poll: () =>
      cfn
        .send(new sdk.DescribeChangeSetCommand({ StackName: name, ChangeSetName: changeSetName }))
        .catch(async (error: unknown) => {
          throw (await concurrentDeploy(clients, name, error)) ?? error;
        }),
    done: (cs) =>
      cs.Status === 'CREATE_COMPLETE' || cs.Status === 'FAILED' || cs.Status === 'DELETE_COMPLETE',
    ...pollIntervals(clients.connection.target),
    timeoutMs: 10 * 60 * 1000,
  });
}

/**
 * A stack that holds no resources and cannot be updated into a working one: its creation failed
 * (ROLLBACK_COMPLETE), or the import that was to create it rolled back (IMPORT_ROLLBACK_COMPLETE
 * with nothing in it).
 */
async function holdsNothing(clients: Clients, stack: Stack): Promise<boolean> {
  if (stack.StackStatus === 'ROLLBACK_COMPLETE') return true;
  if (stack.StackStatus !== 'IMPORT_ROLLBACK_COMPLETE') return false;
  const cfn = await clients.cloudformation();
  const { ListStackResourcesCommand } = await import('@aws-sdk/client-cloudformation');
  const listed = await cfn.send(
    new ListStackResourcesCommand({ StackName: stack.StackId ?? stack.StackName }),
  );
  return (listed.StackResourceSummaries ?? []).every((r) => r.ResourceStatus === 'DELETE_COMPLETE');
}

/** Deletes such a stack (AWS requires it before the stack can be created again) and waits. */
async function deleteEmptyStack(
  clients: Clients,
  name: string,
  existing: Stack,
  options: Pick<DeployOptions, 'onEvent' | 'onStatus' | 'timeoutSeconds'>,
  seen: Set<string>,
): Promise<void> {
  const cfn = await clients.cloudformation();
  const { DeleteStackCommand } = await import('@aws-sdk/client-cloudformation');
  const stackId = existing.StackId ?? name;
  await cfn.send(new DeleteStackCommand({ StackName: stackId }));
  const events = new EventStream(cfn, stackId, new Date(), options.onEvent, seen);
  await waitForStack(clients, stackId, events, options, `stack ${name} to be deleted`);
}

/**
 * Adopts a bucket `destroy` kept, with its objects, into a new stack: the failed stack is deleted,
 * an IMPORT change set brings the bucket in under its logical ID (bucketImportTemplate), and once
 * the stack is IMPORT_COMPLETE the normal deploy of the whole template updates it (shown and
 * confirmed as any update). Works the same on AWS, where AWS::S3::Bucket supports resource import.
 */
async function adoptKeptBucket(
  clients: Clients,
  settings: Settings,
  definition: StackDefinition,
  template: CheckedTemplate,
  options: DeployOptions,
  seen: Set<string>,
  adoption: { kept: KeptBucket; logicalId: string; parameters: Parameter[] },
): Promise<DeployedStack> {
  const cfn = await clients.cloudformation();
  const sdk = await import('@aws-sdk/client-cloudformation');
  const name = stackName(settings, definition.key);
  const { kept, logicalId } = adoption;
  // Loaded here: only an adoption reads the template (and the YAML parser it needs).
  const { bucketImportTemplate } = await import('./import-template.js');
  const importTemplate = bucketImportTemplate(template.body, logicalId, template.file);
  const existing = await describeStack(clients, name);
  if (existing !== undefined && (await holdsNothing(clients, existing)))
    await deleteEmptyStack(clients, name, existing, options, seen);
  else if (existing !== undefined && existing.StackStatus !== 'REVIEW_IN_PROGRESS')
    throw busyError(name, existing.StackStatus ?? 'changed meanwhile');
  options.onAdopt?.(kept, logicalId);
  const changeSetName = newChangeSetName();
  try {
    await cfn.send(
      new sdk.CreateChangeSetCommand({
        StackName: name,
        ChangeSetName: changeSetName,
        ChangeSetType: 'IMPORT',
        TemplateBody: importTemplate.body,
        Parameters: adoption.parameters.filter((p) =>
          importTemplate.parameterKeys.includes(p.ParameterKey ?? ''),
        ),
        ResourcesToImport: [
          {
            ResourceType: 'AWS::S3::Bucket',
            LogicalResourceId: logicalId,
            ResourceIdentifier: { BucketName: kept.bucket },
          },
        ],
        Description: `mlpipe deploy: adopt the kept bucket ${kept.bucket}`,
      }),
    );
  } catch (error) {
    throw (
      (await concurrentDeploy(clients, name, error)) ??
      translateAwsError(
        error,
        `Creating the change set that imports bucket ${kept.bucket} into stack ${name}`,
      )
    );
  }
  const changeSet = await waitForChangeSet(clients, name, changeSetName);
  if (changeSet.Status !== 'CREATE_COMPLETE') {
    throw new MlpipeError(
      `The change set importing bucket ${kept.bucket} into stack ${name} failed: ${changeSet.StatusReason ?? 'no reason given'}`,
      { exit: ExitCode.jobFailed, code: 'CHANGE_SET_FAILED' },
    );
  }
  options.onPlan?.(name, toPlanned(changeSet.Changes), 'IMPORT');
  const { status, events } = await executeChangeSet(clients, name, changeSetName, options, seen);
  if (status !== 'IMPORT_COMPLETE') {
    const stack = await describeStack(clients, name);
    throw failureError(name, status, events, stack?.StackStatusReason);
  }
  // The whole template, as any update: the bucket is an existing resource now.
  const deployed = await deployStack(
    clients,
    settings,
    definition,
    template,
    { ...options, onKeptBucket: undefined },
    seen,
  );
  return { ...deployed, adoptedBucket: kept.bucket };
}

function busyError(name: string, status: string): MlpipeError {
  return new MlpipeError(
    `Another deploy (or destroy) of stack ${name} is running: the stack is ${status}. Only one can change a stack at a time.`,
    {
      code: 'STACK_BUSY',
      suggestions: [
        `Wait for it to end (\`mlpipe stacks\` shows the status), then run \`mlpipe deploy\` again.`,
      ],
    },
  );
}

/**
 * Two deploys of one stack race: the other one's change set replaces, executes or deletes ours (or
 * the stack it was made for), and CloudFormation answers ChangeSetNotFound, "already exists" or
 * "cannot be updated while in state …". When the stack is busy or the change set is gone, that
 * is said in words instead.
 */
async function concurrentDeploy(
  clients: Clients,
  name: string,
  error: unknown,
): Promise<MlpipeError | undefined> {
  const e = error as { name?: string; message?: string };
  const raceLike =
    /ChangeSetNotFound|AlreadyExists|ChangeSetInUse|InvalidChangeSetStatus/.test(e.name ?? '') ||
    /_IN_PROGRESS state|is in [A-Z_]+_IN_PROGRESS|does not exist|cannot be created again/.test(
      e.message ?? '',
    );
  if (!raceLike) return undefined;
  // "already exists and cannot be created again": another deploy created the stack after ours
  // found none, whatever state it has reached by now.
  const createdMeanwhile = /cannot be created again/.test(e.message ?? '');
  // "is in CREATE_IN_PROGRESS state and can not be updated": the service saw the other operation
  // running, even if it has ended by the time we look.
  const seenBusy = /is in ([A-Z_]+_IN_PROGRESS) state/.exec(e.message ?? '')?.[1];
  const stack = await describeStack(clients, name).catch(() => undefined);
  const status = stack?.StackStatus ?? 'gone';
  // A stack deleted by now (gone, or DELETE_COMPLETE) was the other deploy's replacing ours.
  const replaced = status === 'gone' || status === 'DELETE_COMPLETE';
  if (
    status.endsWith('_IN_PROGRESS') ||
    replaced ||
    createdMeanwhile ||
    seenBusy !== undefined ||
    /ChangeSetNotFound/.test(e.name ?? '')
  )
    return busyError(
      name,
      replaced ? 'being replaced' : status.endsWith('_IN_PROGRESS') ? status : (seenBusy ?? status),
    );
  return undefined;
}

/** A bucket named like the one a new stack would create: kept by `destroy`, or someone else's. */
async function keptBucket(
  clients: Clients,
  stackName: string,
  bucket: string,
): Promise<KeptBucket | undefined> {
  const s3 = await clients.s3();
  const { HeadBucketCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return undefined;
    if (status === 403 || status === 301)
      throw new MlpipeError(
        `The bucket name ${bucket} is taken by another AWS account; bucket names are global.`,
        {
          code: 'BUCKET_NAME_TAKEN',
          suggestions: [
            'Choose another: set "bucket" in mlpipe.config.json (e.g. with your account id and region in it).',
          ],
        },
      );
    throw translateAwsError(error, `Checking whether bucket ${bucket} exists`);
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
  return { stackName, bucket, objects: listed.KeyCount ?? 0, moreObjects: listed.IsTruncated === true };
}

export function keptBucketError(kept: KeptBucket, failure: MlpipeError): MlpipeError {
  const count = `${kept.objects}${kept.moreObjects ? '+' : ''} object${kept.objects === 1 ? '' : 's'}`;
  return new MlpipeError(
    `${failure.message}\nThe bucket ${kept.bucket} already exists (${count}), so the stack cannot create it; \`mlpipe destroy\` keeps the data-lake bucket (DeletionPolicy Retain).`,
    {
      exit: failure.exit,
      code: 'BUCKET_EXISTS',
      suggestions: [
        `Adopt it into the stack with its ${count} (a CloudFormation resource import), then deploy: \`mlpipe deploy --adopt-kept-bucket\`.`,
        `Or delete it and its ${count}, then deploy: \`mlpipe deploy --delete-kept-bucket\`.`,
        'Or deploy with another bucket: set "bucket" in mlpipe.config.json (`mlpipe deploy` on a terminal offers to).',
      ],
    },
  );
}

/** Empties a bucket (objects and unfinished multipart uploads) and deletes it. */
async function deleteBucket(clients: Clients, bucket: string): Promise<void> {
  const s3 = await clients.s3();
  const sdk = await import('@aws-sdk/client-s3');
  try {
    for (;;) {
      const page = await s3.send(new sdk.ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) break;
      await s3.send(new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    }
    const uploads = await s3.send(new sdk.ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const upload of uploads.Uploads ?? [])
      await s3.send(
        new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key!, UploadId: upload.UploadId! }),
      );
    await s3.send(new sdk.DeleteBucketCommand({ Bucket: bucket }));
  } catch (error) {
    throw translateAwsError(error, `Deleting the kept bucket ${bucket}`);
  }
}

/** Deploys the given stacks in order, stopping at the first failure. */
export async function deploy(
  clients: Clients,
  settings: Settings,
  options: DeployOptions,
): Promise<DeployedStack[]> {
  // Check every template and every --parameter before changing anything.
  const templates: CheckedTemplate[] = [];
  for (const definition of options.stacks) templates.push(await checkTemplate(clients, settings, definition));
  const unknown = Object.keys(options.overrides).filter((key) => !templates.some((t) => t.declared.has(key)));
  // An endpoint that reports no parameters for a template cannot say which ones it declares: then
  // an unknown --parameter may be real, and is dropped with a warning rather than refused.
  const unreported = templates.filter((t) => t.declared.size === 0);
  if (unknown.length > 0 && unreported.length > 0) {
    options.onDroppedParameters?.({
      stackName: null,
      template: unreported.map((t) => t.file).join(', '),
      parameters: unknown,
      source: 'flags',
    });
  } else if (unknown.length > 0) {
    throw new MlpipeError(
      `--parameter ${unknown.join(', ')}: no template being deployed declares ${unknown.length === 1 ? 'this parameter' : 'these parameters'}.`,
      {
        exit: ExitCode.usage,
        code: 'UNKNOWN_PARAMETER',
        suggestions: [
          `Declared: ${[...new Set(templates.flatMap((t) => [...t.declared]))].sort().join(', ')}.`,
        ],
      },
    );
  }
  const results: DeployedStack[] = [];
  for (const [index, definition] of options.stacks.entries()) {
    const result = await deployStack(clients, settings, definition, templates[index]!, options).catch(
      (error: unknown) => {
        throw translateAwsError(error, `Deploying stack ${stackName(settings, definition.key)}`);
      },
    );
    results.push(result);
    // A later stack imports this one's exports: it cannot go ahead without it.
    if (result.result === 'change-set-created' && result.status === 'REVIEW_IN_PROGRESS') break;
  }
  return results;
}

export interface DestroyedStack {
  key: string;
  stackName: string;
  result: 'deleted' | 'not-deployed';
  /** Resources left in place by DeletionPolicy: Retain. */
  retained: Array<{ logicalId: string; physicalId: string | null; type: string }>;
  /**
   * The Personalize stack only: what was cleared from its dataset group first (training stopped,
   * the solutions `mlpipe train` created deleted); null for the other stacks.
   */
  cleared: TeardownResult | null;
}

const STACK_KEYS = ['datalake', 'etl', 'personalize', 'pipeline'] as const;

/**
 * Refuses, before anything is deleted, to delete a stack whose exports a stack outside `stacks`
 * imports: CloudFormation would fail the deletion ("Export … cannot be deleted as it is in use by
 * …") after destroy had already cleared the dataset group. Says which stack uses which exports and
 * what to delete first.
 */
export async function refuseImportedExports(
  clients: Clients,
  settings: Settings,
  stacks: StackDefinition[],
): Promise<void> {
  const cfn = await clients.cloudformation();
  const sdk = await import('@aws-sdk/client-cloudformation');
  const deleting = new Set(stacks.map((s) => stackName(settings, s.key)));
  /** The stacks outside `deleting` that import an export of stack `name`, with those exports. */
  const usersOf = async (name: string): Promise<Map<string, string[]>> => {
    const stack = await describeStack(clients, name);
    const users = new Map<string, string[]>();
    for (const output of stack?.Outputs ?? []) {
      if (output.ExportName === undefined) continue;
      let importers: string[] = [];
      try {
        let nextToken: string | undefined;
        do {
          const page = await cfn.send(
            new sdk.ListImportsCommand({ ExportName: output.ExportName, NextToken: nextToken }),
          );
          importers = importers.concat(page.Imports ?? []);
          nextToken = page.NextToken;
        } while (nextToken !== undefined);
      } catch (error) {
        // AWS answers an export nobody imports with this ValidationError.
        if (/is not imported by any stack/.test((error as Error).message ?? '')) continue;
        throw translateAwsError(error, `Listing the stacks that import ${output.ExportName}`);
      }
      for (const importer of importers)
        if (!deleting.has(importer)) users.set(importer, [...(users.get(importer) ?? []), output.ExportName]);
    }
    return users;
  };
  for (const definition of stacks) {
    const name = stackName(settings, definition.key);
    const users = await usersOf(name);
    if (users.size === 0) continue;
    const [user, exports] = [...users.entries()][0]!;
    const others = users.size > 1 ? ` (and ${[...users.keys()].slice(1).join(', ')})` : '';
    // Everything that has to go first: the users, the stacks that use theirs, and so on.
    const first = new Set(users.keys());
    for (const pending = [...first]; pending.length > 0;)
      for (const next of (await usersOf(pending.pop()!)).keys())
        if (!first.has(next)) {
          first.add(next);
          pending.push(next);
        }
    const keyOf = (stack: string): string | undefined =>
      STACK_KEYS.find((key) => stackName(settings, key) === stack);
    const unknown = [...first].filter((stack) => keyOf(stack) === undefined);
    // Reverse deploy order, the order they can be deleted in.
    const keys = STACK_KEYS.filter((key) => first.has(stackName(settings, key))).reverse();
    throw new MlpipeError(
      `Stack ${name} cannot be deleted while stack ${user}${others} uses its exports (${exports.join(', ')}); nothing was deleted.`,
      {
        code: 'STACK_IN_USE',
        suggestions: [
          unknown.length > 0
            ? `Delete ${unknown.map((stack) => `stack ${stack}`).join(', ')} first (\`aws cloudformation delete-stack --stack-name ${unknown[0]}\`)${keys.length > 0 ? `, and ${keys.join(', ')} (\`mlpipe destroy ${keys.map((key) => `--stack ${key}`).join(' ')}\`)` : ''}, then run this again.`
            : `Run \`mlpipe destroy ${keys.map((key) => `--stack ${key}`).join(' ')}\` first, or \`mlpipe destroy\` to delete every stack.`,
        ],
      },
    );
  }
}

/**
 * Deletes the given stacks in reverse dependency order; before the Personalize stack, clears its
 * dataset group of what `mlpipe train` created outside it (personalize/teardown.ts), planned again
 * at that moment so that what changed since the confirmation is seen.
 */
export async function destroy(
  clients: Clients,
  settings: Settings,
  stacks: StackDefinition[],
  options: Pick<DeployOptions, 'onEvent' | 'onStatus' | 'timeoutSeconds'> & {
    onTeardown?: (line: string) => void;
  },
): Promise<DestroyedStack[]> {
  await refuseImportedExports(clients, settings, stacks);
  const cfn = await clients.cloudformation();
  const sdk = await import('@aws-sdk/client-cloudformation');
  const results: DestroyedStack[] = [];
  for (const definition of [...stacks].reverse()) {
    const name = stackName(settings, definition.key);
    const existing = await describeStack(clients, name);
    if (existing === undefined) {
      results.push({
        key: definition.key,
        stackName: name,
        result: 'not-deployed',
        retained: [],
        cleared: null,
      });
      continue;
    }
    let cleared: TeardownResult | null = null;
    if (definition.key === 'personalize') {
      const plan = await planTeardown(clients, settings);
      if (plan !== undefined)
        cleared = await carryOutTeardown(clients, plan, {
          timeoutSeconds: options.timeoutSeconds ?? 3600,
          onProgress: options.onTeardown,
        });
    }
    const started = new Date();
    try {
      await cfn.send(new sdk.DeleteStackCommand({ StackName: existing.StackId ?? name }));
    } catch (error) {
      throw translateAwsError(error, `Deleting stack ${name}`);
    }
    const retained: DestroyedStack['retained'] = [];
    const events = new EventStream(cfn, existing.StackId ?? name, started, (event) => {
      if (event.status === 'DELETE_SKIPPED')
        retained.push({ logicalId: event.logicalId, physicalId: null, type: event.type });
      options.onEvent?.(event);
    });
    const status = await waitForStack(
      clients,
      existing.StackId ?? name,
      events,
      options,
      `stack ${name} to be deleted`,
    );
    if (status !== 'DELETE_COMPLETE') throw failureError(name, status, events, undefined);
    results.push({ key: definition.key, stackName: name, result: 'deleted', retained, cleared });
  }
  return results;
}
