/**
 * The stored dataset format: what an import writes and what training (src/recommender) reads,
 * with no knowledge of the service that imports it. One file per dataset, replaced atomically by
 * its writer:
 *   bytes 0–3 `MLPD`, 4–7 format version (u32 LE), 8–11 header length H (u32 LE), then H bytes of
 *   JSON `{type, count, users, items, eventTypes, hasEventValue, hasEventType, columns, rows}`, padded
 *   to a multiple of 8; for INTERACTIONS then `count` × u32 user index, `count` × u32 item index,
 *   `count` × f64 TIMESTAMP (epoch seconds), and when present `count` × f32 EVENT_VALUE and
 *   `count` × u32 EVENT_TYPE index. Items/Users datasets keep their rows in the JSON (`columns`,
 *   `rows`), with no arrays.
 * Arrays read back are copies the caller owns (they may be transferred to a worker).
 */
import { promises as fs } from 'node:fs';

/** The compact, typed form of an interactions dataset. */
export interface InteractionsData {
  count: number;
  /** User IDs by index. */
  users: string[];
  /** Item IDs by index. */
  items: string[];
  userIndex: Uint32Array;
  itemIndex: Uint32Array;
  /** Unix epoch seconds. */
  timestamps: Float64Array;
  eventValues?: Float32Array;
  eventTypes?: string[];
  eventTypeIndex?: Uint32Array;
}

/** Rows of an Items or Users dataset. */
export interface MetadataData {
  columns: string[];
  rows: string[][];
}

/** The JSON header of a dataset file. */
export interface DatasetFileHeader {
  type: 'INTERACTIONS' | 'ITEMS' | 'USERS';
  count: number;
  users?: string[];
  items?: string[];
  eventTypes?: string[];
  hasEventValue?: boolean;
  hasEventType?: boolean;
  columns?: string[];
  rows?: string[][];
}

const MAGIC = 'MLPD';
/** Bumped when the layout changes; readers refuse versions they do not know. */
export const FORMAT_VERSION = 1;

async function readStored(
  file: string,
): Promise<{ header: DatasetFileHeader; buffer: Buffer; offset: number } | undefined> {
  let buffer: Buffer;
  try {
    buffer = await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (buffer.length < 12 || buffer.toString('latin1', 0, 4) !== MAGIC)
    throw new Error(`${file} is not a dataset file.`);
  if (buffer.readUInt32LE(4) !== FORMAT_VERSION) throw new Error(`${file} has an unknown format version.`);
  const length = buffer.readUInt32LE(8);
  let header: DatasetFileHeader;
  try {
    header = JSON.parse(buffer.toString('utf8', 12, 12 + length)) as DatasetFileHeader;
  } catch {
    throw new Error(`${file} is damaged: its header is not readable.`);
  }
  const offset = align8(12 + length);
  // A cut file would read back as zeros: refuse any length but the one its header implies.
  const expected = offset + arrayBytes(header);
  if (buffer.length !== expected)
    throw new Error(`${file} is damaged: ${buffer.length} bytes where its header implies ${expected}.`);
  return { header, buffer, offset };
}

/** Bytes of the arrays after the header (each padded to 8), as encodeDatasetFile writes them. */
function arrayBytes(header: DatasetFileHeader): number {
  if (header.type !== 'INTERACTIONS') return 0;
  const n = header.count;
  let total = align8(n * 4) * 2 + align8(n * 8);
  if (header.hasEventValue === true) total += align8(n * 4);
  if (header.hasEventType === true) total += align8(n * 4);
  return total;
}

/** Reads a dataset file whole and says what is wrong with it, if anything (for `local check`). */
export async function datasetFileProblem(file: string): Promise<string | undefined> {
  try {
    const stored = await readStored(file);
    return stored === undefined ? 'missing' : undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function slice<T>(buffer: Buffer, offset: number, bytes: number, make: (ab: ArrayBuffer) => T): T {
  const copy = new ArrayBuffer(bytes);
  new Uint8Array(copy).set(buffer.subarray(offset, offset + bytes));
  return make(copy);
}

/** The interactions stored in `file`, or undefined if there is no file (or it holds another type). */
export async function readInteractions(file: string): Promise<InteractionsData | undefined> {
  const stored = await readStored(file);
  if (!stored || stored.header.type !== 'INTERACTIONS') return undefined;
  const { header, buffer } = stored;
  let offset = stored.offset;
  const n = header.count;
  const take = <T>(bytes: number, make: (ab: ArrayBuffer) => T): T => {
    const value = slice(buffer, offset, bytes, make);
    offset += align8(bytes);
    return value;
  };
  const data: InteractionsData = {
    count: n,
    users: header.users ?? [],
    items: header.items ?? [],
    userIndex: take(n * 4, (ab) => new Uint32Array(ab)),
    itemIndex: take(n * 4, (ab) => new Uint32Array(ab)),
    timestamps: take(n * 8, (ab) => new Float64Array(ab)),
  };
  if (header.hasEventValue) data.eventValues = take(n * 4, (ab) => new Float32Array(ab));
  if (header.hasEventType) {
    data.eventTypes = header.eventTypes ?? [];
    data.eventTypeIndex = take(n * 4, (ab) => new Uint32Array(ab));
  }
  return data;
}

/** The rows of an Items or Users dataset stored in `file`, or undefined. */
export async function readMetadata(file: string): Promise<MetadataData | undefined> {
  const stored = await readStored(file);
  if (!stored || stored.header.type === 'INTERACTIONS') return undefined;
  return { columns: stored.header.columns ?? [], rows: stored.header.rows ?? [] };
}

/** The file bytes for a dataset: the header, then each array 8-byte aligned. */
export function encodeDatasetFile(header: DatasetFileHeader, arrays: ArrayBufferView[]): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const parts: Buffer[] = [];
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(FORMAT_VERSION, 4);
  prefix.writeUInt32LE(json.length, 8);
  parts.push(prefix, json, Buffer.alloc(align8(12 + json.length) - 12 - json.length));
  for (const a of arrays) {
    parts.push(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.alloc(align8(a.byteLength) - a.byteLength),
    );
  }
  return Buffer.concat(parts);
}

/** The file bytes of an interactions dataset. */
export function encodeInteractions(data: InteractionsData): Buffer {
  const arrays: ArrayBufferView[] = [data.userIndex, data.itemIndex, data.timestamps];
  if (data.eventValues) arrays.push(data.eventValues);
  if (data.eventTypeIndex) arrays.push(data.eventTypeIndex);
  const hasEventType = data.eventTypeIndex !== undefined;
  return encodeDatasetFile(
    {
      type: 'INTERACTIONS',
      count: data.count,
      users: data.users,
      items: data.items,
      hasEventValue: data.eventValues !== undefined,
      hasEventType,
      ...(hasEventType ? { eventTypes: data.eventTypes ?? [] } : {}),
    },
    arrays,
  );
}

/** The file bytes of an Items or Users dataset. */
export function encodeMetadata(type: 'ITEMS' | 'USERS', data: MetadataData): Buffer {
  return encodeDatasetFile({ type, count: data.rows.length, columns: data.columns, rows: data.rows }, []);
}
