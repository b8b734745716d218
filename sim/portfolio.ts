/**
 * A portfolio of randomized strategies, as Shuttle and Coyote run: random
 * scheduling and PCT at depths 1 to 5, taken round-robin by seed.
 *
 * @module
 */
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import type { Outcome } from "./outcome.ts";
import { PctStrategy } from "./pct.ts";
import { RandomStrategy } from "./random.ts";
import type { Strategy } from "./strategy.ts";

/** The members, in the order seeds take them: seed s runs member s mod 6. */
export const PORTFOLIO_MEMBERS = ["random", "pct-d1", "pct-d2", "pct-d3", "pct-d4", "pct-d5"];

/**
 * Runs seed s with member `s mod 6` of {@link PORTFOLIO_MEMBERS}, so a sweep of
 * six runs tries each once and no single PCT depth can make a variant pass
 * wrongly. The run's member is in `options()`, so a trace says which found it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const p = new PortfolioStrategy({ steps: 40 });
 * assertEquals(p.memberOf(0), "random");
 * assertEquals(p.memberOf(9), "pct-d3");
 * ```
 */
export class PortfolioStrategy implements Strategy {
  readonly name = "portfolio";
  readonly #steps: number;
  readonly #members: Strategy[];
  #current: Strategy;
  #index = 0;

  constructor(options: { readonly steps: number }) {
    this.#steps = options.steps;
    this.#members = [new RandomStrategy()];
    for (let d = 1; d <= 5; d++) {
      this.#members.push(new PctStrategy({ depth: d, steps: options.steps }));
    }
    this.#current = this.#members[0];
  }

  /** The member that runs `seed`. */
  memberOf(seed: number): string {
    return PORTFOLIO_MEMBERS[memberIndex(seed)];
  }

  options(): Record<string, number | string> {
    return { steps: this.#steps, member: PORTFOLIO_MEMBERS[this.#index] };
  }

  begin(seed: number, kernel: Kernel): void {
    this.#index = memberIndex(seed);
    this.#current = this.#members[this.#index];
    this.#current.begin(seed, kernel);
  }

  onSpawn(fiber: Fiber, kernel: Kernel): void {
    this.#current.onSpawn?.(fiber, kernel);
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    return this.#current.pickFiber(eligible, count, kernel);
  }

  pickValue(n: number, stream: string, kernel: Kernel, p?: number): number {
    return this.#current.pickValue(n, stream, kernel, p);
  }

  end(outcome: Outcome, kernel: Kernel): void {
    this.#current.end?.(outcome, kernel);
  }
}

function memberIndex(seed: number): number {
  const n = PORTFOLIO_MEMBERS.length;
  return ((seed % n) + n) % n;
}
