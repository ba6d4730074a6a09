/**
 * S3's REST routing: which operation a request is for, from its method, path-style path
 * (`/bucket/key`), sub-resource query parameters and (for copies) the `x-amz-copy-source` header —
 * implemented or not, so a request for one the local stack does not serve is answered
 * NotImplemented by name. The table follows S3's model.
 */
import { AwsError } from '../../core/errors.js';

// --- Operation table: method + sub-resource → operation name (from S3's model)

const BUCKET_SUBRESOURCES: Record<string, Record<string, string>> = {
  GET: {
    abac: 'GetBucketAbac',
    accelerate: 'GetBucketAccelerateConfiguration',
    acl: 'GetBucketAcl',
    analytics: 'GetBucketAnalyticsConfiguration',
    cors: 'GetBucketCors',
    encryption: 'GetBucketEncryption',
    'intelligent-tiering': 'GetBucketIntelligentTieringConfiguration',
    inventory: 'GetBucketInventoryConfiguration',
    lifecycle: 'GetBucketLifecycleConfiguration',
    location: 'GetBucketLocation',
    logging: 'GetBucketLogging',
    metadataConfiguration: 'GetBucketMetadataConfiguration',
    metadataTable: 'GetBucketMetadataTableConfiguration',
    metrics: 'GetBucketMetricsConfiguration',
    notification: 'GetBucketNotificationConfiguration',
    'object-lock': 'GetObjectLockConfiguration',
    ownershipControls: 'GetBucketOwnershipControls',
    policy: 'GetBucketPolicy',
    policyStatus: 'GetBucketPolicyStatus',
    publicAccessBlock: 'GetPublicAccessBlock',
    replication: 'GetBucketReplication',
    requestPayment: 'GetBucketRequestPayment',
    session: 'CreateSession',
    tagging: 'GetBucketTagging',
    uploads: 'ListMultipartUploads',
    versioning: 'GetBucketVersioning',
    versions: 'ListObjectVersions',
    website: 'GetBucketWebsite',
  },
  PUT: {
    abac: 'PutBucketAbac',
    accelerate: 'PutBucketAccelerateConfiguration',
    acl: 'PutBucketAcl',
    analytics: 'PutBucketAnalyticsConfiguration',
    cors: 'PutBucketCors',
    encryption: 'PutBucketEncryption',
    'intelligent-tiering': 'PutBucketIntelligentTieringConfiguration',
    inventory: 'PutBucketInventoryConfiguration',
    lifecycle: 'PutBucketLifecycleConfiguration',
    logging: 'PutBucketLogging',
    metadataInventoryTable: 'UpdateBucketMetadataInventoryTableConfiguration',
    metadataJournalTable: 'UpdateBucketMetadataJournalTableConfiguration',
    metrics: 'PutBucketMetricsConfiguration',
    notification: 'PutBucketNotificationConfiguration',
    'object-lock': 'PutObjectLockConfiguration',
    ownershipControls: 'PutBucketOwnershipControls',
    policy: 'PutBucketPolicy',
    publicAccessBlock: 'PutPublicAccessBlock',
    replication: 'PutBucketReplication',
    requestPayment: 'PutBucketRequestPayment',
    tagging: 'PutBucketTagging',
    versioning: 'PutBucketVersioning',
    website: 'PutBucketWebsite',
  },
  DELETE: {
    analytics: 'DeleteBucketAnalyticsConfiguration',
    cors: 'DeleteBucketCors',
    encryption: 'DeleteBucketEncryption',
    'intelligent-tiering': 'DeleteBucketIntelligentTieringConfiguration',
    inventory: 'DeleteBucketInventoryConfiguration',
    lifecycle: 'DeleteBucketLifecycle',
    metadataConfiguration: 'DeleteBucketMetadataConfiguration',
    metadataTable: 'DeleteBucketMetadataTableConfiguration',
    metrics: 'DeleteBucketMetricsConfiguration',
    ownershipControls: 'DeleteBucketOwnershipControls',
    policy: 'DeleteBucketPolicy',
    publicAccessBlock: 'DeletePublicAccessBlock',
    replication: 'DeleteBucketReplication',
    tagging: 'DeleteBucketTagging',
    website: 'DeleteBucketWebsite',
  },
  POST: {
    delete: 'DeleteObjects',
    metadataConfiguration: 'CreateBucketMetadataConfiguration',
    metadataTable: 'CreateBucketMetadataTableConfiguration',
  },
};

/** GET sub-resources that list when no `id` names one configuration. */
const LISTABLE: Record<string, string> = {
  analytics: 'ListBucketAnalyticsConfigurations',
  'intelligent-tiering': 'ListBucketIntelligentTieringConfigurations',
  inventory: 'ListBucketInventoryConfigurations',
  metrics: 'ListBucketMetricsConfigurations',
};

const OBJECT_SUBRESOURCES: Record<string, Record<string, string>> = {
  GET: {
    acl: 'GetObjectAcl',
    attributes: 'GetObjectAttributes',
    'legal-hold': 'GetObjectLegalHold',
    retention: 'GetObjectRetention',
    tagging: 'GetObjectTagging',
    torrent: 'GetObjectTorrent',
    uploadId: 'ListParts',
  },
  PUT: {
    acl: 'PutObjectAcl',
    encryption: 'UpdateObjectEncryption',
    'legal-hold': 'PutObjectLegalHold',
    renameObject: 'RenameObject',
    retention: 'PutObjectRetention',
    tagging: 'PutObjectTagging',
  },
  DELETE: { tagging: 'DeleteObjectTagging', uploadId: 'AbortMultipartUpload' },
  POST: {
    uploads: 'CreateMultipartUpload',
    uploadId: 'CompleteMultipartUpload',
    restore: 'RestoreObject',
    select: 'SelectObjectContent',
  },
};

export interface Target {
  bucket: string | undefined;
  key: string | undefined;
}

/** Names the S3 operation a request is for (implemented or not). */
export function operationFor(
  method: string,
  target: Target,
  query: URLSearchParams,
  headers: Record<string, string>,
): string {
  if (target.bucket === undefined) return method === 'GET' ? 'ListBuckets' : 'MethodNotAllowed';
  if (target.key === undefined) {
    const table = BUCKET_SUBRESOURCES[method] ?? {};
    for (const [subresource, operation] of Object.entries(table)) {
      if (!query.has(subresource)) continue;
      if (method === 'GET' && LISTABLE[subresource] !== undefined && !query.has('id'))
        return LISTABLE[subresource]!;
      return operation;
    }
    switch (method) {
      case 'GET':
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      case 'HEAD':
        return 'HeadBucket';
      case 'PUT':
        return 'CreateBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'POST':
        return 'PostObject';
      default:
        return 'MethodNotAllowed';
    }
  }
  const table = OBJECT_SUBRESOURCES[method] ?? {};
  for (const [subresource, operation] of Object.entries(table)) {
    if (query.has(subresource)) return operation;
  }
  const copy = headers['x-amz-copy-source'] !== undefined;
  switch (method) {
    case 'GET':
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'PUT':
      if (query.has('partNumber') && query.has('uploadId')) return copy ? 'UploadPartCopy' : 'UploadPart';
      return copy ? 'CopyObject' : 'PutObject';
    case 'DELETE':
      return 'DeleteObject';
    default:
      return 'MethodNotAllowed';
  }
}

/** Splits a path-style path into bucket and key (percent-decoded; keys may contain anything). */
export function parseTarget(rawPath: string): Target {
  if (!rawPath.startsWith('/')) throw invalidUri(rawPath);
  const rest = rawPath.slice(1);
  if (rest === '') return { bucket: undefined, key: undefined };
  const slash = rest.indexOf('/');
  const bucket = decode(slash < 0 ? rest : rest.slice(0, slash), rawPath);
  const key = slash < 0 ? '' : decode(rest.slice(slash + 1), rawPath);
  return { bucket, key: key === '' ? undefined : key };
}

function decode(value: string, rawPath: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw invalidUri(rawPath);
  }
}

function invalidUri(rawPath: string): AwsError {
  return new AwsError('InvalidURI', "Couldn't parse the specified URI.", 400, { URI: rawPath });
}
