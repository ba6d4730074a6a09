/**
 * `show-recs` lookup on a 100,000-line batch output: the record of the user on the last line,
 * found as the command finds it (the .out object streamed from the local stack's S3 line by line,
 * a substring test before parsing), against the baseline of reading the same file from local disk
 * whole and scanning its lines in this process.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readIdentity } from '../src/local/contract.js';
import { Clients } from '../src/lib/cli/clients.js';
import { findRecord } from '../src/lib/recs/batch-output.js';
import { median, report } from './report.js';
import { builtLocalStack } from './stack.js';

const LINES = 100_000;

export async function benchShowRecs(): Promise<void> {
  const { startLocalStack, stopLocalStack } = await builtLocalStack();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlpipe-bench-show-recs-'));
  const dataDir = path.join(dir, 'local');
  try {
    const lines: string[] = [];
    for (let u = 0; u < LINES; u++) {
      const items = Array.from({ length: 25 }, (_, i) => `"${(u * 31 + i * 7) % 10_000}"`).join(',');
      const scores = Array.from({ length: 25 }, (_, i) => (0.05 / (i + 1)).toFixed(7)).join(',');
      lines.push(
        `{"input":{"userId":"${u}"},"output":{"recommendedItems":[${items}],"scores":[${scores}]},"error":null}`,
      );
    }
    const body = `${lines.join('\n')}\n`;
    const file = path.join(dir, 'users.jsonl.out');
    await fs.writeFile(file, body);
    const { info } = await startLocalStack({ dataDir, port: 0, portFallback: false, region: 'us-east-1' });
    const credentials = readIdentity(dataDir)!;
    const s3 = new S3Client({
      endpoint: info.endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'bench', Key: 'recommendations/run/users.jsonl.out', Body: body }),
    );
    const clients = new Clients({
      target: 'local',
      region: 'us-east-1',
      endpoint: info.endpoint,
      credentials,
      profile: undefined,
    });
    const wanted = String(LINES - 1);
    const lookups: number[] = [];
    const baselines: number[] = [];
    for (let run = 0; run < 6; run++) {
      let started = process.hrtime.bigint();
      const found = await findRecord(clients, ['s3://bench/recommendations/run/users.jsonl.out'], {
        userId: wanted,
      });
      if (found?.line !== LINES) throw new Error('the last user was not found on the last line');
      if (run > 0) lookups.push(Number(process.hrtime.bigint() - started) / 1e6);
      started = process.hrtime.bigint();
      const text = await fs.readFile(file, 'utf8');
      const hit = text.split('\n').find((line) => line.includes(`"userId":"${wanted}"`));
      if (hit === undefined) throw new Error('baseline missed the user');
      if (run > 0) baselines.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const lookup = median(lookups);
    const baseline = median(baselines);
    report('show-recs: disk scan', { median_ms: baseline, lines: LINES, MB: body.length / 1048576 });
    report('show-recs: lookup', { median_ms: lookup, ratio: lookup / baseline, aim: '< 1000 ms' });
    clients.destroy();
    s3.destroy();
  } finally {
    await stopLocalStack(dataDir).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}
