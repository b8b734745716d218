/**
 * The kernel: owns the fibers, asks the strategy which one steps next, runs
 * that step, and turns whatever happens into an outcome.
 *
 * @module
 */
import { List } from "./_list.ts";
import { Fiber } from "./fiber.ts";
import { CHOOSE_MAX, DECISIONS_MAX, FIBERS_MAX, STEPS_MAX } from "./limits.ts";
import { Cell } from "./cell.ts";
import { type ReadsFromLog, StoreBuffers, type WeakMemory } from "./memory.ts";
import { RaMemory } from "./ra.ts";
import { type FiberBody, isOp, Op } from "./op.ts";
import { checkOrdering, type MemoryModel, type Ordering } from "./ordering.ts";
import { isToolSignal, isViolation, type Outcome, RunStopped, Violation } from "./outcome.ts";
import type { StateSource } from "./state.ts";
import type { Strategy } from "./strategy.ts";
import { CondVar, Mutex, RwLock, Semaphore } from "./sync.ts";

/** Limits and shape of one run. */
export interface RunConfig {
  /** Simulated cores; fibers are spread over them in spawn order. */
  readonly cores: number;
  /** The run fails with `step-limit` once this many steps were taken. */
  readonly stepsMax: number;
  /** Live fibers allowed at once; spawning more is a crash of the scenario. */
  readonly fibersMax?: number;
  /** The memory model; `sc` (the default) costs nothing (see `sim/memory.ts`). */
  readonly memory?: MemoryModel;
  /**
   * End the run just before step `step` would run (after its fiber was
   * picked), with `outcome(step, fiber name)`: how a run the supervisor
   * stopped (a hang, out of memory) is replayed without running the step
   * that never returned. Step 0 is the setup.
   */
  readonly stopAt?: StopAt;
}

/** Where and how a replayed run the supervisor stopped ends (`RunConfig.stopAt`). */
export interface StopAt {
  /** The step that does not run (0: the setup); with `atEnd`, the run's last step. */
  readonly step: number;
  /** End the run after its last step, before its end-of-run checks. */
  readonly atEnd?: boolean;
  /** The outcome the run ends with, given the step and the fiber picked for it. */
  readonly outcome: (step: number, fiber: string | null) => Outcome;
}

/**
 * Shared memory a supervisor reads while a run executes on a worker: where
 * the run is (`beat`: run counter, step, fiber id, decisions made before the
 * step) and the run's decisions. Written once per step; a plain store costs
 * a few nanoseconds. See `scale/supervisor.ts`.
 */
export interface Heartbeat {
  /** `[runs started, step, fiber id (-1: setup), decisions before the step, stop]`. */
  readonly beat: Int32Array;
  /** `[seed]` of the current run. */
  readonly seed: Float64Array;
  /** The buffer the kernel keeps the decisions in, at first. */
  readonly decisions: SharedArrayBuffer;
  /**
   * Called with the new buffer when the decisions outgrow the old one (a
   * growable buffer would do, but its views are about ten times slower).
   */
  readonly onGrow?: (decisions: SharedArrayBuffer) => void;
}

/** Slot of `Heartbeat.beat`: runs started since the kernel was watched. */
export const BEAT_RUN = 0;
/** Slot of `Heartbeat.beat`: the step the current run is in (0: setup). */
export const BEAT_STEP = 1;
/**
 * Slot of `Heartbeat.beat`: the id of the fiber whose step it is (-1: setup,
 * `BEAT_FIBER_END`: the end-of-run checks, published as step `last + 1`).
 */
export const BEAT_FIBER = 2;
/** `BEAT_FIBER` while the end-of-run checks run, after the last step. */
export const BEAT_FIBER_END: number = -2;
/** Slot of `Heartbeat.beat`: the decisions the run made before the step. */
export const BEAT_DECISIONS = 3;
/** Set by the supervisor: the next step throws `RunStopped` instead of running. */
export const BEAT_STOP = 4;
/** Int32 slots `Heartbeat.beat` needs. */
export const BEAT_SLOTS = 5;

/** Options for spawning a fiber. */
export interface SpawnOptions {
  /** The fiber's name, for reports. */
  readonly name: string;
  /** The core to run on; by default cores are handed out round-robin. */
  readonly core?: number;
  /**
   * A daemon (a collector loop, a poller) does not keep the run alive: the
   * run ends when every non-daemon fiber is done.
   */
  readonly daemon?: boolean;
  /**
   * @internal A store buffer's drain fiber: drawn on its core's lane, but it
   * does not occupy the core, so it may step while the core's fiber runs.
   */
  readonly detached?: boolean;
}

/** The cells a `Kernel.atomic` step reads and writes. */
export interface AtomicFootprint {
  /** The cells the step reads (`peek`). */
  readonly reads?: readonly Cell<unknown>[];
  /** The cells the step writes (`poke`); a written cell may be read too. */
  readonly writes?: readonly Cell<unknown>[];
}

/** When an invariant is checked. */
export type InvariantWhen = "step" | "end";

/**
 * An invariant: returns true (or nothing) when it holds, false or a message
 * when it does not.
 */
export type InvariantFn = () => boolean | string | void;

/** Sees every step, for event logs, reports and determinism checks. */
export interface StepObserver {
  /** Called after `fiber` performed `op` as step number `kernel.step`. */
  onStep(fiber: Fiber, op: Op, kernel: Kernel): void;
}

interface Invariant {
  name: string;
  fn: InvariantFn;
}

const NO_CORE = -1;
/** Cached plain operations per object (see `plainOp`). */
const OP_SLOTS = 4;
const FIBERS_MAX_DEFAULT = FIBERS_MAX;

/**
 * The simulation kernel and the world a scenario builds in it. One kernel is
 * reused across the runs of a sweep: `reset` clears it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { RandomStrategy } from "./random.ts";
 * const k = new Kernel();
 * k.reset({ cores: 2, stepsMax: 100 }, new RandomStrategy(), 1);
 * const c = k.cell("c", 0);
 * for (const name of ["a", "b"]) {
 *   k.spawn(name, function* () {
 *     yield* c.write((yield* c.read()) + 1);
 *   });
 * }
 * const outcome = k.execute();
 * assertEquals(outcome.verdict, "pass");
 * ```
 */
export class Kernel {
  /** The fiber whose step is executing, or null between steps. */
  current: Fiber | null = null;
  /** The fiber that took the last step (for preemption counting), or null. */
  lastFiber: Fiber | null = null;
  /** Steps taken so far in this run. */
  step = 0;
  /** Global virtual time, in ticks. */
  now = 0;

  #strategy: Strategy | null = null;
  #seed = 0;
  #cores = 1;
  #stepsMax = 0;
  #fibersMax = FIBERS_MAX_DEFAULT;
  #nextCore = 0;
  readonly #fibers = new List<Fiber>();
  readonly #live = new List<Fiber>();
  #liveNonDaemon = 0;
  #eligible: Fiber[] = [];
  #coreCurrent = new Int32Array(16).fill(NO_CORE);
  #coreLoad = new Int32Array(16);
  /** One past the highest core a fiber of this run was spawned on: what `reset` clears. */
  #coresTouched = 0;
  #coresShared = false;
  #readyById = new Uint8Array(16);
  readonly #objNames = new List<string>();
  readonly #opCache: Op[] = [];
  readonly #cellOps: CellOps[] = [];
  readonly #cells = new List<Cell<unknown>>();
  readonly #ghosts = new List<Ghost<unknown>>();
  #atomicScope: { objs: number[]; writes: boolean[] } | null = null;
  readonly #stepInvariants = new List<Invariant>();
  readonly #endInvariants = new List<Invariant>();
  #ended: Outcome | null = null;
  // 16 (64 bytes) keeps it on V8's heap; 256 was a separate allocation that
  // made up half of building a kernel, which each exploration does once.
  #decisions: Uint32Array<ArrayBufferLike> = new Uint32Array(16);
  #decisionCount = 0;
  #heartbeat: Heartbeat | null = null;
  #beat: Int32Array | null = null;
  #stopAt = -1;
  #stopAtEnd = false;
  #stopOutcome: StopAt["outcome"] | null = null;
  #strategyObserves = false;
  #strategySpawns = false;
  #pickAlways = false;
  #observer: StepObserver | null = null;
  /** What the step in progress really touched, when less than its pending op (see `narrowStep`). */
  #narrowed: Op | null = null;
  readonly #attached = new Map<object, unknown>();
  readonly #costs = new Map<string, number>();
  #describers: StateSource[] | null = null;
  /** This run's operations offered by `offerGuard`. */
  readonly #guarded: Op[] = [];
  /** Store buffers under a weak memory model; null under `sc`. */
  #memory: WeakMemory | null = null;

  /** Clears the world and starts a new run under `strategy` with `seed`. */
  reset(config: RunConfig, strategy: Strategy, seed: number): void {
    if (!Number.isInteger(config.cores) || config.cores < 0) {
      throw new RangeError(
        `Cannot run on ${config.cores} cores: need a non-negative integer (0: one per fiber)`,
      );
    }
    this.#fibers.clear();
    this.#narrowed = null;
    this.current = null;
    this.lastFiber = null;
    this.step = 0;
    this.now = 0;
    this.#strategy = strategy;
    this.#seed = seed;
    this.#cores = config.cores;
    this.#stepsMax = config.stepsMax;
    this.#fibersMax = config.fibersMax ?? FIBERS_MAX_DEFAULT;
    this.#nextCore = 0;
    this.#live.clear();
    this.#liveNonDaemon = 0;
    this.#growCores(config.cores);
    // Only the cores the last run's fibers used hold anything: `fill` over
    // the whole array is a visible part of a small run.
    const current = this.#coreCurrent;
    const load = this.#coreLoad;
    for (let i = 0; i < this.#coresTouched; i++) {
      current[i] = NO_CORE;
      load[i] = 0;
    }
    this.#coresTouched = 0;
    this.#coresShared = false;
    this.#objNames.clear();
    this.#cells.clear();
    this.#ghosts.clear();
    this.#atomicScope = null;
    this.#stepInvariants.clear();
    this.#endInvariants.clear();
    this.#ended = null;
    this.#decisionCount = 0;
    this.#stopAtEnd = config.stopAt?.atEnd === true;
    this.#stopAt = this.#stopAtEnd ? -1 : config.stopAt?.step ?? -1;
    this.#stopOutcome = config.stopAt?.outcome ?? null;
    const beat = this.#beat;
    if (beat !== null) {
      beat[BEAT_RUN]++;
      beat[BEAT_STEP] = 0;
      beat[BEAT_FIBER] = -1;
      beat[BEAT_DECISIONS] = 0;
      (this.#heartbeat as Heartbeat).seed[0] = seed;
    }
    this.#strategyObserves = strategy.onStep !== undefined;
    this.#strategySpawns = strategy.onSpawn !== undefined;
    this.#pickAlways = strategy.pickAlways === true;
    this.#observer = null;
    if (this.#attached.size !== 0) this.#attached.clear();
    if (this.#costs.size !== 0) this.#costs.clear();
    this.#describers = null;
    if (this.#guarded.length !== 0) this.#guarded.length = 0;
    const memory = config.memory ?? "sc";
    this.#memory = memory === "sc"
      ? null
      : memory === "ra"
      ? new RaMemory(this)
      : new StoreBuffers(this, memory);
    strategy.begin(seed, this);
  }

  /**
   * Changes the run's cores and step limit before any fiber exists: a swarm
   * run draws its configuration first, and the cores and limit follow it.
   */
  reconfigure(cores: number, stepsMax: number): void {
    if (this.#fibers.length !== 0) {
      throw new RangeError("Cannot reconfigure a run once a fiber exists");
    }
    if (!Number.isInteger(cores) || cores < 0) {
      throw new RangeError(
        `Cannot run on ${cores} cores: need a non-negative integer (0: one per fiber)`,
      );
    }
    this.#cores = cores;
    this.#stepsMax = stepsMax;
    this.#growCores(cores);
  }

  /** The seed of the current run. */
  get seed(): number {
    return this.#seed;
  }

  #growCores(n: number): void {
    if (this.#coreCurrent.length >= n) return;
    const size = Math.max(n, this.#coreCurrent.length * 2);
    const current = new Int32Array(size).fill(NO_CORE);
    current.set(this.#coreCurrent);
    const load = new Int32Array(size);
    load.set(this.#coreLoad);
    this.#coreCurrent = current;
    this.#coreLoad = load;
  }

  /** The number of simulated cores; 0 means one per fiber. */
  get cores(): number {
    return this.#cores;
  }

  /** True once two fibers of this run share a core (so they run cooperatively). */
  get coresShared(): boolean {
    return this.#coresShared;
  }

  /** The strategy driving the current run. */
  get strategy(): Strategy {
    if (this.#strategy === null) throw new Error("Kernel.reset must be called before a run");
    return this.#strategy;
  }

  /**
   * Publishes every step of every later run to `heartbeat`, for a
   * supervisor on another thread (null: stop publishing). The decisions are
   * kept in the heartbeat's shared buffer from then on.
   */
  watch(heartbeat: Heartbeat | null): void {
    this.#heartbeat = heartbeat;
    this.#beat = heartbeat?.beat ?? null;
    if (heartbeat === null) {
      this.#decisions = new Uint32Array(256);
      return;
    }
    this.#decisions = new Uint32Array(heartbeat.decisions);
  }

  /**
   * Publishes the decisions made so far to a watching supervisor, as a step
   * does: the decisions a setup stopped at step 0 keeps (a swarm draw).
   */
  publishDecisions(): void {
    if (this.#beat !== null) this.#beat[BEAT_DECISIONS] = this.#decisionCount;
  }

  /**
   * Ends the run before its setup (`RunConfig.stopAt` at step 0). Returns
   * true when it did.
   */
  stopBeforeSetup(): boolean {
    if (this.#stopAt !== 0 || this.#stopOutcome === null) return false;
    this.#end(this.#stopOutcome(0, null));
    return true;
  }

  /** Attaches an observer that sees every step of the current run. */
  observe(observer: StepObserver | null): void {
    this.#observer = observer;
  }

  // ---- the world ---------------------------------------------------------

  /**
   * @internal The step in progress turned out to touch only `op`'s footprint,
   * a part of what its pending operation declared (a signal with no waiter
   * only reads the condition variable). Strategies and observers see `op`
   * for this step, so DPOR can let it commute with more. Sound only when
   * `op`'s accesses are a subset of the pending operation's.
   */
  narrowStep(op: Op): void {
    this.#narrowed = op;
  }

  /**
   * Offers a guarded operation whose guard reads only its footprint and is
   * the same for every fiber (taking a lock): a strategy may watch when it
   * is ready from now on, before any fiber waits on it. DPOR tells by this
   * an unlock that let a later lock go on from one that lock could have
   * gone before.
   */
  offerGuard(op: Op): void {
    this.#guarded.push(op);
  }

  /** The operations offered by `offerGuard` in this run, in order. */
  get guardedOps(): readonly Op[] {
    return this.#guarded;
  }

  /** Registers a shared object and returns its id (its footprint). */
  newObject(name: string): number {
    return this.#objNames.push(name);
  }

  /**
   * @internal A footprint-only operation (no guard) for slot `slot`
   * of object `obj`, kept across runs. Object ids restart at 0 each run, so
   * a scenario that builds the same objects gets the same descriptors back
   * instead of allocating them again: a whole small run is about half a
   * microsecond, and three descriptors per cell are a visible part of it.
   */
  plainOp(obj: number, slot: number, kind: string, write: boolean, cost = 1): Op {
    const cache = this.#opCache;
    const at = obj * OP_SLOTS + slot;
    const op = cache[at];
    if (op !== undefined && op.kind === kind && op.write === write && op.cost === cost) return op;
    return (cache[at] = new Op(kind, obj, write, null, cost));
  }

  /**
   * @internal The read, write and read-modify-write operations of cell `obj`,
   * kept across runs as `plainOp`'s are: with the default costs a cell gets
   * its three descriptors with one lookup.
   */
  cellOps(obj: number): CellOps {
    const cache = this.#cellOps;
    const old = cache[obj];
    if (this.#costs.size === 0) {
      if (old !== undefined && old.unit) return old;
      return (cache[obj] = new CellOps(obj, 1, 1, 1));
    }
    const read = this.costOf("read"), write = this.costOf("write"), rmw = this.costOf("rmw");
    if (
      old !== undefined && old.read.cost === read && old.write.cost === write &&
      old.rmw.cost === rmw
    ) {
      return old;
    }
    return (cache[obj] = new CellOps(obj, read, write, rmw));
  }

  /** The name an object was registered with. */
  objectName(id: number): string {
    return id >= 0 && id < this.#objNames.length ? this.#objNames.items[id] : `#${id}`;
  }

  /** A shared cell holding `init`: read, write, compare-and-swap, fetch-and-add. */
  cell<T>(name: string, init: T): Cell<T> {
    const c = this.#memory === null ? new Cell<T>(this, name, init) : this.#memory.cell(name, init);
    this.#cells.push(c as Cell<unknown>);
    return c;
  }

  /** A mutex: `yield* m.lock()`, `yield* m.unlock()`. */
  mutex(name: string): Mutex {
    return new Mutex(this, name);
  }

  /** A reader-writer lock: many readers or one writer. */
  rwlock(name: string): RwLock {
    return new RwLock(this, name);
  }

  /** A condition variable, used with a mutex. */
  condvar(name: string): CondVar {
    return new CondVar(this, name);
  }

  /** A counting semaphore starting at `permits`. */
  semaphore(name: string, permits: number): Semaphore {
    return new Semaphore(this, name, permits);
  }

  /**
   * Sets the virtual time, in ticks, that every operation of `kind` ("read",
   * "write", "rmw", "lock", "send"...) takes in this run. Call it in setup,
   * before making the primitives it applies to: a primitive fixes its costs
   * when it is made, so the step loop pays nothing for them.
   *
   * @example
   * ```ts
   * import { assertEquals } from "../deps.ts";
   * import { RandomStrategy } from "./random.ts";
   * const k = new Kernel();
   * k.reset({ cores: 0, stepsMax: 10 }, new RandomStrategy(), 1);
   * k.setCost("write", 50);
   * const c = k.cell("c", 0);
   * k.spawn("w", function* () {
   *   yield* c.write(1);
   *   yield* c.read();
   * });
   * k.execute();
   * assertEquals(k.now, 51);
   * ```
   */
  setCost(kind: string, ticks: number): void {
    if (this.step !== 0) {
      throw new Error(`Cannot set the cost of ${kind} during a run: set it in setup`);
    }
    if (!Number.isInteger(ticks) || ticks < 0) {
      throw new RangeError(`Cannot make ${kind} cost ${ticks} ticks: need an integer >= 0`);
    }
    this.#costs.set(kind, ticks);
  }

  /** The ticks an operation of `kind` takes in this run: 1 unless `setCost` said otherwise. */
  costOf(kind: string): number {
    // Primitives are made in every run's setup: skip the lookup when no cost was set.
    return this.#costs.size === 0 ? 1 : this.#costs.get(kind) ?? 1;
  }

  /**
   * Per-run state of a runtime module (a clock's timer queue, a region tree),
   * kept beside the world: `create` makes it on first use in a run, `reset`
   * drops it. `key` names the module; pass its class or another constant.
   *
   * @example
   * ```ts
   * import { assertEquals } from "../deps.ts";
   * import { RandomStrategy } from "./random.ts";
   * const k = new Kernel();
   * k.reset({ cores: 0, stepsMax: 10 }, new RandomStrategy(), 1);
   * const KEY = {};
   * const a = k.attached(KEY, () => ({ timers: 0 }));
   * assertEquals(k.attached(KEY, () => ({ timers: 1 })), a);
   * ```
   */
  attached<T>(key: object, create: (kernel: Kernel) => T): T {
    let v = this.#attached.get(key);
    if (v === undefined) {
      v = create(this);
      this.#attached.set(key, v);
    }
    return v as T;
  }

  /** The values of every cell, by name: the observable final state of a run. */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const cells = this.#cells;
    for (let i = 0; i < cells.length; i++) out[cells.items[i].name] = cells.items[i].peek();
    const ghosts = this.#ghosts;
    for (let i = 0; i < ghosts.length; i++) out[ghosts.items[i].name] = ghosts.items[i].value;
    return out;
  }

  /**
   * Spawns a fiber running `body(...args)`. Callable during setup and from
   * fiber code (spawning is a local action of the parent's step). The body
   * runs at once up to its first operation.
   *
   * Pass a generator function declared once (at top level or as a method)
   * and give it its data through `args`: V8 takes about 1.7 µs to start a
   * generator closure created afresh, against about 12 ns for a declared one,
   * and a small run is only a few microseconds.
   */
  spawn<A extends unknown[]>(
    nameOrOptions: string | SpawnOptions,
    body: FiberBody<A>,
    ...args: A
  ): Fiber {
    // No options object for the common string form: spawn runs every run.
    const byName = typeof nameOrOptions === "string";
    const name = byName ? nameOrOptions : nameOrOptions.name;
    if (this.#live.length >= this.#fibersMax) {
      throw new RangeError(
        `Cannot spawn ${name}: ${this.#fibersMax} live fibers is the limit (runaway spawning?)`,
      );
    }
    const cores = this.#cores;
    const asked = byName ? undefined : nameOrOptions.core;
    let core: number;
    if (asked === undefined) {
      core = cores === 0 ? this.#nextCore++ : this.#nextCore++ % cores;
    } else if (!Number.isInteger(asked) || asked < 0 || (cores > 0 && asked >= cores)) {
      throw new RangeError(`Cannot spawn ${name} on core ${asked}: cores are 0..${cores - 1}`);
    } else {
      core = asked;
    }
    if (core >= this.#coresTouched) {
      this.#growCores(core + 1);
      this.#coresTouched = core + 1;
    }
    const parent = this.current;
    const id = this.#fibers.length;
    const daemon = !byName && nameOrOptions.daemon === true;
    const obj = this.newObject(name);
    // Fiber objects of earlier runs sit past the list's length: reuse them.
    const old = this.#fibers.items[id];
    const f = old === undefined
      ? new Fiber({ id, name, core, obj, parent, daemon }, this.step)
      : old.reuse(id, name, core, obj, parent, daemon, this.step);
    const detached = !byName && nameOrOptions.detached === true;
    if (f.detached !== detached) f.detached = detached;
    this.#fibers.push(f);
    if (!detached && ++this.#coreLoad[core] > 1) this.#coresShared = true;
    if (id >= this.#readyById.length) this.#readyById = new Uint8Array(id * 2);
    if (this.#strategySpawns) (this.#strategy as Strategy).onSpawn!(f, this);
    this.#live.push(f);
    if (!daemon) this.#liveNonDaemon++;
    this.current = f;
    try {
      const gen = body.apply(this, args);
      // Under a weak model a child on another core first waits for the
      // stores its parent buffered before the spawn (see `sim/memory.ts`).
      f.gen = this.#memory === null || parent === null || detached
        ? gen
        : this.#memory.spawned(parent, f, gen);
      this.#advance(f, f.gen.next());
    } catch (e) {
      this.#fail(e, f);
    } finally {
      this.current = parent;
    }
    return f;
  }

  /**
   * Spawns a fiber at a scheduling point of its own, as `pthread_create` is:
   * `const t = yield* k.start("w", worker, c)`. Another fiber may step between
   * the parent's previous action and the spawn. `spawn` instead runs inside
   * the parent's current step.
   */
  *start<A extends unknown[]>(
    nameOrOptions: string | SpawnOptions,
    body: FiberBody<A>,
    ...args: A
  ): Generator<Op, Fiber, void> {
    yield SPAWN;
    return this.spawn(nameOrOptions, body, ...args);
  }

  /**
   * Data a fiber keeps under a lock (or otherwise owns): read and written
   * through `g.value` with no scheduling point, and shown with the cells in
   * the run's final state and reports. Name it so a reader of the trace
   * knows which lock guards it.
   */
  ghost<T>(name: string, init: T): Ghost<T> {
    const g = new Ghost(name, init);
    this.#ghosts.push(g as Ghost<unknown>);
    return g;
  }

  /**
   * One step that reads and writes several cells at once: a multi-word CAS,
   * an "append if unreachable", a collector's atomic root snapshot. The
   * footprint names every cell the step reads and every cell it writes, so
   * DPOR orders it against exactly the steps that touch those cells. Inside
   * `fn`, read cells with `peek()` and write them with `poke()`; touching a
   * cell the footprint does not name (or writing one named only as read)
   * fails the run as a crash, so the footprint can be trusted.
   *
   * @example
   * ```ts
   * import { assertEquals } from "../deps.ts";
   * import { RandomStrategy } from "./random.ts";
   * const k = new Kernel();
   * k.reset({ cores: 0, stepsMax: 10 }, new RandomStrategy(), 1);
   * const a = k.cell("a", 1), b = k.cell("b", 2);
   * k.spawn("swap", function* (this: Kernel) {
   *   yield* this.atomic({ writes: [a, b] }, () => {
   *     const t = a.peek();
   *     a.poke(b.peek());
   *     b.poke(t);
   *   });
   * });
   * k.execute();
   * assertEquals([a.peek(), b.peek(), k.step], [2, 1, 1]);
   * ```
   */
  *atomic<T>(footprint: AtomicFootprint, fn: () => T): Generator<Op, T, void> {
    const reads = footprint.reads ?? [];
    const writes = footprint.writes ?? [];
    const objs: number[] = [];
    const writeFlags: boolean[] = [];
    for (const c of writes) objs.push(c.id), writeFlags.push(true);
    for (const c of reads) {
      if (!objs.includes(c.id)) objs.push(c.id), writeFlags.push(false);
    }
    if (objs.length === 0) throw new RangeError("Cannot run k.atomic with an empty footprint");
    const write = writeFlags[0];
    const rest = objs.length > 1 ? { objs: objs.slice(1), writes: writeFlags.slice(1) } : null;
    yield new Op("atomic", objs[0], write, null, this.costOf("rmw"), -1, -1, rest);
    const outer = this.#atomicScope;
    this.#atomicScope = { objs, writes: writeFlags };
    try {
      return fn();
    } finally {
      this.#atomicScope = outer;
    }
  }

  /**
   * @internal Called by `Cell.peek` and `Cell.poke` inside `k.atomic`: throws
   * when the cell is outside the declared footprint.
   */
  checkAtomicAccess(cell: { readonly id: number; readonly name: string }, write: boolean): void {
    const scope = this.#atomicScope;
    if (scope === null || this.current === null) return;
    const i = scope.objs.indexOf(cell.id);
    if (i < 0 || (write && !scope.writes[i])) {
      throw new RangeError(
        `k.atomic ${write ? "wrote" : "read"} ${cell.name}, which its footprint does not name` +
          (i >= 0 ? " as written" : ""),
      );
    }
  }

  /** @internal True inside the function of a `k.atomic` step. */
  get inAtomic(): boolean {
    return this.#atomicScope !== null;
  }

  /** Waits until `fiber` is done and returns what its body returned. */
  *join(fiber: Fiber): Generator<Op, unknown, void> {
    yield fiber.joinOp;
    // Under a weak model the joiner sees what the fiber stored once it has drained.
    if (this.#memory !== null) yield* this.#memory.joined(fiber);
    return fiber.result;
  }

  /** A scheduling point that does nothing and lets others on this core run. */
  *pause(): Generator<Op, void, void> {
    yield PAUSE;
  }

  /**
   * A memory fence of the current fiber. Under `sc` it is no step at all;
   * under `tso` a `seq_cst` fence (x86's mfence), and under `pso` any but an
   * `acquire` fence, waits until the core's store buffer has drained.
   *
   * @example
   * ```ts
   * import { assertEquals } from "../deps.ts";
   * import { RandomStrategy } from "./random.ts";
   * const k = new Kernel();
   * k.reset({ cores: 0, stepsMax: 100, memory: "tso" }, new RandomStrategy(), 1);
   * const x = k.cell("x", 0);
   * const seen: number[] = [];
   * k.spawn("t", function* () {
   *   yield* x.write(1);
   *   yield* k.fence();
   *   seen.push(k.step);
   * });
   * assertEquals(k.execute().verdict, "pass");
   * // Step 1 buffered the store, step 2 drained it, and only then could the fence (3) go.
   * assertEquals(seen, [3]);
   * ```
   */
  *fence(order: Ordering = "seq_cst"): Generator<Op, void, void> {
    checkOrdering("fence", order);
    if (this.#memory !== null) yield* this.#memory.fence(order);
  }

  /**
   * @internal A synchronisation primitive keyed by `key` is about to release
   * (an unlock, a semaphore post): under tso and pso the core's buffers
   * drain first. Call it only when `weak`, and `released` within the step.
   */
  releasing(key: object): Generator<Op, void, void> {
    return (this.#memory as WeakMemory).releasing(key);
  }

  /**
   * @internal Within a primitive's releasing step keyed by `key`: under ra
   * the fiber publishes its view there. Call it only when `weak`.
   */
  released(key: object): void {
    (this.#memory as WeakMemory).released(key);
  }

  /**
   * @internal Within the step in which a primitive keyed by `key` was
   * acquired (a lock, a semaphore wait): under ra the fiber joins the view
   * published there. Call it only when `weak`.
   */
  acquired(key: object): void {
    (this.#memory as WeakMemory).acquired(key);
  }

  /**
   * Under a weak model, starts logging for every load the step of the store
   * it read and the value (see `ReadsFromLog`); null under `sc`, where a load
   * reads the last store before it. Call it after `reset`, before `execute`.
   */
  logReadsFrom(): ReadsFromLog | null {
    return this.#memory?.logReadsFrom() ?? null;
  }

  /** The memory model of the current run. */
  get memory(): MemoryModel {
    return this.#memory?.model ?? "sc";
  }

  /**
   * True under a weak memory model. A synchronisation primitive then fences
   * before it releases (an unlock, a semaphore post), so stores made before
   * it are in memory once another fiber can acquire.
   */
  get weak(): boolean {
    return this.#memory !== null;
  }

  /**
   * A recorded choice of an integer in [0, n): the strategy decides, the
   * trace remembers, a replay gives the same value.
   */
  choose(n: number, stream = "value"): number {
    if (!Number.isInteger(n) || n < 1 || n > CHOOSE_MAX) {
      throw new RangeError(`Cannot choose among ${n} values: need an integer in 1..2^32`);
    }
    if (n === 1) return 0;
    this.#roomForValue();
    const v = this.strategy.pickValue(n, stream, this);
    this.#record(v);
    return v;
  }

  /** A recorded coin that comes up true with probability `p` (a fault that may fire). */
  chance(p: number, stream = "fault"): boolean {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Cannot flip a coin with probability ${p}`);
    if (p === 0) return false;
    if (p === 1) return true;
    this.#roomForValue();
    const v = this.strategy.pickValue(2, stream, this, p);
    this.#record(v);
    return v === 1;
  }

  /** Fails the run with a `bug` outcome unless `cond` holds. */
  assert(cond: unknown, message: string, check = "assert"): asserts cond {
    if (!cond) throw new Violation(check, message);
  }

  /** Adds an invariant, checked after every step ("step") or when the run ends ("end"). */
  invariant(name: string, fn: InvariantFn, when: InvariantWhen = "end"): void {
    const list = when === "step" ? this.#stepInvariants : this.#endInvariants;
    // Records of earlier runs sit past the list's length: reuse them.
    const old = list.items[list.length];
    if (old === undefined) list.push({ name, fn });
    else {
      old.name = name;
      old.fn = fn;
      list.length++;
    }
  }

  /** The fiber with id `id` (ids are dense, in spawn order). */
  fiber(id: number): Fiber | undefined {
    return id >= 0 && id < this.#fibers.length ? this.#fibers.items[id] : undefined;
  }

  /** How many fibers this run has spawned. */
  get fiberCount(): number {
    return this.#fibers.length;
  }

  /** Every fiber spawned in this run, in id order (a fresh array). */
  get fibers(): Fiber[] {
    return this.#fibers.toArray();
  }

  /** The fibers not yet done, in id order (a fresh array). */
  get live(): Fiber[] {
    return this.#live.toArray();
  }

  /** How many fibers are not yet done. */
  get liveCount(): number {
    return this.#live.length;
  }

  /** The i-th live fiber in id order, without allocating. */
  liveAt(i: number): Fiber {
    return this.#live.items[i];
  }

  /** True when `fiber`'s pending operation may run now (ignoring core occupancy). */
  isReady(fiber: Fiber): boolean {
    const op = fiber.pending;
    return op !== null && (op.guard === null || op.guard.ready(fiber));
  }

  // ---- decisions ---------------------------------------------------------

  /** How many decisions this run has made so far. */
  get decisionCount(): number {
    return this.#decisionCount;
  }

  /** A copy of the decisions of this run: fiber ids and chosen values, in order. */
  decisions(): number[] {
    return Array.from(this.#decisions.subarray(0, this.#decisionCount));
  }

  // Values may not crowd out the scheduling decisions the run's remaining
  // steps need: together they stay within what a trace may hold.
  #roomForValue(): void {
    if (this.#decisionCount + Math.min(this.#stepsMax, STEPS_MAX) - this.step >= DECISIONS_MAX) {
      throw new RangeError(
        `Cannot record another value: a run records at most ${DECISIONS_MAX} decisions ` +
          "(a k.choose in a loop that never ends?)",
      );
    }
  }

  #record(v: number): void {
    if (this.#decisionCount === this.#decisions.length) {
      const hb = this.#heartbeat;
      const size = this.#decisions.length * 2;
      const bigger = hb === null
        ? new Uint32Array(size)
        : new Uint32Array(new SharedArrayBuffer(4 * size));
      bigger.set(this.#decisions);
      this.#decisions = bigger;
      hb?.onGrow?.(bigger.buffer as SharedArrayBuffer);
    }
    this.#decisions[this.#decisionCount++] = v;
  }

  // ---- state for reports ------------------------------------------------

  /**
   * Starts collecting state describers for this run: call it after `reset`
   * and before setup, in a report's replay. Ordinary runs never call it, so
   * `describe` stays a null check.
   */
  startDescribing(): void {
    this.#describers = [];
  }

  /** True when this run collects state describers (a report's replay). */
  get describing(): boolean {
    return this.#describers !== null;
  }

  /**
   * Registers `source` to describe its state at every step of a report's
   * replay (a heap's objects, a lock's holder). Does nothing otherwise.
   */
  describe(source: StateSource): void {
    if (this.#describers !== null) this.#describers.push(source);
  }

  /** The describers registered in this run, in registration order. */
  get describers(): readonly StateSource[] {
    return this.#describers ?? [];
  }

  // ---- running -----------------------------------------------------------

  /** Runs until every non-daemon fiber is done or something fails. */
  execute(): Outcome {
    const outcome = this.#loop();
    this.#strategy?.end?.(outcome, this);
    return outcome;
  }

  #loop(): Outcome {
    if (this.#ended !== null) return this.#ended;
    const eligible = this.#eligible;
    const strategy = this.strategy;
    const stepInvariants = this.#stepInvariants;
    for (;;) {
      // Under a weak model the run ends once the store buffers are drained too.
      if (
        this.#liveNonDaemon === 0 && (this.#memory === null || this.#memory.buffered === 0)
      ) {
        return this.#finish();
      }
      const n = this.#coresShared ? this.#collectShared() : this.#collect();
      if (n === 0) {
        const end = this.#idle();
        if (end !== null) return end;
        continue;
      }
      if (this.step >= this.#stepsMax) return this.#stepLimit();
      let f: Fiber;
      if (n === 1) {
        f = this.#pickAlways ? eligible[strategy.pickFiber(eligible, 1, this)] : eligible[0];
      } else {
        f = eligible[strategy.pickFiber(eligible, n, this)];
        this.#record(f.id);
      }
      if (this.step + 1 === this.#stopAt) {
        return this.#end((this.#stopOutcome as StopAt["outcome"])(this.#stopAt, f.name));
      }
      this.#runStep(f);
      if (this.#ended !== null) return this.#ended;
      if (stepInvariants.length !== 0) {
        const broken = this.#check(stepInvariants);
        if (broken !== null) return broken;
      }
    }
  }

  #collect(): number {
    const live = this.#live.items;
    const count = this.#live.length;
    const eligible = this.#eligible;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const f = live[i];
      const g = (f.pending as Op).guard;
      if (g === null || g.ready(f)) eligible[n++] = f;
    }
    return n;
  }

  // With more fibers than cores, a core keeps running its current fiber while
  // that fiber can go on; only when it blocks, pauses or ends may another
  // fiber of the same core be picked.
  #collectShared(): number {
    const live = this.#live.items;
    const count = this.#live.length;
    const eligible = this.#eligible;
    const ready = this.#readyById;
    const coreCurrent = this.#coreCurrent;
    for (let i = 0; i < count; i++) {
      const f = live[i];
      const op = f.pending as Op;
      ready[f.id] = op.guard === null || op.guard.ready(f) ? 1 : 0;
    }
    let n = 0;
    for (let i = 0; i < count; i++) {
      const f = live[i];
      if (ready[f.id] === 0) continue;
      const holder = coreCurrent[f.core];
      if (
        f.detached || holder === NO_CORE || holder === f.id || ready[holder] === 0 ||
        this.#fibers.items[holder].pending === PAUSE
      ) {
        eligible[n++] = f;
      }
    }
    return n;
  }

  #runStep(f: Fiber): void {
    let op = f.pending as Op;
    this.current = f;
    this.step++;
    this.now += op.cost;
    const beat = this.#beat;
    if (beat !== null) {
      beat[BEAT_STEP] = this.step;
      beat[BEAT_FIBER] = f.id;
      beat[BEAT_DECISIONS] = this.#decisionCount;
      // A run the supervisor gave up on stops here if its step ever returns.
      if (beat[BEAT_STOP] !== 0) throw new RunStopped();
    }
    if (!f.detached) this.#coreCurrent[f.core] = f.id;
    try {
      this.#advance(f, (f.gen as Generator<Op, unknown, void>).next());
    } catch (e) {
      this.#fail(e, f);
    }
    this.current = null;
    this.lastFiber = f;
    if (this.#narrowed !== null) {
      op = this.#narrowed;
      this.#narrowed = null;
    }
    if (this.#strategyObserves) (this.#strategy as Strategy).onStep!(f, op, this);
    if (this.#observer !== null) this.#observer.onStep(f, op, this);
  }

  #advance(f: Fiber, r: IteratorResult<Op, unknown>): void {
    if (r.done) {
      this.#complete(f, r.value);
    } else if (r.value instanceof Op || isOp(r.value)) {
      f.pending = r.value;
    } else {
      throw new TypeError(
        `fiber ${f.name} yielded ${String(r.value)}, which is not an operation ` +
          "(write `yield* cell.read()`, not `yield cell.read()`)",
      );
    }
  }

  #complete(f: Fiber, result: unknown): void {
    f.done = true;
    f.result = result;
    f.pending = null;
    f.gen = null;
    const live = this.#live;
    let i = 0;
    while (live.items[i] !== f) i++;
    live.removeAt(i);
    if (!f.daemon) this.#liveNonDaemon--;
    if (this.#coreCurrent[f.core] === f.id) this.#coreCurrent[f.core] = NO_CORE;
  }

  // Nothing can step: the run is over, time jumps to the next deadline, or
  // the run is deadlocked.
  #idle(): Outcome | null {
    let next = Infinity;
    for (let i = 0; i < this.#live.length; i++) {
      const d = (this.#live.items[i].pending as Op).deadline;
      if (d > this.now && d < next) next = d;
    }
    if (next !== Infinity) {
      this.now = next;
      return null;
    }
    const waits = this.live
      .filter((f) => !f.daemon)
      .map((f) => `${f.name} waits for ${(f.pending as Op).guard?.waitReason(f) ?? "its core"}`);
    return this.#end({
      verdict: "deadlock",
      check: "deadlock",
      message: `every live fiber is blocked: ${waits.join("; ")}`,
      step: this.step,
      fiber: null,
    });
  }

  #finish(): Outcome {
    if (this.#stopAtEnd) {
      return this.#end((this.#stopOutcome as StopAt["outcome"])(this.step, null));
    }
    const beat = this.#beat;
    if (beat !== null) {
      // A new "step" for the supervisor's clock, so the checks are timed on
      // their own and a hang in them is not blamed on the last step.
      beat[BEAT_STEP] = this.step + 1;
      beat[BEAT_FIBER] = BEAT_FIBER_END;
      beat[BEAT_DECISIONS] = this.#decisionCount;
    }
    const broken = this.#check(this.#endInvariants) ?? this.#check(this.#stepInvariants);
    if (broken !== null) return broken;
    return this.#end(passAt(this.step));
  }

  #stepLimit(): Outcome {
    return this.#end({
      verdict: "step-limit",
      check: "step-limit",
      message:
        `${this.#stepsMax} steps taken and still running: a spin loop or an unfair schedule?`,
      step: this.step,
      fiber: null,
    });
  }

  #check(list: List<Invariant>): Outcome | null {
    for (let i = 0; i < list.length; i++) {
      const inv = list.items[i];
      let r: boolean | string | void;
      try {
        r = inv.fn();
      } catch (e) {
        if (isToolSignal(e)) throw e;
        if (isViolation(e)) return this.#end(this.#bug(e, null));
        return this.#end(crash(e, this.step, null, `invariant ${inv.name} threw`));
      }
      if (r === false || typeof r === "string") {
        return this.#end({
          verdict: "bug",
          check: inv.name,
          message: typeof r === "string" ? r : `invariant ${inv.name} does not hold`,
          step: this.step,
          fiber: null,
        });
      }
    }
    return null;
  }

  #fail(e: unknown, f: Fiber): void {
    if (isToolSignal(e)) throw e;
    if (this.#ended !== null) return;
    this.#ended = isViolation(e) ? this.#bug(e, f) : crash(e, this.step, f, "");
  }

  #bug(e: Violation, f: Fiber | null): Outcome {
    return {
      verdict: e.verdict,
      check: e.check,
      message: e.message,
      step: this.step,
      fiber: f?.name ?? null,
    };
  }

  #end(o: Outcome): Outcome {
    this.#ended ??= o;
    return o;
  }

  /**
   * Records a failure raised outside any fiber (in scenario setup). The run
   * then ends with it at once.
   */
  failSetup(e: unknown): Outcome {
    if (isToolSignal(e)) throw e;
    const o = isViolation(e) ? this.#bug(e, null) : crash(e, 0, null, "setup threw");
    this.#ended ??= o;
    return this.#ended;
  }
}

function crash(e: unknown, step: number, f: Fiber | null, context: string): Outcome {
  const err = e instanceof Error ? e : new Error(String(e));
  const where = context === "" ? "" : `${context}: `;
  return {
    verdict: "crash",
    check: err.name,
    message: `${where}${err.message}`,
    step,
    fiber: f?.name ?? null,
  };
}

// Pass outcomes of short runs, made once: outcomes are never changed, and
// allocating one is a visible part of a sub-microsecond run.
const PASSES: Outcome[] = [];
const PASSES_MAX = 1024;

function passAt(step: number): Outcome {
  if (step >= PASSES_MAX) return { verdict: "pass", check: "", message: "", step, fiber: null };
  return PASSES[step] ??= Object.freeze({
    verdict: "pass",
    check: "",
    message: "",
    step,
    fiber: null,
  });
}

/** The pause operation: no footprint, and it lets other fibers of the core run. */
const PAUSE = new Op("pause", -1, false);
const SPAWN = new Op("spawn", -1, false);

/** @internal A cell's three operation descriptors (see `Kernel.cellOps`). */
export class CellOps {
  /** The read. */
  readonly read: Op;
  /** The write. */
  readonly write: Op;
  /** Compare-and-swap, swap and fetch-and-add. */
  readonly rmw: Op;
  /** True when every cost is 1, the default. */
  readonly unit: boolean;

  /** Makes the descriptors of cell `obj` with these costs. */
  constructor(obj: number, read: number, write: number, rmw: number) {
    this.read = new Op("read", obj, false, null, read);
    this.write = new Op("write", obj, true, null, write);
    this.rmw = new Op("rmw", obj, true, null, rmw);
    this.unit = read === 1 && write === 1 && rmw === 1;
  }
}

/**
 * Data outside the shared-memory model: read and written with no scheduling
 * point (`g.value`), listed in the final state. See `Kernel.ghost`.
 */
export class Ghost<T> {
  /** The name shown in the final state. */
  readonly name: string;
  /** The data: read and written freely, with no scheduling point. */
  value: T;

  /** Makes a ghost; use `k.ghost(name, init)`, which lists it in the final state. */
  constructor(name: string, init: T) {
    this.name = name;
    this.value = init;
  }
}

export { Cell } from "./cell.ts";
export { CondVar, Mutex, RwLock, Semaphore } from "./sync.ts";
