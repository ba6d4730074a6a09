/**
 * A set of 64-bit row hashes for collapsing exact duplicate output rows in bounded, predictable
 * memory: an open-addressing table of two Int32Arrays (8 bytes a slot, load factor <= 0.5, so at
 * most 16 bytes per distinct row: ~14 MB for hetrec's 855k rows, ~320 MB for 20M rows). A false
 * "duplicate" needs a 64-bit collision: probability ~n^2 / 2^65 (3e-6 at 10M rows).
 */

/** The initial raw hash state (h1, h2) of add(); see addHash. */
export const HASH_SEED1 = 0x811c9dc5 | 0;
export const HASH_SEED2 = 0x9747b28c | 0;

export class RowHashSet {
  private hi: Int32Array;
  private lo: Int32Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1;
    while (cap < initialCapacity) cap <<= 1;
    this.hi = new Int32Array(cap);
    this.lo = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  /** Adds the hash of `s`; returns false when it was already present (a duplicate). */
  add(s: string): boolean {
    // Two independent 32-bit multiplicative string hashes (FNV-1a style and a murmur-like mix).
    let h1 = HASH_SEED1;
    let h2 = HASH_SEED2;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 + c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    return this.addHash(h1, h2);
  }

  /**
   * Adds a row by its raw hash state: the h1/h2 that add() computes over the row's characters before
   * mixing (for callers that hash the characters in place, without building the string).
   */
  addHash(h1: number, h2: number): boolean {
    h1 ^= h1 >>> 16;
    h1 = Math.imul(h1, 0x85ebca6b);
    h1 ^= h1 >>> 13;
    h2 ^= h2 >>> 13;
    h2 = Math.imul(h2, 0xc2b2ae35);
    h2 ^= h2 >>> 16;
    if (h2 === 0) h2 = 1; // 0 marks an empty slot
    let i = h1 & this.mask;
    for (;;) {
      const t = this.lo[i]!;
      if (t === 0) break;
      if (t === h2 && this.hi[i] === h1) return false;
      i = (i + 1) & this.mask;
    }
    this.hi[i] = h1;
    this.lo[i] = h2;
    if (++this.size * 2 > this.mask + 1) this.grow();
    return true;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    const cap = oldHi.length * 2;
    this.hi = new Int32Array(cap);
    this.lo = new Int32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < oldLo.length; j++) {
      const l = oldLo[j]!;
      if (l === 0) continue;
      const h = oldHi[j]!;
      let i = h & this.mask;
      while (this.lo[i] !== 0) i = (i + 1) & this.mask;
      this.hi[i] = h;
      this.lo[i] = l;
    }
  }
}
