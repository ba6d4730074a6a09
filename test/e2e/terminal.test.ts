// What a person sees on a terminal, through a pseudo-terminal: deploy's confirmations are never
// drawn over by a spinner, a terminal that reports no width is taken as 80 columns, and tables fit
// the terminal (80 columns by default, the full width when it is wider) while --json keeps every
// value whole.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, runCliInPty } from '../helpers/cli.js';

const env = { MLPIPE_LOCAL_PORT: '0' };
const SPINNER_GLYPHS = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
const ESC = String.fromCharCode(27);

/** The lines a terminal shows: output split at newlines and carriage returns, escapes removed. */
function screenLines(output: string): string[] {
  return output
    .replace(new RegExp(`${ESC}\\[\\d*G`, 'g'), '\r') // cursor to a column: a redraw from the line's start
    .replace(new RegExp(`${ESC}(\\[[0-9;?]*[ -/]*[@-~]|\\][^\\u0007]*\\u0007)`, 'g'), '')
    .split(/\r|\n/);
}

/** The widest line, leaving out the target notice (a path that wraps like any long message). */
function widest(output: string): number {
  return Math.max(
    ...screenLines(output)
      .filter((line) => !line.startsWith('target: '))
      .map((line) => [...line].length),
  );
}

describe('on a terminal', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-terminal-'));
    const generated = await runCli(['sample-data', '--users', '200', '--items', '600', '--ratings', '8000'], {
      cwd: dir,
      env: { ...env, CI: 'true' },
    });
    assert.equal(generated.code, 0, generated.stderr);
  });
  after(async () => {
    await runCli(['local', 'stop'], { cwd: dir, env });
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploy asks for each stack with no spinner drawing over the question, one line per stack', async () => {
    const result = await runCliInPty(['deploy'], {
      cwd: dir,
      env,
      steps: [
        { expect: 'Deploy these changes to mlpipe-datalake\\?', send: 'y\r' },
        // Watch the screen while the second question waits for its answer.
        { expect: 'Deploy these changes to mlpipe-etl\\?', send: 'y\r', watchSeconds: 1.5 },
        { expect: 'Deploy these changes to mlpipe-personalize\\?', send: 'y\r' },
        { expect: 'Deploy these changes to mlpipe-pipeline\\?', send: 'y\r' },
      ],
    });
    assert.equal(result.code, 0, result.text);
    assert.equal(result.stepsDone, 4);
    const question = result.output.lastIndexOf('Deploy these changes to mlpipe-etl?', result.sentAt[1]);
    const whileAsking = result.output.slice(question, result.sentAt[1]);
    assert.doesNotMatch(whileAsking, SPINNER_GLYPHS, 'no spinner frame while the question waits');
    for (const stack of ['mlpipe-datalake', 'mlpipe-etl', 'mlpipe-personalize', 'mlpipe-pipeline'])
      assert.match(result.text, new RegExp(`✔ ${stack}: CREATE_COMPLETE \\(`), `${stack} ends with one line`);
  });

  it('takes a terminal that reports 0 columns as 80: a spinner frame is one line', async () => {
    const uploaded = await runCli(['upload-raw'], { cwd: dir, env: { ...env, CI: 'true' } });
    assert.equal(uploaded.code, 0, uploaded.stderr);
    const result = await runCliInPty(['run-etl'], { cwd: dir, env, cols: 0, limitSeconds: 120 });
    assert.equal(result.code, 0, result.text.slice(-2000));
    assert.match(result.text, /SUCCEEDED/);
    assert.doesNotMatch(result.output, new RegExp(`${ESC}\\[\\d*A`), 'no frame moves the cursor up');
    const frames = screenLines(result.output).filter((line) => SPINNER_GLYPHS.test(line));
    assert.ok(frames.length > 0, 'the spinner was drawn');
    for (const frame of frames) assert.ok([...frame].length <= 80, `a frame fits 80 columns: ${frame}`);
  });

  describe('tables', () => {
    const commands = [['run-etl', '--list'], ['datasets'], ['stacks'], ['config', 'show']];

    it('fit 80 columns on an 80-column terminal and when stdout is not a terminal', async () => {
      for (const args of commands) {
        const onTerminal = await runCliInPty(args, { cwd: dir, env, cols: 80 });
        assert.equal(onTerminal.code, 0, onTerminal.text);
        assert.ok(widest(onTerminal.output) <= 80, `${args.join(' ')}:\n${onTerminal.text}`);
        const piped = await runCli(args, { cwd: dir, env: { ...env, CI: 'true' } });
        assert.equal(piped.code, 0, piped.stderr);
        assert.ok(widest(piped.stdout) <= 80, `${args.join(' ')} | cat:\n${piped.stdout}`);
      }
      const runs = await runCliInPty(['run-etl', '--list'], { cwd: dir, env, cols: 80 });
      assert.match(runs.text, /^jr_[0-9a-f]{7,}\s+SUCCEEDED\s+(just now|\d+[smh] ago)/m, runs.text);
      // A short id re-attaches, as git takes a short hash.
      const short = /^(jr_[0-9a-f]{7,})\s/m.exec(runs.text)![1]!;
      const shown = await runCli(['run-etl', '--run-id', short, '--json'], {
        cwd: dir,
        env: { ...env, CI: 'true' },
      });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match((JSON.parse(shown.stdout) as { runId: string }).runId, /^jr_[0-9a-f]{64}$/);
    });

    it('use the full width of a wider terminal, and --json keeps every value whole', async () => {
      const wide = await runCliInPty(['run-etl', '--list'], { cwd: dir, env, cols: 200 });
      assert.match(
        wide.text,
        /^jr_[0-9a-f]{64}\s+SUCCEEDED\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+s\s+\d/m,
        wide.text,
      );
      const stacks = await runCliInPty(['stacks'], { cwd: dir, env, cols: 200 });
      assert.match(stacks.text, /STACK\s+NAME\s+STATUS\s+LAST UPDATED \(UTC\)/);
      const json = await runCli(['run-etl', '--list', '--json'], { cwd: dir, env: { ...env, CI: 'true' } });
      const list = JSON.parse(json.stdout) as { runs: Array<{ runId: string; startedOn: string }> };
      assert.match(list.runs[0]!.runId, /^jr_[0-9a-f]{64}$/);
      assert.match(list.runs[0]!.startedOn, /^\d{4}-\d\d-\d\dT/);
    });
  });
});
