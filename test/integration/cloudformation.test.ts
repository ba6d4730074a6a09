// CloudFormation on the local stack, driven by the real CloudFormationClient (and its waiters),
// checked against the real S3 state with S3Client, and by the AWS CLI v1 when it is installed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  GetTemplateSummaryCommand,
  ListStackSetsCommand,
  ListChangeSetsCommand,
  ListExportsCommand,
  ListImportsCommand,
  ListStackResourcesCommand,
  UpdateStackCommand,
  ValidateTemplateCommand,
  waitUntilChangeSetCreateComplete,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
  waitUntilStackUpdateComplete,
  type Parameter,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describeStack as describeStackOf, settledStack, stackEvents } from '../helpers/cfn.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { awsCliAvailable, awsCliEnv, awsCliPath, sdkError } from '../helpers/sdk.js';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/cfn/datalake-stack.yaml');
const DATALAKE = readFileSync(FIXTURE, 'utf8');
const WAIT = { maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 };

function params(values: Record<string, string>): Parameter[] {
  return Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
}

function outputs(stack: Stack): Record<string, string> {
  return Object.fromEntries((stack.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]));
}

/** A minimal one-bucket template (YAML), with extra resource attributes. */
function bucketTemplate(bucketName: string, extra = ''): string {
  return `Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n${extra}    Properties:\n      BucketName: ${bucketName}\n`;
}

describe('CloudFormation on the local stack', () => {
  let stack: TestStack;
  let cfn: CloudFormationClient;
  let s3: S3Client;

  before(async () => {
    stack = await startTestStack();
    cfn = new CloudFormationClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials: stack.credentials,
      maxAttempts: 1,
    });
    s3 = new S3Client(sdkConfig(stack));
  });
  after(async () => {
    cfn.destroy();
    s3.destroy();
    await stack.stop();
  });

  const describeStack = (name: string): Promise<Stack> => describeStackOf(cfn, name);

  const eventsOf = (name: string): Promise<StackEvent[]> => stackEvents(cfn, name);

  const settled = (name: string): Promise<Stack> => settledStack(cfn, name);

  const bucketExists = async (bucket: string): Promise<boolean> => {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return true;
    } catch {
      return false;
    }
  };

  const bucketNames = async (): Promise<string[]> =>
    ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((bucket) => bucket.Name ?? '').sort();

  it('creates a data lake stack: bucket with policy and public access block, role, outputs, exports, events', async () => {
    const created = await cfn.send(
      new CreateStackCommand({
        StackName: 'lake1',
        TemplateBody: DATALAKE,
        Parameters: params({ BucketName: 'lake1-data' }),
        Capabilities: ['CAPABILITY_IAM'],
        Tags: [{ Key: 'team', Value: 'ml' }],
      }),
    );
    assert.match(
      created.StackId ?? '',
      /^arn:aws:cloudformation:us-east-1:\d{12}:stack\/lake1\/[0-9a-f-]{36}$/,
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'lake1' });

    const described = await describeStack('lake1');
    assert.equal(described.StackStatus, 'CREATE_COMPLETE');
    assert.equal(described.StackId, created.StackId);
    assert.equal(
      described.Description,
      'mlpipe integration-test data lake (HTTPS-only bucket, public access blocked, pipeline role)',
    );
    assert.deepEqual(described.Parameters, [
      { ParameterKey: 'BucketName', ParameterValue: 'lake1-data' },
      { ParameterKey: 'Environment', ParameterValue: 'dev' },
      { ParameterKey: 'ReadPrefix', ParameterValue: 'raw' },
    ]);
    assert.deepEqual(described.Capabilities, ['CAPABILITY_IAM']);
    assert.deepEqual(described.Tags, [{ Key: 'team', Value: 'ml' }]);
    const out = outputs(described);
    assert.equal(out.BucketName, 'lake1-data');
    assert.equal(out.BucketArn, 'arn:aws:s3:::lake1-data');
    assert.match(out.RoleArn ?? '', /^arn:aws:iam::\d{12}:role\/lake1-PipelineRole-[A-Z0-9]{12}$/);
    assert.equal(
      described.Outputs?.find((output) => output.OutputKey === 'BucketName')?.ExportName,
      'lake1-BucketName',
    );

    // The bucket really exists in S3, with its policy and public access block.
    assert.ok(await bucketExists('lake1-data'));
    const policy = JSON.parse(
      (await s3.send(new GetBucketPolicyCommand({ Bucket: 'lake1-data' }))).Policy ?? '{}',
    ) as { Statement: Array<{ Sid: string; Condition: unknown; Resource: string[] }> };
    assert.equal(policy.Statement[0]?.Sid, 'DenyInsecureTransport');
    assert.deepEqual(policy.Statement[0]?.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
    assert.deepEqual(policy.Statement[0]?.Resource, ['arn:aws:s3:::lake1-data', 'arn:aws:s3:::lake1-data/*']);
    const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'lake1-data' }));
    assert.deepEqual(block.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });

    const exports = (await cfn.send(new ListExportsCommand({}))).Exports ?? [];
    assert.deepEqual(
      exports
        .filter((entry) => entry.ExportingStackId === created.StackId)
        .map((entry) => [entry.Name, entry.Value]),
      [
        ['lake1-BucketName', 'lake1-data'],
        ['lake1-BucketArn', 'arn:aws:s3:::lake1-data'],
      ],
    );

    // Events: stack start, each resource in dependency order, stack end.
    const events = await eventsOf('lake1');
    assert.deepEqual(
      events.map((event) => `${event.LogicalResourceId} ${event.ResourceStatus}`),
      [
        'lake1 CREATE_IN_PROGRESS',
        'Bucket CREATE_IN_PROGRESS',
        'Bucket CREATE_IN_PROGRESS',
        'Bucket CREATE_COMPLETE',
        'BucketPolicy CREATE_IN_PROGRESS',
        'BucketPolicy CREATE_IN_PROGRESS',
        'BucketPolicy CREATE_COMPLETE',
        'PipelineRole CREATE_IN_PROGRESS',
        'PipelineRole CREATE_IN_PROGRESS',
        'PipelineRole CREATE_COMPLETE',
        'lake1 CREATE_COMPLETE',
      ],
    );
    assert.equal(events[0]?.ResourceStatusReason, 'User Initiated');
    assert.equal(events[0]?.ResourceType, 'AWS::CloudFormation::Stack');
    assert.equal(events[2]?.ResourceStatusReason, 'Resource creation Initiated');
    assert.equal(events[3]?.PhysicalResourceId, 'lake1-data');
    assert.equal(new Set(events.map((event) => event.EventId)).size, events.length, 'event IDs are unique');
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i]!.Timestamp! > events[i - 1]!.Timestamp!, 'event timestamps increase');
    }

    const resources = (await cfn.send(new ListStackResourcesCommand({ StackName: 'lake1' })))
      .StackResourceSummaries;
    assert.deepEqual(
      resources?.map((resource) => [
        resource.LogicalResourceId,
        resource.ResourceType,
        resource.ResourceStatus,
      ]),
      [
        ['Bucket', 'AWS::S3::Bucket', 'CREATE_COMPLETE'],
        ['BucketPolicy', 'AWS::S3::BucketPolicy', 'CREATE_COMPLETE'],
        ['PipelineRole', 'AWS::IAM::Role', 'CREATE_COMPLETE'],
      ],
    );
    const role = await cfn.send(
      new DescribeStackResourceCommand({ StackName: 'lake1', LogicalResourceId: 'PipelineRole' }),
    );
    assert.equal(out.RoleArn?.endsWith(`/${role.StackResourceDetail?.PhysicalResourceId}`), true);
    const byPhysical = await cfn.send(
      new DescribeStackResourcesCommand({ PhysicalResourceId: 'lake1-data' }),
    );
    assert.equal(byPhysical.StackResources?.[0]?.StackName, 'lake1');
    const template = await cfn.send(new GetTemplateCommand({ StackName: 'lake1' }));
    assert.equal(template.TemplateBody, DATALAKE);
  });

  it('updates in place (a tag, a role policy) and by replacement (BucketName) through change sets and UpdateStack', async () => {
    // In place: Environment only changes the bucket's tags.
    await cfn.send(
      new UpdateStackCommand({
        StackName: 'lake1',
        TemplateBody: DATALAKE,
        Parameters: [
          { ParameterKey: 'BucketName', UsePreviousValue: true },
          { ParameterKey: 'Environment', ParameterValue: 'prod' },
        ],
        Capabilities: ['CAPABILITY_IAM'],
      }),
    );
    await waitUntilStackUpdateComplete({ client: cfn, ...WAIT }, { StackName: 'lake1' });
    let described = await describeStack('lake1');
    assert.equal(described.StackStatus, 'UPDATE_COMPLETE');
    assert.ok(described.LastUpdatedTime instanceof Date);
    assert.equal(outputs(described).BucketName, 'lake1-data');
    let events = await eventsOf('lake1');
    const updateStart = events.findLastIndex(
      (event) => event.LogicalResourceId === 'lake1' && event.ResourceStatus === 'UPDATE_IN_PROGRESS',
    );
    assert.deepEqual(
      events.slice(updateStart).map((event) => `${event.LogicalResourceId} ${event.ResourceStatus}`),
      [
        'lake1 UPDATE_IN_PROGRESS',
        'Bucket UPDATE_IN_PROGRESS',
        'Bucket UPDATE_COMPLETE',
        'lake1 UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
        'lake1 UPDATE_COMPLETE',
      ],
    );
    assert.ok(await bucketExists('lake1-data'));

    // A change set that modifies the role (no replacement) and replaces the bucket.
    const changeSet = await cfn.send(
      new CreateChangeSetCommand({
        StackName: 'lake1',
        ChangeSetName: 'rename',
        TemplateBody: DATALAKE,
        Parameters: [
          { ParameterKey: 'BucketName', ParameterValue: 'lake1-renamed' },
          { ParameterKey: 'Environment', UsePreviousValue: true },
          { ParameterKey: 'ReadPrefix', ParameterValue: 'transformed' },
        ],
        Capabilities: ['CAPABILITY_IAM'],
      }),
    );
    assert.match(
      changeSet.Id ?? '',
      /^arn:aws:cloudformation:us-east-1:\d{12}:changeSet\/rename\/[0-9a-f-]{36}$/,
    );
    await waitUntilChangeSetCreateComplete({ client: cfn, ...WAIT }, { ChangeSetName: changeSet.Id });
    const planned = await cfn.send(
      new DescribeChangeSetCommand({ StackName: 'lake1', ChangeSetName: 'rename' }),
    );
    assert.equal(planned.Status, 'CREATE_COMPLETE');
    assert.equal(planned.ExecutionStatus, 'AVAILABLE');
    assert.deepEqual(planned.Parameters, [
      { ParameterKey: 'BucketName', ParameterValue: 'lake1-renamed' },
      { ParameterKey: 'Environment', ParameterValue: 'prod' },
      { ParameterKey: 'ReadPrefix', ParameterValue: 'transformed' },
    ]);
    const changes = Object.fromEntries(
      (planned.Changes ?? []).map((change) => [
        change.ResourceChange?.LogicalResourceId,
        change.ResourceChange,
      ]),
    );
    assert.equal(changes.Bucket?.Action, 'Modify');
    assert.equal(changes.Bucket?.Replacement, 'True');
    assert.equal(changes.Bucket?.PhysicalResourceId, 'lake1-data');
    assert.deepEqual(changes.Bucket?.Scope, ['Properties']);
    assert.deepEqual(changes.Bucket?.Details?.[0]?.Target, {
      Attribute: 'Properties',
      Name: 'BucketName',
      RequiresRecreation: 'Always',
    });
    assert.equal(changes.PipelineRole?.Action, 'Modify');
    assert.equal(changes.PipelineRole?.Replacement, 'False');
    assert.equal(changes.BucketPolicy?.Action, 'Modify');
    assert.equal(changes.BucketPolicy?.Details?.[0]?.Evaluation, 'Dynamic');
    assert.equal(changes.BucketPolicy?.Details?.[0]?.CausingEntity, 'Bucket');
    const summaries = (await cfn.send(new ListChangeSetsCommand({ StackName: 'lake1' }))).Summaries ?? [];
    assert.deepEqual(
      summaries.map((summary) => [summary.ChangeSetName, summary.Status]),
      [['rename', 'CREATE_COMPLETE']],
    );

    await cfn.send(new ExecuteChangeSetCommand({ StackName: 'lake1', ChangeSetName: 'rename' }));
    await waitUntilStackUpdateComplete({ client: cfn, ...WAIT }, { StackName: 'lake1' });
    described = await describeStack('lake1');
    assert.equal(described.StackStatus, 'UPDATE_COMPLETE');
    assert.equal(described.ChangeSetId, changeSet.Id);
    assert.equal(outputs(described).BucketName, 'lake1-renamed');
    assert.ok(await bucketExists('lake1-renamed'), 'the replacement bucket exists');
    assert.ok(!(await bucketExists('lake1-data')), 'the replaced bucket is deleted in the cleanup phase');
    assert.match(
      (await s3.send(new GetBucketPolicyCommand({ Bucket: 'lake1-renamed' }))).Policy ?? '',
      /arn:aws:s3:::lake1-renamed\/\*/,
    );
    const exported = (await cfn.send(new ListExportsCommand({}))).Exports?.find(
      (entry) => entry.Name === 'lake1-BucketName',
    );
    assert.equal(exported?.Value, 'lake1-renamed');
    const executed = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: changeSet.Id }));
    assert.equal(executed.ExecutionStatus, 'EXECUTE_COMPLETE');

    events = await eventsOf('lake1');
    const start = events.findLastIndex(
      (event) => event.LogicalResourceId === 'lake1' && event.ResourceStatus === 'UPDATE_IN_PROGRESS',
    );
    const tail = events
      .slice(start)
      .map((event) => `${event.LogicalResourceId} ${event.ResourceStatus} ${event.PhysicalResourceId}`);
    const cleanup = tail.indexOf(`lake1 UPDATE_COMPLETE_CLEANUP_IN_PROGRESS ${described.StackId}`);
    assert.ok(cleanup > 0);
    assert.ok(tail.indexOf('Bucket UPDATE_COMPLETE lake1-renamed') < cleanup, 'new bucket first');
    assert.ok(
      tail.indexOf('Bucket DELETE_COMPLETE lake1-data') > cleanup,
      'old bucket deleted during cleanup',
    );
    assert.equal(tail.at(-1), `lake1 UPDATE_COMPLETE ${described.StackId}`);
    const replacing = events
      .slice(start)
      .find((event) => event.LogicalResourceId === 'Bucket' && event.ResourceStatus === 'UPDATE_IN_PROGRESS');
    assert.equal(
      replacing?.ResourceStatusReason,
      'Requested update requires the creation of a new physical resource; hence creating one.',
    );
  });

  it('fails a change set that changes nothing and refuses a no-op UpdateStack, as AWS does', async () => {
    const current = await describeStack('lake1');
    const same = current.Parameters?.map((parameter) => ({
      ParameterKey: parameter.ParameterKey,
      UsePreviousValue: true,
    }));
    const noop = await cfn.send(
      new CreateChangeSetCommand({
        StackName: 'lake1',
        ChangeSetName: 'noop',
        TemplateBody: DATALAKE,
        Parameters: same,
        Capabilities: ['CAPABILITY_IAM'],
      }),
    );
    const waited = await sdkError(
      waitUntilChangeSetCreateComplete({ client: cfn, ...WAIT }, { ChangeSetName: noop.Id }),
    );
    assert.match(waited.message, /FAILED/);
    const failed = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: noop.Id }));
    assert.equal(failed.Status, 'FAILED');
    assert.equal(failed.ExecutionStatus, 'UNAVAILABLE');
    assert.equal(
      failed.StatusReason,
      "The submitted information didn't contain changes. Submit different information to create a change set.",
    );
    assert.deepEqual(failed.Changes, []);
    const execute = await sdkError(cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: noop.Id })));
    // The SDK maps the wire code (InvalidChangeSetStatus) to its modeled exception.
    assert.equal(execute.name, 'InvalidChangeSetStatusException');
    await cfn.send(new DeleteChangeSetCommand({ ChangeSetName: noop.Id }));
    const gone = await sdkError(
      cfn.send(new DescribeChangeSetCommand({ StackName: 'lake1', ChangeSetName: 'noop' })),
    );
    assert.equal(gone.name, 'ChangeSetNotFoundException'); // wire code ChangeSetNotFound
    assert.equal(gone.message, 'ChangeSet [noop] does not exist');
    assert.equal(gone.$metadata.httpStatusCode, 404);

    const update = await sdkError(
      cfn.send(
        new UpdateStackCommand({
          StackName: 'lake1',
          TemplateBody: DATALAKE,
          Parameters: same,
          Capabilities: ['CAPABILITY_IAM'],
        }),
      ),
    );
    assert.equal(update.name, 'ValidationError');
    assert.equal(update.message, 'No updates are to be performed.');
    assert.equal((await describeStack('lake1')).StackStatus, 'UPDATE_COMPLETE');
  });

  it('creates a stack through a CREATE change set (REVIEW_IN_PROGRESS until executed)', async () => {
    const missingCapability = await sdkError(
      cfn.send(
        new CreateChangeSetCommand({
          StackName: 'lake2',
          ChangeSetName: 'initial',
          ChangeSetType: 'CREATE',
          TemplateBody: DATALAKE,
          Parameters: params({ BucketName: 'lake2-data' }),
        }),
      ),
    );
    assert.equal(missingCapability.name, 'InsufficientCapabilitiesException');
    assert.equal(missingCapability.message, 'Requires capabilities : [CAPABILITY_IAM]');
    const noStack = await sdkError(cfn.send(new DescribeStacksCommand({ StackName: 'lake2' })));
    assert.equal(noStack.message, 'Stack with id lake2 does not exist');

    const created = await cfn.send(
      new CreateChangeSetCommand({
        StackName: 'lake2',
        ChangeSetName: 'initial',
        ChangeSetType: 'CREATE',
        TemplateBody: DATALAKE,
        Parameters: params({ BucketName: 'lake2-data' }),
        Capabilities: ['CAPABILITY_IAM'],
        Description: 'first deploy',
      }),
    );
    await waitUntilChangeSetCreateComplete(
      { client: cfn, ...WAIT },
      { StackName: 'lake2', ChangeSetName: 'initial' },
    );
    const review = await describeStack('lake2');
    assert.equal(review.StackStatus, 'REVIEW_IN_PROGRESS');
    assert.equal(review.StackId, created.StackId);
    assert.ok(!(await bucketExists('lake2-data')), 'nothing is provisioned before execution');
    const planned = await cfn.send(
      new DescribeChangeSetCommand({ StackName: 'lake2', ChangeSetName: 'initial' }),
    );
    assert.equal(planned.Description, 'first deploy');
    assert.deepEqual(
      planned.Changes?.map((change) => [
        change.Type,
        change.ResourceChange?.Action,
        change.ResourceChange?.LogicalResourceId,
        change.ResourceChange?.ResourceType,
      ]),
      [
        ['Resource', 'Add', 'Bucket', 'AWS::S3::Bucket'],
        ['Resource', 'Add', 'BucketPolicy', 'AWS::S3::BucketPolicy'],
        ['Resource', 'Add', 'PipelineRole', 'AWS::IAM::Role'],
      ],
    );

    await cfn.send(new ExecuteChangeSetCommand({ StackName: 'lake2', ChangeSetName: 'initial' }));
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'lake2' });
    const done = await describeStack('lake2');
    assert.equal(done.StackStatus, 'CREATE_COMPLETE');
    assert.equal(done.ChangeSetId, created.Id);
    assert.equal(outputs(done).BucketArn, 'arn:aws:s3:::lake2-data');
    assert.ok(await bucketExists('lake2-data'));
    const statuses = (await eventsOf('lake2'))
      .filter((event) => event.ResourceType === 'AWS::CloudFormation::Stack')
      .map((event) => event.ResourceStatus);
    assert.deepEqual(statuses, ['REVIEW_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'CREATE_COMPLETE']);
    const summary = await cfn.send(new GetTemplateSummaryCommand({ StackName: 'lake2' }));
    assert.deepEqual(
      summary.Parameters?.map((parameter) => parameter.ParameterKey),
      ['BucketName', 'Environment', 'ReadPrefix'],
    );
  });

  it('two change sets of a new stack executed at once: one creates it, the other is not found', async () => {
    const ids: string[] = [];
    for (const name of ['first', 'second']) {
      const created = await cfn.send(
        new CreateChangeSetCommand({
          StackName: 'lake-race',
          ChangeSetName: name,
          ChangeSetType: 'CREATE',
          TemplateBody: DATALAKE,
          Parameters: params({ BucketName: 'lake-race-data' }),
          Capabilities: ['CAPABILITY_IAM'],
        }),
      );
      await waitUntilChangeSetCreateComplete(
        { client: cfn, ...WAIT },
        { StackName: 'lake-race', ChangeSetName: name },
      );
      ids.push(created.Id!);
    }
    // Executing one deletes the stack's other change sets, as on AWS: whichever comes second finds
    // its change set gone, even when it was looked up before the first one ran.
    const results = await Promise.allSettled(
      ids.map((id) => cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: id }))),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal((refused.reason as Error).name, 'ChangeSetNotFoundException');
    assert.match(
      (refused.reason as Error).message,
      /^ChangeSet \[arn:aws:cloudformation:.*\] does not exist$/,
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'lake-race' });
    assert.equal((await describeStack('lake-race')).StackStatus, 'CREATE_COMPLETE');
  });

  it('rolls back a create whose resource fails, with the reason on the resource event', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'taken-outside' }));
    const template = [
      'Resources:',
      '  First:',
      '    Type: AWS::S3::Bucket',
      '    Properties:',
      '      BucketName: rollback-first',
      '  Second:',
      '    Type: AWS::S3::Bucket',
      '    DependsOn: First',
      '    Properties:',
      '      BucketName: taken-outside',
    ].join('\n');
    await cfn.send(new CreateStackCommand({ StackName: 'broken', TemplateBody: template }));
    const waited = await sdkError(
      waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'broken' }),
    );
    assert.match(waited.message, /ROLLBACK_COMPLETE/);
    const described = await describeStack('broken');
    assert.equal(described.StackStatus, 'ROLLBACK_COMPLETE');
    assert.equal(
      described.StackStatusReason,
      'The following resource(s) failed to create: [Second]. Rollback requested by user.',
    );
    const events = await eventsOf('broken');
    const failedEvent = events.find((event) => event.ResourceStatus === 'CREATE_FAILED');
    assert.equal(failedEvent?.LogicalResourceId, 'Second');
    assert.match(
      failedEvent?.ResourceStatusReason ?? '',
      /^Resource handler returned message: "taken-outside already exists"/,
    );
    assert.match(failedEvent?.ResourceStatusReason ?? '', /HandlerErrorCode: AlreadyExists\)$/);
    assert.deepEqual(events.map((event) => `${event.LogicalResourceId} ${event.ResourceStatus}`).slice(-6), [
      'Second CREATE_FAILED',
      'broken ROLLBACK_IN_PROGRESS',
      'Second DELETE_COMPLETE',
      'First DELETE_IN_PROGRESS',
      'First DELETE_COMPLETE',
      'broken ROLLBACK_COMPLETE',
    ]);
    assert.ok(!(await bucketExists('rollback-first')), 'what the create made is rolled back');
    assert.ok(await bucketExists('taken-outside'), 'the bucket that was not the stack’s is untouched');
    const resources = (await cfn.send(new ListStackResourcesCommand({ StackName: 'broken' })))
      .StackResourceSummaries;
    assert.deepEqual(
      resources?.map((resource) => [resource.LogicalResourceId, resource.ResourceStatus]),
      [
        ['First', 'DELETE_COMPLETE'],
        ['Second', 'DELETE_COMPLETE'],
      ],
    );
    // A rolled-back stack can only be deleted.
    const update = await sdkError(
      cfn.send(
        new UpdateStackCommand({ StackName: 'broken', TemplateBody: bucketTemplate('rollback-other') }),
      ),
    );
    assert.equal(
      update.message,
      `Stack:${described.StackId} is in ROLLBACK_COMPLETE state and can not be updated.`,
    );
    await cfn.send(new DeleteStackCommand({ StackName: 'broken' }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: 'broken' });
  });

  it('rolls back a failed update: in-place changes reverted, added resources deleted', async () => {
    const failing = DATALAKE.replace(
      '\nOutputs:',
      '  Extra:\n    Type: AWS::S3::Bucket\n    DependsOn: PipelineRole\n    Properties:\n      BucketName: taken-outside\n\nOutputs:',
    );
    const before = await describeStack('lake2');
    await cfn.send(
      new UpdateStackCommand({
        StackName: 'lake2',
        TemplateBody: failing,
        Parameters: [
          { ParameterKey: 'BucketName', UsePreviousValue: true },
          { ParameterKey: 'Environment', ParameterValue: 'prod' },
        ],
        Capabilities: ['CAPABILITY_IAM'],
      }),
    );
    const waited = await sdkError(
      waitUntilStackUpdateComplete({ client: cfn, ...WAIT }, { StackName: 'lake2' }),
    );
    assert.match(waited.message, /UPDATE_ROLLBACK_COMPLETE/);
    const after = await describeStack('lake2');
    assert.equal(after.StackStatus, 'UPDATE_ROLLBACK_COMPLETE');
    assert.deepEqual(after.Parameters, before.Parameters, 'the stack keeps its previous parameters');
    const events = await eventsOf('lake2');
    const start = events.findLastIndex(
      (event) => event.LogicalResourceId === 'lake2' && event.ResourceStatus === 'UPDATE_IN_PROGRESS',
    );
    assert.deepEqual(
      events.slice(start).map((event) => `${event.LogicalResourceId} ${event.ResourceStatus}`),
      [
        'lake2 UPDATE_IN_PROGRESS',
        'Bucket UPDATE_IN_PROGRESS',
        'Bucket UPDATE_COMPLETE',
        'Extra CREATE_IN_PROGRESS',
        'Extra CREATE_FAILED',
        'lake2 UPDATE_ROLLBACK_IN_PROGRESS',
        'Bucket UPDATE_IN_PROGRESS',
        'Bucket UPDATE_COMPLETE',
        'lake2 UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
        'Extra DELETE_COMPLETE',
        'lake2 UPDATE_ROLLBACK_COMPLETE',
      ],
    );
    assert.equal(
      events.find((event) => event.ResourceStatus === 'UPDATE_ROLLBACK_IN_PROGRESS')?.ResourceStatusReason,
      'The following resource(s) failed to create: [Extra]. ',
    );
    const resources = (await cfn.send(new ListStackResourcesCommand({ StackName: 'lake2' })))
      .StackResourceSummaries;
    assert.deepEqual(
      resources?.map((resource) => resource.LogicalResourceId),
      ['Bucket', 'BucketPolicy', 'PipelineRole'],
    );
    assert.ok(await bucketExists('lake2-data'));
  });

  it('honours DeletionPolicy and UpdateReplacePolicy Retain, and refuses to delete a non-empty bucket', async () => {
    const template = (keptName: string): string =>
      [
        'Resources:',
        '  Kept:',
        '    Type: AWS::S3::Bucket',
        '    DeletionPolicy: Retain',
        '    UpdateReplacePolicy: Retain',
        '    Properties:',
        `      BucketName: ${keptName}`,
        '  Scratch:',
        '    Type: AWS::S3::Bucket',
        '    Properties:',
        '      BucketName: retain-scratch',
      ].join('\n');
    await cfn.send(
      new CreateStackCommand({ StackName: 'retainer', TemplateBody: template('retain-kept-1') }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'retainer' });

    // Replacing a bucket whose UpdateReplacePolicy is Retain keeps the old one.
    await cfn.send(
      new UpdateStackCommand({ StackName: 'retainer', TemplateBody: template('retain-kept-2') }),
    );
    await waitUntilStackUpdateComplete({ client: cfn, ...WAIT }, { StackName: 'retainer' });
    assert.ok(await bucketExists('retain-kept-1'), 'replaced bucket retained');
    assert.ok(await bucketExists('retain-kept-2'));
    assert.ok(
      (await eventsOf('retainer')).some(
        (event) => event.PhysicalResourceId === 'retain-kept-1' && event.ResourceStatus === 'DELETE_SKIPPED',
      ),
    );

    // A bucket with objects cannot be deleted: DELETE_FAILED, with S3's reason.
    await s3.send(new PutObjectCommand({ Bucket: 'retain-scratch', Key: 'k', Body: 'x' }));
    await cfn.send(new DeleteStackCommand({ StackName: 'retainer' }));
    const failed = await settled('retainer');
    assert.equal(failed.StackStatus, 'DELETE_FAILED');
    assert.equal(failed.StackStatusReason, 'The following resource(s) failed to delete: [Scratch]. ');
    const reason = (await eventsOf('retainer')).find(
      (event) => event.ResourceStatus === 'DELETE_FAILED',
    )?.ResourceStatusReason;
    assert.match(reason ?? '', /The bucket you tried to delete is not empty/);

    await s3.send(new DeleteObjectCommand({ Bucket: 'retain-scratch', Key: 'k' }));
    await cfn.send(new DeleteStackCommand({ StackName: 'retainer' }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: 'retainer' });
    assert.ok(await bucketExists('retain-kept-2'), 'DeletionPolicy Retain leaves the bucket in place');
    assert.ok(!(await bucketExists('retain-scratch')));
    const events = await eventsOf(failed.StackId!);
    assert.ok(
      events.some((event) => event.LogicalResourceId === 'Kept' && event.ResourceStatus === 'DELETE_SKIPPED'),
    );
    const gone = await sdkError(cfn.send(new DescribeStacksCommand({ StackName: 'retainer' })));
    assert.equal(gone.name, 'ValidationError');
    assert.equal(gone.message, 'Stack with id retainer does not exist');
    const byId = await describeStack(failed.StackId!);
    assert.equal(byId.StackStatus, 'DELETE_COMPLETE', 'a deleted stack is still described by its ID');
  });

  it('shares values through exports: duplicates, missing imports and deleting an imported export fail', async () => {
    const producer = [
      'Resources:',
      '  Bucket:',
      '    Type: AWS::S3::Bucket',
      '    Properties:',
      '      BucketName: shared-producer',
      'Outputs:',
      '  Name:',
      '    Value: !Ref Bucket',
      '    Export:',
      '      Name: shared-bucket',
    ].join('\n');
    await cfn.send(new CreateStackCommand({ StackName: 'producer', TemplateBody: producer }));
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'producer' });

    const consumer = bucketTemplate("!Join ['-', [!ImportValue shared-bucket, consumer]]");
    await cfn.send(new CreateStackCommand({ StackName: 'consumer', TemplateBody: consumer }));
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'consumer' });
    assert.ok(await bucketExists('shared-producer-consumer'));
    assert.deepEqual((await cfn.send(new ListImportsCommand({ ExportName: 'shared-bucket' }))).Imports, [
      'consumer',
    ]);

    const missing = await sdkError(
      cfn.send(
        new CreateStackCommand({ StackName: 'orphan', TemplateBody: bucketTemplate('!ImportValue nope') }),
      ),
    );
    assert.equal(missing.name, 'ValidationError');
    assert.equal(missing.message, 'No export named nope found.');

    const duplicate = producer.replace('shared-producer', 'shared-duplicate');
    await cfn.send(new CreateStackCommand({ StackName: 'duplicate', TemplateBody: duplicate }));
    const dup = await settled('duplicate');
    assert.equal(dup.StackStatus, 'ROLLBACK_COMPLETE');
    assert.equal(
      dup.StackStatusReason,
      'Export with name shared-bucket is already exported by stack producer. Rollback requested by user.',
    );
    assert.ok(!(await bucketExists('shared-duplicate')));

    await cfn.send(new DeleteStackCommand({ StackName: 'producer' }));
    const refused = await settled('producer');
    assert.equal(refused.StackStatus, 'DELETE_FAILED');
    assert.equal(
      refused.StackStatusReason,
      'Export shared-bucket cannot be deleted as it is in use by consumer',
    );
    assert.ok(await bucketExists('shared-producer'), 'nothing was deleted');

    await cfn.send(new DeleteStackCommand({ StackName: 'consumer' }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: 'consumer' });
    await cfn.send(new DeleteStackCommand({ StackName: 'producer' }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: 'producer' });
    assert.ok(!(await bucketExists('shared-producer')));
    const names = ((await cfn.send(new ListExportsCommand({}))).Exports ?? []).map((entry) => entry.Name);
    assert.ok(!names.includes('shared-bucket'));
  });

  it('rejects bad templates synchronously with the exact ValidationError and provisions nothing', async () => {
    const bucketsBefore = await bucketNames();
    // [label, template, message, parameters given, does ValidateTemplate (no parameter values) see it too?]
    const cases: Array<[string, string, string, string[], boolean]> = [
      [
        'unresolved Ref',
        'Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Ref Missing\n',
        'Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template',
        [],
        true,
      ],
      [
        'unknown type',
        'Resources:\n  B:\n    Type: AWS::Foo::Bar\n',
        'Template format error: Unrecognized resource types: [AWS::Foo::Bar]',
        [],
        true,
      ],
      [
        'unknown attribute',
        'Resources:\n  B:\n    Type: AWS::S3::Bucket\nOutputs:\n  X:\n    Value: !GetAtt B.Nope\n',
        'Template error: resource B does not support attribute type Nope in Fn::GetAtt',
        [],
        true,
      ],
      [
        'cycle',
        [
          'Resources:',
          '  A:',
          '    Type: AWS::S3::Bucket',
          '    Properties:',
          '      BucketName: !Ref B',
          '  B:',
          '    Type: AWS::S3::Bucket',
          '    Properties:',
          '      BucketName: !Ref A',
        ].join('\n'),
        'Circular dependency between resources: [A, B]',
        [],
        true,
      ],
      [
        'missing parameter',
        'Parameters:\n  Name:\n    Type: String\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Ref Name\n',
        'Parameters: [Name] must have values',
        [],
        false,
      ],
      [
        'bad AllowedValues',
        'Parameters:\n  Env:\n    Type: String\n    AllowedValues: [dev, prod]\nResources:\n  B:\n    Type: AWS::S3::Bucket\n',
        "Parameter 'Env' must be one of AllowedValues",
        ['Env=staging'],
        false,
      ],
      ['not a template', 'just text', 'Template format error: unsupported structure.', [], true],
    ];
    for (const [label, body, message, given, templateLevel] of cases) {
      const parameters = given.map((pair) => {
        const [key, value] = pair.split('=');
        return { ParameterKey: key, ParameterValue: value };
      });
      const error = await sdkError(
        cfn.send(new CreateStackCommand({ StackName: 'bad', TemplateBody: body, Parameters: parameters })),
      );
      assert.equal(error.name, 'ValidationError', label);
      assert.equal(error.message, message, label);
      assert.equal(error.$metadata.httpStatusCode, 400, label);
      if (templateLevel) {
        const validated = await sdkError(cfn.send(new ValidateTemplateCommand({ TemplateBody: body })));
        assert.equal(validated.message, message, `ValidateTemplate: ${label}`);
      }
      const changeSet = await sdkError(
        cfn.send(
          new CreateChangeSetCommand({
            StackName: 'bad',
            ChangeSetName: 'c',
            ChangeSetType: 'CREATE',
            TemplateBody: body,
            Parameters: parameters,
          }),
        ),
      );
      assert.equal(changeSet.message, message, `CreateChangeSet: ${label}`);
    }

    const role = (named: boolean): string =>
      [
        'Resources:',
        '  Role:',
        '    Type: AWS::IAM::Role',
        '    Properties:',
        ...(named ? ['      RoleName: fixed-name'] : []),
        '      AssumeRolePolicyDocument:',
        "        Version: '2012-10-17'",
        '        Statement: []',
      ].join('\n');
    const iam = await sdkError(
      cfn.send(new CreateStackCommand({ StackName: 'bad', TemplateBody: role(false) })),
    );
    assert.equal(iam.name, 'InsufficientCapabilitiesException');
    assert.equal(iam.message, 'Requires capabilities : [CAPABILITY_IAM]');
    const named = await sdkError(
      cfn.send(
        new CreateStackCommand({
          StackName: 'bad',
          TemplateBody: role(true),
          Capabilities: ['CAPABILITY_IAM'],
        }),
      ),
    );
    assert.equal(named.message, 'Requires capabilities : [CAPABILITY_NAMED_IAM]');
    const validated = await cfn.send(new ValidateTemplateCommand({ TemplateBody: role(true) }));
    assert.deepEqual(validated.Capabilities, ['CAPABILITY_NAMED_IAM']);
    assert.equal(
      validated.CapabilitiesReason,
      'The following resource(s) require capabilities: [AWS::IAM::Role]',
    );

    const exists = await sdkError(
      cfn.send(new CreateStackCommand({ StackName: 'lake1', TemplateBody: bucketTemplate('whatever') })),
    );
    assert.equal(exists.name, 'AlreadyExistsException');
    assert.equal(exists.message, 'Stack [lake1] already exists');

    const noStack = await sdkError(cfn.send(new DescribeStacksCommand({ StackName: 'bad' })));
    assert.equal(noStack.message, 'Stack with id bad does not exist');
    const unimplemented = await sdkError(cfn.send(new ListStackSetsCommand({})));
    assert.equal(unimplemented.name, 'InvalidAction');
    assert.equal(
      unimplemented.message,
      'The mlpipe local stack does not implement CloudFormation action ListStackSets.',
    );
    assert.deepEqual(await bucketNames(), bucketsBefore, 'no bucket was created');
  });

  it('validates templates: parameters with defaults, NoEcho, descriptions', async () => {
    const body = [
      'Description: validated',
      'Parameters:',
      '  Secret:',
      '    Type: String',
      '    NoEcho: true',
      '    Description: a secret',
      '  Size:',
      '    Type: Number',
      '    Default: 3',
      'Resources:',
      '  B:',
      '    Type: AWS::S3::Bucket',
    ].join('\r\n'); // CRLF on purpose: GetTemplate must return the body byte for byte
    const result = await cfn.send(new ValidateTemplateCommand({ TemplateBody: body }));
    assert.equal(result.Description, 'validated');
    assert.deepEqual(result.Parameters, [
      { ParameterKey: 'Secret', NoEcho: true, Description: 'a secret' },
      { ParameterKey: 'Size', DefaultValue: '3', NoEcho: false },
    ]);
    assert.deepEqual(result.Capabilities, []);

    // NoEcho values are masked when described.
    await cfn.send(
      new CreateStackCommand({
        StackName: 'secretive',
        TemplateBody: body,
        Parameters: params({ Secret: 's3cr3t' }),
      }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'secretive' });
    const described = await describeStack('secretive');
    assert.deepEqual(described.Parameters, [
      { ParameterKey: 'Secret', ParameterValue: '****' },
      { ParameterKey: 'Size', ParameterValue: '3' },
    ]);
    assert.equal((await cfn.send(new GetTemplateCommand({ StackName: 'secretive' }))).TemplateBody, body);
    const generated = (await cfn.send(new ListStackResourcesCommand({ StackName: 'secretive' })))
      .StackResourceSummaries?.[0]?.PhysicalResourceId;
    assert.match(generated ?? '', /^secretive-b-[a-z0-9]{12}$/, 'generated bucket names are lower-cased');
    await cfn.send(new DeleteStackCommand({ StackName: 'secretive' }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: 'secretive' });
  });

  it('reads templates from S3 (TemplateURL) and fails a resource whose properties the type does not have', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'templates' }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'templates', Key: 'lake/typo.yaml', Body: bucketTemplate('typo-lake') }),
    );
    const local = await cfn.send(
      new ValidateTemplateCommand({ TemplateURL: `${stack.endpoint}/templates/lake/typo.yaml` }),
    );
    assert.deepEqual(local.Parameters, []);
    const virtualHosted = await cfn.send(
      new GetTemplateSummaryCommand({
        TemplateURL: 'https://templates.s3.us-east-1.amazonaws.com/lake/typo.yaml',
      }),
    );
    assert.deepEqual(virtualHosted.ResourceTypes, ['AWS::S3::Bucket']);
    const missing = await sdkError(
      cfn.send(new ValidateTemplateCommand({ TemplateURL: 'https://s3.amazonaws.com/templates/nope.yaml' })),
    );
    assert.equal(missing.name, 'ValidationError');

    // A misspelt property fails the resource (CloudFormation's schema check), not silently ignored.
    const typo = bucketTemplate('typo-lake').replace('BucketName', 'BuckerName');
    await cfn.send(new CreateStackCommand({ StackName: 'typo', TemplateBody: typo }));
    const failed = await settled('typo');
    assert.equal(failed.StackStatus, 'ROLLBACK_COMPLETE');
    assert.equal(
      (await eventsOf('typo')).find((event) => event.ResourceStatus === 'CREATE_FAILED')
        ?.ResourceStatusReason,
      'Properties validation failed for resource Bucket with message: [#: extraneous key [BuckerName] is not permitted]',
    );
    await cfn.send(new DeleteStackCommand({ StackName: 'typo' }));
  });

  it('interoperates with the AWS CLI v1: deploy, no-change deploy, describe, delete', async (t) => {
    if (!awsCliAvailable()) {
      t.skip('aws CLI not installed');
      return;
    }
    const work = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-cfn-cli-'));
    const env = awsCliEnv(stack, work);
    const aws = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(
          awsCliPath(),
          ['--endpoint-url', stack.endpoint, ...args],
          { env },
          (error, stdout, stderr) =>
            resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    try {
      const deployArgs = [
        'cloudformation',
        'deploy',
        '--template-file',
        FIXTURE,
        '--stack-name',
        'cli-stack',
        '--capabilities',
        'CAPABILITY_IAM',
        '--parameter-overrides',
        'BucketName=cli-lake',
      ];
      const first = await aws(...deployArgs);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /Successfully created\/updated stack - cli-stack/);
      assert.ok(await bucketExists('cli-lake'));

      // v1 exits 255 on an empty change set unless told otherwise; the message is the same.
      const second = await aws(...deployArgs, '--no-fail-on-empty-changeset');
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /No changes to deploy\. Stack cli-stack is up to date/);

      const described = await aws(
        'cloudformation',
        'describe-stacks',
        '--stack-name',
        'cli-stack',
        '--output',
        'json',
      );
      assert.equal(described.code, 0, described.stderr);
      const parsed = JSON.parse(described.stdout) as {
        Stacks: Array<{ StackStatus: string; Outputs: unknown[] }>;
      };
      assert.equal(parsed.Stacks[0]?.StackStatus, 'CREATE_COMPLETE');
      assert.equal(parsed.Stacks[0]?.Outputs.length, 3);

      const deleted = await aws('cloudformation', 'delete-stack', '--stack-name', 'cli-stack');
      assert.equal(deleted.code, 0, deleted.stderr);
      const waited = await aws(
        'cloudformation',
        'wait',
        'stack-delete-complete',
        '--stack-name',
        'cli-stack',
      );
      assert.equal(waited.code, 0, waited.stderr);
      assert.ok(!(await bucketExists('cli-lake')));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('CloudFormation state across restarts', () => {
  it('keeps stacks across a restart and fails operations a crash interrupted', async () => {
    let stack = await startTestStack();
    const client = (s: TestStack): CloudFormationClient =>
      new CloudFormationClient({ endpoint: s.endpoint, region: s.region, credentials: s.credentials });
    let cfn = client(stack);
    await cfn.send(
      new CreateStackCommand({
        StackName: 'durable',
        TemplateBody: DATALAKE,
        Parameters: params({ BucketName: 'durable-lake' }),
        Capabilities: ['CAPABILITY_IAM'],
      }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'durable' });
    await cfn.send(
      new CreateStackCommand({ StackName: 'interrupted', TemplateBody: bucketTemplate('interrupted-lake') }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'interrupted' });
    const eventsBefore = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'durable' })))
      .StackEvents;
    cfn.destroy();
    const dataDir = stack.dataDir;
    await stack.stop({ keepData: true });

    // Simulate a crash in the middle of creating 'interrupted': rewrite its state file.
    const stacksDir = path.join(dataDir, 'cloudformation', 'stacks');
    for (const name of await readdir(stacksDir)) {
      const file = path.join(stacksDir, name);
      const record = JSON.parse(await readFile(file, 'utf8')) as {
        stackName: string;
        status: string;
        resources: Record<string, { status: string }>;
      };
      if (record.stackName !== 'interrupted') continue;
      record.status = 'CREATE_IN_PROGRESS';
      record.resources.Bucket!.status = 'CREATE_IN_PROGRESS';
      await writeFile(file, JSON.stringify(record));
    }

    stack = await startTestStack({ dataDir });
    cfn = client(stack);
    try {
      const durable = (await cfn.send(new DescribeStacksCommand({ StackName: 'durable' }))).Stacks![0]!;
      assert.equal(durable.StackStatus, 'CREATE_COMPLETE');
      assert.equal(outputs(durable).BucketName, 'durable-lake');
      const eventsAfter = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'durable' })))
        .StackEvents;
      assert.deepEqual(
        eventsAfter?.map((event) => event.EventId),
        eventsBefore?.map((event) => event.EventId),
      );
      assert.equal(
        (await cfn.send(new ListExportsCommand({}))).Exports?.find(
          (entry) => entry.Name === 'durable-BucketName',
        )?.Value,
        'durable-lake',
      );

      const interrupted = (await cfn.send(new DescribeStacksCommand({ StackName: 'interrupted' })))
        .Stacks![0]!;
      assert.equal(interrupted.StackStatus, 'CREATE_FAILED');
      assert.equal(
        interrupted.StackStatusReason,
        'The local stack restarted while this operation was in progress.',
      );
      const resource = await cfn.send(
        new DescribeStackResourceCommand({ StackName: 'interrupted', LogicalResourceId: 'Bucket' }),
      );
      assert.equal(resource.StackResourceDetail?.ResourceStatus, 'CREATE_FAILED');
      assert.deepEqual(stack.server.stats().cloudformation, { stacks: 2 });

      // A stack in CREATE_FAILED can be deleted, and its resources go with it.
      await cfn.send(new DeleteStackCommand({ StackName: 'interrupted' }));
      await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: 'interrupted' });
      const s3 = new S3Client(sdkConfig(stack));
      const names = ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((bucket) => bucket.Name);
      assert.ok(!names.includes('interrupted-lake'));
      s3.destroy();
    } finally {
      cfn.destroy();
      await stack.stop();
    }
  });
});
