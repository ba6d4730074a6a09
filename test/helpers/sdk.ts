/** Helpers for asserting on AWS SDK v3 errors in integration tests. */
import assert from 'node:assert/strict';

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
