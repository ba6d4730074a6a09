/**
 * The layout of a local stack's data dir, shared by the server and the CLI that manages it.
 *
 *   <dataDir>/credentials.json   the stack's own access key, secret, account and region
 *   <dataDir>/server.json        written by the running server: pid, port, endpoint, start time
 *   <dataDir>/server.lock        held (by pid) while a server owns this data dir
 *   <dataDir>/server.log         the server's log (detached servers)
 *   <dataDir>/<service>/         each service's state
 */
import path from 'node:path';

export const localPaths = (dataDir: string) => ({
  credentials: path.join(dataDir, 'credentials.json'),
  serverInfo: path.join(dataDir, 'server.json'),
  lock: path.join(dataDir, 'server.lock'),
  log: path.join(dataDir, 'server.log'),
});

/** Files in the data dir that are about the server, not its data (kept by `local reset`). */
export const SERVER_FILES = ['credentials.json', 'server.json', 'server.lock', 'server.log'] as const;

/** What a running server records in server.json. */
export interface ServerInfo {
  pid: number;
  port: number;
  host: string;
  endpoint: string;
  dataDir: string;
  startedAt: string;
  version: string;
}

/** Internal endpoints (not AWS APIs): no signature needed, no data exposed beyond counts. */
export const HEALTH_PATH = '/_mlpipe/health';
export const STATUS_PATH = '/_mlpipe/status';
