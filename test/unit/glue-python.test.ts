// The Glue job's Python: both files compile and the spec-handling unit tests (glue/tests) pass with python3.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Bytecode goes to a temporary prefix so glue/ (uploaded to S3 and packaged) gets no __pycache__.
const CACHE = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-pycache-'));
const ENV = { ...process.env, PYTHONPYCACHEPREFIX: CACHE, PYTHONDONTWRITEBYTECODE: '1' };

function python3Available(): boolean {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0;
}

function python(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('python3', args, { cwd: ROOT, env: ENV, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

describe('glue/ Python', () => {
  const available = python3Available();
  after(() => rmSync(CACHE, { recursive: true, force: true }));

  it('py_compile accepts the job and its spec module', (t) => {
    if (!available) {
      t.skip('python3 not installed');
      return;
    }
    const { status, output } = python(['-m', 'py_compile', 'glue/interactions_etl.py', 'glue/etl_spec.py']);
    assert.equal(status, 0, output);
  });

  it('the spec-handling unit tests pass (no Spark needed)', (t) => {
    if (!available) {
      t.skip('python3 not installed');
      return;
    }
    const { status, output } = python(['-m', 'unittest', 'discover', '-s', 'glue/tests']);
    assert.equal(status, 0, output);
    assert.match(output, /\nOK\b/);
  });
});
