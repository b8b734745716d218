/**
 * The interface every scheduling strategy implements.
 *
 * @module
 */
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import type { Op } from "./op.ts";
import type { Outcome } from "./outcome.ts";

/**
 * A strategy resolves every nondeterministic choice of a run: which eligible
 * fiber steps next, and every value a scenario asks for. The kernel records
 * what it returns; a replay feeds the record back through the same interface.
 */
export interface Strategy {
  /** "random", "pct", "replay", "dfs", "dpor". */
  readonly name: string;
  /**
   * When true, `pickFiber` is called at every step, even when only one fiber
   * can step (exhaustive strategies keep per-state bookkeeping). Such forced
   * picks are not recorded in traces.
   */
  readonly pickAlways?: boolean;
  /** The options that shaped this strategy, as written into traces. */
  options(): Record<string, number | string | boolean>;
  /** Starts a run with the given integer seed. */
  begin(seed: number, kernel: Kernel): void;
  /** Picks which of `eligible[0..count)` steps next; returns its index. */
  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number;
  /**
   * Picks a value in [0, n) for the named stream ("value", "fault", "clock"...).
   * With `p`, n is 2 and 1 should come with probability p.
   */
  pickValue(n: number, stream: string, kernel: Kernel, p?: number): number;
  /** Called when a fiber is spawned (PCT assigns its priority here). */
  onSpawn?(fiber: Fiber, kernel: Kernel): void;
  /** Called after every step, forced or chosen, with the operation performed. */
  onStep?(fiber: Fiber, op: Op, kernel: Kernel): void;
  /** Called when the run has ended. */
  end?(outcome: Outcome, kernel: Kernel): void;
}
