/**
 * The seeded random strategy.
 *
 * @module
 */
import type { Fiber } from "./fiber.ts";
import { Rng } from "./rng.ts";
import type { Strategy } from "./strategy.ts";
import { Streams } from "./streams.ts";

/**
 * Picks uniformly among the eligible fibers at every step. The schedule draws
 * from the run seed's own stream; values and faults from child streams.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const s = new RandomStrategy();
 * assertEquals(s.name, "random");
 * ```
 */
export class RandomStrategy implements Strategy {
  readonly name = "random";
  readonly #sched = new Rng(0);
  readonly #streams = new Streams();

  options(): Record<string, number> {
    return {};
  }

  begin(seed: number): void {
    this.#sched.reseed(seed);
    this.#streams.begin(seed);
  }

  pickFiber(_eligible: readonly Fiber[], count: number): number {
    return this.#sched.below(count);
  }

  pickValue(n: number, stream: string, _kernel: unknown, p?: number): number {
    return this.#streams.draw(stream, n, p);
  }
}
