/**
 * `AWS::IAM::Policy`: an inline policy attached to roles, users or groups, recorded in the local
 * IAM store (not enforced). Ref is a generated policy ID, as CloudFormation's; `Id` is the same.
 */
import type { TemplateObject } from '../template/index.js';
import type { InlinePolicyRecord } from '../iam-store.js';
import { policyDocument } from './iam-common.js';
import {
  invalidProperty,
  optionalStringList,
  randomSuffix,
  requiredString,
  type Provisioner,
} from './types.js';

function policyRecord(id: string, properties: TemplateObject): InlinePolicyRecord {
  const record: InlinePolicyRecord = {
    id,
    policyName: requiredString(properties, 'PolicyName'),
    document: policyDocument(properties, 'PolicyDocument'),
    roles: optionalStringList(properties, 'Roles'),
    users: optionalStringList(properties, 'Users'),
    groups: optionalStringList(properties, 'Groups'),
  };
  if (record.roles.length + record.users.length + record.groups.length === 0) {
    throw invalidProperty('At least one of [Groups,Roles,Users] must be non-empty.');
  }
  return record;
}

export const iamPolicyProvisioner: Provisioner = {
  type: 'AWS::IAM::Policy',
  attributes: ['Id'],
  replacementProperties: [],
  properties: ['Groups', 'PolicyDocument', 'PolicyName', 'Roles', 'Users'],
  requiredProperties: ['PolicyDocument', 'PolicyName'],

  async create(properties, ctx) {
    const prefix = ctx.stackName.slice(0, 5);
    const id = `${prefix}-${ctx.logicalId.slice(0, 5)}-${randomSuffix()}`;
    await ctx.services.iam.putPolicy(policyRecord(id, properties));
    return { physicalId: id, attributes: { Id: id } };
  },

  async update(physicalId, properties, _previous, ctx) {
    await ctx.services.iam.putPolicy(policyRecord(physicalId, properties));
    return { attributes: { Id: physicalId } };
  },

  async delete(physicalId, _properties, ctx) {
    await ctx.services.iam.deletePolicy(physicalId);
  },
};
