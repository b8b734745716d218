/**
 * The seeded random source: Baagøe's alea generator, as shipped by seedrandom,
 * with its state in fields so it can be re-seeded in place.
 *
 * seedrandom builds a new closure-based generator per seed, about 1.3 µs
 * here, and its Mash seeding costs about 150 ns more: together longer than a
 * whole small run, and a sweep re-seeds once per run. So this class seeds
 * alea's three registers from the integer seed with an integer mixer and then
 * steps alea's recurrence. `rng_test.ts` loads the same state into
 * `seedrandom.alea` and checks the two streams agree draw for draw:
 * seedrandom stays the reference for the generator. String seeds are hashed
 * once, with alea's own Mash.
 *
 * @module
 */

const TWO_POW_MINUS_32 = 2.3283064365386963e-10;
const MASH_START = 0xefc8249d;

/** Baagøe's Mash hash, continued from state `n`; returns the new state and value. */
function mash(n: number, data: string): number {
  for (let i = 0; i < data.length; i++) {
    n += data.charCodeAt(i);
    let h = 0.02519603282416938 * n;
    n = h >>> 0;
    h -= n;
    h *= n;
    n = h >>> 0;
    h -= n;
    n += h * 0x100000000;
  }
  return n;
}

function fraction(seed: number, i: number): number {
  let h = (seed + Math.imul(i, 0x9e3779b9) + Math.floor(seed / 0x100000000)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h >>> 0) + 0.5) * TWO_POW_MINUS_32;
}

/** A seed as users give it: an integer, or any string. */
export type Seed = number | string;

/**
 * Turns a user's seed into the 32-bit unsigned integer the tool works with.
 * Integers (also as decimal strings) stay as they are; other strings are hashed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * assertEquals(seedToInt("42"), 42);
 * assertEquals(seedToInt("nightly"), seedToInt("nightly"));
 * ```
 */
export function seedToInt(seed: Seed): number {
  if (typeof seed === "number") {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`Cannot use seed ${seed}: a seed is a non-negative integer or a string`);
    }
    return seed;
  }
  if (/^\d{1,15}$/.test(seed)) return Number(seed);
  return mash(MASH_START, seed) >>> 0;
}

/**
 * Derives a child seed from a parent seed and a label, as an integer, so that
 * each subsystem draws from its own stream and an extra draw in one never
 * reshuffles another.
 *
 * @example
 * ```ts
 * import { assert } from "../deps.ts";
 * assert(deriveSeed(1, "sched") !== deriveSeed(1, "values"));
 * ```
 */
export function deriveSeed(seed: number, label: string): number {
  return mash(mash(MASH_START, label), String(seed)) >>> 0;
}

/**
 * A seeded stream of random numbers. Integer draws only on the hot path.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const a = new Rng(7), b = new Rng(7);
 * assertEquals([a.below(10), a.below(10)], [b.below(10), b.below(10)]);
 * ```
 */
export class Rng {
  #c = 1;
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #seed = 0;

  /** Makes a stream seeded with `seed` (an integer or a string). */
  constructor(seed: Seed) {
    this.reseed(seed);
  }

  /** The integer seed this stream was last seeded with. */
  get seed(): number {
    return this.#seed;
  }

  /** Restarts the stream from `seed`, without allocating. */
  reseed(seed: Seed): void {
    const s = seedToInt(seed);
    this.#seed = s;
    // Three words from the seed (murmur3's 32-bit finalizer over seed + i *
    // golden ratio), as fractions in (0, 1) the way alea's seeding leaves them.
    this.#c = 1;
    this.#s0 = fraction(s, 1);
    this.#s1 = fraction(s, 2);
    this.#s2 = fraction(s, 3);
  }

  /** The generator state, in seedrandom's alea state format. */
  state(): { c: number; s0: number; s1: number; s2: number } {
    return { c: this.#c, s0: this.#s0, s1: this.#s1, s2: this.#s2 };
  }

  /** A float in [0, 1): alea's own output. */
  next(): number {
    const t = 2091639 * this.#s0 + this.#c * TWO_POW_MINUS_32;
    this.#s0 = this.#s1;
    this.#s1 = this.#s2;
    return (this.#s2 = t - (this.#c = t | 0));
  }

  /** A signed 32-bit integer, as seedrandom's `int32()`. */
  int32(): number {
    return (this.next() * 0x100000000) | 0;
  }

  /** A uniform integer in [0, n), for 1 <= n < 2^31. */
  below(n: number): number {
    // alea's output has 32 random bits; scaling avoids an integer division.
    return (this.next() * n) | 0;
  }

  /** A new stream whose seed is derived from this one's seed and `label`. */
  fork(label: string): Rng {
    return new Rng(deriveSeed(this.#seed, label));
  }
}
