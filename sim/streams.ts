/**
 * Child random streams per subsystem, re-seeded lazily at each run.
 *
 * @module
 */
import { deriveSeed, Rng } from "./rng.ts";

/**
 * One random stream per label ("value", "fault", "clock", ...), each seeded
 * from the run's seed and its label, so a draw in one never moves another.
 * Streams are created once and re-seeded on first use in each run.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const s = new Streams();
 * s.begin(5);
 * const a = s.get("value").below(100);
 * s.begin(5);
 * s.get("fault").below(100); // another stream: does not move "value"
 * assertEquals(s.get("value").below(100), a);
 * ```
 */
export class Streams {
  #seed = 0;
  #run = 0;
  readonly #streams = new Map<string, { rng: Rng; run: number }>();

  /** Starts a new run: every stream restarts from the new seed when next used. */
  begin(seed: number): void {
    this.#seed = seed;
    this.#run++;
  }

  /** The stream for `label` in this run. */
  get(label: string): Rng {
    let s = this.#streams.get(label);
    if (s === undefined) {
      s = { rng: new Rng(deriveSeed(this.#seed, label)), run: this.#run };
      this.#streams.set(label, s);
    } else if (s.run !== this.#run) {
      s.rng.reseed(deriveSeed(this.#seed, label));
      s.run = this.#run;
    }
    return s.rng;
  }

  /** A value in [0, n), or with `p` a coin that is 1 with probability p. */
  draw(label: string, n: number, p?: number): number {
    const rng = this.get(label);
    if (p !== undefined) return rng.next() < p ? 1 : 0;
    // `below` keeps to int32; `k.choose` takes n up to 2^32.
    return n <= 0x7fffffff ? rng.below(n) : Math.floor(rng.next() * n);
  }
}
