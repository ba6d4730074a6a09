/** What a finished pipeline run says on stdout: its outcome, and what a successful run produced. */
import { formatDuration } from '../cli/ui.js';
import type { ExecutionView } from './executions.js';

/** The metrics a run reports, in this order (Personalize's GetSolutionMetrics keys). */
const SHOWN_METRICS = [
  'normalized_discounted_cumulative_gain_at_10',
  'precision_at_10',
  'mean_reciprocal_rank_at_25',
  'coverage',
];

const SHORT: Record<string, string> = {
  normalized_discounted_cumulative_gain_at_10: 'NDCG@10',
  precision_at_10: 'P@10',
  mean_reciprocal_rank_at_25: 'MRR@25',
  coverage: 'coverage',
};

interface RunOutput {
  runId?: string;
  solutionVersionArn?: string;
  metrics?: Record<string, number>;
  recommendations?: string;
}

export function printExecutionEnd(view: ExecutionView, log: (line: string) => void): void {
  log(`Run:              ${view.name} ${view.status} in ${formatDuration(view.durationMs)}`);
  if (view.status !== 'SUCCEEDED') return;
  const output = (view.output ?? {}) as RunOutput;
  if (output.solutionVersionArn) log(`Solution version: ${output.solutionVersionArn}`);
  if (output.metrics) {
    const shown = SHOWN_METRICS.filter((key) => typeof output.metrics?.[key] === 'number').map(
      (key) => `${SHORT[key]} ${output.metrics![key]!.toFixed(4)}`,
    );
    if (shown.length > 0) log(`Metrics:          ${shown.join('  ')}`);
  }
  if (output.recommendations) log(`Recommendations:  ${output.recommendations}`);
}
