import { prose } from '../lib/cli/prose.js';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { formatDuration, renderTable } from '../lib/cli/ui.js';
import { solutionsReport, type SolutionsReport } from '../lib/personalize/solutions.js';

export default class Solutions extends MlpipeCommand<typeof Solutions> {
  static override summary = 'List the solutions and their versions: status, training time, NDCG@10.';
  static override description = prose`One line per solution version, newest first under each solution of the project's
dataset group (the Personalize stack's solution is marked *): its recipe, the version's id, status,
training mode, training time and offline NDCG@10. Failed versions are followed by their reason.
--json prints the same, with full ARNs and every version's details.`;
  static override examples = ['<%= config.bin %> solutions', '<%= config.bin %> solutions --json'];

  async run(): Promise<SolutionsReport> {
    const clients = await this.clients();
    const report = await solutionsReport(clients, this.settings);
    if (report.solutions.length === 0) {
      this.log('No solutions. Deploy the Personalize stack: `mlpipe deploy`.');
      return report;
    }
    type Row = Record<string, string | null>;
    // The project's solution first, then the others newest first.
    const ordered = [...report.solutions].sort((a, b) => Number(b.project) - Number(a.project));
    const rows = ordered.flatMap((s): Row[] => {
      const name = `${s.project ? '*' : ' '}${s.name}`;
      const recipe = s.recipe.replace(/^aws-/, '') + (s.performHPO ? ' (HPO)' : '');
      if (s.versions.length === 0)
        return [
          { solution: name, recipe, version: '(none)', status: null, mode: null, time: null, ndcg: null },
        ];
      return s.versions.map((v, i) => ({
        // A blank (not '-') under the solution's first line.
        solution: i === 0 ? name : ' ',
        recipe: i === 0 ? recipe : ' ',
        version: v.id,
        status: v.status,
        mode: v.trainingMode,
        time: v.trainingHours === null ? null : formatDuration(v.trainingHours * 3_600_000),
        ndcg: v.ndcgAt10 === null ? null : v.ndcgAt10.toFixed(4),
      }));
    });
    this.log(
      renderTable(rows, [
        { key: 'solution', header: 'SOLUTION', kind: 'name' },
        { key: 'recipe', header: 'RECIPE', kind: 'text', drop: 2 },
        { key: 'version', header: 'VERSION', kind: 'id' },
        { key: 'status', header: 'STATUS' },
        { key: 'mode', header: 'MODE', drop: 1 },
        { key: 'time', header: 'TRAINING' },
        { key: 'ndcg', header: 'NDCG@10' },
      ]),
    );
    for (const s of report.solutions)
      for (const v of s.versions)
        if (v.failureReason !== null) this.log(`\n${s.name}/${v.id} ${v.status}: ${v.failureReason}`);
    return report;
  }
}
