import { prose } from '../../lib/cli/prose.js';
import { MlpipeCommand } from '../../lib/cli/base-command.js';
import { describeSettings, type ProjectRootFound } from '../../lib/cli/config.js';
import { renderTable } from '../../lib/cli/ui.js';

export interface ConfigShowResult {
  configFile: string | null;
  /** The project root, and how it was found: its config file, its .mlpipe/, or neither (the cwd). */
  projectDir: string;
  projectFound: ProjectRootFound;
  settings: Array<{ key: string; value: string | number | null; from: string }>;
}

export default class ConfigShow extends MlpipeCommand<typeof ConfigShow> {
  static override summary = 'Print the resolved settings and where each one came from.';
  static override description = prose`Shows target, region, profile, endpoint, bucket, prefixes, stack names and local stack settings
after applying flags, environment variables, the project config file and defaults (in that order).`;
  static override examples = [
    '<%= config.bin %> config show',
    '<%= config.bin %> config show --target aws --region eu-west-1',
    '<%= config.bin %> config show --json',
  ];

  async run(): Promise<ConfigShowResult> {
    const settings = this.settings;
    const rows = describeSettings(settings);
    const how = {
      'config-file': 'found by its config file',
      'mlpipe-dir': 'found by its .mlpipe/ folder',
      cwd: 'no config file or .mlpipe/ at or above the current folder',
    }[settings.projectFound];
    this.log(`Config file:  ${settings.configFile ?? '(none found; using defaults)'}`);
    this.log(`Project root: ${settings.projectDir} (${how})`);
    this.log('');
    this.log(
      renderTable(
        rows.map((r) => ({ ...r, value: r.value === null ? '(unset)' : String(r.value) })),
        [
          { key: 'key', header: 'SETTING' },
          { key: 'value', header: 'VALUE', kind: 'path' },
          { key: 'from', header: 'FROM', kind: 'path' },
        ],
      ),
    );
    return {
      configFile: settings.configFile ?? null,
      projectDir: settings.projectDir,
      projectFound: settings.projectFound,
      settings: rows,
    };
  }
}
