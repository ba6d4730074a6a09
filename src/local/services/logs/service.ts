/** CloudWatch Logs as the services list declares it: AWS JSON 1.1, `Logs_20140328`, signing name `logs`. */
import { defineService } from '../../core/service.js';
import { LogsService } from './log-groups.js';
import { logsOperations } from './wire.js';

export const logsService = defineService({
  name: 'logs',
  displayName: 'CloudWatch Logs',
  signingName: 'logs',
  protocol: { kind: 'json', version: '1.1', targetPrefix: 'Logs_20140328' },
  open: (ctx) => LogsService.open(ctx),
  operations: (logs) => logsOperations(logs),
  close: (logs) => logs.close(),
  stats: (logs) => logs.stats(),
});
