/**
 * Step Functions as the services list declares it: AWS JSON 1.0, `AWSStepFunctions`, signing name
 * `states`. Its Task states call Glue and Personalize through the registry's `invoke`, so it opens
 * after them and closes before them (running executions end first, stopping the Glue runs they
 * wait for).
 */
import { defineService } from '../../core/service.js';
import { StepFunctionsService } from './stepfunctions-service.js';
import { stepFunctionsOperations } from './wire.js';

export const stepFunctionsService = defineService({
  name: 'stepfunctions',
  displayName: 'Step Functions',
  signingName: 'states',
  protocol: { kind: 'json', version: '1.0', targetPrefix: 'AWSStepFunctions' },
  dependsOn: ['glue', 'personalize'],
  open: (ctx) => StepFunctionsService.open(ctx),
  operations: (sfn) => stepFunctionsOperations(sfn),
  close: (sfn) => sfn.close(),
  stats: (sfn) => sfn.stats(),
});
