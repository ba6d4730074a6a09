/**
 * Runs the built CLI (`bin/run.js`) as a subprocess, as a user would, and captures what it prints.
 */
import { spawn } from 'node:child_process';
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

function unwrapOclifError(stderr: string): string {
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
  },
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  // Never inherit a target or data dir from the developer's shell.
  for (const key of ['MLPIPE_TARGET', 'MLPIPE_LOCAL_DIR', 'MLPIPE_CONFIG', 'MLPIPE_LOCAL_PORT']) {
    if (options.env?.[key] === undefined) delete env[key];
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
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
