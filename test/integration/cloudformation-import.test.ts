// CloudFormation resource import (IMPORT change sets) on the local stack: an existing bucket with
// its objects adopted into a new stack and into an existing one, driven by the real
// CloudFormationClient and its waiters, checked with S3Client, and by the AWS CLI v1 when installed;
// every refusal CloudFormation makes before accepting an import, and an import that rolls back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  ListStackResourcesCommand,
  UpdateStackCommand,
  waitUntilChangeSetCreateComplete,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
  waitUntilStackImportComplete,
  waitUntilStackUpdateComplete,
  type ResourceToImport,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describeStack as describeStackOf, settledStack, stackEvents } from '../helpers/cfn.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { awsCliAvailable, awsCliEnv, awsCliPath, sdkError } from '../helpers/sdk.js';

const WAIT = { maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 };

/** A one-bucket template; `policy` '' leaves DeletionPolicy out. */
function bucketTemplate(options: { policy?: string; extra?: string; outputs?: string } = {}): string {
  const policy = options.policy ?? 'Retain';
  return [
    'Parameters:',
    '  BucketName:',
    '    Type: String',
    'Resources:',
    '  Lake:',
    '    Type: AWS::S3::Bucket',
    ...(policy === '' ? [] : [`    DeletionPolicy: ${policy}`]),
    '    Properties:',
    '      BucketName: !Ref BucketName',
    '      Tags:',
    '        - Key: project',
    '          Value: import-test',
    options.extra ?? '',
    options.outputs ?? '',
  ].join('\n');
}

const LAKE_POLICY = `  LakePolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Lake
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Deny
            Principal: '*'
            Action: 's3:*'
            Resource: !Sub '\${Lake.Arn}/*'
            Condition:
              Bool:
                aws:SecureTransport: 'false'`;

const LAKE_OUTPUTS = `Outputs:
  BucketArn:
    Value: !GetAtt Lake.Arn
  BucketDomain:
    Value: !GetAtt Lake.RegionalDomainName`;

function toImport(bucket: string, logicalId = 'Lake'): ResourceToImport[] {
  return [
    {
      ResourceType: 'AWS::S3::Bucket',
      LogicalResourceId: logicalId,
      ResourceIdentifier: { BucketName: bucket },
    },
  ];
}

describe('CloudFormation resource import on the local stack', () => {
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

  /** A bucket made outside CloudFormation, holding two objects. */
  const keptBucket = async (bucket: string): Promise<void> => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'raw/ratings.dat', Body: '1::2::5::978300760\n' }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'items/movies.csv', Body: 'ITEM_ID,TITLE\n2,Jumanji\n' }),
    );
  };

  const keysOf = async (bucket: string): Promise<string[]> =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [])
      .map((o) => o.Key ?? '')
      .sort();

  const stackExists = async (name: string): Promise<boolean> => {
    try {
      await cfn.send(new DescribeStacksCommand({ StackName: name }));
      return true;
    } catch (error) {
      assert.match((error as Error).message, /does not exist/);
      return false;
    }
  };

  const outputsOf = (described: Stack): Record<string, string> =>
    Object.fromEntries((described.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));

  it('adopts an existing bucket with its objects into a new stack, then updates the stack with the full template', async () => {
    await keptBucket('adopted-lake');
    const created = await cfn.send(
      new CreateChangeSetCommand({
        StackName: 'import-new',
        ChangeSetName: 'adopt',
        ChangeSetType: 'IMPORT',
        TemplateBody: bucketTemplate(),
        Parameters: [{ ParameterKey: 'BucketName', ParameterValue: 'adopted-lake' }],
        ResourcesToImport: toImport('adopted-lake'),
      }),
    );
    assert.match(created.Id ?? '', /:changeSet\/adopt\//);
    await waitUntilChangeSetCreateComplete(
      { client: cfn, ...WAIT },
      { StackName: 'import-new', ChangeSetName: 'adopt' },
    );
    const described = await cfn.send(
      new DescribeChangeSetCommand({ StackName: 'import-new', ChangeSetName: 'adopt' }),
    );
    assert.equal(described.Status, 'CREATE_COMPLETE');
    assert.equal(described.ExecutionStatus, 'AVAILABLE');
    assert.deepEqual(
      described.Changes?.map((change) => [
        change.ResourceChange?.Action,
        change.ResourceChange?.LogicalResourceId,
        change.ResourceChange?.PhysicalResourceId,
        change.ResourceChange?.ResourceType,
      ]),
      [['Import', 'Lake', 'adopted-lake', 'AWS::S3::Bucket']],
    );
    assert.equal((await describeStackOf(cfn, 'import-new')).StackStatus, 'REVIEW_IN_PROGRESS');

    await cfn.send(new ExecuteChangeSetCommand({ StackName: 'import-new', ChangeSetName: 'adopt' }));
    await waitUntilStackImportComplete({ client: cfn, ...WAIT }, { StackName: 'import-new' });
    const imported = await describeStackOf(cfn, 'import-new');
    assert.equal(imported.StackStatus, 'IMPORT_COMPLETE');
    const events = await stackEvents(cfn, 'import-new');
    assert.deepEqual(
      events.map((event) => [event.LogicalResourceId, event.ResourceStatus]),
      [
        ['import-new', 'REVIEW_IN_PROGRESS'],
        ['import-new', 'IMPORT_IN_PROGRESS'],
        ['Lake', 'IMPORT_IN_PROGRESS'],
        ['Lake', 'IMPORT_COMPLETE'],
        ['import-new', 'IMPORT_COMPLETE'],
      ],
    );
    const resources = await cfn.send(new ListStackResourcesCommand({ StackName: 'import-new' }));
    assert.deepEqual(
      resources.StackResourceSummaries?.map((r) => [
        r.LogicalResourceId,
        r.PhysicalResourceId,
        r.ResourceStatus,
      ]),
      [['Lake', 'adopted-lake', 'IMPORT_COMPLETE']],
    );
    assert.deepEqual(await keysOf('adopted-lake'), ['items/movies.csv', 'raw/ratings.dat']);

    // The full template: the bucket as imported, a policy added and outputs reading its attributes.
    await cfn.send(
      new UpdateStackCommand({
        StackName: 'import-new',
        TemplateBody: bucketTemplate({ extra: LAKE_POLICY, outputs: LAKE_OUTPUTS }),
        Parameters: [{ ParameterKey: 'BucketName', UsePreviousValue: true }],
      }),
    );
    await waitUntilStackUpdateComplete({ client: cfn, ...WAIT }, { StackName: 'import-new' });
    const updated = await describeStackOf(cfn, 'import-new');
    assert.equal(updated.StackStatus, 'UPDATE_COMPLETE');
    assert.deepEqual(outputsOf(updated), {
      BucketArn: 'arn:aws:s3:::adopted-lake',
      BucketDomain: `adopted-lake.s3.${stack.region}.amazonaws.com`,
    });
    const after = (await stackEvents(cfn, 'import-new')).slice(events.length);
    assert.deepEqual(
      after.filter((event) => event.LogicalResourceId === 'Lake'),
      [],
      'the imported bucket is an existing resource: not replaced, not updated',
    );
    assert.equal(
      (await s3.send(new GetObjectCommand({ Bucket: 'adopted-lake', Key: 'raw/ratings.dat' }))).ContentLength,
      19,
    );

    // Deleting the stack keeps the bucket (Retain), objects and all.
    await cfn.send(new DeleteStackCommand({ StackName: 'import-new' }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: 'import-new' });
    assert.deepEqual(await keysOf('adopted-lake'), ['items/movies.csv', 'raw/ratings.dat']);
  });

  it('imports a bucket into an existing stack: its other resources and outputs stay as they are', async () => {
    const base = `Resources:
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: import-existing-logs
Outputs:
  LogsBucket:
    Value: !Ref Logs
`;
    await cfn.send(new CreateStackCommand({ StackName: 'import-existing', TemplateBody: base }));
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'import-existing' });
    await keptBucket('import-existing-lake');
    const withLake = base.replace(
      'Outputs:',
      `  Lake:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Properties:
      BucketName: import-existing-lake
Outputs:`,
    );
    await cfn.send(
      new CreateChangeSetCommand({
        StackName: 'import-existing',
        ChangeSetName: 'adopt',
        ChangeSetType: 'IMPORT',
        TemplateBody: withLake,
        ResourcesToImport: toImport('import-existing-lake'),
      }),
    );
    await waitUntilChangeSetCreateComplete(
      { client: cfn, ...WAIT },
      { StackName: 'import-existing', ChangeSetName: 'adopt' },
    );
    await cfn.send(new ExecuteChangeSetCommand({ StackName: 'import-existing', ChangeSetName: 'adopt' }));
    await waitUntilStackImportComplete({ client: cfn, ...WAIT }, { StackName: 'import-existing' });
    const imported = await describeStackOf(cfn, 'import-existing');
    assert.equal(imported.StackStatus, 'IMPORT_COMPLETE');
    assert.deepEqual(outputsOf(imported), { LogsBucket: 'import-existing-logs' });
    const resources = await cfn.send(new ListStackResourcesCommand({ StackName: 'import-existing' }));
    assert.deepEqual(
      resources.StackResourceSummaries?.map((r) => [
        r.LogicalResourceId,
        r.PhysicalResourceId,
        r.ResourceStatus,
      ]),
      [
        ['Logs', 'import-existing-logs', 'CREATE_COMPLETE'],
        ['Lake', 'import-existing-lake', 'IMPORT_COMPLETE'],
      ],
    );
    assert.deepEqual(await keysOf('import-existing-lake'), ['items/movies.csv', 'raw/ratings.dat']);

    // A second import of the same logical ID is refused: it is in the stack now.
    const again = await sdkError(
      cfn.send(
        new CreateChangeSetCommand({
          StackName: 'import-existing',
          ChangeSetName: 'again',
          ChangeSetType: 'IMPORT',
          TemplateBody: withLake,
          ResourcesToImport: toImport('import-existing-lake'),
        }),
      ),
    );
    assert.equal(again.name, 'ValidationError');
    assert.equal(
      again.message,
      'Resources [Lake] passed in ResourceToImport are already in a stack and cannot be imported.',
    );
  });

  it('refuses what CloudFormation refuses, before creating the change set or the stack', async () => {
    await keptBucket('refused-lake');
    await cfn.send(
      new CreateStackCommand({
        StackName: 'holder',
        TemplateBody: bucketTemplate(),
        Parameters: [{ ParameterKey: 'BucketName', ParameterValue: 'held-lake' }],
      }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: 'holder' });
    const attempt = async (
      body: string,
      resources: ResourceToImport[] | undefined,
      bucket = 'refused-lake',
    ): Promise<string> => {
      const error = await sdkError(
        cfn.send(
          new CreateChangeSetCommand({
            StackName: 'refused',
            ChangeSetName: 'adopt',
            ChangeSetType: 'IMPORT',
            TemplateBody: body,
            Parameters: [{ ParameterKey: 'BucketName', ParameterValue: bucket }],
            Capabilities: ['CAPABILITY_IAM'],
            ...(resources === undefined ? {} : { ResourcesToImport: resources }),
          }),
        ),
      );
      assert.equal(error.name, 'ValidationError', error.message);
      assert.equal(error.$metadata.httpStatusCode, 400);
      return error.message;
    };

    assert.equal(
      await attempt(bucketTemplate(), undefined),
      'ResourcesToImport must be specified for a change set of type IMPORT.',
    );
    assert.equal(
      await attempt(bucketTemplate(), toImport('refused-lake', 'Missing')),
      'The logical resource ids [Missing] provided in ResourceToImport do not exist in the template.',
    );
    assert.equal(
      await attempt(bucketTemplate({ policy: '' }), toImport('refused-lake')),
      'The following resources to import [Lake] must have DeletionPolicy attribute specified in the template.',
    );
    assert.equal(
      await attempt(bucketTemplate({ extra: LAKE_POLICY }), toImport('refused-lake')),
      'You have modified resources [LakePolicy] in your template that are not being imported. Update, create or delete operations cannot be executed during import operations.',
    );
    assert.equal(
      await attempt(bucketTemplate({ outputs: LAKE_OUTPUTS }), toImport('refused-lake')),
      'As part of the import operation, you cannot modify or add [Outputs]',
    );
    assert.equal(
      await attempt(bucketTemplate(), toImport('no-such-lake'), 'no-such-lake'),
      'Resource {BucketName=no-such-lake} of type AWS::S3::Bucket to import as [Lake] does not exist.',
    );
    assert.equal(
      await attempt(bucketTemplate(), toImport('held-lake'), 'held-lake'),
      'Resource {BucketName=held-lake} of type AWS::S3::Bucket to import as [Lake] already belongs to stack [holder] and cannot be imported.',
    );
    assert.equal(
      await attempt(bucketTemplate(), toImport('other-lake')),
      'The ResourceIdentifier BucketName=other-lake of resource to import [Lake] does not match its BucketName property in the template (refused-lake).',
    );
    assert.equal(
      await attempt(bucketTemplate(), [
        {
          ResourceType: 'AWS::S3::Bucket',
          LogicalResourceId: 'Lake',
          ResourceIdentifier: { Name: 'refused-lake' },
        },
      ]),
      'Invalid ResourceIdentifier {Name=refused-lake} for resource to import [Lake]: AWS::S3::Bucket is identified by [BucketName].',
    );
    const role = `${bucketTemplate()}
  Role:
    Type: AWS::IAM::Role
    DeletionPolicy: Retain
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: { Service: glue.amazonaws.com }
            Action: sts:AssumeRole
`;
    assert.equal(
      await attempt(role, [
        ...toImport('refused-lake'),
        { ResourceType: 'AWS::IAM::Role', LogicalResourceId: 'Role', ResourceIdentifier: { RoleName: 'r' } },
      ]),
      'The following resource types are not supported for resource import: AWS::IAM::Role',
    );
    assert.equal(await stackExists('refused'), false, 'no stack was created');
    assert.deepEqual(await keysOf('refused-lake'), ['items/movies.csv', 'raw/ratings.dat']);
  });

  it('rolls an import back when the bucket is gone by the time it runs, leaving the stack without it', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'vanishing-lake' }));
    await cfn.send(
      new CreateChangeSetCommand({
        StackName: 'import-rollback',
        ChangeSetName: 'adopt',
        ChangeSetType: 'IMPORT',
        TemplateBody: bucketTemplate(),
        Parameters: [{ ParameterKey: 'BucketName', ParameterValue: 'vanishing-lake' }],
        ResourcesToImport: toImport('vanishing-lake'),
      }),
    );
    await waitUntilChangeSetCreateComplete(
      { client: cfn, ...WAIT },
      { StackName: 'import-rollback', ChangeSetName: 'adopt' },
    );
    await s3.send(new DeleteBucketCommand({ Bucket: 'vanishing-lake' }));
    await cfn.send(new ExecuteChangeSetCommand({ StackName: 'import-rollback', ChangeSetName: 'adopt' }));
    const ended = await settledStack(cfn, 'import-rollback');
    assert.equal(ended.StackStatus, 'IMPORT_ROLLBACK_COMPLETE');
    const events = await stackEvents(cfn, 'import-rollback');
    assert.deepEqual(
      events.map((event) => [event.LogicalResourceId, event.ResourceStatus]),
      [
        ['import-rollback', 'REVIEW_IN_PROGRESS'],
        ['import-rollback', 'IMPORT_IN_PROGRESS'],
        ['Lake', 'IMPORT_IN_PROGRESS'],
        ['Lake', 'IMPORT_FAILED'],
        ['import-rollback', 'IMPORT_ROLLBACK_IN_PROGRESS'],
        ['Lake', 'IMPORT_ROLLBACK_COMPLETE'],
        ['import-rollback', 'IMPORT_ROLLBACK_COMPLETE'],
      ],
    );
    assert.match(
      events[3]?.ResourceStatusReason ?? '',
      /Bucket vanishing-lake does not exist.*HandlerErrorCode: NotFound/,
    );
    assert.equal(events[4]?.ResourceStatusReason, 'The following resource(s) failed to import: [Lake]. ');
    const resources = await cfn.send(new ListStackResourcesCommand({ StackName: 'import-rollback' }));
    assert.deepEqual(resources.StackResourceSummaries, []);
    // IMPORT_ROLLBACK_COMPLETE is a stable state: the stack can be deleted (or updated).
    await cfn.send(new DeleteStackCommand({ StackName: 'import-rollback' }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: 'import-rollback' });
  });

  it('interoperates with the AWS CLI v1: create-change-set --change-set-type IMPORT --resources-to-import', async (t) => {
    if (!awsCliAvailable()) {
      t.skip('aws CLI not installed');
      return;
    }
    await keptBucket('cli-adopted-lake');
    const work = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-cfn-import-cli-'));
    const env = awsCliEnv(stack, work);
    const aws = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(
          awsCliPath(),
          ['--endpoint-url', stack.endpoint, '--output', 'json', ...args],
          { env },
          (error, stdout, stderr) =>
            resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    try {
      const template = path.join(work, 'import.yaml');
      await writeFile(template, bucketTemplate());
      const created = await aws(
        'cloudformation',
        'create-change-set',
        '--stack-name',
        'cli-import',
        '--change-set-name',
        'adopt',
        '--change-set-type',
        'IMPORT',
        '--template-body',
        `file://${template}`,
        '--parameters',
        'ParameterKey=BucketName,ParameterValue=cli-adopted-lake',
        '--resources-to-import',
        JSON.stringify(toImport('cli-adopted-lake')),
      );
      assert.equal(created.code, 0, created.stderr);
      assert.match((JSON.parse(created.stdout) as { Id: string }).Id, /:changeSet\/adopt\//);
      const waited = await aws(
        'cloudformation',
        'wait',
        'change-set-create-complete',
        '--stack-name',
        'cli-import',
        '--change-set-name',
        'adopt',
      );
      assert.equal(waited.code, 0, waited.stderr);
      const described = await aws(
        'cloudformation',
        'describe-change-set',
        '--stack-name',
        'cli-import',
        '--change-set-name',
        'adopt',
      );
      assert.equal(described.code, 0, described.stderr);
      const changes = (
        JSON.parse(described.stdout) as {
          Changes: Array<{
            ResourceChange: { Action: string; LogicalResourceId: string; PhysicalResourceId: string };
          }>;
        }
      ).Changes;
      assert.deepEqual(
        changes.map((c) => [
          c.ResourceChange.Action,
          c.ResourceChange.LogicalResourceId,
          c.ResourceChange.PhysicalResourceId,
        ]),
        [['Import', 'Lake', 'cli-adopted-lake']],
      );
      const executed = await aws(
        'cloudformation',
        'execute-change-set',
        '--stack-name',
        'cli-import',
        '--change-set-name',
        'adopt',
      );
      assert.equal(executed.code, 0, executed.stderr);
      const complete = await aws(
        'cloudformation',
        'wait',
        'stack-import-complete',
        '--stack-name',
        'cli-import',
      );
      assert.equal(complete.code, 0, complete.stderr);
      const stacks = await aws('cloudformation', 'describe-stacks', '--stack-name', 'cli-import');
      assert.equal(
        (JSON.parse(stacks.stdout) as { Stacks: Array<{ StackStatus: string }> }).Stacks[0]?.StackStatus,
        'IMPORT_COMPLETE',
      );
      assert.deepEqual(await keysOf('cli-adopted-lake'), ['items/movies.csv', 'raw/ratings.dat']);

      // A refusal reaches the CLI as the ValidationError, word for word.
      const refused = await aws(
        'cloudformation',
        'create-change-set',
        '--stack-name',
        'cli-import-refused',
        '--change-set-name',
        'adopt',
        '--change-set-type',
        'IMPORT',
        '--template-body',
        `file://${template}`,
        '--parameters',
        'ParameterKey=BucketName,ParameterValue=cli-adopted-lake',
        '--resources-to-import',
        JSON.stringify(toImport('cli-adopted-lake')),
      );
      assert.notEqual(refused.code, 0);
      assert.match(
        refused.stderr,
        /\(ValidationError\) when calling the CreateChangeSet operation: Resource \{BucketName=cli-adopted-lake\} of type AWS::S3::Bucket to import as \[Lake\] already belongs to stack \[cli-import\]/,
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
