import { prose } from '../lib/cli/prose.js';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { listDatasetGroups, type DatasetGroupView } from '../lib/personalize/imports.js';
import { renderTable } from '../lib/cli/ui.js';

export default class Datasets extends MlpipeCommand<typeof Datasets> {
  static override summary = 'List Personalize dataset groups, their datasets and latest imports.';
  static override description = prose`One line per dataset: its group, type and status, and its latest import job with that job's
status, mode and time. Failed imports are followed by their failure reason. A dataset group
without datasets is listed too. --json prints the same as a document.`;
  static override examples = ['<%= config.bin %> datasets', '<%= config.bin %> datasets --json'];

  async run(): Promise<{ datasetGroups: DatasetGroupView[] }> {
    const clients = await this.clients();
    const groups = await listDatasetGroups(clients);
    if (groups.length === 0) {
      this.log('No dataset groups. Deploy the Personalize stack: `mlpipe deploy`.');
      return { datasetGroups: groups };
    }
    type Row = Record<string, string | null>;
    const rows = groups.flatMap((group): Row[] =>
      group.datasets.length === 0
        ? [
            {
              group: group.name,
              dataset: `(none; group ${group.status})`,
              type: null,
              status: null,
              job: null,
              jobStatus: null,
              mode: null,
              updated: null,
            },
          ]
        : group.datasets.map((d) => ({
            group: group.name,
            dataset: d.name,
            type: d.type,
            status: d.status,
            job: d.latestImport?.name ?? '(no imports)',
            jobStatus: d.latestImport?.status ?? null,
            mode: d.latestImport?.mode ?? null,
            updated: d.latestImport?.updated ?? d.updated,
          })),
    );
    this.log(
      renderTable(rows, [
        { key: 'group', header: 'DATASET GROUP', kind: 'name', drop: 3 },
        { key: 'dataset', header: 'DATASET', kind: 'name' },
        { key: 'type', header: 'TYPE', drop: 1 },
        { key: 'status', header: 'STATUS', drop: 2 },
        { key: 'job', header: 'LATEST IMPORT', kind: 'name' },
        { key: 'jobStatus', header: 'IMPORT STATUS' },
        { key: 'mode', header: 'MODE', drop: 4 },
        { key: 'updated', header: 'UPDATED', kind: 'time' },
      ]),
    );
    for (const group of groups)
      for (const d of group.datasets)
        if (d.latestImport?.failureReason)
          this.log(`\n${d.latestImport.name} failed: ${d.latestImport.failureReason}`);
    return { datasetGroups: groups };
  }
}
