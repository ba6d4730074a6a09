/**
 * An ETL run's log: on the local stack, the log file the Glue service keeps per run; on AWS, Glue
 * writes run logs to CloudWatch Logs, which this version does not read — it says where they are.
 */
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { MlpipeError } from '../cli/errors.js';

export async function readEtlRunLog(clients: Clients, settings: Settings, runId: string): Promise<string[]> {
  if (clients.connection.target !== 'local') {
    throw new MlpipeError(
      `Glue keeps the log of run ${runId} in CloudWatch Logs, which mlpipe does not read yet.`,
      {
        code: 'LOGS_IN_CLOUDWATCH',
        suggestions: [`aws logs tail /aws-glue/jobs/output --log-stream-name-prefix ${runId}`],
      },
    );
  }
  // Loaded on demand: the Glue runner module pulls in the ETL engine, which other commands never need.
  const { readRunLog } = await import('../../local/services/glue/runner.js');
  const text = await readRunLog(settings.local.dataDir.value, runId);
  if (text === undefined) {
    throw new MlpipeError(`The local stack has no log for run ${runId}.`, {
      code: 'NO_RUN_LOG',
      suggestions: ['List the runs: `mlpipe run-etl --list`.'],
    });
  }
  return text.replace(/\n$/, '').split('\n');
}
