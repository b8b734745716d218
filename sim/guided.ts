/**
 * The guided strategy: replays a decision list leniently and measures the
 * schedule it produces (preemptions, context switches).
 *
 * Shrinking edits decision lists (cuts them, drops or changes entries), so
 * an edited list rarely fits the run exactly. Where a decision does not fit,
 * or the list has run out, this strategy falls back to a fixed default: keep
 * running the fiber that ran the previous step when it can go on, else the
 * lowest fiber id; value 0 for values. Every edit is therefore a valid run,
 * and the run's own recorded decisions form an ordinary, exact trace.
 *
 * @module
 */
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import type { Strategy } from "./strategy.ts";

/** What the run asked at one recorded decision, for shrinking candidates. */
export type DecisionPoint =
  | {
    readonly kind: "fiber";
    /** The ids of the fibers that could step, in id order. */
    readonly eligible: readonly number[];
    /** The fiber that ran the previous step, or -1 at the first step. */
    readonly prev: number;
    /** True when the choice switched away from `prev` while `prev` could go on. */
    readonly preempts: boolean;
  }
  | { readonly kind: "value"; readonly n: number; readonly stream: string };

/** How a schedule looks: the figures shrinking reduces and reports print. */
export interface ScheduleStats {
  /** Steps taken. */
  readonly steps: number;
  /** Switches away from a fiber that could have gone on. */
  readonly preemptions: number;
  /** Any change of the running fiber. */
  readonly switches: number;
  /** Recorded decisions: fiber picks among several, and values. */
  readonly decisions: number;
}

/**
 * Replays `decisions` where they fit and falls back to the default schedule
 * where they do not. Counts preemptions and context switches as it goes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "./kernel.ts";
 * function* twice(c: import("./cell.ts").Cell<number>) {
 *   yield* c.write((yield* c.read()) + 1);
 * }
 * const k = new Kernel();
 * const g = new GuidedStrategy([0, 1, 1]); // inc0 reads, inc1 reads (a preemption), inc1 writes
 * k.reset({ cores: 0, stepsMax: 100 }, g, 0);
 * const c = k.cell("c", 0);
 * k.spawn("inc0", twice, c);
 * k.spawn("inc1", twice, c);
 * k.execute();
 * assertEquals([c.peek(), g.preemptions, g.misfits], [1, 1, 0]);
 * ```
 */
export class GuidedStrategy implements Strategy {
  readonly name = "guided";
  #decisions: readonly number[];
  #next = 0;
  #prev = -1;
  #annotate = false;
  /** Preemptions so far in this run. */
  preemptions = 0;
  /** Context switches so far in this run. */
  switches = 0;
  /** Decisions of the list that did not fit and were replaced by the default. */
  misfits = 0;
  /** The step at which the first misfit happened, or -1. */
  firstMisfitStep: number = -1;
  /** With `annotate`, one entry per recorded decision of the run. */
  readonly points: DecisionPoint[] = [];

  /** Replays `decisions`; with `annotate`, it records which ones did not fit. */
  constructor(decisions: readonly number[] = [], annotate = false) {
    this.#decisions = decisions;
    this.#annotate = annotate;
  }

  /** Sets the list the next run follows, and whether to record decision points. */
  follow(decisions: readonly number[], annotate = false): void {
    this.#decisions = decisions;
    this.#annotate = annotate;
  }

  options(): Record<string, number> {
    return {};
  }

  /** Decisions of the list that the run did not reach. */
  get remaining(): number {
    return Math.max(0, this.#decisions.length - this.#next);
  }

  begin(): void {
    this.#next = 0;
    this.#prev = -1;
    this.preemptions = 0;
    this.switches = 0;
    this.misfits = 0;
    this.firstMisfitStep = -1;
    this.points.length = 0;
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    const prev = this.#prev;
    let prevAt = -1;
    let lowest = 0;
    for (let i = 0; i < count; i++) {
      if (eligible[i].id === prev) prevAt = i;
      if (eligible[i].id < eligible[lowest].id) lowest = i;
    }
    let pick = -1;
    if (this.#next < this.#decisions.length) {
      const want = this.#decisions[this.#next++];
      for (let i = 0; i < count; i++) if (eligible[i].id === want) pick = i;
      if (pick < 0) this.#misfit(kernel);
    }
    if (pick < 0) pick = prevAt >= 0 ? prevAt : lowest;
    const preempts = prevAt >= 0 && pick !== prevAt;
    if (preempts) this.preemptions++;
    if (this.#annotate) {
      const ids: number[] = [];
      for (let i = 0; i < count; i++) ids.push(eligible[i].id);
      ids.sort((a, b) => a - b);
      this.points.push({ kind: "fiber", eligible: ids, prev, preempts });
    }
    return pick;
  }

  pickValue(n: number, stream: string, kernel: Kernel): number {
    let v = 0;
    if (this.#next < this.#decisions.length) {
      const want = this.#decisions[this.#next++];
      if (Number.isInteger(want) && want >= 0 && want < n) v = want;
      else this.#misfit(kernel);
    }
    if (this.#annotate) this.points.push({ kind: "value", n, stream });
    return v;
  }

  onStep(fiber: Fiber): void {
    if (this.#prev !== -1 && fiber.id !== this.#prev) this.switches++;
    this.#prev = fiber.id;
  }

  #misfit(kernel: Kernel): void {
    if (this.misfits++ === 0) this.firstMisfitStep = kernel.step + 1;
  }

  /** The figures of the run that just ended in `kernel`. */
  stats(kernel: Kernel): ScheduleStats {
    return {
      steps: kernel.step,
      preemptions: this.preemptions,
      switches: this.switches,
      decisions: kernel.decisionCount,
    };
  }
}
