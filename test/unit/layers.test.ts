// The layer rules of eslint.config.js (eslint/layers.js) fail on deliberately wrong imports and
// pass the allowed ones: ESLint runs on fixture sources placed (virtually) in each layer.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The layer errors ESLint reports for `source` as if it were the file at `file`. */
async function layerErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${root}/${file}` });
  return result!.messages.filter((m) => m.ruleId === 'mlpipe/layers').map((m) => m.message);
}

describe('layer lint rules', () => {
  const wrong: [string, string, RegExp][] = [
    [
      'src/local/services/glue/fixture.ts',
      "import { decodeJsonBody } from '../../protocol/json.js';",
      /services never see the wire/,
    ],
    [
      'src/local/services/s3/fixture.ts',
      "import { LocalServer } from '../../server.js';",
      /services never see the wire/,
    ],
    ['src/etl/fixture.ts', "import { MlpipeError } from '../lib/cli/errors.js';", /engines are pure/],
    ['src/datasets/fixture.ts', "import { AwsError } from '../local/core/errors.js';", /engines are pure/],
    ['src/sampledata/fixture.ts', "export * from '../commands/init.js';", /engines are pure/],
    [
      'src/lib/etl/fixture.ts',
      "const runner = await import('../../local/services/glue/runner.js');",
      /through SDK clients, never in-process/,
    ],
    [
      'src/local/core/fixture.ts',
      "import { MlpipeError } from '../../lib/cli/errors.js';",
      /knows nothing of the CLI/,
    ],
    ['src/local/fixture.ts', "import Init from '../commands/init.js';", /knows nothing of the CLI/],
    ['src/lib/cli/fixture.ts', "import Init from '../../commands/init.js';", /do not call commands/],
    [
      'src/lib/local/fixture.ts',
      "import { acquireLock } from '../../local/lock.js';",
      /only through src\/local\/contract\.ts/,
    ],
    [
      'src/commands/fixture.ts',
      "import { localPaths } from '../local/contract.js';",
      /from the lifecycle commands/,
    ],
    [
      'src/lib/data/fixture.ts',
      "import { localPaths } from '../../local/contract.js';",
      /from the lifecycle commands/,
    ],
  ];
  for (const [file, source, reason] of wrong) {
    it(`refuses ${source} in ${file}`, async () => {
      const errors = await layerErrors(file, `${source}\nexport const used = 1;\n`);
      assert.equal(errors.length, 1, `expected one layer error, got ${JSON.stringify(errors)}`);
      assert.match(errors[0]!, reason);
    });
  }

  const allowed: [string, string][] = [
    ['src/lib/local/fixture.ts', "import { localPaths } from '../../local/contract.js';"],
    ['src/local/services/glue/fixture.ts', "import { AwsError } from '../../core/errors.js';"],
    [
      'src/local/services/personalize/fixture.ts',
      "import { readInteractions } from '../../../datasets/interactions.js';",
    ],
    ['src/lib/data/fixture.ts', "import { writeFileAtomic } from '../../shared/atomic-file.js';"],
    ['src/local/server.ts', "import { encodeJsonResult } from './protocol/json.js';"],
    ['src/lib/cli/fixture.ts', "import { EtlError } from '../../etl/errors.js';"],
  ];
  for (const [file, source] of allowed) {
    it(`allows ${source} in ${file}`, async () => {
      assert.deepEqual(await layerErrors(file, `${source}\nexport const used = 1;\n`), []);
    });
  }

  it('the source tree itself has no forbidden edge', async () => {
    const results = await eslint.lintFiles(['src/**/*.ts']);
    const found = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === 'mlpipe/layers').map((m) => `${r.filePath}: ${m.message}`),
    );
    assert.deepEqual(found, []);
  });
});
