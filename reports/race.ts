/**
 * The race behind a `bug`: the last pair of conflicting accesses whose
 * order decides the failure. A pair is two steps of different fibers on the
 * same cell, at least one a write. For each pair, latest first, the run is repeated with the
 * second fiber's steps up to its access moved before the first access; the
 * first pair for which that reordered run is possible and no longer fails
 * the same way is the race. When no pair is confirmed within the budget,
 * the latest pair is shown, marked as a guess.
 *
 * @module
 */
import type { StepEvent } from "../sim/events.ts";
import { Runner, targetOfTrace } from "../sim/explore.ts";
import type { Fiber } from "../sim/fiber.ts";
import { GuidedStrategy } from "../sim/guided.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { AnyScenario } from "../sim/scenario.ts";
import type { Strategy } from "../sim/strategy.ts";
import { decodeDecisions, type Trace } from "../sim/trace.ts";

/** Two conflicting accesses: event indexes, their steps, the cell. */
export interface Race {
  /** The earlier access's index in the timeline's events. */
  readonly first: number;
  /** The later access's index in the timeline's events. */
  readonly second: number;
  /** The earlier access's step. */
  readonly firstStep: number;
  /** The later access's step. */
  readonly secondStep: number;
  /** The object both access. */
  readonly object: string;
  /** True when reordering the pair was run and the failure went away. */
  readonly confirmed: boolean;
}

/** Pairs tried at most. */
const CANDIDATES_MAX = 80;
/** Runs longer than this get the unconfirmed guess only. */
const STEPS_MAX = 5_000;

/** Runs fibers in a given order, asking at every step; values from a list. */
class OrderStrategy implements Strategy {
  readonly name = "order";
  readonly pickAlways = true;
  /** The first step where the wanted fiber could not run, or -1. */
  misfit = -1;
  readonly #order: readonly number[];
  readonly #values: readonly number[];
  #v = 0;

  constructor(order: readonly number[], values: readonly number[]) {
    this.#order = order;
    this.#values = values;
  }
  options(): Record<string, number> {
    return {};
  }
  begin(): void {
    this.misfit = -1;
    this.#v = 0;
  }
  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    const want = this.#order[kernel.step];
    for (let i = 0; i < count; i++) if (eligible[i].id === want) return i;
    if (this.misfit < 0) this.misfit = kernel.step + 1;
    return 0;
  }
  pickValue(n: number): number {
    const v = this.#values[this.#v++];
    return v !== undefined && v < n ? v : 0;
  }
}

/** Records the values a delegate strategy picks. */
class ValueLog implements Strategy {
  readonly name = "values";
  readonly values: number[] = [];
  readonly #inner: Strategy;
  constructor(inner: Strategy) {
    this.#inner = inner;
  }
  options(): Record<string, number> {
    return {};
  }
  begin(seed: number, kernel: Kernel): void {
    this.#inner.begin(seed, kernel);
  }
  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    return this.#inner.pickFiber(eligible, count, kernel);
  }
  pickValue(n: number, stream: string, kernel: Kernel, p?: number): number {
    const v = this.#inner.pickValue(n, stream, kernel, p);
    this.values.push(v);
    return v;
  }
}

/** The conflicting pairs of a run, latest second access first, then latest first access. */
function candidates(events: readonly StepEvent[], cells: ReadonlySet<string>): [number, number][] {
  const out: [number, number][] = [];
  for (let j = events.length - 1; j > 0 && out.length < CANDIDATES_MAX; j--) {
    const b = events[j];
    if (!cells.has(b.object)) continue;
    for (let i = j - 1; i >= 0 && out.length < CANDIDATES_MAX; i--) {
      const a = events[i];
      if (a.object === b.object && a.fiber !== b.fiber && (a.write || b.write)) out.push([i, j]);
    }
  }
  return out;
}

/**
 * Finds the race of a failing run (see the module doc). `events` are the
 * run's steps; `cells` the names of its cells. Null when the run is not a
 * `bug` or has no conflicting pair.
 */
export function findRace(
  trace: Trace,
  scenario: AnyScenario,
  events: readonly StepEvent[],
  cells: ReadonlySet<string>,
): Race | null {
  if (trace.outcome.verdict !== "bug") return null;
  const failStep = trace.outcome.step;
  const upTo = events.filter((e) => e.step <= failStep);
  const pairs = candidates(upTo, cells);
  if (pairs.length === 0) return null;
  const race = (i: number, j: number, confirmed: boolean): Race => ({
    first: i,
    second: j,
    firstStep: upTo[i].step,
    secondStep: upTo[j].step,
    object: upTo[i].object,
    confirmed,
  });
  if (upTo.length > STEPS_MAX) return race(...pairs[0], false);
  const target = targetOfTrace(trace, scenario);
  const runner = new Runner(target);
  const log = new ValueLog(new GuidedStrategy(decodeDecisions(trace.decisions)));
  const original = runner.run(log, trace.seed);
  const order = events.map((e) => e.fiber);
  for (const [i, j] of pairs) {
    const mover = upTo[j].fiber;
    const moved: number[] = [];
    const rest: number[] = [];
    for (let s = i; s < order.length; s++) {
      if (s > i && s <= j && order[s] === mover) moved.push(order[s]);
      else rest.push(order[s]);
    }
    const flipped = [...order.slice(0, i), ...moved, ...rest];
    const strategy = new OrderStrategy(flipped, log.values);
    const o = runner.run(strategy, trace.seed);
    const critical = i + moved.length + 1;
    if (strategy.misfit >= 0 && strategy.misfit <= critical) continue;
    if (o.step < critical && o.verdict !== "pass") continue;
    if (o.verdict !== original.verdict || o.check !== original.check) return race(i, j, true);
  }
  return race(...pairs[0], false);
}
