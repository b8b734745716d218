/**
 * The determinism self-check: run each schedule twice and compare what
 * happened. A scenario that keeps state between runs, reads the outside
 * world or iterates an unordered thing shows up here, with the step where
 * the two runs part.
 *
 * @module
 */
import { describeEvent, EventLog, type StepEvent } from "./events.ts";
import { isExhaustive, Runner, type Target } from "./explore.ts";
import { GuidedStrategy } from "./guided.ts";
import { type Outcome, PrunedRun } from "./outcome.ts";
import type { Strategy } from "./strategy.ts";

/** Where two runs of one schedule differ. */
export interface NondeterminismReport {
  /** The seed whose two runs differ. */
  readonly seed: number;
  /** The first step that differs (0: the outcome or the final state differs). */
  readonly step: number;
  /** What the first and the second run did there. */
  readonly first: string;
  /** What the second run gave. */
  readonly second: string;
  /** One line for people. */
  readonly message: string;
}

/** What a determinism check found. */
export interface DeterminismResult {
  /** Seeds checked. */
  readonly runs: number;
  /** Every seed whose runs differ. */
  readonly problems: readonly NondeterminismReport[];
}

/** How a determinism check goes. */
export interface DeterminismOptions {
  /** The strategy that picks the schedules. */
  readonly strategy: Strategy;
  /** The first seed; run i uses seed + i. */
  readonly seed: number;
  /** How many seeds to check. */
  readonly runs: number;
  /** Stop after this many differing schedules (default 1). */
  readonly problemsMax?: number;
}

/**
 * Runs each schedule of a sweep, then replays its decisions, and compares
 * the two event logs, outcomes and final states.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { lostUpdate } from "../scenarios/mod.ts";
 * import { makeTarget } from "./explore.ts";
 * import { RandomStrategy } from "./random.ts";
 * const target = makeTarget(lostUpdate, "racy");
 * const r = checkDeterminism(target, { strategy: new RandomStrategy(), seed: 1, runs: 20 });
 * assertEquals([r.runs, r.problems.length], [20, 0]);
 * ```
 */
export function checkDeterminism(target: Target, options: DeterminismOptions): DeterminismResult {
  const runner = new Runner(target);
  const guided = new GuidedStrategy();
  const problems: NondeterminismReport[] = [];
  const problemsMax = options.problemsMax ?? 1;
  let runs = 0;
  // DFS and DPOR walk a tree of schedules, one per run, with a fixed seed.
  const tree = isExhaustive(options.strategy) ? options.strategy : null;
  for (let i = 0; i < options.runs && problems.length < problemsMax; i++) {
    const seed = tree === null ? options.seed + i : options.seed;
    const a = new EventLog();
    let first: Outcome;
    try {
      first = runner.run(options.strategy, seed, a);
    } catch (e) {
      if (!(e instanceof PrunedRun)) throw e;
      if (tree !== null && !tree.advance()) break;
      continue;
    }
    const stateA = stateText(runner.kernel.snapshot());
    guided.follow(runner.kernel.decisions());
    const b = new EventLog();
    const second = runner.run(guided, seed, b);
    const stateB = stateText(runner.kernel.snapshot());
    runs++;
    const problem = compare(seed, a, b, first, second, stateA, stateB);
    if (problem !== null) problems.push(problem);
    if (tree !== null && !tree.advance()) break;
  }
  return { runs, problems };
}

function compare(
  seed: number,
  a: EventLog,
  b: EventLog,
  first: Outcome,
  second: Outcome,
  stateA: string,
  stateB: string,
): NondeterminismReport | null {
  const n = Math.max(a.events.length, b.events.length);
  for (let i = 0; i < n; i++) {
    const x = a.events[i];
    const y = b.events[i];
    if (x !== undefined && y !== undefined && sameEvent(x, y)) continue;
    const one = x === undefined ? "the run had ended" : describeEvent(x);
    const two = y === undefined ? "the run had ended" : describeEvent(y);
    return problem(seed, i + 1, one, two);
  }
  const o1 = outcomeText(first);
  const o2 = outcomeText(second);
  if (o1 !== o2) return problem(seed, 0, o1, o2);
  if (stateA !== stateB) return problem(seed, 0, `final state ${stateA}`, `final state ${stateB}`);
  return null;
}

function problem(seed: number, step: number, first: string, second: string): NondeterminismReport {
  const where = step === 0 ? "at the end" : `from step ${step}`;
  return {
    seed,
    step,
    first,
    second,
    message: `nondeterminism in the scenario: seed ${seed}, two runs of the same schedule ` +
      `differ ${where}: first ${first}; then ${second}`,
  };
}

function sameEvent(x: StepEvent, y: StepEvent): boolean {
  return x.fiber === y.fiber && x.name === y.name && x.kind === y.kind && x.obj === y.obj &&
    x.write === y.write && x.time === y.time;
}

// Empty fields are left out: a pass has no check and no message.
function outcomeText(o: Outcome): string {
  const check = o.check === "" ? "" : ` (${o.check})`;
  const message = o.message === "" ? "" : `: ${o.message}`;
  return `${o.verdict}${check} at step ${o.step}${message}`;
}

function stateText(state: Record<string, unknown>): string {
  try {
    return JSON.stringify(state, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
  } catch {
    return String(state);
  }
}
