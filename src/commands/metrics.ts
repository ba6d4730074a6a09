import { Flags } from '@oclif/core';
import { prose } from '../lib/cli/prose.js';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { renderTable } from '../lib/cli/ui.js';
import { METRIC_LABELS, metricsReport, type MetricsReport } from '../lib/personalize/solutions.js';

export default class Metrics extends MlpipeCommand<typeof Metrics> {
  static override summary = "Show the latest version's offline metrics beside the popularity baseline.";
  static override description = prose`The metrics Personalize computes for a solution version (GetSolutionMetrics: NDCG,
precision and MRR at 5/10/25 and coverage, on the newest interactions of held-out users) of the latest
ACTIVE version of the project's solutions — or of the version --arn names — beside the latest ACTIVE
version of the popularity baseline and the ratio between them, when a baseline has been trained
(\`mlpipe train --recipe aws-popularity-count\`).`;
  static override examples = [
    '<%= config.bin %> metrics',
    '<%= config.bin %> metrics --arn arn:aws:personalize:us-east-1:000000000000:solution/mlpipe-personalization/1a2b3c4d',
    '<%= config.bin %> metrics --json | jq .ratios.normalized_discounted_cumulative_gain_at_10',
  ];
  static override flags = {
    arn: Flags.string({ description: 'The solution version to show [default: the latest ACTIVE one].' }),
  };

  async run(): Promise<MetricsReport> {
    const clients = await this.clients();
    const report = await metricsReport(clients, this.settings, this.flags.arn);
    const { solution, version, metrics, baseline, ratios } = report;
    this.log(`Solution: ${solution.name} (${solution.recipe}${solution.performHPO ? ', HPO' : ''})`);
    this.log(`Version:  ${version.id} (${version.trainingMode})`);
    if (baseline !== null)
      this.log(
        `Baseline: ${baseline.solution.name} (${baseline.solution.recipe}), version ${baseline.version.id}`,
      );
    this.log('');
    const rows = METRIC_LABELS.filter(([key]) => metrics[key] !== undefined).map(([key, label]) => ({
      metric: label,
      value: metrics[key]!.toFixed(4),
      baseline: baseline?.metrics[key]?.toFixed(4) ?? null,
      ratio: ratios?.[key] == null ? null : `${ratios[key]!.toFixed(2)}×`,
    }));
    const columns = [
      { key: 'metric', header: 'METRIC' },
      { key: 'value', header: 'VALUE' },
      ...(baseline === null
        ? []
        : [
            { key: 'baseline', header: 'BASELINE' },
            { key: 'ratio', header: 'RATIO' },
          ]),
    ];
    this.log(renderTable(rows, columns));
    if (baseline === null)
      this.note(
        `\nNo popularity baseline has been trained to compare with: \`mlpipe train --recipe aws-popularity-count\`.`,
      );
    return report;
  }
}
