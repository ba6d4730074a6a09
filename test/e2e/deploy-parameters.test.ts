// deploy never drops a parameter without a word (issue 10, item 12): where ValidateTemplate reports
// no parameters for a template, the values mlpipe has for it and --parameter overrides are named.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { runCli } from '../helpers/cli.js';

const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };

describe('deploy with a template whose parameters the endpoint does not report', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-deploy-params-'));
  after(async () => {
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('warns naming every parameter it does not pass, and does not refuse the --parameter', async () => {
    // The project's own datalake template, with its values written in: it declares no parameters.
    mkdirSync(path.join(dir, 'templates'));
    writeFileSync(
      path.join(dir, 'templates', 'datalake.yaml'),
      'Resources:\n  Lake:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: fixed-lake\n',
    );
    const result = await runCli(
      ['deploy', '--stack', 'datalake', '--no-execute', '--parameter', 'BucketName=mine', '--json'],
      { cwd: dir, env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.errorText,
      /--parameter BucketName not passed: ValidateTemplate reported no parameters for .*datalake\.yaml, so deploy cannot tell which template declares it\./,
    );
    assert.match(
      result.errorText,
      /not passing ProjectName, BucketName, RawPrefix, TransformedPrefix, ItemsPrefix, BatchInputPrefix, RecommendationsPrefix: ValidateTemplate does not report them as declared by .*datalake\.yaml, so the template's own values apply\./,
    );
    const stacks = (JSON.parse(result.stdout) as { stacks: Array<{ key: string; result: string }> }).stacks;
    assert.deepEqual(
      stacks.map((s) => [s.key, s.result]),
      [['datalake', 'change-set-created']],
    );
    // The stack is only in review: a deploy adds its own CREATE change set and executes it
    // (the one left in review is deleted with it), without deleting the stack first.
    const local = JSON.parse((await runCli(['local', 'env', '--json'], { cwd: dir, env })).stdout) as Record<
      string,
      string
    >;
    const cfn = new CloudFormationClient({
      endpoint: local.AWS_ENDPOINT_URL,
      region: local.AWS_REGION,
      credentials: { accessKeyId: local.AWS_ACCESS_KEY_ID!, secretAccessKey: local.AWS_SECRET_ACCESS_KEY! },
    });
    const stackId = async (): Promise<string | undefined> =>
      (await cfn.send(new DescribeStacksCommand({ StackName: 'mlpipe-datalake' }))).Stacks?.[0]?.StackId;
    const inReview = await stackId();
    const deployed = await runCli(['deploy', '--stack', 'datalake', '--yes', '--json'], { cwd: dir, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    const after = JSON.parse(deployed.stdout) as {
      stacks: Array<{ key: string; result: string; status: string }>;
    };
    assert.deepEqual(
      after.stacks.map((s) => [s.key, s.result, s.status]),
      [['datalake', 'created', 'CREATE_COMPLETE']],
    );
    assert.equal(await stackId(), inReview, 'the same stack, not a replacement');
    cfn.destroy();
  });
});
