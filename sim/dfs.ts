/**
 * Depth-first search over every choice of a run, with an optional preemption
 * bound (Musuvathi and Qadeer's iterative context bounding, as in CHESS).
 *
 * @module
 */
import type { ExhaustiveStrategy } from "./exhaustive.ts";
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import { Nondeterminism } from "./outcome.ts";
import { ChoicePath } from "./_tree.ts";

interface ScheduleNode {
  readonly kind: "schedule";
  /** Fiber ids allowed here, in the order they are tried (no preemption first). */
  readonly options: number[];
  /** Every eligible fiber id, to check that a replayed prefix still fits. */
  readonly eligible: string;
  cursor: number;
}

/** Options of a depth-first search. */
export interface DfsOptions {
  /** At most this many preemptions per schedule; unbounded when absent. */
  readonly preemptions?: number;
}

/**
 * Tries every schedule: at each step every eligible fiber, at each
 * `choose(n)` every value. A preemption is switching away from the fiber
 * that took the previous step while it could still step; with a bound K,
 * schedules with more than K preemptions are cut off (and `boundHit` says so).
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * assertEquals(new DfsStrategy({ preemptions: 2 }).bound, "2 preemptions");
 * ```
 */
export class DfsStrategy implements ExhaustiveStrategy {
  readonly name = "dfs";
  readonly #bound: number;
  readonly #path = new ChoicePath<ScheduleNode>();
  #preemptions = 0;
  #boundHit = false;

  constructor(options: DfsOptions = {}) {
    const k = options.preemptions ?? Infinity;
    if (k !== Infinity && (!Number.isInteger(k) || k < 0)) {
      throw new RangeError(`Cannot bound preemptions by ${k}: need an integer >= 0`);
    }
    this.#bound = k;
  }

  get bound(): string {
    return this.#bound === Infinity ? "none" : `${this.#bound} preemptions`;
  }

  get boundHit(): boolean {
    return this.#boundHit;
  }

  options(): Record<string, number> {
    return this.#bound === Infinity ? {} : { preemptions: this.#bound };
  }

  begin(): void {
    this.#path.begin();
    this.#preemptions = 0;
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    const last = kernel.lastFiber;
    let lastIndex = -1;
    for (let i = 0; i < count; i++) if (eligible[i] === last) lastIndex = i;
    const ids = eligible.slice(0, count).map((f) => f.id);
    let node: ScheduleNode;
    const n = this.#path.replayed();
    if (n !== undefined) {
      if (n.kind !== "schedule" || n.eligible !== ids.join(",")) {
        throw new Nondeterminism(
          `at step ${kernel.step + 1} the eligible fibers are [${ids}], but an earlier run ` +
            `of the same schedule had ${
              n.kind === "schedule" ? `[${n.eligible}]` : "a value choice"
            }`,
        );
      }
      node = n;
    } else {
      const options: number[] = [];
      if (lastIndex >= 0) options.push(ids[lastIndex]);
      const preempting = this.#preemptions + (lastIndex >= 0 ? 1 : 0) > this.#bound;
      for (const id of ids) {
        if (id === last?.id) continue;
        if (preempting) this.#boundHit = true;
        else options.push(id);
      }
      node = { kind: "schedule", options, eligible: ids.join(","), cursor: 0 };
      this.#path.push(node);
    }
    const chosen = node.options[node.cursor];
    if (lastIndex >= 0 && chosen !== last?.id) this.#preemptions++;
    return ids.indexOf(chosen);
  }

  pickValue(n: number, stream: string, kernel: Kernel): number {
    return this.#path.pickValue(n, stream, kernel);
  }

  advance(): boolean {
    return this.#path.advance((node) => ++node.cursor < node.options.length);
  }
}

/**
 * Iterative context bounding: depth-first search with at most 0 preemptions,
 * then 1, 2, ... until the budget runs out or a bound cuts nothing off (the
 * whole space was explored). Bugs needing the fewest preemptions come first.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const s = new IterativeDfsStrategy();
 * assertEquals(s.options(), { preemptions: 0, iterative: true });
 * ```
 */
export class IterativeDfsStrategy implements ExhaustiveStrategy {
  readonly name = "dfs";
  #preemptions = 0;
  #inner = new DfsStrategy({ preemptions: 0 });

  get bound(): string {
    return this.#inner.bound;
  }

  get boundHit(): boolean {
    return this.#inner.boundHit;
  }

  options(): Record<string, number | boolean> {
    return { preemptions: this.#preemptions, iterative: true };
  }

  begin(): void {
    this.#inner.begin();
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    return this.#inner.pickFiber(eligible, count, kernel);
  }

  pickValue(n: number, stream: string, kernel: Kernel): number {
    return this.#inner.pickValue(n, stream, kernel);
  }

  advance(): boolean {
    if (this.#inner.advance()) return true;
    if (!this.#inner.boundHit) return false;
    this.#inner = new DfsStrategy({ preemptions: ++this.#preemptions });
    return true;
  }
}
