/**
 * Raw requests to a local stack, signed with SigV4 by the AWS SDK's own signer and sent with
 * node:http (header values leave as given: a string of Latin-1 characters is sent as those bytes).
 */
import http from 'node:http';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from './botocore.js';

export interface StackLike {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface RawRequest {
  /** Signing name of the credential scope. */
  service: string;
  /** Region of the credential scope (default: the stack's). */
  region?: string;
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Presign (query-string auth) instead of an Authorization header. */
  presign?: { expiresIn: number };
  /** Leave unsigned. */
  unsigned?: boolean;
}

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Signs `request` (as the SDK would) and returns the path with query and the headers to send. */
export async function signRequest(
  stack: StackLike,
  request: RawRequest,
): Promise<{ path: string; headers: Record<string, string> }> {
  const url = new URL(stack.endpoint);
  const base = new HttpRequest({
    method: request.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: request.path,
    query: request.query ?? {},
    headers: { host: url.host, ...request.headers },
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  let signed: HttpRequest = base;
  if (request.unsigned !== true) {
    const signer = new SignatureV4({
      credentials: stack.credentials,
      region: request.region ?? stack.region,
      service: request.service,
      sha256: NodeSha256,
      uriEscapePath: request.service !== 's3',
    });
    signed = (
      request.presign === undefined
        ? await signer.sign(base)
        : await signer.presign(base, { expiresIn: request.presign.expiresIn })
    ) as HttpRequest;
  }
  const query = new URLSearchParams(signed.query as Record<string, string>).toString();
  return {
    path: query === '' ? request.path : `${request.path}?${query}`,
    headers: signed.headers,
  };
}

/** Sends raw bytes as they are; resolves with the status, headers and body text. */
export function send(
  stack: StackLike,
  request: { method: string; path: string; headers: Record<string, string>; body?: string | Buffer },
): Promise<RawReply> {
  const url = new URL(stack.endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A Buffer, never a string: node:http sends a string body in one write with the headers,
    // encoding both as UTF-8, and header values must leave as their Latin-1 bytes.
    req.end(typeof request.body === 'string' ? Buffer.from(request.body) : request.body);
  });
}

/** Signs and sends. */
export async function signedRequest(stack: StackLike, request: RawRequest): Promise<RawReply> {
  const { path, headers } = await signRequest(stack, request);
  delete headers.host;
  return send(stack, {
    method: request.method,
    path,
    headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });
}
