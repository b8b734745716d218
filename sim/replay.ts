/**
 * The replay strategy: feeds a recorded decision list back into a run.
 *
 * @module
 */
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import { ReplayDivergence } from "./outcome.ts";
import type { Strategy } from "./strategy.ts";

/**
 * Replays recorded decisions and stops with a `ReplayDivergence` naming the
 * step and both sides as soon as the run no longer fits them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const s = new ReplayStrategy([1, 0]);
 * assertEquals(s.remaining, 2);
 * ```
 */
export class ReplayStrategy implements Strategy {
  readonly name = "replay";
  readonly #decisions: ArrayLike<number>;
  #next = 0;

  /** Replays `decisions` in order. */
  constructor(decisions: ArrayLike<number>) {
    this.#decisions = decisions;
  }

  options(): Record<string, number> {
    return {};
  }

  /** Decisions not yet consumed. */
  get remaining(): number {
    return this.#decisions.length - this.#next;
  }

  begin(): void {
    this.#next = 0;
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    if (this.#next >= this.#decisions.length) {
      throw new ReplayDivergence(
        kernel.step + 1,
        `needs a scheduling decision, but the trace has none left; enabled: [${
          listed(eligible, count)
        }]`,
      );
    }
    const id = this.#decisions[this.#next++];
    for (let i = 0; i < count; i++) if (eligible[i].id === id) return i;
    const name = kernel.fiber(id)?.name;
    const which = name === undefined
      ? `fiber ${id}, which does not exist`
      : `fiber ${id} (${name})`;
    throw new ReplayDivergence(
      kernel.step + 1,
      `expects ${which}; enabled: [${listed(eligible, count)}]`,
    );
  }

  pickValue(n: number, stream: string, kernel: Kernel): number {
    if (this.#next >= this.#decisions.length) {
      throw new ReplayDivergence(
        kernel.step + 1,
        `needs a ${stream} value in 0..${n - 1}, but the trace has no decisions left`,
      );
    }
    const v = this.#decisions[this.#next++];
    if (Number.isInteger(v) && v >= 0 && v < n) return v;
    throw new ReplayDivergence(
      kernel.step + 1,
      `expects ${stream} value ${v}, but the scenario asks for a value in 0..${n - 1}`,
    );
  }
}

function listed(eligible: readonly Fiber[], count: number): string {
  return eligible.slice(0, count).map((f) => `${f.id} (${f.name})`).join(", ");
}
