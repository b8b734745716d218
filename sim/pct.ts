/**
 * Probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi and
 * Nagarakatte, ASPLOS 2010).
 *
 * @module
 */
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import { Rng } from "./rng.ts";
import type { Strategy } from "./strategy.ts";
import { Streams } from "./streams.ts";

/** PCT's two knobs. */
export interface PctOptions {
  /** The bug depth d: d - 1 priority change points per run. */
  readonly depth: number;
  /** k, the expected number of steps of a run, over which change points are drawn. */
  readonly steps: number;
}

/**
 * Runs the highest-priority eligible fiber. Each fiber gets a random priority
 * above d when spawned; at each of d - 1 change points drawn uniformly from
 * steps 1..k, the fiber about to run drops below every initial priority.
 * As in the paper, change point k_i carries priority i and the k_i are drawn
 * independently, so the order in which demoted fibers rank is itself random:
 * a fiber demoted later may rank above or below one demoted earlier, which
 * is what lets two fibers that never block alternate A, B, A, B. A bug of
 * depth d is found with probability at least 1/(n k^(d-1)).
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const s = new PctStrategy({ depth: 3, steps: 20 });
 * assertEquals(s.options(), { depth: 3, steps: 20 });
 * ```
 */
export class PctStrategy implements Strategy {
  readonly name = "pct";
  readonly #depth: number;
  readonly #steps: number;
  readonly #rng = new Rng(0);
  readonly #streams = new Streams();
  #priority: number[] = [];
  /** Change points in step order, each with its own low priority. */
  #changes: { step: number; priority: number }[] = [];
  #nextChange = 0;

  /** Makes a PCT strategy of depth `options.depth`. */
  constructor(options: PctOptions) {
    if (!Number.isInteger(options.depth) || options.depth < 1) {
      throw new RangeError(`Cannot run PCT with depth ${options.depth}: need an integer >= 1`);
    }
    if (!Number.isInteger(options.steps) || options.steps < 1) {
      throw new RangeError(`Cannot run PCT over ${options.steps} steps: need an integer >= 1`);
    }
    this.#depth = options.depth;
    this.#steps = options.steps;
  }

  options(): Record<string, number> {
    return { depth: this.#depth, steps: this.#steps };
  }

  begin(seed: number): void {
    this.#rng.reseed(seed);
    this.#streams.begin(seed);
    this.#priority.length = 0;
    this.#changes.length = 0;
    for (let i = 1; i < this.#depth; i++) {
      this.#changes.push({ step: 1 + this.#rng.below(this.#steps), priority: i });
    }
    this.#changes.sort((a, b) => a.step - b.step || a.priority - b.priority);
    this.#nextChange = 0;
  }

  onSpawn(fiber: Fiber): void {
    // A random real above d: equivalent to a uniformly random permutation of
    // d..d+n-1, and it works for fibers spawned during the run.
    this.#priority[fiber.id] = this.#depth + this.#rng.next();
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    let best = this.#highest(eligible, count);
    const step = kernel.step + 1;
    const changes = this.#changes;
    while (this.#nextChange < changes.length && changes[this.#nextChange].step <= step) {
      this.#priority[eligible[best].id] = changes[this.#nextChange++].priority;
      best = this.#highest(eligible, count);
    }
    return best;
  }

  #highest(eligible: readonly Fiber[], count: number): number {
    let best = 0;
    let top = this.#priority[eligible[0].id];
    for (let i = 1; i < count; i++) {
      const p = this.#priority[eligible[i].id];
      if (p > top) {
        top = p;
        best = i;
      }
    }
    return best;
  }

  pickValue(n: number, stream: string, _kernel: Kernel, p?: number): number {
    return this.#streams.draw(stream, n, p);
  }
}
