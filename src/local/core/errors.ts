/**
 * The typed AWS error every local service throws (and the registry's in-process `invoke` rejects
 * with). It belongs to no protocol: the codecs in protocol/ turn it into their wire form —
 * `{"__type","message"}` for AWS JSON, `<Error>` for S3, `<ErrorResponse>` for Query.
 */
export class AwsError extends Error {
  /**
   * @param code AWS error code, e.g. `NoSuchKey`, `ResourceNotFoundException`.
   * @param status HTTP status the service sends (400 unless AWS uses another).
   * @param fields Extra members AWS puts in the error body (S3: `Key`, `BucketName`, …).
   */
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }

  /** Server faults (5xx) are the service's fault, not the caller's. */
  get isServerFault(): boolean {
    return this.status >= 500;
  }
}

export function isAwsError(error: unknown): error is AwsError {
  return error instanceof AwsError;
}

/**
 * True for a write that failed because the disk (or the owner's quota) is full. The router answers
 * it with ServiceUnavailable and logs it once; codecs pass it on rather than calling it internal.
 */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const cause = (error as { cause?: NodeJS.ErrnoException } | undefined)?.cause?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || cause === 'ENOSPC' || cause === 'EDQUOT';
}
