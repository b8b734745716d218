/**
 * Weak memory: store buffers on simulated cores (x86-TSO and SPARC PSO).
 *
 * Under `sc` none of this exists: the kernel makes plain cells and a fence is
 * no step at all. Under `tso` and `pso` the kernel makes `WeakCell`s, whose
 * stores enter a FIFO store buffer of the storing fiber's core. Each FIFO
 * has a drain fiber (a daemon that occupies no core) whose one kind of step
 * moves the oldest store to memory: so when stores drain is an ordinary
 * scheduling choice, recorded in traces and explored by every strategy.
 *
 * Footprints, so that DPOR's dependence is sound:
 *
 * - a buffered store of cell x on core c writes `x@sb<c>` (c's buffered copy
 *   of x) and `sb<c>` (c's buffers as a whole);
 * - a load of x on core c reads x and `x@sb<c>`;
 * - a drain of x from core c writes x and `sb<c>`;
 * - a fence, a read-modify-write and a seq_cst store wait until c's buffers
 *   are empty: their guards read `sb<c>`, which only stores and drains write.
 *
 * @module
 */
import { Cell } from "./cell.ts";
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import { type Guard, Op } from "./op.ts";
import { checkOrdering, type MemoryModel, type Ordering } from "./ordering.ts";

/** A weak model this module implements. */
export type BufferedModel = "tso" | "pso";

/**
 * What the kernel asks of a weak memory model (`StoreBuffers` here, `RaMemory`
 * in `sim/ra.ts`). Under `sc` there is none and the kernel pays nothing.
 */
export interface WeakMemory {
  /** The model: `tso`, `pso` or `ra`. */
  readonly model: Exclude<MemoryModel, "sc">;
  /** Stores not yet in memory: the run may end only once this is 0. */
  readonly buffered: number;
  /** Makes a cell under the model (`k.cell` calls it). */
  cell<T>(name: string, init: T): Cell<T>;
  /** The current fiber's fence. */
  fence(order: Ordering): Generator<Op, void, void>;
  /** After a join's step: the joiner sees what the joined fiber stored. */
  joined(fiber: Fiber): Generator<Op, void, void>;
  /** The body `child` runs, spawned by `parent` during its step. */
  spawned(
    parent: Fiber,
    child: Fiber,
    body: Generator<Op, unknown, void>,
  ): Generator<Op, unknown, void>;
  /** Before a primitive's releasing step (an unlock) keyed by `key`. */
  releasing(key: object): Generator<Op, void, void>;
  /** Within a primitive's releasing step keyed by `key`. */
  released(key: object): void;
  /** Within a primitive's acquiring step (a lock) keyed by `key`. */
  acquired(key: object): void;
  /**
   * From now on, log for every load (and read-modify-write) the step of the
   * store it read and the value: what a report draws as reads-from arrows.
   */
  logReadsFrom(): ReadsFromLog;
}

/** Per loading step: the step of the store it read (0: the initial value) and the value. */
export type ReadsFromLog = Map<number, readonly [number, unknown]>;

interface Entry {
  readonly view: View;
  readonly value: unknown;
  /** The store's place in its core's program order (see `CoreBuffers.stored`). */
  readonly seq: number;
  /** The step that issued the store (for reads-from). */
  readonly step: number;
}

/** Never ready: a drain fiber's operation while its FIFO is empty. */
const NOTHING_BUFFERED: Guard = {
  footprintOnly: true,
  ready: () => false,
  waitReason: () => "a store to drain",
};

/** The drain fiber's pending operation while its FIFO is empty: no footprint. */
const IDLE = new Op("idle", -1, false, NOTHING_BUFFERED);

/** One FIFO of buffered stores and the fiber that drains it. */
class Fifo {
  readonly #entries: Entry[] = [];
  #head = 0;
  drainer: Fiber | null = null;

  get empty(): boolean {
    return this.#head === this.#entries.length;
  }

  push(entry: Entry): void {
    const wasEmpty = this.empty;
    this.#entries.push(entry);
    // The drainer was waiting on IDLE; from now on its next step is this
    // drain, with this drain's footprint.
    if (wasEmpty) (this.drainer as Fiber).pending = entry.view.drainOp;
  }

  /** The program-order number of the oldest buffered store; Infinity when empty. */
  headSeq(): number {
    return this.empty ? Infinity : this.#entries[this.#head].seq;
  }

  /** The operation of the drainer's next step. */
  next(): Op {
    return this.empty ? IDLE : this.#entries[this.#head].view.drainOp;
  }

  /** Moves the oldest store to memory. */
  drainHead(): void {
    const e = this.#entries[this.#head++];
    if (this.empty) {
      this.#entries.length = 0;
      this.#head = 0;
    }
    e.view.drained(e.value, e.step);
  }
}

function* drainLoop(fifo: Fifo): Generator<Op, void, void> {
  for (;;) {
    yield fifo.next();
    fifo.drainHead();
  }
}

/** One simulated core's store buffers. */
class CoreBuffers implements Guard {
  readonly core: number;
  /** Footprint object: the core's buffers as a whole. */
  readonly obj: number;
  /** Stores buffered on this core, in all its FIFOs. */
  count = 0;
  /** Stores ever buffered on this core: the next store's program-order number. */
  stored = 0;
  /** TSO: the core's one FIFO. */
  fifo: Fifo | null = null;
  /** Every FIFO of this core (one under TSO, one per cell stored under PSO). */
  readonly fifos: Fifo[] = [];
  readonly fenceOp: Op;
  /**
   * Stores write `sb<c>`, so a store that makes a waiter wait is ordered by
   * the footprint. Drains do not name it (see `View.drainOp`), but a drain
   * only ever lets a waiter go, never holds one back: DPOR sees the drain
   * that lets it go as the step that enabled it, and orders them so.
   */
  readonly footprintOnly = true;

  constructor(k: Kernel, core: number) {
    this.core = core;
    this.obj = k.newObject(`sb${core}`);
    this.fenceOp = new Op("fence", this.obj, false, this);
  }

  ready(): boolean {
    return this.count === 0;
  }

  waitReason(): string {
    return `core ${this.core}'s store buffer to drain`;
  }

  /** True when every store buffered before the `seq`th has reached memory. */
  drainedBefore(seq: number): boolean {
    const fifos = this.fifos;
    for (let i = 0; i < fifos.length; i++) if (fifos[i].headSeq() < seq) return false;
    return true;
  }
}

/**
 * A spawned child's first step on another core than its parent's: it waits
 * until the stores its parent's core buffered before the spawn reach memory,
 * as a thread created by a system call sees what its creator stored (the
 * call is serialising). Stores the parent makes after the spawn may still
 * be buffered. Its guard reads `sb<c>`, which the parent core's stores
 * write; the drains it waits for only ever make it ready, and DPOR orders
 * it after the one that did (as for the core's fences).
 */
class SpawnWait implements Guard {
  readonly footprintOnly = true;
  readonly anyFiber = true;
  readonly #core: CoreBuffers;
  readonly #seq: number;

  constructor(core: CoreBuffers, seq: number) {
    this.#core = core;
    this.#seq = seq;
  }

  ready(): boolean {
    return this.#core.drainedBefore(this.#seq);
  }

  waitReason(): string {
    return `core ${this.#core.core}'s stores from before the spawn to drain`;
  }
}

function* afterParentStores(
  wait: Op,
  body: Generator<Op, unknown, void>,
): Generator<Op, unknown, void> {
  yield wait;
  return yield* body;
}

/** A cell as one core sees it: its buffered copy there and the operations on it. */
class View {
  readonly cell: WeakCell<unknown>;
  readonly core: CoreBuffers;
  readonly #memory: StoreBuffers;
  /** Stores of this cell buffered on this core, and the newest one's value and step. */
  count = 0;
  newest: unknown = undefined;
  newestStep = 0;
  /** PSO: this cell's FIFO on this core. */
  fifo: Fifo | null = null;
  readonly loadOp: Op;
  readonly storeOp: Op;
  /** A store that waits for the core's buffers to drain first, then is buffered. */
  readonly storeAfterOp: Op;
  /** A store that waits for the core's buffers to drain, then writes memory. */
  readonly storeDirectOp: Op;
  readonly rmwOp: Op;
  readonly drainOp: Op;

  constructor(k: Kernel, memory: StoreBuffers, cell: WeakCell<unknown>, core: CoreBuffers) {
    this.cell = cell;
    this.core = core;
    this.#memory = memory;
    const copy = k.newObject(`${cell.name}@sb${core.core}`);
    const read = k.costOf("read"), write = k.costOf("write");
    this.loadOp = new Op("read", cell.id, false, null, read, -1, copy);
    this.storeOp = new Op("write", copy, true, null, write, -1, core.obj);
    this.storeAfterOp = new Op("write", copy, true, core, write, -1, core.obj);
    this.storeDirectOp = new Op("write", cell.id, true, core, write, -1, core.obj);
    this.rmwOp = new Op("rmw", cell.id, true, core, k.costOf("rmw"), -1, core.obj);
    // A drain writes memory and reads the core's copy (which orders it after
    // its store). It does not name the core's buffers: a drain and a later
    // store of another cell on the same core commute, and a fence or
    // read-modify-write that waits for the buffers learns of the drain that
    // lets it go as the step that enabled it.
    this.drainOp = new Op("drain", cell.id, true, null, k.costOf("drain"), -1, -1, {
      objs: [copy],
      writes: [false],
    });
  }

  /** The value a load on this core gets: its newest buffered store, else memory. */
  load(): unknown {
    return this.count > 0 ? this.newest : this.cell.memoryValue();
  }

  /** A load by a fiber's step: `load()`, logged when reads-from is logged. */
  loadLogged(): unknown {
    const v = this.load();
    const log = this.#memory.rf;
    if (log !== null) {
      log.set(this.#memory.step, [this.count > 0 ? this.newestStep : this.cell.memoryStep, v]);
    }
    return v;
  }

  buffer(value: unknown): void {
    const step = this.#memory.step;
    this.count++;
    this.newest = value;
    this.newestStep = step;
    this.core.count++;
    this.#memory.buffered++;
    this.#memory.fifoOf(this).push({ view: this, value, seq: this.core.stored++, step });
  }

  drained(value: unknown, step: number): void {
    this.count--;
    if (this.count === 0) this.newest = undefined;
    this.core.count--;
    this.#memory.buffered--;
    this.cell.setMemory(value, step);
  }
}

/**
 * The store buffers of one run. The kernel makes one when a run's model is
 * `tso` or `pso`, and makes its cells through it.
 */
export class StoreBuffers implements WeakMemory {
  /** The buffered memory model: `tso` or `pso`. */
  readonly model: BufferedModel;
  /** Stores buffered on all cores: the run may end only once this is 0. */
  buffered = 0;
  /** The reads-from log, once asked for. */
  rf: ReadsFromLog | null = null;
  readonly #k: Kernel;
  readonly #cores: (CoreBuffers | undefined)[] = [];

  /** Makes the store buffers of a run; the kernel does this when the run's model is buffered. */
  constructor(kernel: Kernel, model: BufferedModel) {
    this.#k = kernel;
    this.model = model;
  }

  /** A cell whose stores go through the buffers. */
  cell<T>(name: string, init: T): Cell<T> {
    return new WeakCell<T>(this.#k, this, name, init);
  }

  /** The fiber whose step is executing, or null. */
  current(): Fiber | null {
    return this.#k.current;
  }

  /** The step executing now. */
  get step(): number {
    return this.#k.step;
  }

  logReadsFrom(): ReadsFromLog {
    return this.rf ??= new Map();
  }

  /**
   * The buffers of the core the current fiber runs on.
   *
   * @ignore internal to the memory model
   */
  coreOfCurrent(what: string): CoreBuffers {
    const f = this.#k.current;
    if (f === null) {
      throw new Error(`Cannot ${what} outside a fiber: the store buffer is a core's`);
    }
    return this.#cores[f.core] ??= new CoreBuffers(this.#k, f.core);
  }

  /** @internal The view of `cell` from core `core`. */
  view(cell: WeakCell<unknown>, core: CoreBuffers): View {
    return new View(this.#k, this, cell, core);
  }

  /** @internal The FIFO a store of `view` enters, with its drain fiber started. */
  fifoOf(view: View): Fifo {
    const core = view.core;
    if (this.model === "tso") return core.fifo ??= this.#startFifo(`sb${core.core}`, core);
    return view.fifo ??= this.#startFifo(`sb${core.core}.${view.cell.name}`, core);
  }

  #startFifo(name: string, core: CoreBuffers): Fifo {
    const fifo = new Fifo();
    core.fifos.push(fifo);
    fifo.drainer = this.#k.spawn(
      { name, core: core.core, daemon: true, detached: true },
      drainLoop,
      fifo,
    );
    return fifo;
  }

  /**
   * @internal The body of `child`, spawned by `parent`: `body` itself when
   * the child can see everything the parent stored (it shares the parent's
   * core, or nothing is buffered there), else `body` after a step that waits
   * for the parent's earlier stores to reach memory.
   */
  spawned(
    parent: Fiber,
    child: Fiber,
    body: Generator<Op, unknown, void>,
  ): Generator<Op, unknown, void> {
    const c = this.#cores[parent.core];
    if (child.core === parent.core || c === undefined || c.count === 0) return body;
    const wait = new Op("fence", c.obj, false, new SpawnWait(c, c.stored));
    return afterParentStores(wait, body);
  }

  /**
   * Waits until the joined fiber's core has drained: a join's acquire of what
   * the fiber stored. No step when nothing is buffered there.
   */
  *joined(fiber: Fiber): Generator<Op, void, void> {
    const c = this.#cores[fiber.core];
    if (c !== undefined && c.count > 0) yield c.fenceOp;
  }

  /** A primitive is about to release (an unlock): the core's buffers drain first. */
  releasing(_key: object): Generator<Op, void, void> {
    return this.fence("seq_cst");
  }

  /** The drain before the release was all it takes. */
  released(_key: object): void {}

  /** Loads are never reordered under tso and pso: an acquire needs nothing. */
  acquired(_key: object): void {}

  /** A fence of the current fiber: waits for its core's buffers when the model needs it. */
  *fence(order: Ordering): Generator<Op, void, void> {
    // x86 needs mfence only for seq_cst (loads are never reordered, stores
    // drain in order); PSO also needs the store-store barrier of a release.
    if (order === "seq_cst" || (this.model === "pso" && order !== "acquire")) {
      yield this.coreOfCurrent("fence").fenceOp;
    }
  }
}

/** The fiber whose view `WeakCell.peek` takes outside a step (see `readsAs`). */
let viewer: Fiber | null = null;

/**
 * Runs `fn` with `WeakCell.peek` seeing what `fiber`'s core would load: its
 * own buffered stores, else memory. A guard that stands in for a spin loop
 * (a parked fiber re-reading a flag) evaluates its condition this way, as the
 * loop's loads would; the kernel polls guards outside any step, where `peek`
 * otherwise sees memory. Under `sc` it only calls `fn`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "./kernel.ts";
 * import { RandomStrategy } from "./random.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 10, memory: "tso" }, new RandomStrategy(), 1);
 * const x = k.cell("x", 0);
 * const seen: number[] = [];
 * const u = k.spawn("u", function* () {
 *   yield* k.pause();
 * });
 * k.spawn("t", function* () {
 *   yield* x.write(1);
 *   // Within the step that buffered it: only t's core sees the store.
 *   const t = k.current!;
 *   seen.push(readsAs(u, () => x.peek()), readsAs(t, () => x.peek()));
 * });
 * k.execute();
 * assertEquals(seen, [0, 1]);
 * ```
 */
export function readsAs<T>(fiber: Fiber, fn: () => T): T {
  const outer = viewer;
  viewer = fiber;
  try {
    return fn();
  } finally {
    viewer = outer;
  }
}

/**
 * A cell under a buffered model. `peek` and `poke` see memory, except that a
 * fiber peeking during its own step sees what its core would load (so a
 * runtime that copies cells without scheduling points, like a deque growing,
 * copies its own buffered stores), and so does a guard inside `readsAs`.
 */
export class WeakCell<T> extends Cell<T> {
  readonly #memory: StoreBuffers;
  readonly #views: (View | undefined)[] = [];
  /** @internal The step of the store memory holds (0: the initial value). */
  memoryStep = 0;

  /** Makes a cell under the buffered model; `k.cell` does this when the run's model is buffered. */
  constructor(kernel: Kernel, memory: StoreBuffers, name: string, init: T) {
    super(kernel, name, init);
    this.#memory = memory;
  }

  #view(what: string): View {
    const core = this.#memory.coreOfCurrent(what);
    return this.#views[core.core] ??= this.#memory.view(this as WeakCell<unknown>, core);
  }

  /** @internal Memory's value, whatever is buffered. */
  memoryValue(): T {
    return super.peek();
  }

  /** @internal Writes memory: a drain of a store made at `step`, or a direct store. */
  setMemory(value: unknown, step: number): void {
    super.poke(value as T);
    this.memoryStep = step;
  }

  /** The old value of a read-modify-write, logged; memory then holds this step's store. */
  #rmwRead(): T {
    const old = super.peek();
    const log = this.#memory.rf;
    if (log !== null) log.set(this.#memory.step, [this.memoryStep, old]);
    return old;
  }

  /** Loads the value the current core sees: its own newest buffered store, else memory. */
  override *read(order?: Ordering): Generator<Op, T, void> {
    if (order !== undefined) checkOrdering("load", order);
    const v = this.#view(`read ${this.name}`);
    yield v.loadOp;
    return v.loadLogged() as T;
  }

  /** Stores `value` into the current core's buffer (memory sees it when the buffer drains). */
  override *write(value: T, order?: Ordering): Generator<Op, void, void> {
    if (order !== undefined) checkOrdering("store", order);
    const v = this.#view(`write ${this.name}`);
    if (order === "seq_cst") {
      yield v.storeDirectOp;
      this.setMemory(value, this.#memory.step);
      return;
    }
    // PSO keeps no order between a core's FIFOs: a release waits for all of them.
    yield order === "release" && this.#memory.model === "pso" ? v.storeAfterOp : v.storeOp;
    v.buffer(value);
  }

  /** Compare-and-swap on memory; it drains the current core's buffer first. */
  override *cas(expected: T, value: T, order?: Ordering): Generator<Op, boolean, void> {
    if (order !== undefined) checkOrdering("rmw", order);
    yield this.#view(`cas ${this.name}`).rmwOp;
    if (this.#rmwRead() !== expected) return false;
    this.setMemory(value, this.#memory.step);
    return true;
  }

  /** Swaps on memory; it drains the current core's buffer first. */
  override *swap(value: T, order?: Ordering): Generator<Op, T, void> {
    if (order !== undefined) checkOrdering("rmw", order);
    yield this.#view(`swap ${this.name}`).rmwOp;
    const old = this.#rmwRead();
    this.setMemory(value, this.#memory.step);
    return old;
  }

  /** Fetch-and-add on memory; it drains the current core's buffer first. */
  override *fetchAdd(
    this: WeakCell<number>,
    delta: number,
    order?: Ordering,
  ): Generator<Op, number, void> {
    if (order !== undefined) checkOrdering("rmw", order);
    yield this.#view(`fetchAdd ${this.name}`).rmwOp;
    const old = this.#rmwRead() as number;
    this.setMemory(old + delta, this.#memory.step);
    return old;
  }

  /** The value in memory, or the current core's view during its own step. */
  override peek(): T {
    const f = viewer ?? this.#memory.current();
    if (f === null) return super.peek();
    const v = this.#views[f.core];
    return v === undefined ? super.peek() : v.load() as T;
  }
}
