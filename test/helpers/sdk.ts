/** Helpers for integration tests: asserting on AWS SDK v3 errors, and running the AWS CLI against a local stack. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The members of an SDK service exception the tests look at (S3 adds Key/BucketName). */
export interface SdkError {
  name: string;
  message: string;
  $metadata: { httpStatusCode?: number };
  Key?: string;
  BucketName?: string;
  [member: string]: unknown;
}

/** Awaits a request that must fail and returns its error. */
export async function sdkError(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  assert.fail('expected the request to fail');
}

let awsCli: string | undefined;

/**
 * The AWS CLI's executable. Where pyenv installed it, `aws` on the PATH is a shim that resolves the
 * Python version on every call — as long as the CLI's own start-up — so the real path is used.
 */
export function awsCliPath(): string {
  if (awsCli !== undefined) return awsCli;
  try {
    awsCli = execFileSync('pyenv', ['which', 'aws'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    awsCli = 'aws';
  }
  if (awsCli === '') awsCli = 'aws';
  return awsCli;
}

/** True where the AWS CLI is installed (interop tests skip with a message otherwise). */
export function awsCliAvailable(): boolean {
  try {
    execFileSync(awsCliPath(), ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Environment for the AWS CLI talking to a local stack: its credentials, and no user config. */
export function awsCliEnv(
  stack: { credentials: { accessKeyId: string; secretAccessKey: string }; region: string },
  workDir: string,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: stack.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: stack.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: stack.region,
    AWS_CONFIG_FILE: path.join(workDir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(workDir, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}
