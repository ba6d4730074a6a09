// `mlpipe batch-infer` and `mlpipe show-recs` refusing bad input through `bin/run.js`, before they
// ask anything of the target (no local stack is started): a users file that is not JSON Lines of
// {"userId": "…"} (the file and line named), one with no users, --num-results and --limit outside
// their bounds, and --arn combined with what starts a job.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

interface ErrorJson {
  error: { code: string; message: string; suggestions: string[]; exit: number };
}

describe('batch-infer and show-recs refuse bad input before touching the target', () => {
  const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };
  let dir: string;
  const cli = (args: string[]) => runCli(args, { cwd: dir, env });
  const file = (name: string, text: string): string => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-batch-input-'));
  });

  it('names the file and line of a users file that is not JSON Lines of userId strings', async () => {
    const notJson = file('not-json.jsonl', '{"userId": "75"}\n\n{"userId": "78"\n');
    const broken = await cli(['batch-infer', '--users-file', notJson]);
    assert.equal(broken.code, 2, broken.stderr);
    assert.match(
      broken.errorText,
      new RegExp(
        `${notJson.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, line 3: not JSON\\. Each line must be like \\{"userId": "75"\\}\\.`,
      ),
    );
    const numeric = file('numeric.jsonl', '{"userId": "75"}\n{"userId": 78}\n');
    const wrongType = await cli(['batch-infer', '--users-file', numeric, '--json']);
    assert.equal(wrongType.code, 2);
    const error = (JSON.parse(wrongType.stdout) as ErrorJson).error;
    assert.equal(error.exit, 2);
    assert.match(error.message, /numeric\.jsonl, line 2: no "userId" string\. .*\(IDs are strings\)\./);
    const empty = file('empty.jsonl', '\n  \n');
    const none = await cli(['batch-infer', '--users-file', empty]);
    assert.equal(none.code, 2);
    assert.match(none.errorText, /empty\.jsonl has no users: each line must be like \{"userId": "75"\}\./);
    const missing = await cli(['batch-infer', '--users-file', path.join(dir, 'missing.jsonl'), '--json']);
    assert.equal(missing.code, 2);
    const notThere = (JSON.parse(missing.stdout) as ErrorJson).error;
    assert.match(notThere.message, /Cannot read --users-file .*missing\.jsonl: ENOENT/);
    assert.match(notThere.suggestions.join(' '), /Check the path .*--user 75/);
    // Nothing was asked of the target: no local stack was started for these.
    assert.equal(existsSync(path.join(dir, '.mlpipe')), false);
  });

  it('refuses --num-results and --limit outside 1–500, and --arn with what starts a job', async () => {
    for (const n of ['0', '501']) {
      const out = await cli(['batch-infer', '--user', '75', '--num-results', n]);
      assert.equal(out.code, 2, out.stderr);
      assert.match(out.errorText, /--num-results/);
      assert.match(out.errorText, n === '0' ? /greater than or equal to 1/ : /less than or equal to 500/);
    }
    const limit = await cli(['show-recs', '--user', '75', '--limit', '501']);
    assert.equal(limit.code, 2);
    assert.match(limit.errorText, /--limit/);
    const attach = await cli([
      'batch-infer',
      '--arn',
      'arn:aws:personalize:us-east-1:0:batch-inference-job/x',
      '--user',
      '75',
    ]);
    assert.equal(attach.code, 2);
    assert.match(attach.errorText, /--arn attaches to an existing job; it cannot be combined with --user\./);
    const history = await cli(['show-recs', '--item', '2', '--history', '3']);
    assert.equal(history.code, 2);
    assert.match(history.errorText, /--history shows a user's interactions: use it with --user\./);
    assert.equal(existsSync(path.join(dir, '.mlpipe')), false);
  });
});
