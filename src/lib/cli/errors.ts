/**
 * The CLI's error vocabulary: one error type that carries an exit code, a stable code and the
 * next steps to suggest, plus the exit codes documented in the README. The engines (src/etl,
 * src/sampledata) throw their own error types; `fromEngineError` is the one place that turns them
 * into exit codes and suggestions.
 */
import { EtlError, ItemsError } from '../../etl/errors.js';
import { SampleDataError } from '../../sampledata/errors.js';

export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  jobFailed: 3,
  timedOut: 4,
  /** Ctrl-C (SIGINT), as shells report a process ended by it: 128 + 2. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface MlpipeErrorOptions {
  exit?: ExitCodeValue;
  /** Stable machine-readable code, e.g. `FILE_NOT_FOUND`. Shown in `--json` output. */
  code?: string;
  suggestions?: string[];
  cause?: unknown;
}

/** An error a user can act on: message says what failed and why; suggestions say what to do next. */
export class MlpipeError extends Error {
  readonly exit: ExitCodeValue;
  readonly code: string;
  readonly suggestions: string[];

  constructor(message: string, options: MlpipeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MlpipeError';
    this.exit = options.exit ?? ExitCode.error;
    this.code = options.code ?? 'ERROR';
    this.suggestions = options.suggestions ?? [];
  }
}

export function usageError(message: string, suggestions: string[] = [], code = 'USAGE'): MlpipeError {
  return new MlpipeError(message, { exit: ExitCode.usage, code, suggestions });
}

/**
 * An engine's error as the CLI reports it (same message): a bad ETL spec or an items spec/file
 * that does not fit is a usage error (2), a failed transform a failed job (3), bad catalogue lines
 * an error (1), impossible sample-data options a usage error. Anything else: undefined.
 */
export function fromEngineError(error: unknown): MlpipeError | undefined {
  if (error instanceof MlpipeError) return error;
  if (error instanceof EtlError)
    return new MlpipeError(error.message, {
      exit: error.kind === 'spec' ? ExitCode.usage : ExitCode.jobFailed,
      code: error.code,
      cause: error,
    });
  if (error instanceof ItemsError)
    return new MlpipeError(error.message, {
      exit: error.usage ? ExitCode.usage : ExitCode.error,
      code: error.code,
      suggestions: error.suggestions,
      cause: error,
    });
  if (error instanceof SampleDataError)
    return new MlpipeError(error.message, { exit: ExitCode.usage, code: error.code, cause: error });
  return undefined;
}

/** Shape shared by SDK v3 service exceptions, read structurally so this module needs no SDK import. */
interface SdkErrorLike {
  name?: unknown;
  message?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $fault?: unknown;
}

/**
 * Translates an AWS SDK error (or a network error reaching the endpoint) into an MlpipeError once,
 * here, so commands never format AWS errors themselves.
 */
export function translateAwsError(error: unknown, what: string, endpointHint?: string): MlpipeError {
  const known = fromEngineError(error);
  if (known !== undefined) return known;
  const e = (error ?? {}) as SdkErrorLike & NodeJS.ErrnoException;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : name;
  const status = e.$metadata?.httpStatusCode;
  // Ctrl-C at a question asked during the operation: an interruption, not the operation failing.
  if (name === 'ExitPromptError')
    return new MlpipeError('Interrupted.', { exit: ExitCode.interrupted, code: 'INTERRUPTED', cause: error });
  if (e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || name === 'TimeoutError') {
    return new MlpipeError(
      `${what} failed: could not reach ${endpointHint ?? 'the endpoint'} (${e.code ?? name}).`,
      {
        code: 'ENDPOINT_UNREACHABLE',
        suggestions: [
          'On the local target run `mlpipe local status` and `mlpipe local start`.',
          'On the aws target check --region / --endpoint-url and your network.',
        ],
        cause: error,
      },
    );
  }
  const suggestions: string[] = [];
  if (name === 'CredentialsProviderError' || name === 'ExpiredToken' || name === 'ExpiredTokenException') {
    suggestions.push('Check your AWS credentials: `aws sts get-caller-identity`, or pass --profile.');
  }
  if (
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch' ||
    name === 'UnrecognizedClientException'
  ) {
    suggestions.push(
      'The endpoint refused the credentials. For the local stack use `mlpipe local env` to get its credentials.',
    );
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    suggestions.push(
      'Your AWS identity lacks permission for this action; check the IAM policy of your profile.',
    );
  }
  const statusText = status === undefined ? '' : ` (HTTP ${status})`;
  return new MlpipeError(`${what} failed: ${name}: ${message}${statusText}`, {
    code: `AWS_${name}`,
    suggestions,
    cause: error,
  });
}
