/**
 * Step Functions as the services list declares it: AWS JSON 1.0, `AWSStepFunctions`, signing name
 * `states`. Its Task states call Glue and Personalize in-process, so it opens after them and closes
 * before them (running executions end first, stopping the Glue runs they wait for).
 */
import { defineService } from '../../core/service.js';
import type { GlueService } from '../glue/glue-jobs.js';
import { glueOperations } from '../glue/wire.js';
import type { PersonalizeService } from '../personalize/dataset-resources.js';
import { personalizeOperations } from '../personalize/wire.js';
import { DEFAULT_TIME_SCALE, servicesFromTables, systemClock } from './ports.js';
import { StepFunctionsService } from './stepfunctions-service.js';
import { stepFunctionsOperations } from './wire.js';

export const stepFunctionsService = defineService({
  name: 'stepfunctions',
  displayName: 'Step Functions',
  signingName: 'states',
  protocol: { kind: 'json', version: '1.0', targetPrefix: 'AWSStepFunctions' },
  dependsOn: ['glue', 'personalize'],
  open: (ctx) =>
    StepFunctionsService.open({
      dataDir: ctx.dataDir,
      region: ctx.region,
      accountId: ctx.accountId,
      clock: systemClock(),
      timeScale: DEFAULT_TIME_SCALE,
      services: servicesFromTables({
        glue: glueOperations(ctx.service<GlueService>('glue')),
        personalize: personalizeOperations(ctx.service<PersonalizeService>('personalize')),
      }),
      log: ctx.log,
    }),
  operations: (sfn) => stepFunctionsOperations(sfn),
  close: (sfn) => sfn.close(),
  stats: (sfn) => sfn.stats(),
});
