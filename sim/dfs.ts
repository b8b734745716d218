/**
 * Depth-first search over every choice of a run, with an optional preemption
 * bound (Musuvathi and Qadeer's iterative context bounding, as in CHESS) or
 * delay bound (Emmi, Qadeer and Rakamaric, POPL 2011), in the default order
 * or one drawn from a seed.
 *
 * @module
 */
import type { ExhaustiveStrategy } from "./exhaustive.ts";
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import { Nondeterminism } from "./outcome.ts";
import { ChoicePath, type Order, ORDERS, PathOrder } from "./_tree.ts";

interface ScheduleNode {
  readonly kind: "schedule";
  /** Fiber ids allowed here, in the order they are tried. */
  readonly options: number[];
  /** What choosing each option costs against the bound (preemptions or delays). */
  readonly costs: number[];
  /** Every eligible fiber id, to check that a replayed prefix still fits. */
  readonly eligible: string;
  cursor: number;
}

/** What a DFS bound counts. */
export type BoundKind = "preemptions" | "delays";

/** Options of a depth-first search. */
export interface DfsOptions {
  /** At most this many preemptions per schedule; unbounded when absent. */
  readonly preemptions?: number;
  /**
   * At most this many delays per schedule (Emmi, Qadeer and Rakamaric, POPL
   * 2011): a delay skips the fiber a deterministic scheduler would run next.
   * Not with `preemptions`.
   */
  readonly delays?: number;
  /** "default", or "random": children in an order drawn from the run's seed. */
  readonly order?: Order;
  /** Explore only the subtree below these first decisions (see `sim/split.ts`). */
  readonly prefix?: readonly number[];
  /** Cut every run off at this many decisions (to list the subtrees there). */
  readonly cut?: number;
}

function checkBound(name: string, k: number): void {
  if (k !== Infinity && (!Number.isInteger(k) || k < 0)) {
    throw new RangeError(`Cannot bound ${name} by ${k}: need an integer >= 0`);
  }
}

/**
 * Tries every schedule: at each step every eligible fiber, at each
 * `choose(n)` every value. A preemption is switching away from the fiber
 * that took the previous step while it could still step; with a bound K,
 * schedules with more than K preemptions are cut off (and `boundHit` says so).
 *
 * With a delay bound, the fibers at each step are ranked as a deterministic
 * scheduler would run them: round robin from the fiber that stepped last (it
 * goes on while it can), or, with the random order, a ranking drawn from the
 * seed and the path. Running the fiber ranked i costs i delays, so a switch
 * after a fiber blocks or ends is free, and 0 delays is exactly one schedule
 * however many fibers there are.
 *
 * The random order explores the same tree, only in another order: the first
 * schedule is a seeded random walk, and the exhaustive result is the same.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * assertEquals(new DfsStrategy({ preemptions: 2 }).bound, "2 preemptions");
 * assertEquals(new DfsStrategy({ delays: 1, order: "random" }).options(), {
 *   delays: 1,
 *   order: "random",
 * });
 * ```
 */
export class DfsStrategy implements ExhaustiveStrategy {
  readonly name = "dfs";
  readonly #kind: BoundKind;
  readonly #bound: number;
  readonly #path = new ChoicePath<ScheduleNode>();
  readonly #order: PathOrder | null;
  #spent = 0;
  #boundHit = false;

  constructor(options: DfsOptions = {}) {
    if (options.preemptions !== undefined && options.delays !== undefined) {
      throw new RangeError("Cannot bound both preemptions and delays: pick one");
    }
    this.#kind = options.delays !== undefined ? "delays" : "preemptions";
    const k = options.delays ?? options.preemptions ?? Infinity;
    checkBound(this.#kind, k);
    this.#bound = k;
    const order = options.order ?? "default";
    if (!ORDERS.includes(order)) {
      throw new RangeError(`Cannot explore in order "${order}": known: ${ORDERS.join(", ")}`);
    }
    this.#order = order === "random" ? new PathOrder() : null;
    this.#path.order = this.#order;
    this.#path.prefix = options.prefix ?? [];
    this.#path.cutAt = options.cut ?? Infinity;
  }

  get bound(): string {
    if (this.#bound === Infinity) return "none";
    if (this.#kind === "preemptions") return `${this.#bound} preemptions`;
    return this.#bound === 1 ? "1 delay" : `${this.#bound} delays`;
  }

  get boundHit(): boolean {
    return this.#boundHit;
  }

  options(): Record<string, number | string> {
    const out: Record<string, number | string> = {};
    if (this.#bound !== Infinity) out[this.#kind] = this.#bound;
    if (this.#order !== null) out.order = "random";
    return out;
  }

  begin(seed: number): void {
    this.#path.begin();
    this.#order?.begin(seed);
    this.#spent = 0;
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(eligible[i].id);
    const forced = this.#path.decide();
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
      node = this.#newNode(ids, kernel.lastFiber?.id ?? -1, forced);
      this.#path.push(node);
    }
    const chosen = node.options[node.cursor];
    this.#spent += node.costs[node.cursor];
    this.#order?.step(chosen);
    return ids.indexOf(chosen);
  }

  #newNode(ids: number[], last: number, forced: number | undefined): ScheduleNode {
    const lastEligible = ids.includes(last);
    let ranked: number[];
    if (this.#order !== null) {
      ranked = this.#order.shuffle(ids);
    } else if (this.#kind === "delays") {
      // Round robin from the last fiber: it first while it can step, then
      // the next ids after it, wrapping around.
      const from = lastEligible ? last : last + 1;
      ranked = [...ids.filter((id) => id >= from), ...ids.filter((id) => id < from)];
    } else {
      ranked = lastEligible ? [last, ...ids.filter((id) => id !== last)] : ids;
    }
    const options: number[] = [];
    const costs: number[] = [];
    for (let i = 0; i < ranked.length; i++) {
      const id = ranked[i];
      const cost = this.#kind === "delays" ? i : lastEligible && id !== last ? 1 : 0;
      // A prefix was listed within the bound, by a search that noted what it cut.
      if (forced !== undefined && id !== forced) continue;
      if (this.#spent + cost > this.#bound) {
        this.#boundHit = true;
        continue;
      }
      options.push(id);
      costs.push(cost);
    }
    return { kind: "schedule", options, costs, eligible: ids.join(","), cursor: 0 };
  }

  pickValue(n: number, stream: string, kernel: Kernel): number {
    return this.#path.pickValue(n, stream, kernel);
  }

  advance(): boolean {
    return this.#path.advance((node) => ++node.cursor < node.options.length);
  }
}

/** Options of iterative bounding. */
export interface IterativeOptions {
  /** What the bound counts; preemptions unless said. */
  readonly kind?: BoundKind;
  /** The first bound; 0 unless said. */
  readonly from?: number;
  readonly order?: Order;
}

/**
 * Iterative bounding: depth-first search with at most 0 preemptions (or
 * delays), then 1, 2, ... until the budget runs out or a bound cuts nothing
 * off (the whole space was explored). Bugs needing the fewest preemptions
 * (or delays) come first. Each round runs the schedules of the rounds before
 * it again: that is the price of keeping no explored set.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const s = new IterativeDfsStrategy();
 * assertEquals(s.options(), { preemptions: 0, iterative: true });
 * assertEquals(new IterativeDfsStrategy({ kind: "delays" }).bound, "0 delays");
 * ```
 */
export class IterativeDfsStrategy implements ExhaustiveStrategy {
  readonly name = "dfs";
  readonly #kind: BoundKind;
  readonly #order: Order;
  #k: number;
  #inner: DfsStrategy;

  constructor(options: IterativeOptions = {}) {
    this.#kind = options.kind ?? "preemptions";
    this.#order = options.order ?? "default";
    this.#k = options.from ?? 0;
    checkBound(this.#kind, this.#k);
    this.#inner = this.#make();
  }

  #make(): DfsStrategy {
    return new DfsStrategy({ [this.#kind]: this.#k, order: this.#order });
  }

  get bound(): string {
    return this.#inner.bound;
  }

  get boundHit(): boolean {
    return this.#inner.boundHit;
  }

  options(): Record<string, number | string | boolean> {
    return { ...this.#inner.options(), iterative: true };
  }

  begin(seed: number): void {
    this.#inner.begin(seed);
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
    this.#k++;
    this.#inner = this.#make();
    return true;
  }
}
