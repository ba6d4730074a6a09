/**
 * S3's REST-XML protocol for the local stack: a signed request (method, path-style URL,
 * sub-resource query, headers, body) is routed to an S3 operation (routes.ts), read into that
 * operation's AWS-shaped input (bindings.ts, request.ts, xml.ts), handed to the S3 service's
 * operation table — the same one `invoke('s3', …)` calls in-process — and its AWS-shaped output or
 * `AwsError` is written back as S3 writes it (`<Error>` documents, request ids). Owns everything
 * HTTP-shaped about S3 and nothing about storage. Operations the local stack does not implement
 * answer 501 NotImplemented naming the operation.
 */
import { randomBytes } from 'node:crypto';
import { AwsError, isDiskFull } from '../../core/errors.js';
import type { OperationTable } from '../../core/service.js';
import type { AwsRequest, AwsResponse } from '../../types.js';
import { BINDINGS } from './bindings.js';
import { S3HttpRequest } from './request.js';
import { operationFor, parseTarget } from './routes.js';
import { xmlDocument } from './xml.js';

export { operationFor } from './routes.js';

/** What the REST binding needs from the stack: S3's operations, its secret, its log. */
export interface S3Endpoint {
  /** The S3 service's AWS operations (services/s3/wire.ts). */
  readonly operations: OperationTable;
  /** Verifies chunk signatures of signed streaming uploads. */
  readonly secretAccessKey: string;
  readonly log: (line: string) => void;
}

/** Handles one S3 REST request; never throws (errors become S3 error responses). */
export async function handleS3Request(req: AwsRequest, endpoint: S3Endpoint): Promise<AwsResponse> {
  try {
    const target = parseTarget(req.rawPath);
    const operation = operationFor(req.method, target, req.query, req.headers);
    if (operation === 'MethodNotAllowed') {
      throw new AwsError(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        405,
        {
          Method: req.method,
          ResourceType:
            target.key !== undefined ? 'OBJECT' : target.bucket !== undefined ? 'BUCKET' : 'SERVICE',
        },
      );
    }
    const binding = Object.hasOwn(BINDINGS, operation) ? BINDINGS[operation] : undefined;
    const handler = Object.hasOwn(endpoint.operations, operation)
      ? endpoint.operations[operation]
      : undefined;
    if (binding === undefined || handler === undefined) {
      throw new AwsError(
        'NotImplemented',
        `The mlpipe local stack does not implement S3 operation ${operation}.`,
        501,
      );
    }
    const request = new S3HttpRequest(req, target, endpoint.secretAccessKey);
    const output = await handler(await binding.decode(request));
    const response = binding.encode(output, request);
    response.headers['x-amz-request-id'] = req.requestId;
    response.headers['x-amz-id-2'] ??= hostId();
    return response;
  } catch (error) {
    return encodeS3Error(toAwsError(error, req, endpoint), {
      method: req.method,
      requestId: req.requestId,
      resource: req.rawPath,
    });
  }
}

function toAwsError(error: unknown, req: AwsRequest, endpoint: S3Endpoint): AwsError {
  if (error instanceof AwsError) return error;
  // A full disk is the router's to answer (ServiceUnavailable, logged once).
  if (isDiskFull(error)) throw error;
  if (req.body.destroyed && !req.body.readableEnded) {
    // The client went away mid-body; nobody will read this answer, and it is not our fault.
    return new AwsError('IncompleteBody', 'The request body terminated unexpectedly.', 400);
  }
  endpoint.log(
    `s3: internal error in ${req.method} ${req.rawPath}: ${(error as Error)?.stack ?? String(error)}`,
  );
  return new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500);
}

/**
 * S3's `<Error>` document (no body for HEAD and 304, as S3 sends none; a 304 has the ETag and Last-Modified).
 */
export function encodeS3Error(
  error: AwsError,
  req: { method: string; requestId: string; resource?: string },
): AwsResponse {
  const headers: Record<string, string> = { 'x-amz-request-id': req.requestId, 'x-amz-id-2': hostId() };
  if (error.status === 304) {
    // Not Modified: no body, the object's validators as headers.
    if (error.fields.ETag !== undefined) headers.etag = error.fields.ETag;
    if (error.fields.LastModified !== undefined) headers['last-modified'] = error.fields.LastModified;
    return { status: error.status, headers };
  }
  if (req.method === 'HEAD') return { status: error.status, headers };
  const body: Record<string, unknown> = { Code: error.code, Message: error.message };
  for (const [name, value] of Object.entries(error.fields)) {
    if (/^[A-Za-z][A-Za-z0-9-]*$/.test(name) && !(name in body)) body[name] = value;
  }
  if (req.resource !== undefined && body.Resource === undefined) body.Resource = req.resource;
  body.RequestId = req.requestId;
  body.HostId = headers['x-amz-id-2'];
  headers['content-type'] = 'application/xml';
  return { status: error.status, headers, body: xmlDocument('Error', body, false) };
}

function hostId(): string {
  return randomBytes(24).toString('base64');
}
