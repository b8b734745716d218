/**
 * The gate a found failure passes before the `sim` command reports it: its
 * trace replays to the same outcome, the strategy it records reruns the seed
 * to the same run, and its shrunk form keeps the failure.
 *
 * A trace that fails these checks would be a report nobody can use, so the
 * command treats it as a failure of the tool (exit 1), not as a warning.
 *
 * @module
 */
import {
  createStrategy,
  isExhaustive,
  replay,
  Runner,
  stopAtOf,
  STRATEGIES,
  type Target,
  targetOfTrace,
} from "./explore.ts";
import { GuidedStrategy } from "./guided.ts";
import { type Outcome, ReplayDivergence } from "./outcome.ts";
import { type AnyScenario, UsageError } from "./scenario.ts";
import type { Strategy } from "./strategy.ts";
import { decodeDecisions, encodeDecisions, type Trace } from "./trace.ts";

/**
 * Checks a failing trace as the search wrote it: it replays to its recorded
 * outcome, and its strategy record is complete. For seeded strategies (random,
 * PCT) the recorded strategy and seed must rerun to the same decisions and
 * outcome; for DFS the schedule must keep within the recorded preemption
 * bound. Returns the problems found, empty when there are none.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { lostUpdate } from "../scenarios/mod.ts";
 * import { judge, makeTarget, makeTrace, planFor } from "./explore.ts";
 * const target = makeTarget(lostUpdate, "racy");
 * const found = judge(target, { ...planFor(target, { strategy: "pct" }), seed: 1 });
 * const trace = makeTrace(target, found.strategy, found.failures[0]);
 * assertEquals(verifyFound(trace, lostUpdate), []);
 * const { steps: _, ...dropped } = trace.strategy;
 * assertEquals(verifyFound({ ...trace, strategy: dropped }, lostUpdate).length, 1);
 * ```
 */
export function verifyFound(trace: Trace, scenario: AnyScenario): string[] {
  const replayed = replayProblem(trace, scenario);
  if (replayed !== null) return [replayed];
  const rerun = strategyProblem(trace, scenario);
  return rerun === null ? [] : [rerun];
}

/**
 * Checks a shrunk trace against the trace it came from: the same verdict and
 * check, and an exact replay. Returns the problems found, empty when none.
 */
export function verifyShrunk(original: Trace, shrunk: Trace, scenario: AnyScenario): string[] {
  const out: string[] = [];
  const [a, b] = [original.outcome, shrunk.outcome];
  if (a.verdict !== b.verdict || a.check !== b.check) {
    out.push(
      `the shrunk trace fails with ${b.verdict} (${b.check}), ` +
        `not ${a.verdict} (${a.check}) like the original`,
    );
  }
  const replayed = replayProblem(shrunk, scenario);
  if (replayed !== null) out.push(replayed.replace("the trace", "the shrunk trace"));
  return out;
}

function replayProblem(trace: Trace, scenario: AnyScenario): string | null {
  try {
    const r = replay(trace, scenario);
    return r.reproduced ? null : `the trace does not replay: ${r.message}`;
  } catch (e) {
    if (e instanceof UsageError || e instanceof ReplayDivergence) {
      return `the trace does not replay: ${e.message}`;
    }
    throw e;
  }
}

function num(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}

/** The strategy a trace's record describes, or a problem when it names none we know. */
function strategyOf(trace: Trace, target: Target): Strategy | string {
  const s = trace.strategy;
  if (!(STRATEGIES as readonly string[]).includes(s.name)) {
    return `the trace records an unknown strategy "${s.name}"`;
  }
  try {
    return createStrategy(s.name, target, {
      depth: num(s.depth),
      pctSteps: num(s.steps),
      preemptions: s.iterative === true ? undefined : num(s.preemptions),
      delays: s.iterative === true && num(s.delays) !== undefined ? 0 : num(s.delays),
      iterative: s.iterative === true ? true : undefined,
      order: typeof s.order === "string" ? s.order : undefined,
      dpor: typeof s.dpor === "string" ? s.dpor : undefined,
    });
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError) {
      return `the trace's strategy record does not build a strategy: ${e.message}`;
    }
    throw e;
  }
}

function recordText(record: Record<string, unknown>): string {
  return JSON.stringify(record);
}

function strategyProblem(trace: Trace, scenario: AnyScenario): string | null {
  const target = targetOfTrace(trace, scenario);
  const strategy = strategyOf(trace, target);
  if (typeof strategy === "string") return strategy;
  const recorded = () => {
    const rebuilt: Record<string, unknown> = { name: strategy.name, ...strategy.options() };
    if (trace.strategy.iterative === true) {
      // An iterative search records the bound it had reached.
      for (const key of ["preemptions", "delays"]) {
        if (key in rebuilt) rebuilt[key] = trace.strategy[key];
      }
    }
    if (recordText(sorted(rebuilt)) === recordText(sorted(trace.strategy))) return null;
    return `the trace records strategy ${recordText(trace.strategy)}, ` +
      `but rerunning it takes ${recordText(rebuilt)}: an option is missing from the trace`;
  };
  if (isExhaustive(strategy)) return recorded() ?? boundProblem(trace, target);
  const runner = new Runner(target);
  // A run the supervisor stopped is rerun up to the step that never returned.
  const outcome = runner.run(strategy, trace.seed, undefined, stopAtOf(trace.outcome));
  // Options are read after the run: a portfolio names the member that ran the seed.
  const missing = recorded();
  if (missing !== null) return missing;
  const decisions = encodeDecisions(runner.kernel.decisions());
  if (decisions !== trace.decisions || !sameOutcome(outcome, trace.outcome)) {
    return `seed ${trace.seed} under the recorded strategy ${recordText(trace.strategy)} ` +
      `does not rerun to the recorded run: it gives ${outcome.verdict} (${outcome.check}) ` +
      `at step ${outcome.step}`;
  }
  return null;
}

// DFS cannot rerun one schedule from its seed, but its schedule must keep
// within the preemption bound it records.
function boundProblem(trace: Trace, target: Target): string | null {
  const bound = num(trace.strategy.preemptions);
  if (trace.strategy.name !== "dfs" || bound === undefined) return null;
  const guided = new GuidedStrategy(decodeDecisions(trace.decisions));
  new Runner(target).run(guided, trace.seed, undefined, stopAtOf(trace.outcome));
  return guided.preemptions <= bound ? null : `the trace takes ${guided.preemptions} ` +
    `preemptions, more than the bound of ${bound} its strategy records`;
}

function sorted(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a < b ? -1 : 1));
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  return a.verdict === b.verdict && a.check === b.check && a.message === b.message &&
    a.step === b.step && a.fiber === b.fiber;
}
