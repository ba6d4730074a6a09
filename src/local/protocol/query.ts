/**
 * AWS Query protocol codec (form-encoded `Action=…&Version=…` POSTs, XML responses), used by
 * CloudFormation. This module owns the error envelope; operation bodies come with the service.
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { AwsResponse } from '../types.js';
import type { AwsError } from './errors.js';

const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false });

export function decodeQueryBody(body: Buffer): URLSearchParams {
  return new URLSearchParams(body.toString('utf8'));
}

export function encodeQueryError(error: AwsError, requestId: string, xmlns: string): AwsResponse {
  const xml = builder.build({
    ErrorResponse: {
      '@_xmlns': xmlns,
      Error: {
        Type: error.isServerFault ? 'Receiver' : 'Sender',
        Code: error.code,
        Message: error.message,
      },
      RequestId: requestId,
    },
  }) as string;
  return {
    status: error.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`,
  };
}
