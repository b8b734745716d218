/**
 * Shrinking a failing trace: the smallest schedule that still fails the same
 * way.
 *
 * A candidate is an edited decision list (or smaller scenario parameters).
 * The guided strategy replays it leniently, so every candidate is a valid
 * run, and a candidate is kept when the run fails with the same verdict and
 * check and its cost is lower. Costs compare, in order: preemptions, steps,
 * the sum of the integer parameters, then the decision list
 * lexicographically. Candidates come as a lazy stream with a greedy descent
 * (fast-check's design; its own shrinkers supply the integer and array
 * candidates), under a budget of runs, accepted rounds and time.
 *
 * @module
 */
import fc from "fast-check";
import {
  createStrategy,
  isExhaustive,
  makeTarget,
  Runner,
  STRATEGIES,
  swarmConfigOf,
  type Target,
  targetOfTrace,
} from "./explore.ts";
import { type DecisionPoint, GuidedStrategy, type ScheduleStats } from "./guided.ts";
import { isCut, type Outcome, PrunedRun } from "./outcome.ts";
import { type AnyScenario, STEPS_MAX_DEFAULT, UsageError } from "./scenario.ts";
import type { Strategy } from "./strategy.ts";
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import type { Op } from "./op.ts";
import { CONFIG_STREAM } from "./swarm.ts";
import { decodeDecisions, encodeDecisions, type Trace } from "./trace.ts";

/** Limits on one shrink. */
export interface ShrinkBudget {
  /** Scenario runs in all, searches included. */
  readonly runsMax: number;
  /** Accepted improvements. */
  readonly roundsMax: number;
  /** Wall-clock time, measured with `now`. */
  readonly timeMsMax: number;
  /** Runs spent looking for the failure again at each smaller parameter set. */
  readonly searchRuns: number;
}

/** The default budget: enough for small scenarios to reach a fixpoint in well under a second. */
export const SHRINK_BUDGET: ShrinkBudget = {
  runsMax: 20_000,
  roundsMax: 500,
  timeMsMax: 5_000,
  searchRuns: 500,
};

/** How a shrink goes. */
export interface ShrinkOptions extends Partial<ShrinkBudget> {
  /** A clock in milliseconds for the time budget; without one only runs and rounds bound it. */
  readonly now?: () => number;
  /** Try smaller integer parameters (default true). */
  readonly params?: boolean;
  /** The strategy that searches at smaller parameters (default: the trace's, else random). */
  readonly searchStrategy?: (target: Target) => Strategy;
}

/** What a shrink did. */
export interface ShrinkResult {
  /** The trace shrunk. */
  readonly original: Trace;
  /** The smallest failing trace found; it replays exactly like any other trace. */
  readonly shrunk: Trace;
  /** The schedule before. */
  readonly before: ScheduleStats;
  /** The schedule after. */
  readonly after: ScheduleStats;
  /** Scenario runs spent. */
  readonly runs: number;
  /** Improvements accepted. */
  readonly rounds: number;
  /** Why it stopped: no candidate was smaller, or a budget ran out. */
  readonly stopped: "fixpoint" | "runs" | "rounds" | "time";
}

/** A failing run as the descent holds it. */
interface State {
  readonly target: Target;
  readonly seed: number;
  readonly decisions: readonly number[];
  /** What the run asked at each decision; filled in once the state is the best so far. */
  readonly points: readonly DecisionPoint[] | null;
  readonly stats: ScheduleStats;
  readonly outcome: Outcome;
  /** The parameters the run used: the target's, with a swarm run's drawn configuration over them. */
  readonly effective: Record<string, unknown>;
}

type Candidate =
  | { readonly kind: "decisions"; readonly decisions: readonly number[] }
  | { readonly kind: "params"; readonly params: Record<string, unknown> }
  | { readonly kind: "config"; readonly config: readonly number[] };

/** Candidates of fast-check's array shrinker tried per round; it yields many. */
const FC_ARRAY_CANDIDATES_MAX = 300;
/** Values tried at a value decision: the smallest ones are the ones that matter. */
const VALUE_ALTERNATIVES_MAX = 8;
/** Smaller values tried per integer parameter. */
const PARAM_CANDIDATES_MAX = 6;

/**
 * Shrinks a failing trace. Throws a `UsageError` when the trace passes or no
 * longer reproduces its recorded outcome.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { lostUpdate } from "../scenarios/mod.ts";
 * import { judge, makeTarget, makeTrace, planFor } from "./explore.ts";
 * const target = makeTarget(lostUpdate, "racy", { params: { fibers: 3, increments: 2 } });
 * const found = judge(target, { ...planFor(target, { strategy: "random" }), seed: 1 });
 * const trace = makeTrace(target, found.strategy, found.failures[0]);
 * const r = shrinkTrace(trace, lostUpdate);
 * assertEquals([r.after.preemptions, r.after.steps], [1, 4]);
 * assertEquals(r.shrunk.params, { fibers: 2, increments: 1, localWork: 0 });
 * ```
 */
export function shrinkTrace(
  trace: Trace,
  scenario: AnyScenario,
  options: ShrinkOptions = {},
): ShrinkResult {
  return new Shrinker(trace, scenario, options).run();
}

class Shrinker {
  readonly #trace: Trace;
  readonly #budget: ShrinkBudget;
  readonly #now: (() => number) | null;
  readonly #start: number;
  readonly #allowParams: boolean;
  /** Whether the top-level descent may search afresh under smaller swarm configurations. */
  #swarmSearch = true;
  readonly #searchStrategy: (target: Target) => Strategy;
  readonly #guided = new GuidedStrategy();
  readonly #runners = new Map<string, Runner>();
  readonly #tried = new Set<string>();
  readonly #triedParams = new Set<string>();
  #goal: Outcome;
  #runs = 0;
  #rounds = 0;
  #stopped: ShrinkResult["stopped"] = "fixpoint";
  readonly #scenario: AnyScenario;

  constructor(trace: Trace, scenario: AnyScenario, options: ShrinkOptions) {
    if (trace.outcome.verdict === "pass") {
      throw new UsageError("nothing to shrink: the trace passes");
    }
    if (isCut(trace.outcome)) {
      // Every candidate would run the step that never returned, or another like it.
      throw new UsageError(
        `a ${trace.outcome.verdict} (${trace.outcome.check}) is not shrunk: ` +
          "a candidate schedule could run the step that never returned",
      );
    }
    this.#trace = trace;
    this.#scenario = scenario;
    this.#goal = trace.outcome;
    this.#budget = { ...SHRINK_BUDGET, ...definedOnly(options) };
    this.#now = options.now ?? null;
    this.#start = this.#now?.() ?? 0;
    // A swarm run's parameters are drawn: its configuration decisions shrink instead.
    this.#allowParams = (options.params ?? true) && trace.swarm === undefined;
    this.#searchStrategy = options.searchStrategy ?? defaultSearch(trace);
  }

  run(): ShrinkResult {
    const target = targetOfTrace(this.#trace, this.#scenario);
    const decisions = decodeDecisions(this.#trace.decisions);
    const first = this.#evaluate(target, this.#trace.seed, decisions);
    if (first === null || this.#guided.misfits > 0 || this.#guided.remaining > 0) {
      throw new UsageError(
        "cannot shrink: the trace does not reproduce its recorded outcome " +
          "(replay it with --replay to see where it differs)",
      );
    }
    const best = this.#descend(first, this.#allowParams);
    return {
      original: this.#trace,
      shrunk: this.#traceOf(best),
      before: first.stats,
      after: best.stats,
      runs: this.#runs,
      rounds: this.#rounds,
      stopped: this.#stopped,
    };
  }

  #traceOf(s: State): Trace {
    const from = this.#trace.strategy.name === "shrink"
      ? String(this.#trace.strategy.from ?? "shrink")
      : this.#trace.strategy.name;
    return {
      ...this.#trace,
      params: s.target.params,
      cores: s.target.cores,
      stepsMax: s.target.stepsMax,
      strategy: { name: "shrink", from },
      seed: s.seed,
      decisions: encodeDecisions(s.decisions),
      outcome: s.outcome,
      ...(s.target.swarm ? { swarm: swarmConfigOf(s.target, s.decisions) } : {}),
    };
  }

  #exhausted(): boolean {
    if (this.#stopped !== "fixpoint") return true;
    if (this.#runs >= this.#budget.runsMax) this.#stopped = "runs";
    else if (this.#rounds >= this.#budget.roundsMax) this.#stopped = "rounds";
    else if (this.#now !== null && this.#now() - this.#start >= this.#budget.timeMsMax) {
      this.#stopped = "time";
    }
    return this.#stopped !== "fixpoint";
  }

  // Greedy descent: take the first candidate that is better, then start
  // over from it, until no candidate is better or the budget runs out.
  #descend(start: State, allowParams: boolean): State {
    let best = this.#annotated(start);
    outer: while (!this.#exhausted()) {
      const cut = this.#bisectCut(best);
      if (cut !== null) {
        best = this.#annotated(cut);
        this.#rounds++;
        continue;
      }
      for (const c of this.#candidates(best, allowParams)) {
        if (this.#exhausted()) break outer;
        const next = c.kind === "decisions"
          ? this.#tryDecisions(best, c.decisions)
          : c.kind === "params"
          ? this.#tryParams(best, c.params)
          : this.#tryConfig(best, c.config);
        if (next !== null && better(next, best)) {
          best = this.#annotated(next);
          this.#rounds++;
          continue outer;
        }
      }
      break;
    }
    return best;
  }

  // Cutting the list at preemption i leaves i preemptions. Whether a cut
  // still fails is nearly always monotone in i, so a binary search finds the
  // earliest failing cut in log2(preemptions) runs rather than one run per
  // preemption: long random traces have hundreds.
  #bisectCut(s: State): State | null {
    const at = preemptionIndexes(s);
    let lo = 0;
    let hi = at.length; // cut(hi) is the state itself
    let found: State | null = null;
    while (lo < hi && !this.#exhausted()) {
      const mid = (lo + hi) >> 1;
      const next = this.#tryDecisions(s, s.decisions.slice(0, at[mid]));
      if (next !== null && better(next, s)) {
        found = next;
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return found;
  }

  *#candidates(s: State, allowParams: boolean): Generator<Candidate> {
    const decisions = decisionCandidates(s);
    // Undoing single preemptions first; then smaller parameters, which shrink
    // long runs the most; then the finer edits.
    for (const d of decisions.undo) yield { kind: "decisions", decisions: d };
    if (allowParams) {
      for (const params of paramCandidates(s.target)) yield { kind: "params", params };
    }
    // A swarm run's configuration shrinks as parameters do: each smaller
    // drawn value, with the failure searched for afresh under it.
    if (this.#swarmSearch && s.target.swarm) {
      for (const config of configCandidates(s)) yield { kind: "config", config };
    }
    for (const d of decisions.rest) yield { kind: "decisions", decisions: d };
  }

  /** `s` with its decision points, re-running it once when they are missing. */
  #annotated(s: State): State {
    if (s.points !== null) return s;
    const g = this.#guided;
    g.follow(s.decisions, true);
    this.#runner(s.target).run(g, s.seed);
    this.#runs++;
    return { ...s, points: [...g.points] };
  }

  #tryDecisions(s: State, decisions: readonly number[]): State | null {
    const key = `${paramsKey(s.target.params)}|${decisions.join(",")}`;
    if (this.#tried.has(key)) return null;
    this.#tried.add(key);
    return this.#evaluate(s.target, s.seed, decisions);
  }

  // Smaller parameters change the run's shape, so the old decisions do not
  // transfer: search afresh with the strategy that found the failure, then
  // shrink what it finds before comparing.
  #tryParams(s: State, params: Record<string, unknown>): State | null {
    const key = paramsKey(params);
    if (this.#triedParams.has(key)) return null;
    this.#triedParams.add(key);
    let target: Target;
    const scenario = s.target.scenario;
    // Limits the scenario derives from its parameters follow them; limits
    // a user set by hand stay.
    const coresByScenario = s.target.cores === (scenario.cores?.(s.target.params) ?? 0);
    const stepsByScenario = s.target.stepsMax ===
      (scenario.stepsMax?.(s.target.params) ?? STEPS_MAX_DEFAULT);
    try {
      target = makeTarget(scenario, s.target.variant, {
        params,
        cores: coresByScenario ? undefined : s.target.cores,
        stepsMax: stepsByScenario ? undefined : s.target.stepsMax,
        source: s.target.source,
        memory: s.target.memory,
        swarm: s.target.swarm,
      });
    } catch (e) {
      if (e instanceof UsageError) return null; // outside the schema
      throw e;
    }
    const strategy = this.#searchStrategy(target);
    // DFS and DPOR walk a tree, one schedule per run, with one seed.
    const tree = isExhaustive(strategy) ? strategy : null;
    const runner = this.#runner(target);
    for (let i = 0; i < this.#budget.searchRuns && !this.#exhausted(); i++) {
      const seed = tree === null ? this.#trace.seed + i : this.#trace.seed;
      let outcome: Outcome | null = null;
      try {
        outcome = runner.run(strategy, seed);
      } catch (e) {
        if (!(e instanceof PrunedRun)) throw e;
      }
      this.#runs++;
      if (outcome !== null && this.#same(outcome)) {
        const found = this.#evaluate(target, seed, runner.kernel.decisions());
        return found === null ? null : this.#descend(found, false);
      }
      if (tree !== null && !tree.advance()) return null;
    }
    return null;
  }

  // Smaller drawn values change the run's shape, as smaller parameters do:
  // search afresh with the configuration pinned, then shrink what is found.
  #tryConfig(s: State, config: readonly number[]): State | null {
    const key = `config|${config.join(",")}`;
    if (this.#triedParams.has(key)) return null;
    this.#triedParams.add(key);
    const inner = this.#searchStrategy(s.target);
    if (isExhaustive(inner)) return null; // a tree search branches on the configuration itself
    const strategy = new PinnedConfig(inner, config);
    const runner = this.#runner(s.target);
    for (let i = 0; i < this.#budget.searchRuns && !this.#exhausted(); i++) {
      const seed = this.#trace.seed + i;
      const outcome = runner.run(strategy, seed);
      this.#runs++;
      if (this.#same(outcome)) {
        const found = this.#evaluate(s.target, seed, runner.kernel.decisions());
        if (found === null) return null;
        const outer = this.#swarmSearch;
        this.#swarmSearch = false;
        try {
          return this.#descend(found, false);
        } finally {
          this.#swarmSearch = outer;
        }
      }
    }
    return null;
  }

  #same(o: Outcome): boolean {
    return o.verdict === this.#goal.verdict && o.check === this.#goal.check;
  }

  #runner(target: Target): Runner {
    const key = paramsKey(target.params);
    let r = this.#runners.get(key);
    if (r === undefined) {
      r = new Runner(target);
      this.#runners.set(key, r);
    }
    return r;
  }

  /** Runs `decisions` leniently; the run's state when it fails the same way, else null. */
  #evaluate(target: Target, seed: number, decisions: readonly number[]): State | null {
    const g = this.#guided;
    g.follow(decisions, false);
    const runner = this.#runner(target);
    const outcome = runner.run(g, seed);
    this.#runs++;
    if (!this.#same(outcome)) return null;
    const k = runner.kernel;
    return {
      target,
      seed,
      decisions: k.decisions(),
      points: null,
      stats: g.stats(k),
      outcome,
      effective: runner.config === null ? target.params : { ...target.params, ...runner.config },
    };
  }
}

function definedOnly(o: Partial<ShrinkBudget>): Partial<ShrinkBudget> {
  const out: Record<string, number> = {};
  for (const key of ["runsMax", "roundsMax", "timeMsMax", "searchRuns"] as const) {
    const v = o[key];
    if (v !== undefined) {
      if (!Number.isInteger(v) || v < 0) {
        throw new RangeError(`Cannot shrink with ${key} ${v}: need a non-negative integer`);
      }
      out[key] = v;
    }
  }
  return out;
}

function defaultSearch(trace: Trace): (target: Target) => Strategy {
  const s = trace.strategy;
  const name = s.name === "shrink" ? String(s.from ?? "random") : s.name;
  const depth = typeof s.depth === "number" ? s.depth : undefined;
  const preemptions = typeof s.preemptions === "number" ? s.preemptions : undefined;
  const delays = typeof s.delays === "number" ? s.delays : undefined;
  const order = s.order === "random" ? "random" : undefined;
  const known = (STRATEGIES as readonly string[]).includes(name) ? name : "random";
  // A PCT run length estimated for other parameters would be wrong: it is
  // probed again. DFS keeps its preemption bound; an iterative one restarts at 0.
  return (target) =>
    createStrategy(known, target, {
      depth,
      preemptions: s.iterative === true ? undefined : preemptions,
      delays: delays === undefined ? undefined : s.iterative === true ? 0 : delays,
      iterative: s.iterative === true ? true : undefined,
      order,
    });
}

/** Integer parameters summed: fewer fibers, fewer rounds, smaller sizes. */
function paramsWeight(params: Record<string, unknown>): number {
  let w = 0;
  for (const v of Object.values(params)) if (Number.isInteger(v)) w += v as number;
  return w;
}

function paramsKey(params: Record<string, unknown>): string {
  return JSON.stringify(params);
}

/** True when `a` is strictly smaller than `b` in the shrink order. */
function better(a: State, b: State): boolean {
  if (a.stats.preemptions !== b.stats.preemptions) {
    return a.stats.preemptions < b.stats.preemptions;
  }
  if (a.stats.steps !== b.stats.steps) return a.stats.steps < b.stats.steps;
  // A swarm run's drawn configuration weighs like parameters.
  const wa = paramsWeight(a.effective);
  const wb = paramsWeight(b.effective);
  if (wa !== wb) return wa < wb;
  return lexLess(a.decisions, b.decisions);
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return a.length < b.length;
}

function preemptionIndexes(s: State): number[] {
  const out: number[] = [];
  const points = s.points ?? [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p.kind === "fiber" && p.preempts) out.push(i);
  }
  return out;
}

/** The decision-list candidates of a state: undoing a preemption, and the rest. */
function decisionCandidates(
  s: State,
): { undo: Iterable<readonly number[]>; rest: Iterable<readonly number[]> } {
  const d = s.decisions;
  const points = s.points ?? [];
  const preempting = preemptionIndexes(s);
  function* undo(): Generator<readonly number[]> {
    // Keep running the fiber that ran before, instead of switching away.
    for (const i of preempting) {
      const p = points[i] as Extract<DecisionPoint, { kind: "fiber" }>;
      yield [...d.slice(0, i), p.prev, ...d.slice(i + 1)];
    }
  }
  function* rest(): Generator<readonly number[]> {
    // Drop one preemption decision: the rest shift by one, which moves
    // later switches earlier.
    for (const i of preempting) yield [...d.slice(0, i), ...d.slice(i + 1)];
    // Cut at each preemption, in case the binary search's guess of
    // monotonicity missed one: the default schedule then runs on without
    // any further preemption.
    for (const i of preempting) yield d.slice(0, i);
    // fast-check's array shrinker: cuts of every size, then smaller entries.
    yield* fcArrayCandidates(d);
    // Every other choice at every decision, smaller first: other fibers
    // that could have stepped, other values. Each with the default
    // schedule after it (which often replays the same race with the roles
    // swapped), then with the rest of the list kept.
    for (let i = 0; i < points.length && i < d.length; i++) {
      for (const a of alternatives(points[i], d[i])) {
        yield [...d.slice(0, i), a];
        yield [...d.slice(0, i), a, ...d.slice(i + 1)];
      }
    }
    // Swap the roles of two fibers throughout: the mirror image of a race
    // between like fibers, which may be lexicographically smaller.
    yield* swaps(d, points);
  }
  return { undo: undo(), rest: rest() };
}

function* swaps(d: readonly number[], points: readonly DecisionPoint[]): Generator<number[]> {
  const ids = new Set<number>();
  for (let i = 0; i < d.length && i < points.length; i++) {
    if (points[i].kind === "fiber") ids.add(d[i]);
  }
  const sorted = [...ids].sort((a, b) => a - b);
  for (let x = 0; x < sorted.length; x++) {
    for (let y = x + 1; y < sorted.length; y++) {
      const a = sorted[x];
      const b = sorted[y];
      yield d.map((v, i) => points[i]?.kind !== "fiber" ? v : v === a ? b : v === b ? a : v);
    }
  }
}

function* fcArrayCandidates(d: readonly number[]): Generator<number[]> {
  if (d.length === 0) return;
  const arb = fc.array(fc.nat({ max: Math.max(...d) }), { maxLength: d.length });
  let n = 0;
  for (const v of arb.shrink([...d], undefined)) {
    if (n++ >= FC_ARRAY_CANDIDATES_MAX) return;
    yield v.value;
  }
}

function alternatives(p: DecisionPoint, current: number): number[] {
  if (p.kind === "fiber") return p.eligible.filter((id) => id !== current);
  const out: number[] = [];
  for (let v = 0; v < Math.min(p.n, VALUE_ALTERNATIVES_MAX); v++) if (v !== current) out.push(v);
  return out;
}

/** Smaller values of each positive integer parameter, from fast-check's integer shrinker. */
function* paramCandidates(target: Target): Generator<Record<string, unknown>> {
  for (const [key, value] of Object.entries(target.params)) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) continue;
    let n = 0;
    for (const smaller of fc.integer({ min: 0, max: value }).shrink(value, undefined)) {
      if (n++ >= PARAM_CANDIDATES_MAX) break;
      yield { ...target.params, [key]: smaller.value };
    }
  }
}

/**
 * Smaller swarm configurations of a state: its configuration decisions (the
 * values drawn on the "config" stream, the first of the run) with one of
 * them lowered, from fast-check's integer shrinker.
 */
function* configCandidates(s: State): Generator<number[]> {
  const points = s.points ?? [];
  const config: number[] = [];
  for (let i = 0; i < points.length && i < s.decisions.length; i++) {
    const p = points[i];
    if (p.kind !== "value" || p.stream !== CONFIG_STREAM) break;
    config.push(s.decisions[i]);
  }
  for (let i = 0; i < config.length; i++) {
    if (config[i] === 0) continue;
    let n = 0;
    for (const smaller of fc.integer({ min: 0, max: config[i] }).shrink(config[i], undefined)) {
      if (n++ >= PARAM_CANDIDATES_MAX) break;
      yield [...config.slice(0, i), smaller.value, ...config.slice(i + 1)];
    }
  }
}

/** A strategy that draws a pinned swarm configuration and leaves everything else to `inner`. */
class PinnedConfig implements Strategy {
  readonly name: string;
  readonly #inner: Strategy;
  readonly #config: readonly number[];
  #next = 0;

  constructor(inner: Strategy, config: readonly number[]) {
    this.name = inner.name;
    this.#inner = inner;
    this.#config = config;
  }

  options(): Record<string, number | string | boolean> {
    return this.#inner.options();
  }

  begin(seed: number, kernel: Kernel): void {
    this.#next = 0;
    this.#inner.begin(seed, kernel);
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    return this.#inner.pickFiber(eligible, count, kernel);
  }

  pickValue(n: number, stream: string, kernel: Kernel, p?: number): number {
    if (stream === CONFIG_STREAM && this.#next < this.#config.length) {
      return Math.min(this.#config[this.#next++], n - 1);
    }
    return this.#inner.pickValue(n, stream, kernel, p);
  }

  onSpawn(fiber: Fiber, kernel: Kernel): void {
    this.#inner.onSpawn?.(fiber, kernel);
  }

  onStep(fiber: Fiber, op: Op, kernel: Kernel): void {
    this.#inner.onStep?.(fiber, op, kernel);
  }

  end(outcome: Outcome, kernel: Kernel): void {
    this.#inner.end?.(outcome, kernel);
  }
}
