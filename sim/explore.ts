/**
 * Running scenarios: one run, a sweep of seeds, a replay.
 *
 * Nothing here reads real time: callers that want wall-clock figures pass a
 * clock in.
 *
 * @module
 */
import { type Heartbeat, Kernel, type StepObserver, type StopAt } from "./kernel.ts";
import { cutOutcome, isCut, isEndCut, type Outcome, ReplayDivergence } from "./outcome.ts";
import { DfsStrategy, IterativeDfsStrategy } from "./dfs.ts";
import { DPOR_VARIANTS, DporStrategy, type DporVariant, IterativeDporStrategy } from "./dpor.ts";
import { InterleavedStrategy } from "./split.ts";
import { type Order, ORDERS } from "./_tree.ts";

export { type Order, ORDERS };
import { type ExhaustiveStrategy, type ExplorationStats, exploreExhaustive } from "./exhaustive.ts";
import { CORES_MAX, STEPS_MAX } from "./limits.ts";
import { isMemoryModel, MEMORY_MODELS, type MemoryModel } from "./ordering.ts";
import { PctStrategy } from "./pct.ts";
import { PortfolioStrategy } from "./portfolio.ts";
import { RandomStrategy } from "./random.ts";
import { ReplayStrategy } from "./replay.ts";
import {
  type AnyScenario,
  type Expectation,
  parseParams,
  STEPS_MAX_DEFAULT,
  UsageError,
  type Variant,
} from "./scenario.ts";
import type { Strategy } from "./strategy.ts";
import { configOfDecisions, drawSwarm, type SwarmConfig } from "./swarm.ts";
import {
  canonical,
  decodeDecisionArray,
  encodeDecisions,
  TOOL,
  type Trace,
  TRACE_FORMAT,
} from "./trace.ts";

/** A scenario variant with validated parameters and limits: what a run runs. */
export interface Target {
  /** The scenario to run. */
  readonly scenario: AnyScenario;
  /** The file the scenario came from when it is not in the catalog. */
  readonly source: string | null;
  /** The variant's name, passed to `setup`. */
  readonly variant: string;
  /** The parameters after validation, defaults filled in. */
  readonly params: Record<string, unknown>;
  /** 0 gives every fiber its own core. */
  readonly cores: number;
  /** The step limit of one run. */
  readonly stepsMax: number;
  /** The memory model runs use: the variant's unless overridden, else `sc`. */
  readonly memory: MemoryModel;
  /**
   * Each run first draws a configuration with the scenario's swarm hook
   * (`sim/swarm.ts`); cores and the step limit then follow the drawn
   * parameters, not `cores` and `stepsMax` above.
   */
  readonly swarm: boolean;
}

/** Overrides a user may give for a target. */
export interface TargetOptions {
  /** Parameter values over the scenario's defaults. */
  readonly params?: Record<string, unknown>;
  /** Simulated cores, over the scenario's `cores`. */
  readonly cores?: number;
  /** The step limit of one run, over the scenario's `stepsMax`. */
  readonly stepsMax?: number;
  /** The file the scenario was loaded from, or null for a catalog scenario. */
  readonly source?: string | null;
  /** The memory model; the variant's when absent. */
  readonly memory?: string;
  /** Draw a configuration per run (the scenario must declare a swarm hook). */
  readonly swarm?: boolean;
}

/**
 * Validates a variant name and parameters and fixes the run's limits.
 * Bad input gives a `UsageError`.
 */
export function makeTarget(
  scenario: AnyScenario,
  variant: string,
  options: TargetOptions = {},
): Target {
  if (!Object.hasOwn(scenario.variants, variant)) {
    const known = Object.keys(scenario.variants).join(", ");
    throw new UsageError(`unknown variant "${variant}" of ${scenario.name}; known: ${known}`);
  }
  const params = parseParams(scenario, options.params ?? {}) as Record<string, unknown>;
  const cores = options.cores ?? scenario.cores?.(params) ?? 0;
  const stepsMax = options.stepsMax ?? scenario.stepsMax?.(params) ?? STEPS_MAX_DEFAULT;
  if (!Number.isInteger(cores) || cores < 0 || cores > CORES_MAX) {
    throw new UsageError(
      options.cores === undefined
        ? `${scenario.name} asks for ${cores} cores with these parameters: at most ${CORES_MAX}`
        : `bad --cores ${cores}: need an integer from 0 to ${CORES_MAX} (0: one per fiber)`,
    );
  }
  if (!Number.isInteger(stepsMax) || stepsMax < 1 || stepsMax > STEPS_MAX) {
    throw new UsageError(
      options.stepsMax === undefined
        ? `${scenario.name}'s step limit with these parameters is ${stepsMax}: ` +
          `at most ${STEPS_MAX}; give smaller parameters or --max-steps`
        : `bad --max-steps ${stepsMax}: need an integer from 1 to ${STEPS_MAX}`,
    );
  }
  const memory = options.memory ?? scenario.variants[variant].memory ?? "sc";
  if (!isMemoryModel(memory)) {
    throw new UsageError(`bad --memory "${memory}": known: ${MEMORY_MODELS.join(", ")}`);
  }
  const swarm = options.swarm === true;
  if (swarm && scenario.swarm === undefined) {
    throw new UsageError(
      `${scenario.name} declares no swarm configuration: --swarm needs a scenario with a swarm hook`,
    );
  }
  return {
    scenario,
    source: options.source ?? null,
    variant,
    params,
    cores,
    stepsMax,
    memory,
    swarm,
  };
}

/** The variant declaration of a target. */
export function variantOf(target: Target): Variant {
  return target.scenario.variants[target.variant];
}

/**
 * Starts a run of `target` in `k`: resets the kernel, lets `attach` hook
 * observers in, draws the swarm configuration when the target has one, and
 * builds the world. Gives the configuration drawn (null without swarm).
 * The caller executes the run.
 */
export function startRun(
  k: Kernel,
  target: Target,
  strategy: Strategy,
  seed: number,
  attach?: (k: Kernel) => void,
  stopAt?: StopAt,
): SwarmConfig | null {
  k.reset(
    { cores: target.cores, stepsMax: target.stepsMax, memory: target.memory, stopAt },
    strategy,
    seed,
  );
  attach?.(k);
  let config: SwarmConfig | null = null;
  try {
    let params = target.params;
    if (target.swarm) {
      const drawn = drawSwarm(k, target);
      params = drawn.params;
      config = drawn.config;
      k.reconfigure(...limitsOf(target.scenario, params));
      // A setup that never returns is stopped after the draw (`stopAt` step 0).
      k.publishDecisions();
    }
    if (!k.stopBeforeSetup()) target.scenario.setup(k, params, target.variant);
  } catch (e) {
    k.failSetup(e);
  }
  return config;
}

// Cores and the step limit of a swarm run, from its drawn parameters.
function limitsOf(scenario: AnyScenario, params: Record<string, unknown>): [number, number] {
  const cores = scenario.cores?.(params) ?? 0;
  const stepsMax = scenario.stepsMax?.(params) ?? STEPS_MAX_DEFAULT;
  if (!Number.isInteger(cores) || cores < 0 || cores > CORES_MAX) {
    throw new RangeError(`${scenario.name} asks for ${cores} cores in this configuration`);
  }
  if (!Number.isInteger(stepsMax) || stepsMax < 1 || stepsMax > STEPS_MAX) {
    throw new RangeError(`${scenario.name}'s step limit in this configuration is ${stepsMax}`);
  }
  return [cores, stepsMax];
}

// The beat every runner made from now on publishes its steps to (see
// `superviseRunners`); null on an unsupervised thread.
let supervisedBeat: Heartbeat | null = null;

/**
 * Makes every `Runner` built later on this thread publish its steps to
 * `heartbeat`'s beat (null: stop), each runner keeping its decisions in a
 * buffer of its own. A supervised worker sets it for the jobs that run
 * schedules through code it does not pass a heartbeat to: shrinking, the
 * determinism check. The supervisor then sees a step that never returns
 * there too; which decisions led to it is not kept.
 */
export function superviseRunners(heartbeat: Heartbeat | null): void {
  supervisedBeat = heartbeat;
}

/** Runs a target's scenario again and again, reusing one kernel. */
export class Runner {
  /** The kernel every run of this runner resets and reuses. */
  readonly kernel: Kernel = new Kernel();
  /** What every run runs. */
  readonly target: Target;
  /** The configuration the last run drew under swarm, else null. */
  config: SwarmConfig | null = null;

  /** Makes a runner for `target`; the kernel is built once and reset per run. */
  constructor(target: Target) {
    this.target = target;
    const beat = supervisedBeat;
    if (beat !== null) {
      this.kernel.watch({
        beat: beat.beat,
        seed: beat.seed,
        decisions: new SharedArrayBuffer(1024),
      });
    }
  }

  /**
   * One run under `strategy` with `seed`, seen step by step by `observer`
   * when given; with `stopAt`, it ends before that step (a cut run's replay).
   */
  run(strategy: Strategy, seed: number, observer?: StepObserver, stopAt?: StopAt): Outcome {
    const k = this.kernel;
    this.config = startRun(
      k,
      this.target,
      strategy,
      seed,
      observer === undefined ? undefined : (k) => k.observe(observer),
      stopAt,
    );
    return k.execute();
  }
}

/** Always picks the first eligible fiber and value 0: a sequential schedule. */
class FirstStrategy implements Strategy {
  readonly name = "first";
  options(): Record<string, number> {
    return {};
  }
  begin(): void {}
  pickFiber(): number {
    return 0;
  }
  pickValue(): number {
    return 0;
  }
}

/**
 * The length of one sequential run of the target: PCT's default estimate k
 * of the steps in a run. It depends on the scenario and parameters only, never
 * on a seed, so a PCT run stays reproducible from its seed alone.
 */
export function probeSteps(target: Target, heartbeat?: Heartbeat): number {
  const r = new Runner(target);
  if (heartbeat !== undefined) r.kernel.watch(heartbeat);
  const o = r.run(new FirstStrategy(), 0);
  return Math.max(1, Math.min(o.step, target.stepsMax));
}

/** Options for building a strategy. */
export interface StrategyOptions {
  /** PCT's bug depth. */
  readonly depth?: number;
  /** PCT's estimate of the steps in a run. */
  readonly pctSteps?: number;
  /** DFS's preemption bound; with DPOR, bounded partial-order reduction. */
  readonly preemptions?: number;
  /** DFS: raise the bound (preemptions, or delays with `delays`) until the space or budget runs out. */
  readonly iterative?: boolean;
  /** DFS's delay bound (the first bound with `iterative`). */
  readonly delays?: number;
  /** DFS and DPOR: "default", or "random" for children in an order drawn from the seed. */
  readonly order?: string;
  /** DPOR: "optimal" (wakeup trees, the default) or "source" (sleep sets only). */
  readonly dpor?: string;
}

/** The strategies `createStrategy` knows. */
export const STRATEGIES = ["random", "pct", "portfolio", "dfs", "dpor"] as const;

/** Builds a strategy by name: "random", "pct", "portfolio", "dfs" or "dpor". */
export function createStrategy(
  name: string,
  target: Target,
  options: StrategyOptions = {},
): Strategy {
  if (
    name !== "dfs" && name !== "dpor" &&
    (options.preemptions !== undefined || options.iterative || options.delays !== undefined)
  ) {
    throw new UsageError("--preemptions, --delays and --iterative go with --strategy dfs or dpor");
  }
  if (options.delays !== undefined && options.preemptions !== undefined) {
    throw new UsageError("--delays and --preemptions are two bounds: give one");
  }
  const order = options.order ?? "default";
  if (!(ORDERS as readonly string[]).includes(order)) {
    throw new UsageError(`bad --order "${order}": known: ${ORDERS.join(", ")}`);
  }
  if (order !== "default" && name !== "dfs" && name !== "dpor") {
    throw new UsageError("--order goes with --strategy dfs or dpor");
  }
  const dpor = options.dpor ?? "optimal";
  if (!(DPOR_VARIANTS as readonly string[]).includes(dpor)) {
    throw new UsageError(`bad --dpor "${dpor}": known: ${DPOR_VARIANTS.join(", ")}`);
  }
  if (options.dpor !== undefined && name !== "dpor") {
    throw new UsageError("--dpor goes with --strategy dpor");
  }
  switch (name) {
    case "random":
      return new RandomStrategy();
    case "pct":
      return new PctStrategy({
        depth: options.depth ?? 3,
        steps: options.pctSteps ?? probeSteps(target),
      });
    case "portfolio":
      if (options.depth !== undefined) {
        throw new UsageError("--depth goes with --strategy pct: the portfolio runs depths 1 to 5");
      }
      return new PortfolioStrategy({ steps: options.pctSteps ?? probeSteps(target) });
    case "dfs": {
      const o = order as Order;
      if (!options.iterative && o === "random") {
        // A seeded order takes the subtrees in turn, so the first schedules sample the tree.
        const bound = { preemptions: options.preemptions, delays: options.delays };
        return new InterleavedStrategy(target, { strategy: "dfs", ...bound, order: o });
      }
      if (!options.iterative) {
        return new DfsStrategy({
          preemptions: options.preemptions,
          delays: options.delays,
          order: o,
        });
      }
      const kind = options.delays !== undefined ? "delays" : "preemptions";
      return new IterativeDfsStrategy({
        kind,
        from: options.delays ?? options.preemptions ?? 0,
        order: o,
      });
    }
    case "dpor":
      if (options.preemptions !== undefined || options.delays !== undefined || options.iterative) {
        // Bounded partial-order reduction runs source-DPOR's backtrack sets.
        if (options.dpor === "optimal") {
          throw new UsageError(
            "bounded dpor (--preemptions, --delays, --iterative) runs source-DPOR: drop --dpor optimal",
          );
        }
        const kind = options.delays !== undefined ? "delays" : "preemptions";
        const k = options.delays ?? options.preemptions;
        if (options.iterative) {
          return new IterativeDporStrategy({ kind, from: k ?? 0, order: order as Order });
        }
        return order === "random"
          ? new InterleavedStrategy(target, { strategy: "dpor", [kind]: k, order: "random" })
          : new DporStrategy({ [kind]: k });
      }
      return order === "random"
        ? new InterleavedStrategy(target, {
          strategy: "dpor",
          order: "random",
          ...(dpor === "source" ? { dpor: "source" as const } : {}),
        })
        : new DporStrategy({ variant: dpor as DporVariant });
    default:
      throw new UsageError(`unknown strategy "${name}"; known: ${STRATEGIES.join(", ")}`);
  }
}

/** True for strategies that walk the schedule tree (DFS, DPOR). */
export function isExhaustive(s: Strategy): s is ExhaustiveStrategy {
  return "advance" in s;
}

/** The record of one failing run, enough to write its trace. */
export interface Failure {
  /** The seed of the run (the schedule number for DFS and DPOR). */
  readonly seed: number;
  /** For exhaustive strategies: which schedule (1-based) failed. */
  readonly schedule?: number;
  /** How the run ended. */
  readonly outcome: Outcome;
  /** The recorded decisions, which replay the run exactly. */
  readonly decisions: readonly number[];
  /**
   * The strategy's options for this run (`Strategy.options()` right after
   * it), when taken on another thread: a portfolio names the member that ran
   * it, an iterative DFS the bound it had reached.
   */
  readonly options?: Record<string, unknown>;
}

/**
 * Where a run the supervisor stopped (`isCut`) ends on replay: before its
 * last step, with the same kind of outcome.
 */
export function stopAtOf(outcome: Outcome): StopAt | undefined {
  if (!isCut(outcome)) return undefined;
  return {
    step: outcome.step,
    atEnd: isEndCut(outcome),
    outcome: (step, fiber) => cutOutcome(outcome, step, fiber),
  };
}

/** Per-run information handed to a sweep's `onRun`. */
export interface RunInfo {
  /** The seed of the run. */
  readonly seed: number;
  /** How the run ended. */
  readonly outcome: Outcome;
  /** The decisions, for failing runs only. */
  readonly failure: Failure | null;
}

/** How a sweep goes. */
export interface SweepOptions {
  /** The strategy that picks each run's schedule. */
  readonly strategy: Strategy;
  /** The first seed; run i uses seed + i. */
  readonly seed: number;
  /** How many runs (schedules) at most. */
  readonly runs: number;
  /** Go on after a failure, collecting all failing seeds. */
  readonly keepGoing?: boolean;
  /** Seeds to skip, for sharding: run i is skipped unless `i % of === index`. */
  readonly shard?: { readonly index: number; readonly of: number };
  /** Called after each run. */
  readonly onRun?: (info: RunInfo) => void;
  /** Shared memory a supervisor watches the runs through (`scale/supervisor.ts`). */
  readonly heartbeat?: Heartbeat;
}

/** What a sweep found. */
export interface SweepResult {
  /** Runs made. */
  readonly runs: number;
  /** Steps taken over all runs. */
  readonly steps: number;
  /** The failing runs kept, in the order found. */
  readonly failures: readonly Failure[];
}

/**
 * Runs seeds seed..seed+runs-1 and stops at the first failure (or collects
 * all of them with `keepGoing`).
 */
export function sweep(target: Target, options: SweepOptions): SweepResult {
  const runner = new Runner(target);
  if (options.heartbeat !== undefined) runner.kernel.watch(options.heartbeat);
  const failures: Failure[] = [];
  const shard = options.shard ?? { index: 0, of: 1 };
  let runs = 0;
  let steps = 0;
  for (let i = 0; i < options.runs; i++) {
    if (i % shard.of !== shard.index) continue;
    const seed = options.seed + i;
    const outcome = runner.run(options.strategy, seed);
    runs++;
    steps += outcome.step;
    let failure: Failure | null = null;
    if (outcome.verdict !== "pass") {
      failure = { seed, outcome, decisions: runner.kernel.decisions() };
      failures.push(failure);
    }
    options.onRun?.({ seed, outcome, failure });
    if (failure !== null && !options.keepGoing) break;
  }
  return { runs, steps, failures };
}

/** True when `outcome` (undefined: every run passed) is what `e` expects. */
export function meetsExpectation(e: Expectation, outcome: Outcome | undefined): boolean {
  if (outcome === undefined) return e.verdict === "pass";
  return outcome.verdict === e.verdict && (e.check === undefined || e.check === outcome.check) &&
    (e.checks === undefined || e.checks.includes(outcome.check));
}

/** Overrides of a variant's budget. */
export interface PlanOptions extends StrategyOptions {
  /** A strategy name overriding the budget's, or null to keep it. */
  readonly strategy?: string | null;
  /** Runs overriding the budget's. */
  readonly runs?: number;
}

/** The strategy and run count to judge a target with: its budget, unless overridden. */
export function planFor(
  target: Target,
  options: PlanOptions = {},
): { strategy: Strategy; runs: number } {
  const budget = variantOf(target).expect.budget;
  const name = options.strategy ?? budget.strategy;
  const fromBudget = name === budget.strategy;
  const strategy = createStrategy(name, target, {
    depth: options.depth ?? (fromBudget && budget.strategy === "pct" ? budget.depth : undefined),
    pctSteps: options.pctSteps,
    preemptions: options.preemptions ??
      (fromBudget && budget.strategy === "dfs" && !options.iterative &&
          options.delays === undefined
        ? budget.preemptions
        : undefined),
    iterative: options.iterative ??
      (fromBudget && budget.strategy === "dfs" ? budget.iterative : undefined),
    delays: options.delays ??
      (fromBudget && budget.strategy === "dfs" && options.preemptions === undefined
        ? budget.delays
        : undefined),
    order: options.order ??
      (fromBudget && (budget.strategy === "dfs" || budget.strategy === "dpor")
        ? budget.order
        : undefined),
    dpor: options.dpor,
  });
  return { strategy, runs: options.runs ?? budget.runs };
}

/** A variant judged against its expectation. */
export interface Judgement extends SweepResult {
  /** The expectation the variant was judged on. */
  readonly expect: Expectation;
  /** The strategy that ran. */
  readonly strategy: Strategy;
  /** The first failure's outcome, or undefined when every run passed. */
  readonly outcome: Outcome | undefined;
  /** Whether the result matches the expectation. */
  readonly ok: boolean;
  /** For DFS and DPOR: what was explored, and whether it was all of it. */
  readonly exploration: ExplorationStats | null;
}

/** Options of `judge`: a sweep's, plus a progress hook for exhaustive strategies. */
export interface JudgeOptions extends SweepOptions {
  /** Called after each schedule of DFS or DPOR, with the schedule's failure when it failed. */
  readonly onSchedule?: (
    stats: ExplorationStats,
    outcome: Outcome | null,
    failure?: Failure | null,
  ) => void;
}

/**
 * Runs a target (a sweep of seeds, or an exhaustive exploration) and judges
 * the result against its expectation. Plan the strategy and runs with `planFor`.
 */
export function judge(target: Target, options: JudgeOptions): Judgement {
  const strategy = options.strategy;
  let result: SweepResult;
  let exploration: ExplorationStats | null = null;
  if (isExhaustive(strategy)) {
    const r = exploreExhaustive(target, strategy, {
      runs: options.runs,
      seed: options.seed,
      keepGoing: options.keepGoing,
      onSchedule: options.onSchedule,
      heartbeat: options.heartbeat,
    });
    exploration = r;
    result = { runs: r.schedules, steps: r.steps, failures: r.failures };
  } else {
    result = sweep(target, options);
  }
  return judgement(target, strategy, result, exploration);
}

/** Judges what a run of `target` under `strategy` found (on this thread or elsewhere). */
export function judgement(
  target: Target,
  strategy: Strategy,
  result: SweepResult,
  exploration: ExplorationStats | null = null,
): Judgement {
  const expect = variantOf(target).expect;
  const outcome = result.failures[0]?.outcome;
  return {
    ...result,
    expect,
    strategy,
    outcome,
    ok: meetsExpectation(expect, outcome),
    exploration,
  };
}

/** Builds the trace of a run. */
export function makeTrace(
  target: Target,
  strategy: Strategy,
  failure: Failure,
): Trace {
  return {
    format: TRACE_FORMAT,
    tool: TOOL,
    scenario: target.scenario.name,
    source: target.source,
    variant: target.variant,
    params: target.params,
    cores: target.cores,
    stepsMax: target.stepsMax,
    strategy: { name: strategy.name, ...(failure.options ?? strategy.options()) } as Trace[
      "strategy"
    ],
    seed: failure.seed,
    decisions: encodeDecisions(failure.decisions),
    outcome: failure.outcome,
    // Written only under a weak model, so sc traces keep their bytes.
    ...(target.memory === "sc" ? {} : { memory: target.memory }),
    ...(target.swarm ? { swarm: swarmConfigOf(target, failure.decisions) } : {}),
  };
}

/** The configuration a swarm run of `target` drew, read back from its decisions. */
export function swarmConfigOf(target: Target, decisions: ArrayLike<number>): SwarmConfig {
  try {
    return configOfDecisions(target, decisions).config;
  } catch (e) {
    // The hook failed in the run too; the trace records the failure itself.
    if (e instanceof RangeError) return {};
    throw e;
  }
}

/** The result of replaying a trace. */
export interface ReplayResult {
  /** True when the recorded outcome was reproduced exactly. */
  readonly reproduced: boolean;
  /** The outcome of the replayed run. */
  readonly outcome: Outcome;
  /** What differs, when not reproduced. */
  readonly message: string;
  /** The final state of the replayed run. */
  readonly snapshot: Record<string, unknown>;
}

/** The target a trace was recorded against, validated against the scenario. */
export function targetOfTrace(trace: Trace, scenario: AnyScenario): Target {
  if (scenario.name !== trace.scenario) {
    throw new UsageError(
      `trace is for scenario ${trace.scenario}, but ${scenario.name} was given`,
    );
  }
  try {
    return makeTarget(scenario, trace.variant, {
      params: trace.params,
      cores: trace.cores,
      stepsMax: trace.stepsMax,
      source: trace.source,
      memory: trace.memory ?? "sc",
      swarm: trace.swarm !== undefined,
    });
  } catch (e) {
    if (e instanceof UsageError) {
      throw new UsageError(`trace does not fit the scenario: ${e.message}`);
    }
    throw e;
  }
}

/**
 * Replays a trace and says whether the recorded outcome came back exactly.
 * A trace that no longer fits the run throws `ReplayDivergence` naming the
 * step and both sides.
 */
export function replay(
  trace: Trace,
  scenario: AnyScenario,
  observe?: (kernel: Kernel) => void,
): ReplayResult {
  const target = targetOfTrace(trace, scenario);
  const strategy = new ReplayStrategy(decodeDecisionArray(trace.decisions));
  const runner = new Runner(target);
  const k = runner.kernel;
  // A run the supervisor stopped replays up to the step that never returned.
  const config = startRun(k, target, strategy, trace.seed, observe, stopAtOf(trace.outcome));
  const outcome = k.execute();
  if (trace.swarm !== undefined && !sameJson(config ?? {}, trace.swarm)) {
    throw new ReplayDivergence(
      0,
      `drew the configuration ${JSON.stringify(config)}, but the trace records ` +
        JSON.stringify(trace.swarm),
    );
  }
  if (strategy.remaining > 0) {
    throw new ReplayDivergence(
      outcome.step,
      `ended the run (${outcome.verdict}), but the trace has ${strategy.remaining} more ` +
        `decision${strategy.remaining === 1 ? "" : "s"}: the scenario no longer makes them`,
    );
  }
  const want = trace.outcome;
  const same = want.verdict === outcome.verdict && want.check === outcome.check &&
    want.message === outcome.message && want.step === outcome.step &&
    want.fiber === outcome.fiber;
  const message = same ? "" : `recorded ${show(want)}, but the replay gave ${show(outcome)}`;
  return { reproduced: same, outcome, message, snapshot: k.snapshot() };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function show(o: Outcome): string {
  return o.verdict === "pass"
    ? `pass at step ${o.step}`
    : `${o.verdict} (${o.check}) at step ${o.step}: ${o.message}`;
}
