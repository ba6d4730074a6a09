/**
 * EventBridge as the services list declares it: AWS JSON 1.1, `AWSEvents`, signing name `events`.
 * Its schedules start Step Functions executions through the registry's `invoke`, so it opens
 * after Step Functions and closes before it (no firing reaches a closed service).
 */
import { defineService } from '../../core/service.js';
import { EventBridgeService } from './eventbridge-service.js';
import { eventBridgeOperations } from './wire.js';

export const eventBridgeService = defineService({
  name: 'eventbridge',
  displayName: 'EventBridge',
  signingName: 'events',
  protocol: { kind: 'json', version: '1.1', targetPrefix: 'AWSEvents' },
  dependsOn: ['stepfunctions'],
  open: (ctx) => EventBridgeService.open(ctx),
  operations: (events) => eventBridgeOperations(events),
  close: (events) => events.close(),
  stats: (events) => events.stats(),
});
