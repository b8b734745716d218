/**
 * Sweeps on several Deno Workers. Seeds are independent, so workers run
 * chunks of them in parallel; results are taken in seed order, so the runs,
 * failing seeds and traces are exactly those of a run on one thread.
 *
 * @module
 */
import type { Failure, RunInfo, SweepResult, Target } from "../sim/explore.ts";
import type { Outcome } from "../sim/outcome.ts";
import { UsageError } from "../sim/scenario.ts";
import type { Strategy } from "../sim/strategy.ts";
import type { ExplorationResult } from "../sim/exhaustive.ts";
import {
  combineSubtrees,
  type Frontier,
  listFrontier,
  type SubtreeResult,
  type TreeSpec,
} from "../sim/split.ts";
import type {
  ChunkMessage,
  FromWorker,
  InitMessage,
  ResultMessage,
  SubtreeMessage,
  SubtreeResultMessage,
  TreeInitMessage,
  WatchMessage,
} from "./_protocol.ts";
import { BEAT_RUN, BEAT_SLOTS, BEAT_STEP, BEAT_STOP, type Heartbeat } from "../sim/kernel.ts";
import type { Shard } from "./shard.ts";

/** How a sweep on workers goes. */
export interface WorkerSweepOptions {
  /** The strategy as built in this thread; each worker builds the same one. */
  readonly strategy: Strategy;
  /** The first seed. */
  readonly seed: number;
  /** How many runs. */
  readonly runs: number;
  /** Keep running after a failure (default: stop at the first). */
  readonly keepGoing?: boolean;
  /** Run only this shard's seeds. */
  readonly shard?: Shard;
  /** Called for each run, in seed order. */
  readonly onRun?: (info: RunInfo) => void;
  /** The largest chunk of runs handed to a worker at once. */
  readonly chunkRunsMax?: number;
}

/** The most workers accepted: more than a machine's cores only adds overhead. */
export const WORKERS_MAX = 256;
const CHUNK_FIRST = 64;
const CHUNK_MAX_DEFAULT = 8192;

/** Strategies whose runs depend on the seed alone, so seeds can run anywhere. */
const SEEDED = new Set(["random", "pct", "portfolio"]);

/**
 * Runs one sweep on `workers` Deno Workers, started for it and stopped
 * after. The result is the one `sweep` gives on this thread, run for run.
 */
export async function sweepOnWorkers(
  target: Target,
  options: WorkerSweepOptions & { readonly workers: number },
): Promise<SweepResult> {
  const pool = new WorkerPool(options.workers);
  try {
    return await pool.sweep(target, options);
  } finally {
    pool.close();
  }
}

/**
 * A set of Deno Workers that runs sweeps one after another. Starting a
 * worker and loading the kernel into it takes tens of milliseconds, so a
 * command that sweeps many variants keeps one pool.
 */
export class WorkerPool {
  readonly #workers: Worker[] = [];
  /** How many workers. */
  readonly size: number;
  readonly #watch: PoolWatch | null;
  readonly #watched = new Map<Worker, Watched>();
  #sweeps = 0;
  #current: SweepRun | TreeRun | null = null;

  /**
   * Makes a pool of `size` workers, started when first used. With `watch`, a step that stands still on a worker for the step timeout,
   * or the process growing past the heap limit, ends the sweep with
   * `WorkersStopped` (the caller finds the run again on a supervised worker).
   */
  constructor(size: number, watch: PoolWatch | null = null) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`Cannot start ${size} workers: need a positive integer`);
    }
    this.size = Math.min(size, WORKERS_MAX);
    this.#watch = watch;
  }

  /** Runs one sweep; the same result as `sweep` on this thread. */
  sweep(target: Target, options: WorkerSweepOptions): Promise<SweepResult> {
    if (this.#current !== null) throw new Error("WorkerPool runs one sweep at a time");
    const init = initMessage(target, options, ++this.#sweeps);
    this.#start();
    const run = new SweepRun(init, options, (m) => this.#post(m));
    this.#current = run;
    for (const w of this.#workers) w.postMessage(init);
    return this.#watching(run.done).finally(() => (this.#current = null));
  }

  /**
   * Explores a DFS or DPOR tree split into subtrees (`sim/split.ts`): each
   * worker takes the next subtree in order. The result, its schedules and its
   * first failure are those of `exploreSplit` on one thread. `listed` is the
   * tree's frontier when the caller listed it elsewhere (a supervised worker).
   */
  explore(
    target: Target,
    spec: TreeSpec,
    options: {
      readonly runs: number;
      readonly seed: number;
      readonly keepGoing?: boolean;
      /** Explore only this shard's subtrees (j with `j % of === index`), as `exploreSplit` does. */
      readonly shard?: Shard;
      /** Called as each subtree's result comes in (the bench measures balance with it). */
      readonly onSubtree?: (done: SubtreeDone) => void;
    },
    listed?: Frontier,
  ): Promise<ExplorationResult> {
    if (this.#current !== null) throw new Error("WorkerPool runs one sweep at a time");
    const frontier = listed ?? listFrontier(target, spec, { seed: options.seed });
    const init: TreeInitMessage = {
      type: "tree-init",
      sweep: ++this.#sweeps,
      scenario: target.source ?? target.scenario.name,
      variant: target.variant,
      params: target.params,
      cores: target.cores,
      stepsMax: target.stepsMax,
      memory: target.memory,
      swarm: target.swarm,
      spec,
      prefixes: frontier.prefixes,
      seed: options.seed,
      keepGoing: options.keepGoing ?? false,
    };
    this.#start();
    const run = new TreeRun(
      init,
      spec,
      frontier,
      options.runs,
      options.shard,
      (w, m) =>
        options.onSubtree?.({
          index: m.result.index,
          worker: this.#workers.indexOf(w),
          schedules: m.result.schedules,
          ms: m.ms,
        }),
    );
    this.#current = run;
    for (const w of this.#workers) w.postMessage(init);
    return this.#watching(run.done).finally(() => (this.#current = null));
  }

  /** Stops every worker. */
  close(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers.length = 0;
    this.#watched.clear();
  }

  // Watches the workers while `done` is pending (see the constructor).
  #watching<T>(done: Promise<T>): Promise<T> {
    const watch = this.#watch;
    if (watch === null) return done;
    const rss = watch.rss ?? (() => Deno.memoryUsage().rss);
    const baseline = rss();
    const timer = setInterval(() => {
      const now = performance.now();
      let stopped: WorkersStopped["kind"] | null = null;
      if (rss() - baseline > watch.heapMaxBytes) stopped = "out-of-memory";
      for (const w of this.#watched.values()) {
        const run = w.beat[BEAT_RUN];
        const step = w.beat[BEAT_STEP];
        if (w.busy[0] === 0 || run !== w.run || step !== w.step) {
          [w.run, w.step, w.since] = [run, step, now];
        } else if (now - w.since >= watch.stepTimeoutMs) {
          stopped ??= "hang";
        }
      }
      if (stopped === null) return;
      clearInterval(timer);
      // A thread inside a step that never returns spins on; one whose step
      // returns leaves at the next (the stop flag).
      for (const w of this.#watched.values()) w.beat[BEAT_STOP] = 1;
      this.close();
      this.#current?.fail(new WorkersStopped(stopped));
    }, Math.max(1, Math.min(20, watch.stepTimeoutMs / 4)));
    return done.finally(() => clearInterval(timer));
  }

  #start(): void {
    while (this.#workers.length < this.size) {
      const w = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
      w.onmessage = (e: MessageEvent<FromWorker>) => {
        const run = this.#current;
        if (run === null || e.data.sweep !== run.id) return;
        // A callback that throws (an interrupt, a write error) ends the sweep with its error.
        try {
          run.onMessage(w, e.data);
        } catch (err) {
          run.fail(err as Error);
        }
      };
      w.onerror = (e) => {
        e.preventDefault();
        this.#current?.fail(new Error(`a sweep worker failed: ${e.message}`));
      };
      this.#workers.push(w);
      if (this.#watch !== null) {
        const heartbeat: Heartbeat = {
          beat: new Int32Array(new SharedArrayBuffer(4 * BEAT_SLOTS)),
          seed: new Float64Array(new SharedArrayBuffer(8)),
          decisions: new SharedArrayBuffer(4096),
        };
        const busy = new Int32Array(new SharedArrayBuffer(4));
        const watched = { beat: heartbeat.beat, busy, run: -1, step: -1, since: 0 };
        this.#watched.set(w, watched);
        w.postMessage({ type: "watch", sweep: 0, heartbeat, busy } satisfies WatchMessage);
      }
    }
  }

  #post(m: { worker: Worker; chunk: ChunkMessage }): void {
    m.worker.postMessage(m.chunk);
  }
}

/** One subtree's result as it comes in from a worker. */
export interface SubtreeDone {
  /** Its index in the frontier. */
  readonly index: number;
  /** Which of the pool's workers explored it, from 0. */
  readonly worker: number;
  /** Schedules it ran. */
  readonly schedules: number;
  /** Milliseconds the worker spent on it. */
  readonly ms: number;
}

/** How a pool watches its workers (the same as a `Supervisor`'s options). */
export interface PoolWatch {
  /** A step that stands still this long stops the pool. */
  readonly stepTimeoutMs: number;
  /** Growth of the process's resident memory that stops the pool. */
  readonly heapMaxBytes: number;
  /** The process's resident memory in bytes (tests pass a fake). */
  readonly rss?: () => number;
}

/** A watched worker's shared memory, and the step it was last seen at. */
interface Watched {
  readonly beat: Int32Array;
  readonly busy: Int32Array;
  run: number;
  step: number;
  since: number;
}

/**
 * A watched pool stopped its workers: a step stood still for the step
 * timeout, or the process grew past the heap limit. Which run it was is
 * found again on one supervised worker (`cli/sweeps.ts`).
 */
export class WorkersStopped extends Error {
  /** Why: a step stood still (`hang`), or the process outgrew the heap limit. */
  readonly kind: "hang" | "out-of-memory";

  /** The stop, and why. */
  constructor(kind: "hang" | "out-of-memory") {
    super(
      `the workers were stopped: ${kind === "hang" ? "a step did not return" : "out of memory"}`,
    );
    this.name = "WorkersStopped";
    this.kind = kind;
  }
}

function initMessage(target: Target, o: WorkerSweepOptions, sweep: number): InitMessage {
  const name = o.strategy.name;
  if (!SEEDED.has(name)) {
    throw new UsageError(
      `--workers runs independent seeds: it works with --strategy random, pct or portfolio, not ${name}`,
    );
  }
  const so = o.strategy.options();
  return {
    type: "init",
    sweep,
    scenario: target.source ?? target.scenario.name,
    variant: target.variant,
    params: target.params,
    cores: target.cores,
    stepsMax: target.stepsMax,
    memory: target.memory,
    swarm: target.swarm,
    strategy: name,
    depth: typeof so.depth === "number" ? so.depth : undefined,
    pctSteps: typeof so.steps === "number" ? so.steps : undefined,
    seed: o.seed,
    keepGoing: o.keepGoing ?? false,
    shard: o.shard ?? { index: 0, of: 1 },
  };
}

/** One sweep in progress on a pool: hands out chunks, takes results in order. */
class SweepRun {
  readonly id: number;
  readonly done: Promise<SweepResult>;
  readonly #init: InitMessage;
  readonly #options: WorkerSweepOptions;
  readonly #send: (m: { worker: Worker; chunk: ChunkMessage }) => void;
  readonly #buffered = new Map<number, ResultMessage>();
  readonly #failures: Failure[] = [];
  #nextIndex = 0;
  #nextId = 0;
  #processId = 0;
  #inFlight = 0;
  #chunk = CHUNK_FIRST;
  #firstFailingChunk = Infinity;
  #runs = 0;
  #steps = 0;
  #stopped = false;
  #resolve: (r: SweepResult) => void = () => {};
  #reject: (e: Error) => void = () => {};

  constructor(
    init: InitMessage,
    options: WorkerSweepOptions,
    send: (m: { worker: Worker; chunk: ChunkMessage }) => void,
  ) {
    this.id = init.sweep;
    this.#init = init;
    this.#options = options;
    this.#send = send;
    this.done = new Promise<SweepResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (options.runs <= 0) this.#finish();
  }

  onMessage(w: Worker, m: FromWorker): void {
    if (this.#stopped) return;
    if (m.type === "error") {
      this.fail(
        m.usage ? new UsageError(m.message) : new Error(`a sweep worker failed: ${m.message}`),
      );
      return;
    }
    if (m.type === "result") {
      this.#inFlight--;
      if (m.failures.length > 0) this.#firstFailingChunk = Math.min(this.#firstFailingChunk, m.id);
      this.#buffered.set(m.id, m);
      this.#drain();
      if (this.#stopped) return;
    }
    this.#feed(w);
    if (this.#inFlight === 0 && this.#buffered.size === 0) this.#finish();
  }

  fail(e: Error): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reject(e);
  }

  // Hands `w` the next chunk, unless a failure already ends the sweep
  // before it or every run is handed out.
  #feed(w: Worker): void {
    if (this.#nextIndex >= this.#options.runs) return;
    if (!this.#init.keepGoing && this.#nextId > this.#firstFailingChunk) return;
    const count = Math.min(this.#chunk, this.#options.runs - this.#nextIndex);
    const chunk: ChunkMessage = {
      type: "chunk",
      sweep: this.id,
      id: this.#nextId++,
      first: this.#nextIndex,
      count,
    };
    this.#nextIndex += count;
    this.#chunk = Math.min(this.#chunk * 2, this.#options.chunkRunsMax ?? CHUNK_MAX_DEFAULT);
    this.#inFlight++;
    this.#send({ worker: w, chunk });
  }

  // Takes results in chunk order, so runs are seen in seed order.
  #drain(): void {
    const onRun = this.#options.onRun;
    for (;;) {
      const r = this.#buffered.get(this.#processId);
      if (r === undefined) return;
      this.#buffered.delete(this.#processId);
      this.#processId++;
      let f = 0;
      for (let i = 0; i < r.seeds.length; i++) {
        const steps = r.steps[i];
        this.#runs++;
        this.#steps += steps;
        let failure: Failure | null = null;
        if (f < r.failures.length && r.failures[f].index === i) {
          const x = r.failures[f++];
          failure = { seed: x.seed, outcome: x.outcome, decisions: x.decisions };
          this.#failures.push(failure);
        }
        if (onRun !== undefined) {
          const outcome: Outcome = failure?.outcome ??
            { verdict: "pass", check: "", message: "", step: steps, fiber: null };
          onRun({ seed: r.seeds[i], outcome, failure });
        }
        if (failure !== null && !this.#init.keepGoing) {
          this.#finish();
          return;
        }
      }
    }
  }

  #finish(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#resolve({ runs: this.#runs, steps: this.#steps, failures: this.#failures });
  }
}

/** One split tree in progress on a pool: hands out subtrees in order, combines them in order. */
class TreeRun {
  readonly id: number;
  readonly done: Promise<ExplorationResult>;
  readonly #init: TreeInitMessage;
  readonly #spec: TreeSpec;
  readonly #frontier: Frontier;
  readonly #runs: number;
  readonly #onResult: (w: Worker, m: SubtreeResultMessage) => void;
  /** Whether subtree j is this shard's. */
  readonly #mine: (j: number) => boolean;
  /** The shard count: this shard's subtrees are `#stride` apart. */
  readonly #stride: number;
  readonly #results: (SubtreeResult | undefined)[] = [];
  #next = 0;
  #inFlight = 0;
  #firstFailing = Infinity;
  #stopped = false;
  #resolve: (r: ExplorationResult) => void = () => {};
  #reject: (e: Error) => void = () => {};

  constructor(
    init: TreeInitMessage,
    spec: TreeSpec,
    frontier: Frontier,
    runs: number,
    shard: Shard | undefined,
    onResult: (w: Worker, m: SubtreeResultMessage) => void,
  ) {
    this.id = init.sweep;
    const { index, of } = shard ?? { index: 0, of: 1 };
    this.#mine = (j) => j % of === index;
    this.#next = index;
    this.#stride = of;
    this.#onResult = onResult;
    this.#init = init;
    this.#spec = spec;
    this.#frontier = frontier;
    this.#runs = runs;
    this.done = new Promise<ExplorationResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  onMessage(w: Worker, m: FromWorker): void {
    if (this.#stopped) return;
    if (m.type === "error") {
      this.fail(
        m.usage
          ? new UsageError(m.message)
          : new Error(`an exploration worker failed: ${m.message}`),
      );
      return;
    }
    if (m.type === "subtree-result") {
      this.#inFlight--;
      const r = m.result;
      this.#results[r.index] = r;
      this.#onResult(w, m);
      if (r.failures.length > 0 && !this.#init.keepGoing) {
        this.#firstFailing = Math.min(this.#firstFailing, r.index);
      }
    } else if (m.type !== "ready") {
      return;
    }
    this.#feed(w);
    if (this.#inFlight === 0) this.#finish();
  }

  fail(e: Error): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reject(e);
  }

  // Schedules of the finished subtrees before `index`: what the budget has
  // spent for certain before it gets there.
  #spentBefore(index: number): { spent: number; contiguous: boolean } {
    let spent = 0;
    let contiguous = true;
    for (let j = 0; j < index; j++) {
      const r = this.#results[j];
      if (r === undefined) contiguous = false;
      else spent += r.schedules;
    }
    return { spent, contiguous };
  }

  #feed(w: Worker): void {
    const index = this.#next;
    if (index >= this.#frontier.prefixes.length || index > this.#firstFailing) return;
    const { spent } = this.#spentBefore(index);
    if (spent >= this.#runs) return;
    this.#next += this.#stride;
    this.#inFlight++;
    const m: SubtreeMessage = { type: "subtree", sweep: this.id, index, runs: this.#runs - spent };
    w.postMessage(m);
  }

  #finish(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#resolve(
      combineSubtrees(this.#spec, this.#frontier, this.#results, {
        runs: this.#runs,
        keepGoing: this.#init.keepGoing,
        mine: this.#mine,
      }),
    );
  }
}
