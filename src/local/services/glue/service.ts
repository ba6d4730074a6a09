/** Glue as the services list declares it: AWS JSON 1.1, `AWSGlue`; runs need S3 and write to CloudWatch Logs. */
import { defineService } from '../../core/service.js';
import { GlueService } from './glue-jobs.js';
import { glueOperations } from './wire.js';

export const glueService = defineService({
  name: 'glue',
  displayName: 'Glue',
  signingName: 'glue',
  protocol: { kind: 'json', version: '1.1', targetPrefix: 'AWSGlue' },
  dependsOn: ['s3', 'logs'],
  open: (ctx) => GlueService.open(ctx),
  operations: (glue) => glueOperations(glue),
  close: (glue) => glue.close(),
  stats: (glue) => glue.stats(),
});
