/**
 * Runs the built CLI (`bin/run.js`) as a subprocess, as a user would, and captures what it prints.
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stderr with oclif's error layout undone: ` ›   ` prefixes removed, wrapped lines joined. */
  errorText: string;
}

export function unwrapOclifError(stderr: string): string {
  return stderr
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    .split('\n')
    .map((line) => line.replace(/^ ›\s+/, '').trim())
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export async function runCli(
  args: string[],
  options: {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    input?: string;
    timeoutMs?: number;
    /** Called with all of stderr so far whenever more arrives (to act on what the CLI says). */
    onStderr?: (stderr: string) => void;
    /** Another install's bin/run.js (default: this checkout's). */
    bin?: string;
  },
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  // Never inherit a target or data dir from the developer's shell.
  for (const key of ['MLPIPE_TARGET', 'MLPIPE_LOCAL_DIR', 'MLPIPE_CONFIG', 'MLPIPE_LOCAL_PORT', 'COLUMNS']) {
    if (options.env?.[key] === undefined) delete env[key];
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
      cwd: options.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, errorText: unwrapOclifError(stderr) });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** An S3 client for the project's local stack, configured from `mlpipe local env --json` (starts it if needed). */
export async function localS3Client(cwd: string, env: NodeJS.ProcessEnv): Promise<S3Client> {
  const local = JSON.parse((await runCli(['local', 'env', '--json'], { cwd, env })).stdout) as Record<
    string,
    string
  >;
  return new S3Client({
    endpoint: local.AWS_ENDPOINT_URL,
    region: local.AWS_REGION,
    credentials: { accessKeyId: local.AWS_ACCESS_KEY_ID!, secretAccessKey: local.AWS_SECRET_ACCESS_KEY! },
    forcePathStyle: true,
  });
}

/**
 * The test hooks of a project's local stack (started with MLPIPE_LOCAL_TEST_HOOKS=1 in `env`): hold
 * jobs of a kind in their running status, release them. See docs/architecture.md (test hooks).
 */
export async function localTestHooks(
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ hold(kind: string): Promise<void>; release(kind: string): Promise<void> }> {
  const local = JSON.parse((await runCli(['local', 'env', '--json'], { cwd, env })).stdout) as Record<
    string,
    string
  >;
  const post = async (path: string, kind: string): Promise<void> => {
    const response = await fetch(`${local.AWS_ENDPOINT_URL}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind }),
    });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  };
  return {
    hold: (kind) => post('/_mlpipe/test/hold', kind),
    release: (kind) => post('/_mlpipe/test/release', kind),
  };
}

export interface PtyResult {
  /** Everything written to the terminal, escape sequences included. */
  output: string;
  /** The output with escape sequences and carriage returns removed. */
  text: string;
  code: number | null;
  signal: number | null;
  /** How many of the steps' `expect`s were seen (and their `send`s typed). */
  stepsDone: number;
  /** Where in `output` each step's keys were typed. */
  sentAt: number[];
}

/** Strips terminal escape sequences and carriage returns. */
export function plainText(output: string): string {
  return output.replace(
    new RegExp(`${String.fromCharCode(27)}(\\[[0-9;?]*[ -/]*[@-~]|\\][^\\u0007]*\\u0007)|\\r`, 'g'),
    '',
  );
}

/** The lines a terminal shows: output split at newlines and carriage returns (spinner redraws), escapes removed. */
export function screenLines(output: string): string[] {
  const esc = String.fromCharCode(27);
  return output
    .replace(new RegExp(`${esc}\\[\\d*G`, 'g'), '\r') // cursor to a column: a redraw from the line's start
    .replace(new RegExp(`${esc}(\\[[0-9;?]*[ -/]*[@-~]|\\][^\\u0007]*\\u0007)`, 'g'), '')
    .split(/\r|\n/);
}

let python: string | undefined;

/** python3's own executable: a pyenv shim on the PATH costs as much as Python's start-up on every call. */
function pythonExecutable(): string {
  try {
    return (
      execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim() ||
      'python3'
    );
  } catch {
    return 'python3';
  }
}

/**
 * Runs the CLI in a pseudo-terminal of `cols` × `rows` (0 columns is a terminal that reports no
 * width), typing each step's `send` once the output shows its `expect`: tests wait on what the
 * command prints, never on time. `limitSeconds` only ends a command that hangs.
 */
export async function runCliInPty(
  args: string[],
  options: {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    cols?: number;
    rows?: number;
    steps?: Array<{ expect: string; send: string; watchSeconds?: number }>;
    limitSeconds?: number;
  },
): Promise<PtyResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...options.env };
  for (const key of [
    'MLPIPE_TARGET',
    'MLPIPE_LOCAL_DIR',
    'MLPIPE_CONFIG',
    'MLPIPE_LOCAL_PORT',
    'CI',
    'COLUMNS',
  ]) {
    if (options.env?.[key] === undefined) delete env[key];
  }
  const spec = {
    argv: [process.execPath, BIN, ...args],
    cwd: options.cwd,
    env,
    cols: options.cols ?? 80,
    rows: options.rows ?? 30,
    steps: options.steps ?? [],
    limitSeconds: options.limitSeconds ?? 240,
  };
  const driver = fileURLToPath(new URL('./pty_run.py', import.meta.url));
  python ??= pythonExecutable();
  return new Promise((resolve, reject) => {
    const child = spawn(python!, [driver, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const bytes = Buffer.concat(out);
      const output = bytes.toString('utf8');
      let end: {
        exit: number | null;
        signal: number | null;
        stepsDone: number;
        sentAt: number[];
        limited: boolean;
      };
      try {
        end = JSON.parse(err.slice(err.lastIndexOf('{"exit"'))) as typeof end;
      } catch {
        reject(new Error(`pty driver failed: ${err}`));
        return;
      }
      if (end.limited) {
        reject(
          new Error(
            `mlpipe ${args.join(' ')} was still running after ${spec.limitSeconds}s:\n${plainText(output).slice(-2000)}`,
          ),
        );
        return;
      }
      resolve({
        output,
        text: plainText(output),
        code: end.exit,
        signal: end.signal,
        stepsDone: end.stepsDone,
        sentAt: end.sentAt.map((offset) => bytes.subarray(0, offset).toString('utf8').length),
      });
    });
  });
}
