// Layout helpers of the terminal UI that need no terminal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayPath, startSpinner, wrapList } from '../../src/lib/cli/ui.js';

describe('wrapList', () => {
  const steps = [
    'sample data 726ms',
    'deploy 5.6s',
    'upload 249ms',
    'pipeline 6.2s',
    'baseline 655ms',
    'metrics 122ms',
    'recommendations 541ms',
  ];

  it('breaks between items to fit the width, never inside one, keeping every item in order', () => {
    for (const width of [80, 60, 40, 30]) {
      const text = wrapList('Done in 14.4s: ', steps, width, '.');
      const lines = text.split('\n');
      for (const line of lines) assert.ok(line.length <= width, `${width}: "${line}"`);
      assert.ok(
        lines.slice(1).every((line) => line.startsWith('  ')),
        'later lines indented',
      );
      assert.equal(
        lines.map((line) => line.trim()).join(' '),
        `Done in 14.4s: ${steps.join(', ')}.`,
        `${width}: nothing lost or split`,
      );
    }
    assert.equal(
      wrapList('Done in 14.4s: ', steps, 80, '.'),
      'Done in 14.4s: sample data 726ms, deploy 5.6s, upload 249ms, pipeline 6.2s,\n' +
        '  baseline 655ms, metrics 122ms, recommendations 541ms.',
    );
  });

  it('keeps a short list on one line and an item wider than the width whole', () => {
    assert.equal(wrapList('Done: ', ['a 1s', 'b 2s'], 80, '.'), 'Done: a 1s, b 2s.');
    assert.equal(wrapList('Done: ', ['a-very-long-item', 'b'], 10), 'Done:\n  a-very-long-item,\n  b');
  });
});

describe('displayPath', () => {
  it('shows a path inside the cwd relative to it, one in the home folder under ~, others whole', () => {
    const cwd = '/home/me/movies';
    const home = '/home/me';
    assert.equal(displayPath('/home/me/movies/.mlpipe/local', cwd, home), '.mlpipe/local');
    assert.equal(displayPath('.mlpipe/local', cwd, home), '.mlpipe/local');
    assert.equal(displayPath('/home/me/movies', cwd, home), '.');
    assert.equal(displayPath('/home/me/other/.mlpipe/local', cwd, home), '~/other/.mlpipe/local');
    assert.equal(displayPath('/srv/lake/.mlpipe/local', cwd, home), '/srv/lake/.mlpipe/local');
    // A sibling whose name starts with ".." is still inside the cwd.
    assert.equal(displayPath('/home/me/movies/..data/x', cwd, home), '..data/x');
    // From a subfolder, the project above is named whole (under ~), not as ../..
    assert.equal(
      displayPath('/home/me/movies/.mlpipe/local', '/home/me/movies/data', home),
      '~/movies/.mlpipe/local',
    );
    // A home of / (some containers) does not turn every path into ~.
    assert.equal(displayPath('/srv/x', '/tmp', '/'), '/srv/x');
  });
});

describe('startSpinner off a terminal', () => {
  const capture = () => {
    const lines: string[] = [];
    const stderr = {
      isTTY: false,
      write: (chunk: string) => lines.push(chunk),
    } as unknown as NodeJS.WriteStream;
    return { lines, options: { json: false, stderr, env: {} } };
  };

  it('prints a line per status, and the final line once even when the spinner starts at it', async () => {
    const started = capture();
    const spinner = await startSpinner('mlpipe-pipeline: UPDATE_COMPLETE (110ms)', started.options);
    spinner.succeed('mlpipe-pipeline: UPDATE_COMPLETE (110ms)');
    assert.deepEqual(started.lines, ['mlpipe-pipeline: UPDATE_COMPLETE (110ms)\n']);

    const run = capture();
    const etl = await startSpinner('etl jr_1: RUNNING (1s)', run.options);
    etl.update('etl jr_1: RUNNING (2s)');
    etl.print('rows 1,000');
    etl.succeed('etl jr_1: SUCCEEDED in 3s');
    assert.deepEqual(run.lines, ['etl jr_1: RUNNING (1s)\n', 'rows 1,000\n', 'etl jr_1: SUCCEEDED in 3s\n']);
  });
});
