/**
 * Runs sweeps and explorations on a Deno Worker that this thread watches,
 * so a step that never returns, or a run that eats all memory, ends the run
 * with a verdict instead of hanging the tool or killing it with a V8 fatal
 * error.
 *
 * The kernel on the worker writes each step it starts (run, step, fiber,
 * decisions so far) into shared memory, and keeps the run's decisions there.
 * This thread looks at it a few dozen times a second: when the same step
 * stands for `stepTimeoutMs`, or the process grew by more than
 * `heapMaxBytes`, it terminates the worker and reports the run as a `hang`
 * or an out-of-memory `crash`, with the decisions up to that step. Runs the
 * worker finished but had not sent yet are run again here (they returned
 * once, and runs are deterministic). A stopped run ends its sweep, even with
 * `keepGoing`: Deno's `Worker.terminate` does not stop a thread inside a
 * step that never returns, so that thread spins on until the process exits.
 *
 * @module
 */
import {
  type Failure,
  type Judgement,
  judgement,
  type JudgeOptions,
  type PlanOptions,
  type RunInfo,
  Runner,
  stopAtOf,
  sweep,
  type Target,
} from "../sim/explore.ts";
import type { DeterminismResult } from "../sim/determinism.ts";
import type { ExplorationStats } from "../sim/exhaustive.ts";
import {
  BEAT_DECISIONS,
  BEAT_FIBER,
  BEAT_FIBER_END,
  BEAT_RUN,
  BEAT_SLOTS,
  BEAT_STEP,
  BEAT_STOP,
  type Heartbeat,
} from "../sim/kernel.ts";
import {
  endCheckHangOutcome,
  hangOutcome,
  type Outcome,
  outOfMemoryOutcome,
} from "../sim/outcome.ts";
import { ReplayStrategy } from "../sim/replay.ts";
import { UsageError } from "../sim/scenario.ts";
import type { ShrinkBudget, ShrinkResult } from "../sim/shrink.ts";
import type { Frontier, TreeSpec } from "../sim/split.ts";
import type { Strategy } from "../sim/strategy.ts";
import type { Trace } from "../sim/trace.ts";

/** How the supervisor watches. */
export interface SupervisorOptions {
  /** A step that runs longer than this is a `hang`. */
  readonly stepTimeoutMs: number;
  /** Growth of the process's memory (RSS) during a job that is out of memory. */
  readonly heapMaxBytes: number;
  /** The process's resident memory in bytes (tests pass a fake). */
  readonly rss?: () => number;
}

/** What a job names: a target the worker rebuilds from the catalog or a scenario file. */
export interface TargetSpec {
  readonly scenario: string;
  readonly source: string | null;
  readonly variant: string;
  readonly params: Record<string, unknown>;
  readonly cores: number;
  readonly stepsMax: number;
  readonly memory: string;
  /** Each run draws a swarm configuration first. */
  readonly swarm: boolean;
}

interface JobBase {
  readonly job: number;
  readonly heartbeat: Heartbeat;
}

interface TargetJob extends JobBase {
  readonly target: TargetSpec;
}

/** Run a sweep or an exploration. */
export interface JudgeJob extends TargetJob {
  readonly type: "judge";
  readonly plan: PlanOptions;
  readonly stats: SharedArrayBuffer;
  readonly seed: number;
  readonly runs: number;
  readonly keepGoing: boolean;
  readonly shard?: { readonly index: number; readonly of: number };
  /** DFS, DPOR: explore the shard's subtrees of the split tree (`exploreSplit`). */
  readonly split?: boolean;
}

/** Run PCT's sequential probe (`probeSteps`). */
export interface ProbeJob extends TargetJob {
  readonly type: "probe";
}

/** List the subtrees of a split DFS or DPOR tree (`listFrontier`). */
export interface FrontierJob extends TargetJob {
  readonly type: "frontier";
  readonly spec: TreeSpec;
  readonly seed: number;
}

/** Run each schedule of a sweep twice and compare (`checkDeterminism`). */
export interface DeterminismJob extends TargetJob {
  readonly type: "determinism";
  readonly plan: PlanOptions;
  readonly seed: number;
  readonly runs: number;
}

/** Shrink a failing trace (`shrinkTrace`) of the scenario `scenario` names. */
export interface ShrinkJob extends JobBase {
  readonly type: "shrink";
  readonly scenario: string;
  readonly trace: Trace;
  readonly budget: Partial<ShrinkBudget>;
}

/** Import a scenario file, timed like a step: top-level code may never return. */
export interface LoadJob extends JobBase {
  readonly type: "load";
  readonly path: string;
}

export type JobMessage = JudgeJob | ProbeJob | FrontierJob | DeterminismJob | ShrinkJob | LoadJob;
export type ToSupervised = JobMessage;

/** Runs of a sweep, in order. */
export interface BatchMessage {
  readonly type: "batch";
  readonly job: number;
  readonly seeds: Float64Array;
  readonly steps: Int32Array;
  readonly failures: readonly { readonly index: number; readonly failure: Failure }[];
}

export type FromSupervised =
  | BatchMessage
  | { readonly type: "probed"; readonly job: number; readonly steps: number }
  | { readonly type: "result"; readonly job: number; readonly value: unknown }
  | { readonly type: "progress"; readonly job: number; readonly stats: ExplorationStats }
  | { readonly type: "found"; readonly job: number; readonly failure: Failure }
  | { readonly type: "decisions"; readonly job: number; readonly buffer: SharedArrayBuffer }
  | { readonly type: "options"; readonly job: number; readonly options: Record<string, unknown> }
  | {
    readonly type: "done";
    readonly job: number;
    readonly runs: number;
    readonly steps: number;
    readonly exploration: ExplorationStats | null;
    readonly failures: readonly Failure[];
  }
  | {
    readonly type: "error";
    readonly job: number;
    readonly message: string;
    readonly usage: boolean;
  };

/** Where the worker was when the supervisor stopped it. */
export interface Stopped {
  readonly kind: "hang" | "out-of-memory";
  /** Runs started in the job, the stopped one included. */
  readonly run: number;
  /** The step that did not return (0: setup); with `atEnd`, the last step. */
  readonly step: number;
  readonly fiber: number;
  /** Stopped in the end-of-run checks, after the last step. */
  readonly atEnd: boolean;
  readonly seed: number;
  readonly decisions: number[];
}

/**
 * Where a stopped job was, for people: "run 3 (seed 7) did not return from
 * step 2 within the step timeout".
 */
export function stoppedText(s: Stopped): string {
  const where = s.atEnd
    ? `its end-of-run checks after step ${s.step}`
    : s.step === 0
    ? "its setup"
    : `step ${s.step}`;
  const what = s.kind === "hang"
    ? `did not return from ${where} within the step timeout (--step-timeout)`
    : `ran out of memory (--heap-max) in ${where}`;
  return `run ${s.run} (seed ${s.seed}) ${what}`;
}

type DoneMessage = Extract<FromSupervised, { type: "done" }>;

/** How a job ended: done (or probed, or with a result), or stopped by the watch. */
type JobEnd =
  | { stopped: null; done: DoneMessage | null; probed: number; value?: unknown }
  | { stopped: Stopped; done: null; probed: number };

const POLL_MS_MAX = 20;
/**
 * The least time a scenario file gets to load: importing it compiles it and
 * the modules it imports, which takes seconds on a busy machine, however
 * short the step timeout.
 */
const LOAD_MS_MIN = 5_000;
const DECISIONS_FIRST = 4096;
const STATS_SLOTS = 5;

/**
 * Runs jobs on one worker at a time and stops it when a step hangs or memory
 * runs out. Start it once per command; `close` stops the worker.
 */
export class Supervisor {
  readonly options: SupervisorOptions;
  #worker: Worker | null = null;
  #jobs = 0;
  // Shared with the current worker; each worker gets its own, so a stopped
  // thread that wakes up again writes only to the memory of its own past.
  #heartbeat: Heartbeat = newHeartbeat();
  // Where the worker's kernel keeps the current run's decisions now.
  #decisions: SharedArrayBuffer = this.#heartbeat.decisions;
  #stats = new SharedArrayBuffer(8 * STATS_SLOTS);

  constructor(options: SupervisorOptions) {
    this.options = options;
  }

  /**
   * Starts the worker now, so that it loads the kernel and the catalog while
   * this thread is still busy with other things.
   */
  warm(): void {
    this.#start();
  }

  /**
   * Why no further job may run, or null. Deno's `Worker.terminate` does not
   * stop a thread that is inside a step that never returns: it runs on until
   * the process exits. A spinning one only costs a core, but one that runs
   * out of memory would take the process down with a V8 fatal error, so
   * after out of memory the command reports and ends.
   */
  halted: string | null = null;

  /** Stops the worker, if one runs. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = null;
  }

  /**
   * PCT's estimate of a run's steps (`probeSteps`), run on the worker. A
   * probe that hangs or runs out of memory gives the target's step limit.
   */
  async probe(target: Target): Promise<number> {
    const r = await this.#job({
      type: "probe",
      job: 0,
      target: specOf(target),
      heartbeat: this.#heartbeat,
    }, () => {});
    if (r.stopped !== null) return target.stepsMax;
    return r.probed;
  }

  /**
   * Imports the scenario file `path` on the worker first, timed like a step:
   * top-level code that never returns is a one-line `UsageError` (exit 2)
   * instead of a command that never ends. This thread imports it only after.
   */
  async load(path: string): Promise<void> {
    const r = await this.#job({ type: "load", job: 0, heartbeat: this.#heartbeat, path }, () => {});
    if (r.stopped === null) return;
    const limit = r.stopped.kind === "hang"
      ? `did not finish loading within ${this.#timeoutMs("load") / 1000} s: top-level code that ` +
        "never returns? (the limit is the step timeout, --step-timeout, and at least 5 s)"
      : "ran out of memory while loading (--heap-max)";
    throw new UsageError(`scenario file ${path} ${limit}`);
  }

  /**
   * The subtrees of a split DFS or DPOR tree (`listFrontier`), listed on the
   * worker; where the worker was stopped if a schedule hung.
   */
  async frontier(target: Target, spec: TreeSpec, seed: number): Promise<Frontier | Stopped> {
    return await this.#aux<Frontier>({
      type: "frontier",
      job: 0,
      target: specOf(target),
      heartbeat: this.#heartbeat,
      spec,
      seed,
    });
  }

  /**
   * The determinism check (`checkDeterminism`) of the sweep `plan` makes,
   * on the worker; where the worker was stopped if a schedule hung.
   */
  async checkDeterminism(
    target: Target,
    plan: PlanOptions,
    options: { readonly seed: number; readonly runs: number },
  ): Promise<DeterminismResult | Stopped> {
    return await this.#aux<DeterminismResult>({
      type: "determinism",
      job: 0,
      target: specOf(target),
      heartbeat: this.#heartbeat,
      plan,
      ...options,
    });
  }

  /**
   * Shrinks `trace` (`shrinkTrace`) on the worker, loading the scenario
   * `scenario` names (a catalog name or a file); where the worker was
   * stopped if a candidate schedule hung.
   */
  async shrink(
    scenario: string,
    trace: Trace,
    budget: Partial<ShrinkBudget> = {},
  ): Promise<ShrinkResult | Stopped> {
    return await this.#aux<ShrinkResult>({
      type: "shrink",
      job: 0,
      heartbeat: this.#heartbeat,
      scenario,
      trace,
      budget,
    });
  }

  async #aux<T>(job: JobMessage): Promise<T | Stopped> {
    const r = await this.#job(job, () => {});
    return r.stopped ?? (r.value as T);
  }

  /**
   * Judges `target` as `judge` would on this thread, on the worker. `plan`
   * must build the same strategy as `options.strategy` (which this thread
   * uses for runs it must run again, and for traces).
   */
  async judge(target: Target, plan: PlanOptions, options: JudgeOptions): Promise<Judgement> {
    const strategy = options.strategy;
    if ("advance" in strategy) return await this.#explore(target, plan, options);
    return await this.#sweep(target, plan, options);
  }

  /** The part of a judge job a sweep and an exploration share. */
  #judgeJob(target: Target, plan: PlanOptions, options: JudgeOptions): JudgeJob {
    return {
      type: "judge",
      job: 0,
      target: specOf(target),
      heartbeat: this.#heartbeat,
      plan,
      stats: this.#stats,
      seed: options.seed,
      runs: options.runs,
      keepGoing: options.keepGoing ?? false,
    };
  }

  async #sweep(target: Target, plan: PlanOptions, options: JudgeOptions): Promise<Judgement> {
    const failures: Failure[] = [];
    const shard = options.shard ?? { index: 0, of: 1 };
    let next = 0; // the index of the first run not yet seen by onRun
    let runs = 0;
    let steps = 0;
    let stop = false;
    const see = (info: RunInfo) => {
      runs++;
      steps += info.outcome.step;
      if (info.failure !== null) failures.push(info.failure);
      options.onRun?.(info);
      if (info.failure !== null && !options.keepGoing) stop = true;
    };
    const r = await this.#job(
      { ...this.#judgeJob(target, plan, options), shard },
      (m) => {
        if (m.type !== "batch") return;
        let f = 0;
        for (let i = 0; i < m.seeds.length && !stop; i++) {
          const failure = f < m.failures.length && m.failures[f].index === i
            ? m.failures[f++].failure
            : null;
          const outcome: Outcome = failure?.outcome ??
            { verdict: "pass", check: "", message: "", step: m.steps[i], fiber: null };
          see({ seed: m.seeds[i], outcome, failure });
          next = m.seeds[i] - options.seed + 1;
        }
      },
    );
    if (r.stopped !== null && !stop) {
      // Every run before the stopped one returned: those the worker had not
      // sent yet run again here. The sweep ends with the stopped run, even
      // with keepGoing: its thread spins on until the command exits.
      const index = r.stopped.seed - options.seed;
      if (next < index) {
        sweep(target, {
          strategy: options.strategy,
          seed: options.seed + next,
          runs: index - next,
          keepGoing: options.keepGoing,
          shard: shifted(shard, next),
          onRun: (info) => {
            if (!stop) see(info);
          },
        });
      }
      if (!stop) {
        const failure = this.#failureOf(target, options.strategy, r.stopped, true);
        see({ seed: failure.seed, outcome: failure.outcome, failure });
      }
    }
    return judgement(target, options.strategy, { runs, steps, failures });
  }

  async #explore(target: Target, plan: PlanOptions, options: JudgeOptions): Promise<Judgement> {
    const found: Failure[] = [];
    let last: Record<string, unknown> | null = null;
    const r = await this.#job(
      {
        ...this.#judgeJob(target, plan, options),
        ...(options.shard === undefined ? {} : { shard: options.shard, split: true }),
      },
      (m) => {
        if (m.type === "progress") options.onSchedule?.(m.stats, null);
        else if (m.type === "found") found.push(m.failure);
        else if (m.type === "options") last = m.options;
      },
    );
    if (r.stopped === null) {
      const done = r.done as DoneMessage;
      const result = { runs: done.runs, steps: done.steps, failures: done.failures };
      return judgement(target, options.strategy, result, done.exploration);
    }
    // A stopped schedule ends the exploration: its tree lived on the worker.
    const s = r.stopped;
    const stats = new Float64Array(this.#stats);
    const hung = this.#failureOf(target, options.strategy, s, false);
    const failures = [...found, {
      ...hung,
      schedule: s.run,
      ...(last === null ? {} : { options: last }),
    }];
    const exploration: ExplorationStats = {
      schedules: s.run,
      complete: stats[1],
      pruned: stats[2],
      maxDepth: Math.max(stats[3], s.step),
      steps: stats[4] + s.step,
      exhausted: false,
      bound: "none",
    };
    return judgement(
      target,
      options.strategy,
      { runs: s.run, steps: exploration.steps, failures },
      exploration,
    );
  }

  // The failure of a run the supervisor stopped: its decisions up to the
  // step that did not return, replayed here (they all returned once) to
  // name the step's fiber. A seeded strategy reruns its seed, which also
  // gives the strategy's options for the trace (a portfolio's member).
  #failureOf(target: Target, strategy: Strategy, s: Stopped, seeded: boolean): Failure {
    const cut = s.atEnd
      ? (s.kind === "hang" ? endCheckHangOutcome(s.step) : outOfMemoryOutcome(s.step, null, true))
      : (s.kind === "hang" ? hangOutcome : outOfMemoryOutcome)(s.step, null);
    const stopAt = stopAtOf(cut);
    const runner = new Runner(target);
    const driver = seeded ? strategy : new ReplayStrategy(s.decisions);
    const outcome = runner.run(driver, s.seed, undefined, stopAt);
    const decisions = runner.kernel.decisions();
    if (seeded && decisions.join() !== s.decisions.join()) {
      throw new Error(
        `seed ${s.seed} did not run again to the step that was stopped: ` +
          "the scenario is not deterministic",
      );
    }
    return {
      seed: s.seed,
      outcome,
      decisions,
      ...(seeded ? { options: strategy.options() } : {}),
    };
  }

  // Posts a job and waits for its end: done, or stopped by the watch.
  #job(
    job: JobMessage,
    onMessage: (m: FromSupervised) => void,
  ): Promise<JobEnd> {
    const id = ++this.#jobs;
    const worker = this.#start();
    const beat = this.#heartbeat.beat;
    beat.fill(0);
    beat[BEAT_FIBER] = -1;
    new Float64Array(this.#stats).fill(0);
    const rss = this.options.rss ?? (() => Deno.memoryUsage().rss);
    let baseline = rss();
    this.#decisions = this.#heartbeat.decisions;
    return new Promise((resolve, reject) => {
      let lastRun = -1;
      let lastStep = -1;
      let since = performance.now();
      const finish = () => {
        clearInterval(timer);
        worker.onmessage = null;
        worker.onerror = null;
      };
      const fail = (e: unknown) => {
        finish();
        this.close();
        reject(e);
      };
      const halt = (kind: Stopped["kind"]) => {
        // Should the step ever return, the thread leaves the sweep at the next one.
        beat[BEAT_STOP] = 1;
        finish();
        this.close();
        const run = beat[BEAT_RUN];
        const count = beat[BEAT_DECISIONS];
        const fiber = beat[BEAT_FIBER];
        const atEnd = fiber === BEAT_FIBER_END;
        const stopped: Stopped = {
          kind,
          run,
          // The end checks are published as the step after the last.
          step: atEnd ? beat[BEAT_STEP] - 1 : beat[BEAT_STEP],
          fiber,
          atEnd,
          seed: this.#heartbeat.seed[0],
          decisions: Array.from(new Uint32Array(this.#decisions, 0, count)),
        };
        if (kind === "out-of-memory") {
          this.halted = "a run ran out of memory, and its thread cannot be stopped " +
            "before the command exits";
        }
        resolve({ stopped, done: null, probed: 0 });
      };
      const timeoutMs = this.#timeoutMs(job.type);
      const poll = Math.max(1, Math.min(POLL_MS_MAX, this.options.stepTimeoutMs / 4));
      const timer = setInterval(() => {
        if (rss() - baseline > this.options.heapMaxBytes) return halt("out-of-memory");
        const run = beat[BEAT_RUN];
        const step = beat[BEAT_STEP];
        const now = performance.now();
        // Until the first run starts the worker is loading: no step to time,
        // and what loading takes is not the run's memory.
        if (run === 0) baseline = rss();
        if (run === 0 || run !== lastRun || step !== lastStep) {
          lastRun = run;
          lastStep = step;
          since = now;
        } else if (now - since >= timeoutMs) {
          halt("hang");
        }
      }, poll);
      worker.onmessage = (e: MessageEvent<FromSupervised>) => {
        const m = e.data;
        if (m.job !== id) return;
        try {
          if (m.type === "error") {
            fail(
              m.usage
                ? new UsageError(m.message)
                : new Error(`the run worker failed: ${m.message}`),
            );
          } else if (m.type === "done") {
            finish();
            resolve({ stopped: null, done: m, probed: 0 });
          } else if (m.type === "decisions") {
            this.#decisions = m.buffer;
          } else if (m.type === "probed") {
            finish();
            resolve({ stopped: null, done: null, probed: m.steps });
          } else if (m.type === "result") {
            finish();
            resolve({ stopped: null, done: null, probed: 0, value: m.value });
          } else {
            onMessage(m);
          }
        } catch (err) {
          // A callback that throws (an interrupt, a write error) ends the job with its error.
          fail(err);
        }
      };
      worker.onerror = (e) => {
        e.preventDefault();
        fail(new Error(`the run worker failed: ${e.message}`));
      };
      // The memory of this worker, whatever the job was built with.
      const shared = job.type === "judge" ? { stats: this.#stats } : {};
      worker.postMessage({ ...job, ...shared, job: id, heartbeat: this.#heartbeat });
    });
  }

  // How long a job's step may stand still: loading a file gets at least LOAD_MS_MIN.
  #timeoutMs(type: JobMessage["type"]): number {
    const step = this.options.stepTimeoutMs;
    return type === "load" ? Math.max(step, LOAD_MS_MIN) : step;
  }

  #start(): Worker {
    if (this.#worker === null) {
      this.#heartbeat = newHeartbeat();
      this.#stats = new SharedArrayBuffer(8 * STATS_SLOTS);
    }
    this.#worker ??= new Worker(new URL("./supervised_worker.ts", import.meta.url).href, {
      type: "module",
    });
    return this.#worker;
  }
}

function newHeartbeat(): Heartbeat {
  return {
    beat: new Int32Array(new SharedArrayBuffer(4 * BEAT_SLOTS)),
    seed: new Float64Array(new SharedArrayBuffer(8)),
    decisions: new SharedArrayBuffer(4 * DECISIONS_FIRST),
  };
}

function specOf(target: Target): TargetSpec {
  return {
    scenario: target.source ?? target.scenario.name,
    source: target.source,
    variant: target.variant,
    params: target.params,
    cores: target.cores,
    stepsMax: target.stepsMax,
    memory: target.memory,
    swarm: target.swarm,
  };
}

// Run i of a sweep resumed at run `from` is run from + i of the whole one.
function shifted(
  shard: { readonly index: number; readonly of: number },
  from: number,
): { index: number; of: number } {
  const of = shard.of;
  return { index: (((shard.index - from) % of) + of) % of, of };
}
