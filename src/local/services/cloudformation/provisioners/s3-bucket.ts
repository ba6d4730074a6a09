/**
 * `AWS::S3::Bucket` on the local S3 service. Ref is the bucket name (given, or generated as
 * CloudFormation does: `<stack>-<logicalid>-<random>`, lower-cased, at most 63 characters).
 * `PublicAccessBlockConfiguration` is applied through S3; other properties (tags, versioning,
 * lifecycle, encryption, …) are recorded on the stack but have no local effect. A bucket that
 * still holds objects cannot be deleted, exactly as on AWS. Importable by `BucketName` (resource
 * import): the bucket and its objects are left as they are.
 */
import { AwsError } from '../../../core/errors.js';
import { isTemplateObject, type TemplateObject, type TemplateValue } from '../template/index.js';
import {
  invalidProperty,
  optionalBoolean,
  optionalString,
  ProvisionError,
  serviceFailure,
  typeName,
  type ProvisionContext,
  type Provisioner,
} from './types.js';

const PUBLIC_ACCESS_FLAGS = [
  'BlockPublicAcls',
  'BlockPublicPolicy',
  'IgnorePublicAcls',
  'RestrictPublicBuckets',
] as const;

function bucketAttributes(name: string, ctx: ProvisionContext): Record<string, TemplateValue> {
  const { region, urlSuffix, partition } = ctx;
  return {
    Arn: `arn:${partition}:s3:::${name}`,
    DomainName: `${name}.s3.${urlSuffix}`,
    RegionalDomainName: `${name}.s3.${region}.${urlSuffix}`,
    DualStackDomainName: `${name}.s3.dualstack.${region}.${urlSuffix}`,
    WebsiteURL: `http://${name}.s3-website-${region}.${urlSuffix}`,
  };
}

function publicAccessBlock(
  properties: TemplateObject,
): Partial<Record<(typeof PUBLIC_ACCESS_FLAGS)[number], boolean>> | undefined {
  const value = properties.PublicAccessBlockConfiguration;
  if (value === undefined || value === null) return undefined;
  if (!isTemplateObject(value)) {
    throw invalidProperty(
      `Property validation failure: [#/PublicAccessBlockConfiguration: expected type: JSONObject, found: ${typeName(value)}]`,
    );
  }
  const configuration: Partial<Record<(typeof PUBLIC_ACCESS_FLAGS)[number], boolean>> = {};
  for (const key of Object.keys(value)) {
    if (!(PUBLIC_ACCESS_FLAGS as readonly string[]).includes(key)) {
      throw invalidProperty(
        `Property validation failure: [#/PublicAccessBlockConfiguration: extraneous key [${key}] is not permitted]`,
      );
    }
  }
  for (const flag of PUBLIC_ACCESS_FLAGS) {
    const setting = optionalBoolean(value, flag);
    if (setting !== undefined) configuration[flag] = setting;
  }
  return configuration;
}

async function applyPublicAccessBlock(
  bucket: string,
  properties: TemplateObject,
  ctx: ProvisionContext,
): Promise<void> {
  const configuration = publicAccessBlock(properties);
  try {
    if (configuration === undefined) await ctx.services.s3.deletePublicAccessBlock({ bucket });
    else await ctx.services.s3.putPublicAccessBlock({ bucket, configuration });
  } catch (error) {
    throw serviceFailure(error, 'S3');
  }
}

export const s3BucketProvisioner: Provisioner = {
  type: 'AWS::S3::Bucket',
  attributes: ['Arn', 'DomainName', 'DualStackDomainName', 'RegionalDomainName', 'WebsiteURL'],
  replacementProperties: ['BucketName', 'ObjectLockEnabled'],
  properties: [
    'AbacStatus',
    'AccelerateConfiguration',
    'AccessControl',
    'AnalyticsConfigurations',
    'BucketEncryption',
    'BucketName',
    'CorsConfiguration',
    'IntelligentTieringConfigurations',
    'InventoryConfigurations',
    'LifecycleConfiguration',
    'LoggingConfiguration',
    'MetadataConfiguration',
    'MetadataTableConfiguration',
    'MetricsConfigurations',
    'NotificationConfiguration',
    'ObjectLockConfiguration',
    'ObjectLockEnabled',
    'OwnershipControls',
    'PublicAccessBlockConfiguration',
    'ReplicationConfiguration',
    'Tags',
    'VersioningConfiguration',
    'WebsiteConfiguration',
  ],

  async create(properties, ctx) {
    const name =
      optionalString(properties, 'BucketName') ?? ctx.generateName({ maxLength: 63, lowerCase: true });
    publicAccessBlock(properties); // validate before creating anything
    // CloudFormation never adopts an existing bucket, even one the account owns (where S3's own
    // CreateBucket answers 200 in us-east-1): the resource fails with "already exists".
    const exists = await ctx.services.s3.headBucket({ bucket: name }).then(
      () => true,
      () => false,
    );
    if (exists) throw new ProvisionError(`${name} already exists`, 'AlreadyExists');
    try {
      await ctx.services.s3.createBucket({ bucket: name });
    } catch (error) {
      if (error instanceof AwsError && /^BucketAlready/.test(error.code)) {
        throw new ProvisionError(`${name} already exists`, 'AlreadyExists');
      }
      throw serviceFailure(error, 'S3');
    }
    try {
      if (publicAccessBlock(properties) !== undefined) await applyPublicAccessBlock(name, properties, ctx);
    } catch (error) {
      // A half-configured bucket must not be left behind: the resource failed, so it does not exist.
      await ctx.services.s3.deleteBucket({ bucket: name }).catch(() => undefined);
      throw error;
    }
    return { physicalId: name, attributes: bucketAttributes(name, ctx) };
  },

  async update(physicalId, properties, previous, ctx) {
    const before = JSON.stringify(previous.properties.PublicAccessBlockConfiguration ?? null);
    const after = JSON.stringify(properties.PublicAccessBlockConfiguration ?? null);
    if (before !== after) await applyPublicAccessBlock(physicalId, properties, ctx);
    return { attributes: bucketAttributes(physicalId, ctx) };
  },

  importIdentifier: ['BucketName'],

  async read(identifier, ctx) {
    const name = identifier.BucketName ?? '';
    try {
      await ctx.services.s3.headBucket({ bucket: name });
    } catch (error) {
      if (error instanceof AwsError && (error.code === 'NoSuchBucket' || error.status === 404))
        throw new ProvisionError(`Bucket ${name} does not exist`, 'NotFound');
      throw serviceFailure(error, 'S3');
    }
    return { physicalId: name, attributes: bucketAttributes(name, ctx) };
  },

  async delete(physicalId, _properties, ctx) {
    try {
      await ctx.services.s3.deleteBucket({ bucket: physicalId });
    } catch (error) {
      if (error instanceof AwsError && error.code === 'NoSuchBucket') return;
      throw serviceFailure(error, 'S3');
    }
  },
};
