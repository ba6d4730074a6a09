/**
 * S3 as the services list declares it: REST-XML (path style), signing name `s3`. Its AWS
 * operations are wire.ts, called in-process by `invoke` and over HTTP by the REST-XML binding
 * (protocol/s3/).
 */
import { defineService } from '../../core/service.js';
import { S3Service } from './s3-service.js';
import { s3Operations } from './wire.js';

export const s3Service = defineService({
  name: 's3',
  displayName: 'S3',
  signingName: 's3',
  protocol: { kind: 'rest-xml' },
  open: (ctx) => S3Service.open(ctx),
  operations: (s3) => s3Operations(s3),
  stats: (s3) => s3.stats(),
});
