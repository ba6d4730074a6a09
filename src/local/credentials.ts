/**
 * The local stack's own identity: an access key pair, account id and default region, created once
 * per data dir and kept in credentials.json (mode 0600). Clients must sign with these keys.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { tempPathFor, writeFileAtomicSync } from '../shared/atomic-file.js';
import { localPaths, readIdentity, type LocalIdentity } from './contract.js';

export { readIdentity, type LocalIdentity } from './contract.js';

export const LOCAL_ACCOUNT_ID = '000000000000';

function randomString(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}

/** Reads the data dir's identity, creating it if absent. Safe when two processes race to create it. */
export function loadOrCreateIdentity(dataDir: string, region: string): LocalIdentity {
  const existing = readIdentity(dataDir);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const identity: LocalIdentity = {
    accessKeyId: `AKIAMLPIPE${randomString('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 10)}`,
    secretAccessKey: randomString('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 40),
    accountId: LOCAL_ACCOUNT_ID,
    region,
  };
  const target = localPaths(dataDir).credentials;
  const tmp = tempPathFor(target);
  writeFileAtomicSync(tmp, JSON.stringify(identity, null, 2) + '\n');
  chmodSync(tmp, 0o600);
  try {
    // link() fails if the file appeared meanwhile: then the other process's identity wins.
    linkSync(tmp, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(tmp);
  }
  return readIdentity(path.resolve(dataDir))!;
}
