/**
 * S3's flexible checksums for the local stack: the digest algorithms S3 accepts in
 * `x-amz-checksum-*` headers and trailers (CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512, MD5),
 * their wire encoding (base64 of the big-endian digest), and the arithmetic S3 uses to derive a
 * multipart object's checksum from its parts (composite "checksum of checksums" and full-object
 * CRC combination). The XXHASH family is recognised only so it can be refused by name.
 */
import { createHash, type Hash } from 'node:crypto';
import zlib from 'node:zlib';

export const CHECKSUM_ALGORITHMS = [
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
  'SHA512',
  'MD5',
] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
/** Algorithms S3 knows but the local stack cannot compute; refused rather than stored unverified. */
export const UNSUPPORTED_CHECKSUM_ALGORITHMS = ['XXHASH64', 'XXHASH3', 'XXHASH128'] as const;
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
  SHA512: 64,
  MD5: 16,
};

/** `x-amz-checksum-crc32` for `CRC32`: the header (and trailer) that carries the value. */
export function checksumHeaderName(algorithm: string): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** The XML member name S3 uses for the value (`ChecksumCRC32`, `ChecksumSHA256`, …). */
export function checksumMemberName(algorithm: ChecksumAlgorithm): string {
  return `Checksum${algorithm}`;
}

/** Upper-cases and validates an algorithm name; undefined when S3 has no such algorithm. */
export function parseChecksumAlgorithm(name: string): ChecksumAlgorithm | undefined {
  const upper = name.trim().toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper)
    ? (upper as ChecksumAlgorithm)
    : undefined;
}

export function isUnsupportedChecksumAlgorithm(name: string): boolean {
  return (UNSUPPORTED_CHECKSUM_ALGORITHMS as readonly string[]).includes(name.trim().toUpperCase());
}

/** True when `value` is canonical base64 of a digest of the algorithm's length. */
export function isValidChecksumValue(algorithm: ChecksumAlgorithm, value: string): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return false;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === DIGEST_BYTES[algorithm] && bytes.toString('base64') === value;
}

/** An incremental digest; `update` is called once per body chunk, so it must be cheap per call. */
export interface Digest {
  update(chunk: Uint8Array): void;
  /** Big-endian digest bytes; call once. */
  digest(): Buffer;
}

export function createDigest(algorithm: ChecksumAlgorithm): Digest {
  switch (algorithm) {
    case 'CRC32':
      return new Crc32Digest();
    case 'CRC32C':
      return new Crc32cDigest();
    case 'CRC64NVME':
      return new Crc64NvmeDigest();
    case 'SHA1':
      return new NodeDigest(createHash('sha1'));
    case 'SHA256':
      return new NodeDigest(createHash('sha256'));
    case 'SHA512':
      return new NodeDigest(createHash('sha512'));
    case 'MD5':
      return new NodeDigest(createHash('md5'));
  }
}

/** One-shot base64 checksum of a buffer. */
export function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  const digest = createDigest(algorithm);
  digest.update(data);
  return digest.digest().toString('base64');
}

class NodeDigest implements Digest {
  constructor(private readonly hash: Hash) {}
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

function uint32Bytes(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

class Crc32Digest implements Digest {
  private crc = 0;
  update(chunk: Uint8Array): void {
    // zlib's CRC-32 is native and vectorised; available on every Node this project supports.
    this.crc = zlib.crc32(chunk, this.crc);
  }
  digest(): Buffer {
    return uint32Bytes(this.crc);
  }
}

// --- CRC32C (Castagnoli): slicing-by-8 tables, so the JS loop handles 8 bytes per iteration.

const CRC32C_POLY = 0x82f63b78;
const CRC32C_TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = tables[0]!;
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1;
    t0[i] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) {
    const prev = tables[k - 1]!;
    const cur = tables[k]!;
    for (let i = 0; i < 256; i++) cur[i] = ((prev[i]! >>> 8) ^ t0[prev[i]! & 0xff]!) >>> 0;
  }
  return tables;
})();

/** Raw CRC32C update (pre/post inversion done by the caller). */
function crc32cUpdate(state: number, data: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC32C_TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let crc = state;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    crc ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    crc =
      t7[crc & 0xff]! ^
      t6[(crc >>> 8) & 0xff]! ^
      t5[(crc >>> 16) & 0xff]! ^
      t4[crc >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
    i += 8;
  }
  while (i < n) crc = t0[(crc ^ data[i++]!) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}

class Crc32cDigest implements Digest {
  private state = 0xffffffff;
  update(chunk: Uint8Array): void {
    this.state = crc32cUpdate(this.state, chunk);
  }
  digest(): Buffer {
    return uint32Bytes(~this.state);
  }
}

// --- CRC64NVME (reflected, poly 0x9A6C9329AC4BC9B5): 64-bit state kept as two 32-bit halves,
// slicing-by-8 with split hi/lo tables (BigInt per byte would be two orders of magnitude slower).

const CRC64_POLY = 0x9a6c9329ac4bc9b5n;
const CRC64_TABLES: { hi: Uint32Array; lo: Uint32Array }[] = (() => {
  const big: bigint[][] = [];
  const t0: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ CRC64_POLY : c >> 1n;
    t0.push(c);
  }
  big.push(t0);
  for (let k = 1; k < 8; k++) {
    const prev = big[k - 1]!;
    big.push(prev.map((v) => (v >> 8n) ^ t0[Number(v & 0xffn)]!));
  }
  return big.map((table) => ({
    hi: Uint32Array.from(table, (v) => Number(v >> 32n)),
    lo: Uint32Array.from(table, (v) => Number(v & 0xffffffffn)),
  }));
})();

class Crc64NvmeDigest implements Digest {
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(data: Uint8Array): void {
    const t = CRC64_TABLES;
    let hi = this.hi;
    let lo = this.lo;
    let i = 0;
    const n = data.length;
    const end8 = n - (n % 8);
    while (i < end8) {
      const l = (lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
      const h =
        (hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24))) >>> 0;
      const a = l & 0xff;
      const b = (l >>> 8) & 0xff;
      const c = (l >>> 16) & 0xff;
      const d = l >>> 24;
      const e = h & 0xff;
      const f = (h >>> 8) & 0xff;
      const g = (h >>> 16) & 0xff;
      const k = h >>> 24;
      lo =
        t[7]!.lo[a]! ^
        t[6]!.lo[b]! ^
        t[5]!.lo[c]! ^
        t[4]!.lo[d]! ^
        t[3]!.lo[e]! ^
        t[2]!.lo[f]! ^
        t[1]!.lo[g]! ^
        t[0]!.lo[k]!;
      hi =
        t[7]!.hi[a]! ^
        t[6]!.hi[b]! ^
        t[5]!.hi[c]! ^
        t[4]!.hi[d]! ^
        t[3]!.hi[e]! ^
        t[2]!.hi[f]! ^
        t[1]!.hi[g]! ^
        t[0]!.hi[k]!;
      i += 8;
    }
    const t0 = t[0]!;
    while (i < n) {
      const idx = (lo ^ data[i++]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ t0.lo[idx]!;
      hi = (hi >>> 8) ^ t0.hi[idx]!;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
  }

  digest(): Buffer {
    const out = Buffer.alloc(8);
    out.writeUInt32BE(~this.hi >>> 0, 0);
    out.writeUInt32BE(~this.lo >>> 0, 4);
    return out;
  }
}

// --- Multipart checksums.

/** Whether S3 lets the algorithm be used with the checksum type on a multipart upload. */
export function checksumTypeAllowed(algorithm: ChecksumAlgorithm, type: ChecksumType): boolean {
  if (type === 'FULL_OBJECT')
    return algorithm === 'CRC32' || algorithm === 'CRC32C' || algorithm === 'CRC64NVME';
  return algorithm !== 'CRC64NVME';
}

/** The type S3 picks when CreateMultipartUpload names an algorithm but no type. */
export function defaultChecksumType(algorithm: ChecksumAlgorithm): ChecksumType {
  return algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
}

/** S3's composite checksum: the digest of the concatenated raw part digests, suffixed `-<parts>`. */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partChecksums: string[]): string {
  const digest = createDigest(algorithm);
  for (const part of partChecksums) digest.update(Buffer.from(part, 'base64'));
  return `${digest.digest().toString('base64')}-${partChecksums.length}`;
}

interface CrcSpec {
  width: bigint;
  /** Reflected polynomial. */
  poly: bigint;
  /** x^(2^k) mod poly, filled lazily. */
  powers: bigint[];
}

const CRC_SPECS: Partial<Record<ChecksumAlgorithm, CrcSpec>> = {
  CRC32: { width: 32n, poly: 0xedb88320n, powers: [] },
  CRC32C: { width: 32n, poly: BigInt(CRC32C_POLY), powers: [] },
  CRC64NVME: { width: 64n, poly: CRC64_POLY, powers: [] },
};

/** a·b mod poly in the reflected representation (zlib's multmodp, generalised to any width). */
function multModP(spec: CrcSpec, a: bigint, b: bigint): bigint {
  let m = 1n << (spec.width - 1n);
  let p = 0n;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ spec.poly : b >> 1n;
  }
  return p;
}

/** x^(n·2^k) mod poly. */
function x2nModP(spec: CrcSpec, n: number, k: number): bigint {
  let p = 1n << (spec.width - 1n);
  let big = BigInt(n);
  while (big > 0n) {
    if (big & 1n) {
      while (spec.powers.length <= k) {
        const last = spec.powers[spec.powers.length - 1];
        // x^1 is the bit just below x^0 in the reflected representation.
        spec.powers.push(last === undefined ? 1n << (spec.width - 2n) : multModP(spec, last, last));
      }
      p = multModP(spec, spec.powers[k]!, p);
    }
    big >>= 1n;
    k++;
  }
  return p;
}

/**
 * CRC of the concatenation of consecutive byte ranges from their individual CRCs and lengths
 * (zlib's crc32_combine), so a FULL_OBJECT multipart checksum needs no second pass over the data.
 */
export function combineCrcs(
  algorithm: ChecksumAlgorithm,
  parts: { checksum: string; size: number }[],
): string {
  const spec = CRC_SPECS[algorithm];
  if (spec === undefined) throw new Error(`${algorithm} is not a CRC`);
  const bytes = Number(spec.width / 8n);
  let crc: bigint | undefined;
  for (const part of parts) {
    const value = BigInt(`0x${Buffer.from(part.checksum, 'base64').toString('hex') || '0'}`);
    crc = crc === undefined ? value : multModP(spec, x2nModP(spec, part.size, 3), crc) ^ value;
  }
  const hex = (crc ?? 0n).toString(16).padStart(bytes * 2, '0');
  return Buffer.from(hex, 'hex').toString('base64');
}
