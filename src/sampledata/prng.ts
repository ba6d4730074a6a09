/**
 * The sample-data generator's only source of randomness: a seeded xoshiro128** generator plus the
 * few distributions the generator draws from. Nothing here reads the clock or Math.random, so a
 * (seed, stream) pair always yields the same sequence.
 */

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;

/** splitmix32 step: used only to expand a seed into xoshiro state (xoshiro must not start all-zero). */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * xoshiro128** (Blackman & Vigna): 32-bit arithmetic only, so it is fast in JS and has a far longer
 * period than mulberry32. Independent `stream`s let each generation stage (items, users, ratings,
 * movie text) draw from its own sequence, so changing one stage never shifts another's output.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed any non-negative safe integer (all 53 bits matter). @param stream stage number. */
  constructor(seed: number, stream: number) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let x = splitmix32(lo ^ splitmix32(hi ^ splitmix32(Math.imul(stream + 1, 0x632be5ab))));
    x = splitmix32(x);
    this.s0 = x;
    x = splitmix32(x);
    this.s1 = x;
    x = splitmix32(x);
    this.s2 = x;
    x = splitmix32(x);
    this.s3 = x === 0 && this.s0 === 0 && this.s1 === 0 && this.s2 === 0 ? 1 : x;
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() * INV_TWO_POW_32;
  }

  /** Uniform in (0, 1): safe to take the logarithm of. */
  open(): number {
    return (this.u32() + 0.5) * INV_TWO_POW_32;
  }

  /** Uniform integer in [0, n). Multiply-shift is biased by < n / 2^32, irrelevant at our sizes. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal via Box-Muller (one value per call: simpler than caching, still cheap). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.open())) * Math.cos(2 * Math.PI * this.next());
  }

  /** Exponential with mean 1. */
  exponential(): number {
    return -Math.log(this.open());
  }

  /** In-place Fisher-Yates shuffle of a typed array. */
  shuffle(a: Int32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i] as number;
      a[i] = a[j] as number;
      a[j] = tmp;
    }
  }

  /** Uniform element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)] as T;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
