/**
 * Splitting an exhaustive search into subtrees, for workers and shards.
 *
 * The tree of schedules is cut at a frontier: the first few decisions of a
 * run (fiber ids and values, as a trace records them). Each prefix of that
 * length is a subtree, numbered in the order the search itself would reach
 * it, and explored on its own by a strategy pinned to the prefix. The
 * frontier depends on the target, the strategy and the seed only, never on
 * how many workers or shards share the work, so neither do the subtrees,
 * their schedules, nor which failure comes first (the lowest subtree, then
 * the lowest schedule in it).
 *
 * DFS splits exactly: the subtrees together are the whole tree, schedule for
 * schedule. DPOR explores each subtree from the state after its prefix; the
 * prefixes are every interleaving of the first decisions, and at each of
 * them the fibers the subtrees before it took there count as done, as a
 * whole search's sleep sets would have them (`siblingsOf`). So a prefix that
 * only reorders independent steps of an earlier one is cut short at once, and
 * below the frontier those steps sleep: the union reaches every state a single
 * DPOR reaches, in about as many schedules (`gc-mark-sweep/no-reset`: 15,868
 * whole, 15,868 complete in 32 subtrees, 20 of which repeat an earlier one
 * and stop at their prefix). Without it, 4 subtrees ran 19,311 schedules.
 *
 * @module
 */
import { DfsStrategy } from "./dfs.ts";
import { DporStrategy, type DporVariant } from "./dpor.ts";
import {
  type ExhaustiveStrategy,
  type ExplorationResult,
  type ExplorationStats,
  exploreExhaustive,
} from "./exhaustive.ts";
import { type Failure, Runner, type Target } from "./explore.ts";
import { type Outcome, PrunedRun } from "./outcome.ts";
import { UsageError } from "./scenario.ts";
import type { Strategy } from "./strategy.ts";
import type { Fiber } from "./fiber.ts";
import type { Heartbeat, Kernel } from "./kernel.ts";
import type { Op } from "./op.ts";
import type { Order } from "./_tree.ts";

/** What a split search explores: the strategy and options every subtree shares. */
export interface TreeSpec {
  /** The exhaustive strategy. */
  readonly strategy: "dfs" | "dpor";
  /** DPOR: "source" for source-DPOR; optimal when absent. */
  readonly dpor?: DporVariant;
  /** The preemption bound. */
  readonly preemptions?: number;
  /** The delay bound. */
  readonly delays?: number;
  /** The order children are taken in. */
  readonly order?: Order;
}

/**
 * The fewest subtrees a frontier aims for: enough to keep a few workers busy
 * to the end, since a few subtrees often hold most of the work
 * (`gc-mark-sweep/no-reset` in 4 DPOR subtrees: 4,065, 1, 8,360 and 3,443
 * schedules; in 32 the largest holds 3,454 of 15,888).
 */
export const SUBTREES_DEFAULT = { dfs: 32, dpor: 32 } as const;
/** A frontier is never deeper than this many decisions. */
const FRONTIER_DECISIONS_MAX = 24;
/** Nor does it list more subtrees than this. */
const SUBTREES_MAX = 4096;

/**
 * The tree a strategy walks, when it can be split; a `UsageError` naming
 * why otherwise (seeded strategies split their seeds instead, and iterative
 * bounding walks a new tree per bound).
 */
export function treeSpecOf(strategy: Strategy): TreeSpec {
  const o = strategy.options();
  if (strategy.name !== "dfs" && strategy.name !== "dpor") {
    throw new UsageError(`${strategy.name} has no tree to split`);
  }
  if (o.iterative === true) {
    throw new UsageError(
      "--iterative cannot be split across workers or shards: give --preemptions K or --delays K",
    );
  }
  return {
    strategy: strategy.name,
    ...(typeof o.preemptions === "number" ? { preemptions: o.preemptions } : {}),
    ...(typeof o.delays === "number" ? { delays: o.delays } : {}),
    ...(o.order === "random" ? { order: "random" as const } : {}),
    ...(o.dpor === "source" ? { dpor: "source" as const } : {}),
  };
}

/**
 * A strategy for `spec` that explores only the subtree below `prefix`.
 * DPOR takes `siblings` (see `siblingsOf`) as explored: its steps commute
 * past them as a whole search's would.
 */
export function subtreeStrategy(
  spec: TreeSpec,
  prefix: readonly number[],
  siblings?: readonly (readonly number[])[],
): ExhaustiveStrategy {
  if (spec.strategy === "dpor") {
    return new DporStrategy({
      order: spec.order,
      prefix,
      siblings,
      variant: spec.dpor,
      preemptions: spec.preemptions,
      delays: spec.delays,
    });
  }
  return new DfsStrategy({
    preemptions: spec.preemptions,
    delays: spec.delays,
    order: spec.order,
    prefix,
  });
}

/** The subtrees of a split search, in the order one search would reach them. */
export interface Frontier {
  /** Each subtree's prefix: its first decisions (fewer when a run ends sooner). */
  readonly prefixes: readonly (readonly number[])[];
  /** True when the bound cut a branch off above the frontier. */
  readonly boundHit: boolean;
  /** Runs (cut short at the frontier) it took to list the subtrees. */
  readonly runs: number;
}

/**
 * Lists the subtrees of `spec`'s tree at the shallowest frontier that has at
 * least `subtrees` of them (or the whole tree's leaves, if it has fewer).
 * DPOR's frontier is a plain depth-first one: below it, each subtree gets its
 * own DPOR.
 */
export function listFrontier(
  target: Target,
  spec: TreeSpec,
  options: { readonly seed: number; readonly subtrees?: number; readonly heartbeat?: Heartbeat },
): Frontier {
  const want = options.subtrees ?? SUBTREES_DEFAULT[spec.strategy];
  const runner = new Runner(target);
  if (options.heartbeat !== undefined) runner.kernel.watch(options.heartbeat);
  let best: Frontier | null = null;
  let runs = 0;
  for (let d = 1; d <= FRONTIER_DECISIONS_MAX; d++) {
    const walk = new DfsStrategy({
      // The frontier lists only prefixes within the bound (bounded DPOR's too).
      preemptions: spec.preemptions,
      delays: spec.delays,
      // DPOR ranks fibers for delays round robin whatever the order; so must its frontier.
      order: spec.strategy === "dpor" && spec.delays !== undefined ? "default" : spec.order,
      cut: d,
    });
    const prefixes: number[][] = [];
    let cut = false;
    let more = true;
    while (more && prefixes.length <= SUBTREES_MAX) {
      try {
        runner.run(walk, options.seed);
      } catch (e) {
        if (!(e instanceof PrunedRun)) throw e;
        cut = true;
      }
      runs++;
      prefixes.push(runner.kernel.decisions());
      more = walk.advance();
    }
    if (prefixes.length > SUBTREES_MAX) break;
    best = { prefixes, boundHit: walk.boundHit, runs };
    if (!cut || prefixes.length >= want) break;
  }
  return best ?? { prefixes: [[]], boundHit: false, runs };
}

/**
 * Per decision of subtree `index`'s prefix: the values the subtrees before
 * it take at that same point (the same decisions before it), first seen
 * first. At a fiber decision those fibers' subtrees are explored by someone,
 * so a DPOR below may take them as done (`DporOptions.siblings`).
 */
export function siblingsOf(frontier: Frontier, index: number): number[][] {
  const prefix = frontier.prefixes[index];
  const out: number[][] = prefix.map(() => []);
  for (let j = 0; j < index; j++) {
    const other = frontier.prefixes[j];
    let d = 0;
    while (d < prefix.length && d < other.length && other[d] === prefix[d]) d++;
    if (d < prefix.length && d < other.length && !out[d].includes(other[d])) out[d].push(other[d]);
  }
  return out;
}

/** What exploring one subtree found; failures number schedules within the subtree. */
export interface SubtreeResult extends ExplorationResult {
  readonly index: number;
}

/** Explores subtree `index` of a frontier. */
export function exploreSubtree(
  target: Target,
  spec: TreeSpec,
  frontier: Frontier,
  index: number,
  options: {
    readonly runs: number;
    readonly seed: number;
    readonly keepGoing?: boolean;
    readonly onSchedule?: (stats: ExplorationStats, outcome: Outcome | null) => void;
    /** Shared memory a supervisor watches the runs through (`scale/workers.ts`). */
    readonly heartbeat?: Heartbeat;
  },
): SubtreeResult {
  const prefix = frontier.prefixes[index];
  const strategy = subtreeStrategy(spec, prefix, siblingsOf(frontier, index));
  const r = exploreExhaustive(target, strategy, options);
  return { ...r, index };
}

/**
 * Combines subtree results into one exploration, in subtree order: schedules
 * are numbered across subtrees, the first failure is the one in the lowest
 * subtree, and the budget `runs` is spent in that order. `results[j]` is
 * undefined for a subtree this process was not given (another shard's); it
 * is then left out, and the result is exhausted when every subtree given was.
 */
export function combineSubtrees(
  spec: TreeSpec,
  frontier: Frontier,
  results: readonly (SubtreeResult | undefined)[],
  options: {
    readonly runs: number;
    readonly keepGoing?: boolean;
    /** Whether subtree j is this process's to explore (all of them unless sharded). */
    readonly mine?: (j: number) => boolean;
  },
): ExplorationResult {
  const mine = options.mine ?? (() => true);
  let schedules = 0, complete = 0, pruned = 0, maxDepth = 0, steps = 0;
  let exhausted = true;
  let boundHit = frontier.boundHit;
  const failures: Failure[] = [];
  for (let j = 0; j < frontier.prefixes.length; j++) {
    if (!mine(j)) continue;
    const r = results[j];
    if (r === undefined) {
      // Never explored: the search stopped before it.
      exhausted = false;
      break;
    }
    const left = options.runs - schedules;
    if (left <= 0) {
      exhausted = false;
      break;
    }
    if (r.schedules > left) {
      // The budget ends inside this subtree (a worker was given a budget
      // before it knew what the subtrees before used): keep what fits. Its
      // steps are left out: they are not known per schedule.
      for (const f of r.failures) {
        if ((f.schedule ?? 0) <= left) failures.push({ ...f, schedule: schedules + f.schedule! });
      }
      schedules += left;
      exhausted = false;
      break;
    }
    schedules += r.schedules;
    complete += r.complete;
    pruned += r.pruned;
    steps += r.steps;
    if (r.maxDepth > maxDepth) maxDepth = r.maxDepth;
    if (r.bound !== "none") boundHit = true;
    for (const f of r.failures) {
      failures.push({ ...f, schedule: schedules - r.schedules + (f.schedule ?? 0) });
    }
    if (!r.exhausted) exhausted = false;
    if (!r.exhausted || (failures.length > 0 && !options.keepGoing)) {
      // Anything of ours after this was not explored.
      for (let k = j + 1; k < frontier.prefixes.length; k++) if (mine(k)) exhausted = false;
      break;
    }
  }
  const bound = boundHit ? subtreeStrategy(spec, []).bound : "none";
  return { schedules, complete, pruned, maxDepth, steps, exhausted, bound, failures };
}

/** Options of a split exploration on this thread. */
export interface SplitOptions {
  readonly runs: number;
  readonly seed: number;
  readonly keepGoing?: boolean;
  /** This process's share: subtree j is explored when `j % of === index`. */
  readonly shard?: { readonly index: number; readonly of: number };
  /** The fewest subtrees to split into. */
  readonly subtrees?: number;
  readonly onSchedule?: (stats: ExplorationStats, outcome: Outcome | null) => void;
  /** Shared memory a supervisor watches the runs through (`scale/supervisor.ts`). */
  readonly heartbeat?: Heartbeat;
}

/**
 * Explores this shard's subtrees of `spec`'s tree on this thread, in order,
 * and combines them. With one shard it explores every subtree: the same
 * schedules as any number of shards or workers together.
 */
export function exploreSplit(
  target: Target,
  spec: TreeSpec,
  options: SplitOptions,
): ExplorationResult & { readonly frontier: Frontier } {
  const frontier = listFrontier(target, spec, options);
  const shard = options.shard ?? { index: 0, of: 1 };
  const results: (SubtreeResult | undefined)[] = [];
  let spent = 0;
  let found = false;
  for (let j = 0; j < frontier.prefixes.length; j++) {
    if (j % shard.of !== shard.index) {
      results.push(undefined);
      continue;
    }
    const r = exploreSubtree(target, spec, frontier, j, {
      runs: options.runs - spent,
      seed: options.seed,
      keepGoing: options.keepGoing,
      onSchedule: options.onSchedule,
      heartbeat: options.heartbeat,
    });
    results.push(r);
    spent += r.schedules;
    found ||= r.failures.length > 0;
    if ((found && !options.keepGoing) || spent >= options.runs) break;
  }
  const mine = (j: number) => j % shard.of === shard.index;
  return { ...combineSubtrees(spec, frontier, results, { ...options, mine }), frontier };
}

/**
 * A seeded order across subtrees: runs one schedule of each subtree in
 * turn, round robin, until each is exhausted. With `--order random` every
 * subtree's first schedule is a random walk below its prefix, so the first
 * schedules sample the whole tree, as random testing does, instead of
 * varying the last choices of one walk. The schedules are the split
 * search's (for DFS, exactly the tree's), in another order.
 */
export class InterleavedStrategy implements ExhaustiveStrategy {
  readonly name: "dfs" | "dpor";
  readonly pickAlways: boolean;
  readonly #target: Target;
  readonly #spec: TreeSpec;
  readonly #subtrees: number;
  #frontier: Frontier | null = null;
  #subs: ExhaustiveStrategy[] = [];
  #live: number[] = [];
  #at = 0;

  constructor(
    target: Target,
    spec: TreeSpec,
    subtrees: number = INTERLEAVE_SUBTREES[spec.strategy],
  ) {
    this.name = spec.strategy;
    this.pickAlways = spec.strategy === "dpor";
    this.#target = target;
    this.#spec = spec;
    this.#subtrees = subtrees;
  }

  get bound(): string {
    return subtreeStrategy(this.#spec, []).bound;
  }

  get boundHit(): boolean {
    return (this.#frontier?.boundHit ?? false) || this.#subs.some((s) => s.boundHit);
  }

  options(): Record<string, number | string | boolean> {
    return subtreeStrategy(this.#spec, []).options();
  }

  #current(): ExhaustiveStrategy {
    return this.#subs[this.#live[this.#at]];
  }

  begin(seed: number, kernel: Kernel): void {
    if (this.#frontier === null) {
      this.#frontier = listFrontier(this.#target, this.#spec, { seed, subtrees: this.#subtrees });
      const frontier = this.#frontier;
      this.#subs = frontier.prefixes.map((p, i) =>
        subtreeStrategy(this.#spec, p, siblingsOf(frontier, i))
      );
      this.#live = this.#subs.map((_, i) => i);
    }
    this.#current().begin(seed, kernel);
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    return this.#current().pickFiber(eligible, count, kernel);
  }

  pickValue(n: number, stream: string, kernel: Kernel, p?: number): number {
    return this.#current().pickValue(n, stream, kernel, p);
  }

  onStep(fiber: Fiber, op: Op, kernel: Kernel): void {
    this.#current().onStep?.(fiber, op, kernel);
  }

  end(outcome: Outcome, kernel: Kernel): void {
    this.#current().end?.(outcome, kernel);
  }

  advance(): boolean {
    if (this.#current().advance()) {
      this.#at = (this.#at + 1) % this.#live.length;
    } else {
      this.#live.splice(this.#at, 1);
      if (this.#at >= this.#live.length) this.#at = 0;
    }
    return this.#live.length > 0;
  }
}

/** Subtrees a seeded order interleaves: enough first schedules to sample widely. */
const INTERLEAVE_SUBTREES = { dfs: 128, dpor: 32 } as const;
