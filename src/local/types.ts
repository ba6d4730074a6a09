/**
 * Types shared by the local stack's server, protocol codecs and services.
 */
import type { Readable } from 'node:stream';

export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What every service of the local stack is given: where its state lives and the stack's identity. */
export interface LocalContext {
  /** Root of the local stack's data dir; each service keeps its state under `<dataDir>/<service>/`. */
  dataDir: string;
  /** Region used in ARNs the stack creates. */
  region: string;
  accountId: string;
  credentials: LocalCredentials;
  /** Injected clock (tests may replace it). */
  now: () => Date;
  /** One line to the server log. */
  log: (line: string) => void;
}

/** A request as the router hands it to a protocol codec, after the signature has been checked. */
export interface AwsRequest {
  requestId: string;
  method: string;
  /** Path as sent on the wire (still percent-encoded), without the query string. */
  rawPath: string;
  /** Query string as sent on the wire, without the leading `?`. */
  rawQuery: string;
  /** Decoded query parameters. */
  query: URLSearchParams;
  /** Header names lower-cased; repeated headers joined with `,`. */
  headers: Record<string, string>;
  /** The request body, unread. For S3 object uploads it is streamed, never buffered whole. */
  body: Readable;
  /**
   * Hex SHA-256 the client signed for the payload (`x-amz-content-sha256`), when it is a real hash
   * rather than `UNSIGNED-PAYLOAD` / `STREAMING-…`. Whoever consumes `body` must check it before
   * committing anything and throw `XAmzContentSHA256Mismatch` (S3) when it differs.
   */
  expectedPayloadSha256: string | undefined;
  /** The SigV4 credential scope's service name (`s3`, `personalize`, …), or undefined if unsigned. */
  signingService: string | undefined;
}

export interface AwsResponse {
  status: number;
  headers: Record<string, string>;
  /** Omitted for empty bodies (HEAD, 204). */
  body?: Buffer | string | Readable;
}
