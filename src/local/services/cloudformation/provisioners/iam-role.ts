/**
 * `AWS::IAM::Role`, recorded in the local IAM store (not enforced). Ref is the role name
 * (given, or generated as CloudFormation does); `Fn::GetAtt` gives `Arn`
 * (`arn:aws:iam::<account>:role/<path><name>`) and `RoleId`. Changing `RoleName` or `Path`
 * replaces the role.
 */
import { isTemplateObject, type TemplateObject } from '../template/index.js';
import type { RoleRecord } from '../iam-store.js';
import { iamArn, iamPath, iamUniqueId, policyDocument } from './iam-common.js';
import {
  invalidProperty,
  optionalString,
  optionalStringList,
  ProvisionError,
  type ProvisionContext,
  type Provisioner,
} from './types.js';

function inlinePolicies(properties: TemplateObject): Record<string, TemplateObject> {
  const value = properties.Policies;
  if (value === undefined || value === null) return {};
  if (!Array.isArray(value)) {
    throw invalidProperty('Property validation failure: [#/Policies: expected type: JSONArray]');
  }
  const policies: Record<string, TemplateObject> = {};
  value.forEach((item, index) => {
    if (!isTemplateObject(item)) {
      throw invalidProperty(`Property validation failure: [#/Policies/${index}: expected type: JSONObject]`);
    }
    const name = optionalString(item, 'PolicyName');
    if (name === undefined) {
      throw invalidProperty(
        `Property validation failure: [#/Policies/${index}: required key [PolicyName] not found]`,
      );
    }
    policies[name] = policyDocument(item, 'PolicyDocument');
  });
  return policies;
}

function maxSessionDuration(properties: TemplateObject): number | undefined {
  const text = optionalString(properties, 'MaxSessionDuration');
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 3600 || seconds > 43200) {
    throw invalidProperty(
      `Property validation failure: [#/MaxSessionDuration: ${text} is not in range [3600, 43200]]`,
    );
  }
  return seconds;
}

function roleRecord(
  name: string,
  properties: TemplateObject,
  ctx: ProvisionContext,
  identity: { roleId: string; createDate: string },
): RoleRecord {
  const path = iamPath(properties);
  const record: RoleRecord = {
    roleName: name,
    roleId: identity.roleId,
    arn: iamArn(ctx, 'role', path, name),
    path,
    assumeRolePolicyDocument: policyDocument(properties, 'AssumeRolePolicyDocument'),
    managedPolicyArns: optionalStringList(properties, 'ManagedPolicyArns'),
    inlinePolicies: inlinePolicies(properties),
    tags: Array.isArray(properties.Tags) ? properties.Tags : [],
    createDate: identity.createDate,
  };
  const description = optionalString(properties, 'Description');
  if (description !== undefined) record.description = description;
  const duration = maxSessionDuration(properties);
  if (duration !== undefined) record.maxSessionDuration = duration;
  const boundary = optionalString(properties, 'PermissionsBoundary');
  if (boundary !== undefined) record.permissionsBoundary = boundary;
  return record;
}

export const iamRoleProvisioner: Provisioner = {
  type: 'AWS::IAM::Role',
  attributes: ['Arn', 'RoleId'],
  replacementProperties: ['RoleName', 'Path'],
  properties: [
    'AssumeRolePolicyDocument',
    'Description',
    'ManagedPolicyArns',
    'MaxSessionDuration',
    'Path',
    'PermissionsBoundary',
    'Policies',
    'RoleName',
    'Tags',
  ],
  requiredProperties: ['AssumeRolePolicyDocument'],

  async create(properties, ctx) {
    const name = optionalString(properties, 'RoleName') ?? ctx.generateName({ maxLength: 64 });
    if (!/^[\w+=,.@-]{1,64}$/.test(name)) {
      throw invalidProperty(
        `Property validation failure: [#/RoleName: string [${name}] does not match pattern [\\w+=,.@-]{1,64}]`,
      );
    }
    const record = roleRecord(name, properties, ctx, {
      roleId: iamUniqueId('AROA'),
      createDate: ctx.now().toISOString(),
    });
    if (ctx.services.iam.getRole(name) !== undefined) {
      throw new ProvisionError(`Role with name ${name} already exists.`, 'AlreadyExists');
    }
    await ctx.services.iam.putRole(record);
    return { physicalId: name, attributes: { Arn: record.arn, RoleId: record.roleId } };
  },

  async update(physicalId, properties, previous, ctx) {
    const existing = ctx.services.iam.getRole(physicalId);
    const record = roleRecord(physicalId, properties, ctx, {
      roleId: existing?.roleId ?? String(previous.attributes.RoleId ?? iamUniqueId('AROA')),
      createDate: existing?.createDate ?? ctx.now().toISOString(),
    });
    await ctx.services.iam.putRole(record);
    return { attributes: { Arn: record.arn, RoleId: record.roleId } };
  },

  async delete(physicalId, _properties, ctx) {
    await ctx.services.iam.deleteRole(physicalId);
  },
};
