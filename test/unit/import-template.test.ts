// The template deploy's adoption imports a kept bucket with: the bucket as the stack template
// declares it, the parameters it reads, nothing else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bucketImportTemplate } from '../../src/lib/infra/import-template.js';

const DATALAKE = path.join(import.meta.dirname, '../../templates/datalake.yaml');

describe('bucketImportTemplate', () => {
  it('keeps the data-lake bucket as declared, with the parameters it reads and no outputs', () => {
    const result = bucketImportTemplate(readFileSync(DATALAKE, 'utf8'), 'DataLakeBucket', DATALAKE);
    const template = JSON.parse(result.body) as {
      Parameters: Record<string, unknown>;
      Resources: Record<
        string,
        { Type: string; DeletionPolicy: string; Properties: Record<string, unknown> }
      >;
      Outputs?: unknown;
    };
    assert.deepEqual(result.parameterKeys, ['BucketName', 'ProjectName']);
    assert.deepEqual(Object.keys(template.Parameters).sort(), ['BucketName', 'ProjectName']);
    assert.deepEqual(Object.keys(template.Resources), ['DataLakeBucket']);
    const bucket = template.Resources.DataLakeBucket!;
    assert.equal(bucket.Type, 'AWS::S3::Bucket');
    assert.equal(bucket.DeletionPolicy, 'Retain');
    assert.deepEqual(bucket.Properties.BucketName, { Ref: 'BucketName' });
    assert.deepEqual(bucket.Properties.Tags, [{ Key: 'mlpipe:project', Value: { Ref: 'ProjectName' } }]);
    assert.equal(template.Outputs, undefined);
  });

  it('reads Fn::Sub references, and says why a bucket that needs other resources cannot be imported alone', () => {
    const body = `Parameters:
  Project: {Type: String}
Resources:
  Key:
    Type: AWS::KMS::Key
  Lake:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '\${Project}-lake-\${AWS::Region}'
`;
    assert.deepEqual(bucketImportTemplate(body, 'Lake', 'lake.yaml').parameterKeys, ['Project']);
    const needsKey = body.replace(
      "BucketName: !Sub '${Project}-lake-${AWS::Region}'",
      'BucketName: !GetAtt Key.Arn',
    );
    assert.throws(
      () => bucketImportTemplate(needsKey, 'Lake', 'lake.yaml'),
      /The bucket Lake in lake\.yaml cannot be imported on its own: its declaration refers to Key\./,
    );
    assert.throws(
      () => bucketImportTemplate(body, 'Key', 'lake.yaml'),
      /Template lake\.yaml declares no AWS::S3::Bucket named Key to import\./,
    );
  });
});
