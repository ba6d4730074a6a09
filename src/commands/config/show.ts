import { prose } from '../../lib/cli/prose.js';
import { MlpipeCommand } from '../../lib/cli/base-command.js';
import { describeSettings } from '../../lib/cli/config.js';
import { renderTable } from '../../lib/cli/ui.js';

export interface ConfigShowResult {
  configFile: string | null;
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
    this.log(`Config file: ${settings.configFile ?? '(none found; using defaults)'}`);
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
    return { configFile: settings.configFile ?? null, settings: rows };
  }
}
