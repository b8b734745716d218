/**
 * A failing trace replayed for pictures: every step, every fiber, the cores.
 *
 * @module
 */
import { EventLog, EVENTS_MAX_DEFAULT, type StepEvent } from "../sim/events.ts";
import { Runner, startRun, stopAtOf, targetOfTrace } from "../sim/explore.ts";
import type { Fiber } from "../sim/fiber.ts";
import { GuidedStrategy, type ScheduleStats } from "../sim/guided.ts";
import type { Kernel, StepObserver } from "../sim/kernel.ts";
import type { ReadsFromLog } from "../sim/memory.ts";
import type { Op } from "../sim/op.ts";
import type { Outcome } from "../sim/outcome.ts";
import type { AnyScenario } from "../sim/scenario.ts";
import { StateRecorder, type StateRecording } from "../sim/state.ts";
import { decodeDecisions, type Trace } from "../sim/trace.ts";
import { findRace, type Race } from "./race.ts";
import { SOURCE_STEPS_MAX, SourceTracker, type StepRange, StepSources } from "./sources.ts";

/** A fiber as a report shows it. */
export interface FiberInfo {
  /** The fiber's id. */
  readonly id: number;
  /** Its name. */
  readonly name: string;
  /** The core it ran on. */
  readonly core: number;
  /** Whether it is a daemon. */
  readonly daemon: boolean;
}

/** One replayed run, ready to draw. */
export interface Timeline {
  /** The trace replayed. */
  readonly trace: Trace;
  /** The steps, in order. */
  readonly events: readonly StepEvent[];
  /** Steps taken; more than `events.length` when the log was cut. */
  readonly steps: number;
  /** Every fiber of the run. */
  readonly fibers: readonly FiberInfo[];
  /** Lanes to draw: the simulated cores the run used. */
  readonly cores: number;
  /** How the replay ended. */
  readonly outcome: Outcome;
  /** The schedule's size: steps, preemptions, context switches. */
  readonly stats: ScheduleStats;
  /** True when virtual time differs from the step count (costs or timers are in play). */
  readonly usesClock: boolean;
  /** Where each drawn step's operation was yielded (`file:line ← ...`), by event index. */
  readonly sources: readonly (string | null)[];
  /**
   * The steps that have source lines, first and last, or null when none
   * were recorded. Fewer than the steps drawn when the cap was hit.
   */
  readonly sourceSteps?: StepRange | null;
  /** The state at every step, or null when not recorded. */
  readonly state: StateRecording | null;
  /** For a `bug` with state recorded: the race behind it. */
  readonly race: Race | null;
  /** Under a weak model with state recorded: which store each load read. */
  readonly readsFrom?: ReadsFromLog | null;
}

/** What `timelineOf` records beside the steps. */
export interface TimelineOptions {
  /** Steps drawn at most. */
  readonly eventsMax?: number;
  /** Record the state and the source line of every step (default true). */
  readonly state?: boolean;
  /** The state recording's size cap in bytes. */
  readonly stateBytesMax?: number;
  /** Source lines for at most this many steps, the last up to `sourcesUpTo` (default 20,000). */
  readonly sourceStepsMax?: number;
  /** The last step with a source line (default: the last step drawn). */
  readonly sourcesUpTo?: number;
}

/** Several step observers as one. */
export class Observers implements StepObserver {
  readonly #list: StepObserver[];
  /** Makes one observer that calls each of `list` in order. */
  constructor(list: StepObserver[]) {
    this.#list = list;
  }
  onStep(fiber: Fiber, op: Op, kernel: Kernel): void {
    for (const o of this.#list) o.onStep(fiber, op, kernel);
  }
}

/**
 * Replays `trace` and records its timeline. The trace must fit the scenario
 * exactly; a trace that does not gives a `RangeError`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { lockOrder } from "../scenarios/mod.ts";
 * import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
 * const target = makeTarget(lockOrder, "opposite");
 * const r = judge(target, { ...planFor(target), seed: 1 });
 * const t = timelineOf(makeTrace(target, r.strategy, r.failures[0]), lockOrder);
 * assertEquals([t.cores, t.outcome.verdict], [2, "deadlock"]);
 * ```
 */
export function timelineOf(
  trace: Trace,
  scenario: AnyScenario,
  options: TimelineOptions | number = {},
): Timeline {
  const opts = typeof options === "number" ? { eventsMax: options } : options;
  const target = targetOfTrace(trace, scenario);
  const runner = new Runner(target);
  const guided = new GuidedStrategy(decodeDecisions(trace.decisions));
  const log = new EventLog(opts.eventsMax);
  const k = runner.kernel;
  let outcome: Outcome;
  let state: StateRecording | null = null;
  let sources: (string | null)[] = [];
  let sourceSteps: StepRange | null = null;
  // A run the supervisor stopped (a hang) is drawn up to the step that never returned.
  const stopAt = stopAtOf(trace.outcome);
  let rf: ReadsFromLog | null = null;
  if (opts.state === false) {
    outcome = runner.run(guided, trace.seed, log, stopAt);
  } else {
    const recorder = new StateRecorder(opts.stateBytesMax);
    const tracker = new SourceTracker();
    const last = opts.sourcesUpTo ??
      Math.min(trace.outcome.step, opts.eventsMax ?? EVENTS_MAX_DEFAULT);
    sourceSteps = [Math.max(1, last - (opts.sourceStepsMax ?? SOURCE_STEPS_MAX) + 1), last];
    const steps = new StepSources(tracker, [sourceSteps]);
    tracker.install();
    try {
      startRun(k, target, guided, trace.seed, (k) => {
        recorder.attach(k);
        rf = k.logReadsFrom();
        k.observe(new Observers([log, steps, recorder]));
      }, stopAt);
      steps.start(k);
      recorder.start(k);
      outcome = k.execute();
    } finally {
      tracker.uninstall();
    }
    state = recorder.result();
    sources = log.events.map((e) => steps.textOf(e.step));
  }
  if (guided.misfits > 0 || guided.remaining > 0) throw misfit(trace);
  const fibers = k.fibers.map((f) => ({
    id: f.id,
    name: f.name,
    core: f.core,
    daemon: f.daemon,
  }));
  const used = fibers.reduce((m, f) => Math.max(m, f.core + 1), 1);
  return {
    trace,
    events: log.events,
    steps: log.total,
    fibers,
    cores: target.cores > 0 ? Math.max(target.cores, used) : used,
    outcome,
    stats: guided.stats(k),
    usesClock: log.events.some((e) => e.time !== e.step),
    sources,
    sourceSteps,
    state,
    race: state === null ? null : findRace(trace, scenario, log.events, cellsOf(state)),
    readsFrom: rf,
  };
}

/**
 * Replays `trace` for the source lines of the steps in `ranges` only (a
 * `--replay` listing shows the first and the last steps of a run); gives the
 * source line of a step, or null. A trace that does not fit the scenario
 * gives a `RangeError`.
 */
export function sourcesOf(
  trace: Trace,
  scenario: AnyScenario,
  ranges: readonly StepRange[],
): (step: number) => string | null {
  const target = targetOfTrace(trace, scenario);
  const k = new Runner(target).kernel;
  const guided = new GuidedStrategy(decodeDecisions(trace.decisions));
  const tracker = new SourceTracker();
  const steps = new StepSources(tracker, ranges);
  tracker.install();
  try {
    startRun(k, target, guided, trace.seed, (k) => k.observe(steps), stopAtOf(trace.outcome));
    steps.start(k);
    k.execute();
  } finally {
    tracker.uninstall();
  }
  if (guided.misfits > 0 || guided.remaining > 0) throw misfit(trace);
  return (step) => steps.textOf(step);
}

function misfit(trace: Trace): RangeError {
  return new RangeError(
    `Cannot draw trace of ${trace.scenario}/${trace.variant}: it does not fit the scenario ` +
      `(replay it with --replay to see where)`,
  );
}

function cellsOf(rec: StateRecording): Set<string> {
  const out = new Set<string>();
  for (const k of rec.keys) if (k.startsWith("cell/")) out.add(k.slice(5));
  return out;
}
