/**
 * The services list: every service the local stack serves, declared once in its folder's
 * `service.ts`. The router, `local status`, the CloudFormation provisioners (through `invoke`) and
 * the Step Functions task binder all read this list. Adding a service: its folder, and one line
 * here (its `dependsOn` decides when it opens; the order here breaks ties).
 */
import type { ServiceDefinition } from '../core/service.js';
import { cloudFormationService } from './cloudformation/service.js';
import { eventBridgeService } from './eventbridge/service.js';
import { glueService } from './glue/service.js';
import { logsService } from './logs/service.js';
import { personalizeService } from './personalize/service.js';
import { personalizeRuntimeService } from './personalize-runtime/service.js';
import { s3Service } from './s3/service.js';
import { stepFunctionsService } from './stepfunctions/service.js';

export const SERVICES: readonly ServiceDefinition<unknown>[] = [
  s3Service,
  logsService,
  glueService,
  personalizeService,
  personalizeRuntimeService,
  stepFunctionsService,
  eventBridgeService,
  cloudFormationService,
];
