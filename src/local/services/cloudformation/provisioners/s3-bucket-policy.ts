/**
 * `AWS::S3::BucketPolicy`: puts the policy on the bucket through the local S3 service
 * (`PolicyDocument` given as an object is serialized to JSON). Ref is the bucket name. Changing
 * `Bucket` moves the policy (replacement); deleting removes it, and a bucket that is already
 * gone counts as done.
 */
import { AwsError } from '../../../core/errors.js';
import { isTemplateObject, type TemplateObject } from '../template/index.js';
import {
  invalidProperty,
  requiredString,
  serviceFailure,
  typeName,
  type ProvisionContext,
  type Provisioner,
} from './types.js';

function policyText(properties: TemplateObject): string {
  const document = properties.PolicyDocument;
  if (document === undefined || document === null) {
    throw invalidProperty('Property validation failure: [#: required key [PolicyDocument] not found]');
  }
  if (typeof document === 'string') return document;
  if (!isTemplateObject(document)) {
    throw invalidProperty(
      `Property validation failure: [#/PolicyDocument: expected type: JSONObject, found: ${typeName(document)}]`,
    );
  }
  return JSON.stringify(document);
}

async function putPolicy(properties: TemplateObject, ctx: ProvisionContext): Promise<string> {
  const bucket = requiredString(properties, 'Bucket');
  const policy = policyText(properties);
  try {
    await ctx.services.s3.putBucketPolicy({ bucket, policy });
  } catch (error) {
    throw serviceFailure(error, 'S3');
  }
  return bucket;
}

export const s3BucketPolicyProvisioner: Provisioner = {
  type: 'AWS::S3::BucketPolicy',
  attributes: [],
  replacementProperties: ['Bucket'],
  properties: ['Bucket', 'PolicyDocument'],
  requiredProperties: ['Bucket', 'PolicyDocument'],

  async create(properties, ctx) {
    return { physicalId: await putPolicy(properties, ctx) };
  },

  async update(_physicalId, properties, _previous, ctx) {
    await putPolicy(properties, ctx);
    return {};
  },

  async delete(physicalId, _properties, ctx) {
    try {
      await ctx.services.s3.deleteBucketPolicy({ bucket: physicalId });
    } catch (error) {
      if (error instanceof AwsError && error.code === 'NoSuchBucket') return;
      throw serviceFailure(error, 'S3');
    }
  },
};
