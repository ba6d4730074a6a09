/**
 * `AWS::IAM::ManagedPolicy`, recorded in the local IAM store (not enforced). Ref is the policy
 * ARN (`arn:aws:iam::<account>:policy/<path><name>`), as on AWS; `PolicyArn`, `PolicyId` and the
 * version attributes are available to `Fn::GetAtt`. Name, path or description changes replace it;
 * a document change creates a new default version.
 */
import type { TemplateObject } from '../template/index.js';
import type { ManagedPolicyRecord } from '../iam-store.js';
import { iamArn, iamPath, iamUniqueId, policyDocument } from './iam-common.js';
import {
  invalidProperty,
  optionalString,
  optionalStringList,
  ProvisionError,
  type ProvisionContext,
  type Provisioner,
} from './types.js';

function attributesOf(record: ManagedPolicyRecord): Record<string, string | number | boolean> {
  return {
    PolicyArn: record.arn,
    PolicyId: record.policyId,
    DefaultVersionId: record.defaultVersionId,
    AttachmentCount: record.roles.length + record.users.length + record.groups.length,
    IsAttachable: true,
    CreateDate: record.createDate,
    UpdateDate: record.updateDate,
  };
}

function policyRecord(
  name: string,
  properties: TemplateObject,
  ctx: ProvisionContext,
  previous: ManagedPolicyRecord | undefined,
): ManagedPolicyRecord {
  const path = iamPath(properties);
  const now = ctx.now().toISOString();
  const document = policyDocument(properties, 'PolicyDocument');
  const documentChanged =
    previous !== undefined && JSON.stringify(previous.document) !== JSON.stringify(document);
  const version =
    previous === undefined ? 1 : Number(previous.defaultVersionId.slice(1)) + (documentChanged ? 1 : 0);
  const record: ManagedPolicyRecord = {
    arn: iamArn(ctx, 'policy', path, name),
    policyName: name,
    policyId: previous?.policyId ?? iamUniqueId('ANPA'),
    path,
    document,
    defaultVersionId: `v${version}`,
    createDate: previous?.createDate ?? now,
    updateDate: documentChanged || previous === undefined ? now : previous.updateDate,
    roles: optionalStringList(properties, 'Roles'),
    users: optionalStringList(properties, 'Users'),
    groups: optionalStringList(properties, 'Groups'),
  };
  const description = optionalString(properties, 'Description');
  if (description !== undefined) record.description = description;
  return record;
}

export const iamManagedPolicyProvisioner: Provisioner = {
  type: 'AWS::IAM::ManagedPolicy',
  attributes: [
    'AttachmentCount',
    'CreateDate',
    'DefaultVersionId',
    'IsAttachable',
    'PolicyArn',
    'PolicyId',
    'UpdateDate',
  ],
  replacementProperties: ['ManagedPolicyName', 'Path', 'Description'],
  properties: ['Description', 'Groups', 'ManagedPolicyName', 'Path', 'PolicyDocument', 'Roles', 'Users'],
  requiredProperties: ['PolicyDocument'],

  async create(properties, ctx) {
    const name = optionalString(properties, 'ManagedPolicyName') ?? ctx.generateName({ maxLength: 128 });
    if (!/^[\w+=,.@-]{1,128}$/.test(name)) {
      throw invalidProperty(
        `Property validation failure: [#/ManagedPolicyName: string [${name}] does not match pattern [\\w+=,.@-]+]`,
      );
    }
    const record = policyRecord(name, properties, ctx, undefined);
    if (ctx.services.iam.getManagedPolicy(record.arn) !== undefined) {
      throw new ProvisionError(
        `A policy called ${name} already exists. Duplicate names are not allowed.`,
        'AlreadyExists',
      );
    }
    await ctx.services.iam.putManagedPolicy(record);
    return { physicalId: record.arn, attributes: attributesOf(record) };
  },

  async update(physicalId, properties, _previous, ctx) {
    const existing = ctx.services.iam.getManagedPolicy(physicalId);
    const name = existing?.policyName ?? physicalId.slice(physicalId.lastIndexOf('/') + 1);
    const record = policyRecord(name, properties, ctx, existing);
    await ctx.services.iam.putManagedPolicy(record);
    return { attributes: attributesOf(record) };
  },

  async delete(physicalId, _properties, ctx) {
    await ctx.services.iam.deleteManagedPolicy(physicalId);
  },
};
