/**
 * Stateless exhaustive exploration: re-execute from the start, one schedule
 * after another, as loom and CHESS do. Memory grows with the depth of a run,
 * never with the number of schedules.
 *
 * @module
 */
import type { Failure, Target } from "./explore.ts";
import { Runner } from "./explore.ts";
import type { Heartbeat } from "./kernel.ts";
import { type Outcome, PrunedRun } from "./outcome.ts";
import type { Strategy } from "./strategy.ts";

/** A strategy that walks a tree of schedules, one per run. */
export interface ExhaustiveStrategy extends Strategy {
  /** Sets up the next schedule; false when every schedule (within the bound) was run. */
  advance(): boolean;
  /** True once a bound has cut a branch off: exhaustion is then only within the bound. */
  readonly boundHit: boolean;
  /** The bound, for people ("none", "2 preemptions"). */
  readonly bound: string;
}

/** Statistics of an exploration. */
export interface ExplorationStats {
  /** Schedules executed, complete or pruned. */
  readonly schedules: number;
  /** Schedules run to their end. */
  readonly complete: number;
  /** Schedules abandoned because they could only repeat explored ones (sleep-set blocked). */
  readonly pruned: number;
  /** The most steps any schedule took. */
  readonly maxDepth: number;
  /** Steps over all schedules. */
  readonly steps: number;
  /** True when the whole space within the bound was explored. */
  readonly exhausted: boolean;
  /** The bound the exhaustion holds for ("none" when unbounded and not cut). */
  readonly bound: string;
}

/** What an exploration found. */
export interface ExplorationResult extends ExplorationStats {
  /** The failing schedules kept, in the order found. */
  readonly failures: readonly Failure[];
}

/** Options of an exploration. */
export interface ExploreOptions {
  /** The budget: at most this many schedules. */
  readonly runs: number;
  /** The seed passed to runs (exhaustive strategies do not draw from it). */
  readonly seed?: number;
  /** Go on after a failure. */
  readonly keepGoing?: boolean;
  /**
   * Called after each schedule with the running statistics, and the
   * schedule's failure when it failed.
   */
  readonly onSchedule?: (
    stats: ExplorationStats,
    outcome: Outcome | null,
    failure?: Failure | null,
  ) => void;
  /** Shared memory a supervisor watches the runs through (`scale/supervisor.ts`). */
  readonly heartbeat?: Heartbeat;
}

/** Explores a target's schedules with `strategy` until a failure, exhaustion or the budget. */
export function exploreExhaustive(
  target: Target,
  strategy: ExhaustiveStrategy,
  options: ExploreOptions,
): ExplorationResult {
  const runner = new Runner(target);
  if (options.heartbeat !== undefined) runner.kernel.watch(options.heartbeat);
  const failures: Failure[] = [];
  const seed = options.seed ?? 0;
  let schedules = 0, complete = 0, pruned = 0, maxDepth = 0, steps = 0;
  let exhausted = false;
  const stats = (): ExplorationStats => ({
    schedules,
    complete,
    pruned,
    maxDepth,
    steps,
    exhausted,
    bound: strategy.boundHit ? strategy.bound : "none",
  });
  while (schedules < options.runs) {
    let outcome: Outcome | null = null;
    try {
      outcome = runner.run(strategy, seed);
      complete++;
    } catch (e) {
      if (!(e instanceof PrunedRun)) throw e;
      pruned++;
    }
    schedules++;
    const depth = runner.kernel.step;
    steps += depth;
    if (depth > maxDepth) maxDepth = depth;
    let failure: Failure | null = null;
    if (outcome !== null && outcome.verdict !== "pass") {
      failure = { seed, schedule: schedules, outcome, decisions: runner.kernel.decisions() };
      failures.push(failure);
    }
    const more = strategy.advance();
    if (!more) exhausted = true;
    options.onSchedule?.(stats(), outcome, failure);
    if (!more || (failures.length > 0 && !options.keepGoing)) break;
  }
  return { ...stats(), failures };
}
