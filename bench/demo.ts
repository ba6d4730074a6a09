/**
 * `mlpipe demo` at sample size in a fresh folder, then again (the re-run): wall time, the time of
 * each step, and of the pipeline's run the share spent in its Wait states (polling) rather than in
 * work. Ratios: the demo against its own pipeline run (what the other steps add), and waiting
 * against the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { report } from './report.js';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));

interface DemoJson {
  steps: { step: string; seconds: number }[];
  execution: { execution: { durationMs: number; states: { type: string; durationMs: number }[] } };
  seconds: number;
}

function demo(dir: string, label: string): void {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [BIN, 'demo', '--json'], {
    cwd: dir,
    env: { ...process.env, MLPIPE_LOCAL_PORT: '0', CI: 'true' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0)
    throw new Error(`mlpipe demo exited ${result.status}: ${result.stderr.slice(-2000)}`);
  const out = JSON.parse(result.stdout) as DemoJson;
  const run = out.execution.execution;
  const waiting = run.states.filter((s) => s.type === 'Wait').reduce((sum, s) => sum + s.durationMs, 0);
  report(`demo: ${label}`, {
    wall_ms: wallMs,
    pipeline_ms: run.durationMs,
    ratio_to_pipeline: wallMs / run.durationMs,
    waiting_share: waiting / run.durationMs,
    aim: '< 30 s',
  });
  report(
    `demo: ${label} steps`,
    Object.fromEntries(out.steps.map((s) => [s.step.replace(/ /g, '_'), `${s.seconds.toFixed(1)}s`])),
  );
}

export async function benchDemo(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-bench-demo-'));
  try {
    demo(dir, 'first run');
    demo(dir, 're-run');
  } finally {
    spawnSync(process.execPath, [BIN, 'local', 'stop'], { cwd: dir, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
  await Promise.resolve();
}
