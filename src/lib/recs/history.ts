/** A user's latest interactions, from the transformed interactions in the lake (streamed, not held). */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import Papa from 'papaparse';
import type { Clients } from '../cli/clients.js';
import { translateAwsError } from '../cli/errors.js';
import { s3Uri, type S3Location } from '../data/lake.js';

export interface Interaction {
  itemId: string;
  timestamp: number;
}

/** The user's `count` latest interactions, newest first; undefined when there is no interactions file. */
export async function userHistory(
  clients: Clients,
  location: S3Location,
  userId: string,
  count: number,
): Promise<Interaction[] | undefined> {
  const s3 = await clients.s3();
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  let body: Readable;
  try {
    body = (await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key })))
      .Body as Readable;
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw translateAwsError(error, `Reading ${s3Uri(location)}`);
  }
  const lines = createInterface({ input: body, crlfDelay: Infinity });
  const found: Interaction[] = [];
  let columns: { user: number; item: number; time: number } | undefined;
  const prefix = `${userId},`;
  const quoted = `"${userId.replace(/"/g, '""')}",`;
  try {
    for await (const line of lines) {
      if (columns === undefined) {
        const header = line.split(',');
        columns = {
          user: header.indexOf('USER_ID'),
          item: header.indexOf('ITEM_ID'),
          time: header.indexOf('TIMESTAMP'),
        };
        if (columns.user !== 0 || columns.item < 0 || columns.time < 0) return undefined;
        continue;
      }
      // USER_ID comes first: only this user's lines are parsed.
      if (!line.startsWith(prefix) && !line.startsWith(quoted)) continue;
      const fields = line.includes('"') ? (Papa.parse<string[]>(line).data[0] ?? []) : line.split(',');
      if (fields[columns.user] !== userId) continue;
      found.push({ itemId: fields[columns.item] ?? '', timestamp: Number(fields[columns.time]) });
    }
  } finally {
    lines.close();
    body.destroy();
  }
  return found.sort((a, b) => b.timestamp - a.timestamp).slice(0, count);
}
