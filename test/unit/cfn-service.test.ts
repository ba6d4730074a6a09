// The CloudFormation service and engine in-process (no HTTP): the provisioner plug-in point with
// a fake resource type, update rollbacks, replacements, removals, failure modes, the IAM
// provisioners and restart recovery.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BUILTIN_PROVISIONERS,
  ProvisionerRegistry,
  ProvisionError,
  type Provisioner,
} from '../../src/local/services/cloudformation/provisioners/index.js';
import { CloudFormationService } from '../../src/local/services/cloudformation/cloudformation-service.js';
import type { StackRecord } from '../../src/local/services/cloudformation/types.js';
import { S3Service } from '../../src/local/services/s3/s3-service.js';
import type { LocalContext } from '../../src/local/types.js';
import type { TemplateObject } from '../../src/local/services/cloudformation/template/index.js';

/** A fake resource type whose "cloud" is a Map; `Fail: create|update|delete` makes that step fail. */
function widgetProvisioner(world: Map<string, TemplateObject>): Provisioner {
  let counter = 0;
  return {
    type: 'Test::Widget',
    attributes: ['Color', 'Serial'],
    replacementProperties: ['Name'],
    async create(properties, ctx) {
      if (properties.Fail === 'create')
        throw new ProvisionError('widget refused to be born', 'InvalidRequest');
      const id = `${String(properties.Name ?? ctx.generateName({ maxLength: 40 }))}#${++counter}`;
      world.set(id, properties);
      return { physicalId: id, attributes: { Color: String(properties.Color ?? 'none'), Serial: counter } };
    },
    async update(physicalId, properties) {
      if (properties.Fail === 'update') throw new ProvisionError('widget refused to change');
      world.set(physicalId, properties);
      return { attributes: { Color: String(properties.Color ?? 'none') } };
    },
    async delete(physicalId, properties) {
      if (properties.Fail === 'delete') throw new ProvisionError('widget refused to die');
      world.delete(physicalId);
    },
  };
}

function widgets(spec: Record<string, Record<string, string>>, extra: Record<string, string> = {}): string {
  const lines = ['Resources:'];
  for (const [logicalId, properties] of Object.entries(spec)) {
    lines.push(`  ${logicalId}:`, '    Type: Test::Widget');
    if (extra[logicalId]) lines.push(extra[logicalId]);
    lines.push('    Properties:');
    for (const [key, value] of Object.entries(properties)) lines.push(`      ${key}: ${value}`);
  }
  return lines.join('\n') + '\n';
}

describe('CloudFormation service (in-process, fake provisioner)', () => {
  let dataDir: string;
  let ctx: LocalContext;
  let s3: S3Service;
  let service: CloudFormationService;
  const world = new Map<string, TemplateObject>();
  const logs: string[] = [];

  const open = async (): Promise<CloudFormationService> =>
    CloudFormationService.open(ctx, {
      s3,
      provisioners: new ProvisionerRegistry([...BUILTIN_PROVISIONERS, widgetProvisioner(world)]),
    });

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-cfn-unit-'));
    ctx = {
      dataDir,
      region: 'eu-west-1',
      accountId: '123456789012',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      now: () => new Date(),
      log: (line) => logs.push(line),
    };
    s3 = await S3Service.open(ctx);
    service = await open();
  });
  after(async () => {
    await service.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const record = (name: string): StackRecord => {
    const found = service.stackRecord(name);
    assert.ok(found, `stack ${name} exists`);
    return found;
  };
  const create = async (
    name: string,
    body: string,
    extra: Record<string, unknown> = {},
  ): Promise<StackRecord> => {
    const { StackId } = await service.createStack({ StackName: name, TemplateBody: body, ...extra });
    await service.idle();
    return record(StackId);
  };
  const update = async (name: string, body: string): Promise<StackRecord> => {
    await service.updateStack({ StackName: name, TemplateBody: body });
    await service.idle();
    return record(name);
  };
  const statuses = (stack: StackRecord, from = 0): string[] =>
    stack.events.slice(from).map((event) => `${event.logicalId} ${event.status}`);

  it('knows a registered type and its attributes when validating', async () => {
    const body = widgets({ W: { Color: 'red' } }) + 'Outputs:\n  C:\n    Value: !GetAtt W.Shade\n';
    await assert.rejects(service.validateTemplate({ TemplateBody: body }), {
      code: 'ValidationError',
      message: 'Template error: resource W does not support attribute type Shade in Fn::GetAtt',
    });
    const stack = await create(
      'plugin',
      widgets({ W: { Color: 'red' } }) + 'Outputs:\n  C:\n    Value: !GetAtt W.Color\n',
    );
    assert.equal(stack.status, 'CREATE_COMPLETE');
    assert.deepEqual(stack.outputs, [{ OutputKey: 'C', OutputValue: 'red' }]);
    assert.match(stack.resources.W?.physicalId ?? '', /^plugin-W-[A-Z0-9]{12}#\d+$/);
  });

  it('rolls an update back: in-place changes re-applied with the old properties', async () => {
    let stack = await create(
      'revert',
      widgets({ A: { Name: 'a', Color: 'red' }, B: { Name: 'b', Color: 'blue' } }),
    );
    const a = stack.resources.A!.physicalId!;
    const mark = stack.events.length;
    stack = await update(
      'revert',
      widgets({ A: { Name: 'a', Color: 'green' }, B: { Name: 'b', Color: 'blue', Fail: 'update' } }),
    );
    assert.equal(stack.status, 'UPDATE_ROLLBACK_COMPLETE');
    assert.equal(world.get(a)?.Color, 'red', 'A is back to its old properties');
    assert.equal(stack.resources.A?.properties.Color, 'red');
    assert.equal(stack.resources.A?.attributes.Color, 'red');
    assert.deepEqual(statuses(stack, mark), [
      'revert UPDATE_IN_PROGRESS',
      'A UPDATE_IN_PROGRESS',
      'A UPDATE_COMPLETE',
      'B UPDATE_IN_PROGRESS',
      'B UPDATE_FAILED',
      'revert UPDATE_ROLLBACK_IN_PROGRESS',
      'B UPDATE_IN_PROGRESS',
      'B UPDATE_COMPLETE',
      'A UPDATE_IN_PROGRESS',
      'A UPDATE_COMPLETE',
      'revert UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
      'revert UPDATE_ROLLBACK_COMPLETE',
    ]);
    const failed = stack.events.find((event) => event.status === 'UPDATE_FAILED');
    assert.match(failed?.reason ?? '', /^Resource handler returned message: "widget refused to change"/);
    assert.equal(stack.statusReason, undefined);
    // The stack is usable again: a later update works.
    stack = await update(
      'revert',
      widgets({ A: { Name: 'a', Color: 'green' }, B: { Name: 'b', Color: 'blue' } }),
    );
    assert.equal(stack.status, 'UPDATE_COMPLETE');
    assert.equal(world.get(a)?.Color, 'green');
  });

  it('rolls a replacement back: the new physical resource is deleted, the old one kept', async () => {
    let stack = await create('swap', widgets({ A: { Name: 'one' }, B: { Name: 'b' } }));
    const old = stack.resources.A!.physicalId!;
    stack = await update(
      'swap',
      widgets({ A: { Name: 'two' }, B: { Name: 'b', Color: 'x', Fail: 'update' } }),
    );
    assert.equal(stack.status, 'UPDATE_ROLLBACK_COMPLETE');
    assert.equal(stack.resources.A?.physicalId, old);
    assert.ok(world.has(old));
    assert.ok(![...world.keys()].some((id) => id.startsWith('two#')), 'the replacement was cleaned up');
    assert.deepEqual(stack.retiring, []);

    // A successful replacement deletes the old physical resource during cleanup.
    stack = await update('swap', widgets({ A: { Name: 'two' }, B: { Name: 'b' } }));
    assert.equal(stack.status, 'UPDATE_COMPLETE');
    assert.ok(!world.has(old));
    assert.match(stack.resources.A?.physicalId ?? '', /^two#/);
  });

  it('deletes resources an update removes, unless DeletionPolicy Retain', async () => {
    let stack = await create(
      'shrink',
      widgets(
        { Keep: { Name: 'keep' }, Gone: { Name: 'gone' }, Held: { Name: 'held' } },
        { Held: '    DeletionPolicy: Retain' },
      ),
    );
    const gone = stack.resources.Gone!.physicalId!;
    const held = stack.resources.Held!.physicalId!;
    stack = await update('shrink', widgets({ Keep: { Name: 'keep' } }));
    assert.equal(stack.status, 'UPDATE_COMPLETE');
    assert.deepEqual(Object.keys(stack.resources), ['Keep']);
    assert.ok(!world.has(gone));
    assert.ok(world.has(held), 'retained');
    assert.ok(stack.events.some((event) => event.logicalId === 'Held' && event.status === 'DELETE_SKIPPED'));
  });

  it('honours DisableRollback and OnFailure=DELETE on a failed create', async () => {
    const body = widgets({ A: { Name: 'kept' }, B: { Name: 'bad', Fail: 'create' } });
    let stack = await create('norollback', body, { DisableRollback: true });
    assert.equal(stack.status, 'CREATE_FAILED');
    assert.equal(stack.statusReason, 'The following resource(s) failed to create: [B]. ');
    assert.equal(stack.resources.A?.status, 'CREATE_COMPLETE', 'nothing rolled back');

    stack = await create('ondelete', body.replace(/kept/g, 'kept2'), { OnFailure: 'DELETE' });
    assert.equal(stack.status, 'DELETE_COMPLETE');
    assert.ok(![...world.keys()].some((id) => id.startsWith('kept2#')));
    await assert.rejects(service.describeStacks({ StackName: 'ondelete' }), {
      message: 'Stack with id ondelete does not exist',
    });
  });

  it('keeps what a failed resource depends on when a delete fails', async () => {
    const body = [
      'Resources:',
      '  Base:',
      '    Type: Test::Widget',
      '    Properties:',
      '      Name: base',
      '  Top:',
      '    Type: Test::Widget',
      '    Properties:',
      '      Name: !Ref Base',
      '      Fail: delete',
    ].join('\n');
    let stack = await create('stuck', body);
    await service.deleteStack({ StackName: 'stuck' });
    await service.idle();
    stack = record('stuck');
    assert.equal(stack.status, 'DELETE_FAILED');
    assert.equal(stack.resources.Base?.status, 'CREATE_COMPLETE', 'Top still needs Base');
    // RetainResources lets the delete finish, leaving Top behind.
    await service.deleteStack({ StackName: 'stuck', RetainResources: ['Top'] });
    await service.idle();
    stack = service.stackRecord(stack.stackId)!;
    assert.equal(stack.status, 'DELETE_COMPLETE');
    assert.equal(stack.resources.Top?.status, 'DELETE_SKIPPED');
  });

  it('records IAM roles and policies: ARNs, IDs, Ref of a managed policy, name clashes, bad documents', async () => {
    const trust =
      "        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Principal: {Service: glue.amazonaws.com}\n            Action: sts:AssumeRole";
    const body = [
      'Resources:',
      '  Role:',
      '    Type: AWS::IAM::Role',
      '    Properties:',
      '      RoleName: etl-role',
      '      Path: /service/',
      '      AssumeRolePolicyDocument:',
      trust,
      '  Managed:',
      '    Type: AWS::IAM::ManagedPolicy',
      '    Properties:',
      '      Roles: [!Ref Role]',
      '      PolicyDocument:',
      "        Version: '2012-10-17'",
      '        Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "*"}]',
      '  Inline:',
      '    Type: AWS::IAM::Policy',
      '    Properties:',
      '      PolicyName: extra',
      '      Roles: [!Ref Role]',
      '      PolicyDocument:',
      "        Version: '2012-10-17'",
      '        Statement: [{Effect: Allow, Action: glue:GetJob, Resource: "*"}]',
      'Outputs:',
      '  RoleArn:',
      '    Value: !GetAtt Role.Arn',
      '  RoleId:',
      '    Value: !GetAtt Role.RoleId',
      '  PolicyArn:',
      '    Value: !Ref Managed',
    ].join('\n');
    await assert.rejects(
      service.createStack({ StackName: 'iam', TemplateBody: body, Capabilities: ['CAPABILITY_IAM'] }),
      {
        code: 'InsufficientCapabilitiesException',
        message: 'Requires capabilities : [CAPABILITY_NAMED_IAM]',
      },
    );
    const stack = await create('iam', body, { Capabilities: ['CAPABILITY_NAMED_IAM'] });
    assert.equal(stack.status, 'CREATE_COMPLETE');
    const out = Object.fromEntries(stack.outputs.map((output) => [output.OutputKey, output.OutputValue]));
    assert.equal(out.RoleArn, 'arn:aws:iam::123456789012:role/service/etl-role');
    assert.match(out.RoleId ?? '', /^AROA[A-Z2-7]{17}$/);
    assert.match(out.PolicyArn ?? '', /^arn:aws:iam::123456789012:policy\/iam-Managed-[A-Z0-9]{12}$/);
    const stored = JSON.parse(await readFile(path.join(dataDir, 'cloudformation', 'iam.json'), 'utf8')) as {
      roles: Record<string, { arn: string }>;
      managedPolicies: Record<string, { roles: string[] }>;
      policies: Record<string, { roles: string[] }>;
    };
    assert.equal(stored.roles['etl-role']?.arn, out.RoleArn);
    assert.deepEqual(stored.managedPolicies[out.PolicyArn!]?.roles, ['etl-role']);
    assert.deepEqual(Object.values(stored.policies)[0]?.roles, ['etl-role']);

    // The same role name in another stack fails like IAM, and rolls back.
    const clash = await create('iam2', body.replace('/service/', '/other/'), {
      Capabilities: ['CAPABILITY_NAMED_IAM'],
    });
    assert.equal(clash.status, 'ROLLBACK_COMPLETE');
    assert.match(
      clash.events.find((event) => event.status === 'CREATE_FAILED')?.reason ?? '',
      /"Role with name etl-role already exists\."/,
    );
    // A trust policy without Statement is refused.
    const bad = await create(
      'iam3',
      "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n",
      { Capabilities: ['CAPABILITY_IAM'] },
    );
    assert.equal(bad.status, 'ROLLBACK_COMPLETE');
    assert.match(
      bad.events.find((event) => event.status === 'CREATE_FAILED')?.reason ?? '',
      /Syntax errors in policy/,
    );

    await service.deleteStack({ StackName: 'iam' });
    await service.idle();
    const afterDelete = JSON.parse(
      await readFile(path.join(dataDir, 'cloudformation', 'iam.json'), 'utf8'),
    ) as {
      roles: Record<string, unknown>;
    };
    assert.deepEqual(afterDelete.roles, {});
  });

  it('fails interrupted operations and change sets on restart, never leaving them IN_PROGRESS', async () => {
    await create('crash-update', widgets({ A: { Name: 'crash-a' } }));
    await create('crash-cleanup', widgets({ A: { Name: 'crash-b' } }));
    await create('crash-delete', widgets({ A: { Name: 'crash-c' } }));
    await service.createChangeSet({
      StackName: 'crash-update',
      ChangeSetName: 'pending',
      TemplateBody: widgets({ A: { Name: 'crash-a', Color: 'x' } }),
    });
    await service.close();
    const stacksDir = path.join(dataDir, 'cloudformation', 'stacks');
    const edits: Record<string, (stack: StackRecord) => void> = {
      'crash-update': (stack) => {
        stack.status = 'UPDATE_IN_PROGRESS';
        stack.resources.A!.status = 'UPDATE_IN_PROGRESS';
        stack.changeSets[0]!.status = 'CREATE_IN_PROGRESS';
      },
      'crash-cleanup': (stack) => {
        stack.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
      },
      'crash-delete': (stack) => {
        stack.status = 'DELETE_IN_PROGRESS';
        stack.resources.A!.status = 'DELETE_IN_PROGRESS';
      },
    };
    for (const name of await readdir(stacksDir)) {
      const file = path.join(stacksDir, name);
      const stack = JSON.parse(await readFile(file, 'utf8')) as StackRecord;
      const edit = edits[stack.stackName];
      if (edit === undefined || stack.status === 'DELETE_COMPLETE') continue;
      edit(stack);
      await writeFile(file, JSON.stringify(stack));
    }
    service = await open();
    const reason = 'The local stack restarted while this operation was in progress.';
    const updated = record('crash-update');
    assert.equal(updated.status, 'UPDATE_ROLLBACK_FAILED');
    assert.equal(updated.statusReason, reason);
    assert.equal(updated.resources.A?.status, 'UPDATE_FAILED');
    assert.equal(updated.changeSets[0]?.status, 'FAILED');
    assert.equal(updated.changeSets[0]?.statusReason, reason);
    assert.equal(record('crash-cleanup').status, 'UPDATE_COMPLETE');
    const deleting = record('crash-delete');
    assert.equal(deleting.status, 'DELETE_FAILED');
    assert.equal(deleting.resources.A?.status, 'DELETE_FAILED');
    assert.deepEqual(statuses(deleting).slice(-2), ['A DELETE_FAILED', 'crash-delete DELETE_FAILED']);
    // The failed delete can be retried.
    await service.deleteStack({ StackName: 'crash-delete' });
    await service.idle();
    assert.equal(service.stackRecord(deleting.stackId)?.status, 'DELETE_COMPLETE');
  });
});
