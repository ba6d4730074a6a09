/**
 * CloudFormation as the services list declares it: Query, 2010-05-15, signing name
 * `cloudformation`. Opened last (it provisions resources of every other service, through the
 * registry's `invoke`); closed first, after its stack operations in flight finish.
 */
import { defineService } from '../../core/service.js';
import type { S3Service } from '../s3/s3-service.js';
import { CloudFormationService } from './cloudformation-service.js';
import { CLOUDFORMATION_XMLNS, cloudFormationOperations } from './wire.js';

export const cloudFormationService = defineService({
  name: 'cloudformation',
  displayName: 'CloudFormation',
  signingName: 'cloudformation',
  protocol: { kind: 'query', version: '2010-05-15', xmlns: CLOUDFORMATION_XMLNS },
  dependsOn: ['s3', 'glue', 'personalize', 'stepfunctions', 'eventbridge'],
  open: (ctx) =>
    CloudFormationService.open(ctx, {
      s3: ctx.service<S3Service>('s3'),
      invoke: ctx.invoke,
      clock: ctx.clock,
    }),
  operations: (cloudformation) => cloudFormationOperations(cloudformation),
  close: (cloudformation) => cloudformation.close(),
  stats: (cloudformation) => cloudformation.stats(),
});
