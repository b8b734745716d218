/**
 * Weak memory: C11 release/acquire and relaxed atomics (the `ra` model).
 *
 * An operational, view-based model in the style of Kang et al.'s promising
 * semantics without promises (POPL 2017), which for release, acquire and
 * relaxed accesses and fences gives the outcomes of RC11 (Lahav, Vafeiadis,
 * Kang, Hur, Dreyer, PLDI 2017):
 *
 * - A cell keeps every store in modification order (`mo`). A fiber's *view*
 *   names, per cell, the newest store it has seen or made; a load may read
 *   any store not older in `mo` than its view's (a recorded choice, stream
 *   `reads-from`: choice 0 is the newest), so stale values are allowed but a
 *   fiber never reads backwards (coherence).
 * - A store is placed anywhere in `mo` after the fiber's view of the cell,
 *   except between a store and the read-modify-write that read it (a
 *   recorded choice, stream `mo`: choice 0 is the end). That is what lets
 *   2+2W end with both first stores on top.
 * - A store carries a view: a release store the fiber's whole view, a
 *   relaxed one only what an earlier release fence (or release store to the
 *   same cell) published. An acquire load takes the view of the store it
 *   reads; a relaxed load keeps it for a later acquire fence.
 * - A read-modify-write reads a store no other read-modify-write has read
 *   and is placed right after it; it passes the read store's view on
 *   (release sequences).
 * - A seq_cst fence joins a global view and publishes into it; a seq_cst
 *   access is an acquire load after, or a release store before, such a fence
 *   (a read-modify-write has one on each side). Exact for seq_cst fences and
 *   for cells accessed only with seq_cst; stronger than C11/RC11 where
 *   seq_cst accesses mix with weaker ones, because the fence also orders the
 *   fiber's relaxed accesses: SB with seq_cst stores and relaxed loads
 *   (`x.write(1, "seq_cst"); y.read()` against the mirror) loses `0 0`,
 *   which RC11 allows (x86's mapping forbids it too). Never weaker than
 *   release/acquire.
 * - A park (`runtime/park.ts`) is enabled once the newest stores satisfy its
 *   condition, and its step acquires them (`parkAcquires`): a spin loop of
 *   acquire loads without its failing iterations.
 * - Locks, semaphores, condition variables, spawn and join synchronise: a
 *   release publishes the fiber's view to the primitive, an acquire joins it.
 *
 * There are no store buffers and no drain steps: every access is one step.
 * Footprints stay those of sequential consistency (a load reads its cell, a
 * store writes it, a seq_cst fence writes the global `sc` object), because a
 * step's effect and its choices depend only on its cells' histories and its
 * own fiber's views.
 *
 * @module
 */
import { Cell } from "./cell.ts";
import type { ReadsFromLog, WeakMemory } from "./memory.ts";
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import { Op } from "./op.ts";
import { checkOrdering, type Ordering } from "./ordering.ts";

/** @internal Switches for tests: turn `parkAcquires` off to see what it prevents. */
export const raSwitches: { parkAcquires: boolean } = { parkAcquires: true };

/** True once any run used `ra`: until then a park pays nothing for it. */
let raUsed = false;
/** The cells `RaCell.peek` sees while `parkAcquires` runs a condition; null otherwise. */
let peeked: RaCell<unknown>[] | null = null;

/**
 * Within a parked fiber's step (`runtime/park.ts`): under `ra` the fiber
 * takes in what its wait condition read, as an acquire load of the newest
 * store of each cell `ready` peeks (the kernel enabled the step because the
 * newest stores satisfy it). A park stands for a spin loop of acquire loads
 * that ends once it reads them; without this the fiber would go on with its
 * old view and could read the stale values it parked on again, for ever.
 * Under the other models it does nothing.
 */
export function parkAcquires(ready: () => unknown): void {
  if (!raUsed || !raSwitches.parkAcquires) return;
  const outer = peeked;
  const cells: RaCell<unknown>[] = peeked = [];
  try {
    ready();
  } finally {
    peeked = outer;
  }
  for (const c of cells) c.acquireNewest();
}

/** No step at all: what `yield*` of a model action that needs none delegates to. */
function* noStep(): Generator<Op, void, void> {}

/** One store in a cell's modification order. */
class Msg {
  /** The store's index in its cell's history; renumbered when a store is placed before it. */
  pos: number;
  readonly value: unknown;
  /** What an acquire load of this store learns; null for nothing beyond the store. */
  readonly view: View | null;
  /** True once a read-modify-write read this store: nothing may be placed right after it. */
  taken = false;
  /** The step that made the store; 0 for the initial value. */
  readonly step: number;

  constructor(pos: number, value: unknown, view: View | null, step: number) {
    this.pos = pos;
    this.value = value;
    this.view = view;
    this.step = step;
  }
}

/** Per cell (by its index in the run), the newest store known; undefined for the initial one. */
type View = (Msg | undefined)[];

/** `into` becomes the join of `into` and `from`: per cell, the later store in `mo`. */
function join(into: View, from: View | null): void {
  if (from === null) return;
  for (let i = 0; i < from.length; i++) {
    const m = from[i];
    if (m !== undefined && (into[i] === undefined || (into[i] as Msg).pos < m.pos)) into[i] = m;
  }
}

function raise(into: View, cell: number, m: Msg): void {
  const old = into[cell];
  if (old === undefined || old.pos < m.pos) into[cell] = m;
}

/** A fiber's views (the names of the promising semantics). */
class Thread {
  /** What the fiber has seen: its loads read nothing older. */
  readonly cur: View = [];
  /** `cur` plus the views of stores read relaxed: what an acquire fence adopts. */
  readonly acq: View = [];
  /** What the last release fence published: relaxed stores carry it. */
  rel: View = [];
  /** Per cell, what the last release store to it published (a release sequence). */
  readonly relAt: (View | undefined)[] = [];
}

const ACQUIRES: Readonly<Record<Ordering, boolean>> = {
  relaxed: false,
  release: false,
  acquire: true,
  acq_rel: true,
  seq_cst: true,
};
const RELEASES: Readonly<Record<Ordering, boolean>> = {
  relaxed: false,
  acquire: false,
  release: true,
  acq_rel: true,
  seq_cst: true,
};

/** The release/acquire memory of one run: cells, fibers' views, synchronisation. */
export class RaMemory implements WeakMemory {
  readonly model = "ra" as const;
  /** Nothing is ever buffered under `ra`. */
  readonly buffered = 0;
  readonly #k: Kernel;
  readonly #threads: (Thread | undefined)[] = [];
  /** Views published by locks and the other primitives, by primitive. */
  readonly #synced = new Map<object, View>();
  /** The view seq_cst fences publish into and join. */
  readonly #sc: View = [];
  readonly #scFence: Op;
  /** Extra footprint of a seq_cst access: it writes the global `sc` object. */
  readonly scFootprint: { readonly objs: readonly number[]; readonly writes: readonly boolean[] };
  /** The reads-from log, once asked for. */
  #rf: ReadsFromLog | null = null;
  #cells = 0;

  constructor(kernel: Kernel) {
    raUsed = true;
    this.#k = kernel;
    const sc = kernel.newObject("sc");
    this.#scFence = new Op("fence", sc, true, null, kernel.costOf("fence"));
    this.scFootprint = { objs: [sc], writes: [true] };
  }

  /** A cell with a history of stores. */
  cell<T>(name: string, init: T): Cell<T> {
    return new RaCell<T>(this.#k, this, name, init, this.#cells++);
  }

  logReadsFrom(): ReadsFromLog {
    return this.#rf ??= new Map();
  }

  /** The step executing now. */
  get step(): number {
    return this.#k.step;
  }

  /** The views of `fiber`. */
  thread(fiber: Fiber): Thread {
    return this.#threads[fiber.id] ??= new Thread();
  }

  /** The views of the fiber whose step is executing. */
  current(what: string): Thread {
    const f = this.#k.current;
    if (f === null) throw new Error(`Cannot ${what} outside a fiber: views are a fiber's`);
    return this.thread(f);
  }

  /** Draws which of `n` stores a load reads, or where a store goes. */
  choose(n: number, stream: string): number {
    return this.#k.choose(n, stream);
  }

  /** After a join's step, the joiner acquires the joined fiber's views: no step. */
  joined(fiber: Fiber): Generator<Op, void, void> {
    const t = this.current("join");
    const done = this.thread(fiber);
    join(t.cur, done.cur);
    join(t.acq, done.cur);
    return noStep();
  }

  /** A spawned fiber starts with everything its parent has seen. */
  spawned(
    parent: Fiber,
    child: Fiber,
    body: Generator<Op, unknown, void>,
  ): Generator<Op, unknown, void> {
    const p = this.thread(parent);
    const c = new Thread();
    join(c.cur, p.cur);
    join(c.acq, p.cur);
    this.#threads[child.id] = c;
    return body;
  }

  /** A fence of the current fiber (see the module comment). */
  *fence(order: Ordering): Generator<Op, void, void> {
    if (order === "seq_cst") {
      yield this.#scFence;
      this.scFence(this.current("fence"));
      return;
    }
    const t = this.current("fence");
    if (ACQUIRES[order]) join(t.cur, t.acq);
    if (RELEASES[order]) t.rel = t.cur.slice();
  }

  /** @internal The effect of a seq_cst fence, inside a step that writes `sc`. */
  scFence(t: Thread): void {
    join(t.cur, t.acq);
    join(t.cur, this.#sc);
    join(t.acq, t.cur);
    join(this.#sc, t.cur);
    t.rel = t.cur.slice();
  }

  /** Before a primitive's releasing step: nothing to wait for. */
  releasing(_key: object): Generator<Op, void, void> {
    return noStep();
  }

  /**
   * Within a primitive's releasing step (an unlock): the fiber publishes its
   * view to `key`, inside that step's own footprint.
   */
  released(key: object): void {
    const t = this.current("release");
    const v = this.#synced.get(key);
    if (v === undefined) this.#synced.set(key, t.cur.slice());
    else join(v, t.cur);
  }

  /** A primitive acquired `key` (a lock): the fiber joins what was published there. */
  acquired(key: object): void {
    const v = this.#synced.get(key);
    if (v === undefined) return;
    const t = this.current("acquire");
    join(t.cur, v);
    join(t.acq, v);
  }

  /** @internal A load's effect on the fiber's views, having read `m` of cell `at`. */
  readFrom(t: Thread, at: number, m: Msg, acquire: boolean): void {
    this.#rf?.set(this.#k.step, [m.step, m.value]);
    raise(t.cur, at, m);
    raise(t.acq, at, m);
    join(t.acq, m.view);
    if (acquire) join(t.cur, m.view);
  }

  /** @internal The view a store by `t` to cell `at` carries (before it names itself). */
  storeView(t: Thread, at: number, release: boolean): View {
    if (release) return t.cur.slice();
    const v = t.rel.slice();
    join(v, t.relAt[at] ?? null);
    return v;
  }
}

/**
 * A cell under `ra`: a history of stores in modification order. `peek` gives
 * the newest store's value (what the run ends with); `poke` replaces the
 * initial value in setup, and otherwise appends a store that publishes
 * nothing.
 */
export class RaCell<T> extends Cell<T> {
  readonly #memory: RaMemory;
  /** The cell's index in the run's views. */
  readonly index: number;
  readonly #history: Msg[];
  readonly #loadOp: Op;
  readonly #storeOp: Op;
  readonly #rmwOp: Op;
  readonly #scLoadOp: Op;
  readonly #scStoreOp: Op;
  readonly #scRmwOp: Op;

  constructor(kernel: Kernel, memory: RaMemory, name: string, init: T, index: number) {
    super(kernel, name, init);
    this.#memory = memory;
    this.index = index;
    this.#history = [new Msg(0, init, null, 0)];
    const read = kernel.costOf("read"), write = kernel.costOf("write"), rmw = kernel.costOf("rmw");
    this.#loadOp = new Op("read", this.id, false, null, read);
    this.#storeOp = new Op("write", this.id, true, null, write);
    this.#rmwOp = new Op("rmw", this.id, true, null, rmw);
    const sc = memory.scFootprint;
    this.#scLoadOp = new Op("read", this.id, false, null, read, -1, -1, sc);
    this.#scStoreOp = new Op("write", this.id, true, null, write, -1, -1, sc);
    this.#scRmwOp = new Op("rmw", this.id, true, null, rmw, -1, -1, sc);
  }

  /** Stores the fiber may read, newest first. */
  #visible(t: Thread): Msg[] {
    const h = this.#history;
    const from = t.cur[this.index]?.pos ?? 0;
    const out: Msg[] = [];
    for (let i = h.length - 1; i >= from; i--) out.push(h[i]);
    return out;
  }

  #load(t: Thread, order: Ordering): T {
    const seen = this.#visible(t);
    const m = seen[this.#memory.choose(seen.length, "reads-from")];
    this.#memory.readFrom(t, this.index, m, ACQUIRES[order]);
    return m.value as T;
  }

  /** Places a store right after `h[after]` and makes it the fiber's newest of this cell. */
  #place(t: Thread, after: number, value: T, view: View): Msg {
    const h = this.#history;
    const m = new Msg(after + 1, value, view, this.#memory.step);
    view[this.index] = m;
    h.splice(after + 1, 0, m);
    for (let i = after + 2; i < h.length; i++) h[i].pos = i;
    t.cur[this.index] = m;
    raise(t.acq, this.index, m);
    return m;
  }

  #store(t: Thread, value: T, order: Ordering): void {
    const h = this.#history;
    // Where the store may go: after any store from the fiber's view on that
    // no read-modify-write is attached to; choice 0 is the end.
    const slots: number[] = [];
    for (let i = h.length - 1; i >= (t.cur[this.index]?.pos ?? 0); i--) {
      if (!h[i].taken) slots.push(i);
    }
    const after = slots[this.#memory.choose(slots.length, "mo")];
    const release = RELEASES[order];
    this.#place(t, after, value, this.#memory.storeView(t, this.index, release));
    if (release) t.relAt[this.index] = t.cur.slice();
  }

  /** A read-modify-write: `update` gives the new value, or undefined to write nothing. */
  #rmw(order: Ordering, what: string, update: (old: T) => T | undefined): T {
    const t = this.#memory.current(`${what} ${this.name}`);
    if (order === "seq_cst") this.#memory.scFence(t);
    // Stores it may read: visible, and not already read by another
    // read-modify-write (unless it would fail and write nothing).
    const seen = this.#visible(t).filter((m) => !m.taken || update(m.value as T) === undefined);
    const m = seen[this.#memory.choose(seen.length, "reads-from")];
    const next = update(m.value as T);
    const release = RELEASES[order];
    this.#memory.readFrom(t, this.index, m, ACQUIRES[order]);
    if (next !== undefined) {
      m.taken = true;
      const view = this.#memory.storeView(t, this.index, release);
      join(view, m.view);
      this.#place(t, m.pos, next, view);
      if (release) t.relAt[this.index] = t.cur.slice();
    }
    if (order === "seq_cst") this.#memory.scFence(t);
    return m.value as T;
  }

  override *read(order: Ordering = "relaxed"): Generator<Op, T, void> {
    checkOrdering("load", order);
    if (order === "seq_cst") {
      yield this.#scLoadOp;
      const t = this.#memory.current(`read ${this.name}`);
      this.#memory.scFence(t);
      return this.#load(t, order);
    }
    yield this.#loadOp;
    return this.#load(this.#memory.current(`read ${this.name}`), order);
  }

  override *write(value: T, order: Ordering = "relaxed"): Generator<Op, void, void> {
    checkOrdering("store", order);
    yield order === "seq_cst" ? this.#scStoreOp : this.#storeOp;
    const t = this.#memory.current(`write ${this.name}`);
    this.#store(t, value, order);
    if (order === "seq_cst") this.#memory.scFence(t);
  }

  override *cas(expected: T, value: T, order: Ordering = "relaxed"): Generator<Op, boolean, void> {
    checkOrdering("rmw", order);
    yield order === "seq_cst" ? this.#scRmwOp : this.#rmwOp;
    const old = this.#rmw(order, "cas", (v) => v === expected ? value : undefined);
    return old === expected;
  }

  override *swap(value: T, order: Ordering = "relaxed"): Generator<Op, T, void> {
    checkOrdering("rmw", order);
    yield order === "seq_cst" ? this.#scRmwOp : this.#rmwOp;
    return this.#rmw(order, "swap", () => value);
  }

  override *fetchAdd(
    this: RaCell<number>,
    delta: number,
    order: Ordering = "relaxed",
  ): Generator<Op, number, void> {
    checkOrdering("rmw", order);
    yield order === "seq_cst" ? this.#scRmwOp : this.#rmwOp;
    return this.#rmw(order, "fetchAdd", (v) => v + delta);
  }

  override peek(): T {
    if (peeked !== null) peeked.push(this as RaCell<unknown>);
    return this.#history[this.#history.length - 1].value as T;
  }

  /** @internal The current fiber acquires the newest store, as a load of it would (a park). */
  acquireNewest(): void {
    const t = this.#memory.current(`wait on ${this.name}`);
    this.#memory.readFrom(t, this.index, this.#history[this.#history.length - 1], true);
  }

  override poke(value: T): void {
    const h = this.#history;
    if (h.length === 1) h[0] = new Msg(0, value, null, 0);
    else h.push(new Msg(h.length, value, null, this.#memory.step));
  }
}
