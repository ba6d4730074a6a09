/**
 * Starts a real local stack server in this process on 127.0.0.1, port 0, in a fresh temp data
 * dir, for integration tests that drive it with real SDK clients and the AWS CLI.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/local/core/clock.js';
import type { ServiceDefinition } from '../../src/local/core/service.js';
import { loadOrCreateIdentity } from '../../src/local/credentials.js';
import { LocalServer } from '../../src/local/server.js';

export interface TestStack {
  endpoint: string;
  port: number;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  dataDir: string;
  server: LocalServer;
  /** Log lines the server wrote. */
  logs: string[];
  /** Stops the server; with `keepData` the data dir stays for a restart test. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function startTestStack(
  options: {
    dataDir?: string;
    /** A clock the test drives (ManualClock); default: the scaled clock at the default scale. */
    clock?: Clock;
    /** The services to serve; default: the services list. */
    services?: readonly ServiceDefinition<unknown>[];
    /** Stalled-client limits in ms (default: the server's). */
    headersTimeoutMs?: number;
    idleTimeoutMs?: number;
  } = {},
): Promise<TestStack> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'mlpipe-test-')));
  const identity = loadOrCreateIdentity(dataDir, 'us-east-1');
  const logs: string[] = [];
  const server = await LocalServer.create({
    dataDir,
    identity,
    version: 'test',
    log: (line) => logs.push(line),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.services === undefined ? {} : { services: options.services }),
    ...(options.headersTimeoutMs === undefined ? {} : { headersTimeoutMs: options.headersTimeoutMs }),
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
  });
  const port = await server.listen(0);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    region: identity.region,
    credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey },
    dataDir,
    server,
    logs,
    async stop({ keepData = false } = {}) {
      await server.close();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Client config for SDK v3 clients pointed at a test stack. */
export function sdkConfig(stack: TestStack): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle: boolean;
} {
  return {
    endpoint: stack.endpoint,
    region: stack.region,
    credentials: stack.credentials,
    forcePathStyle: true,
  };
}
