/**
 * The concurrent cell-based mark-and-sweep of the second seed note:
 *
 * ```
 * def start(x) = x.write() >> each(Succ(x)) >y> start(y)
 * def finish(y) = x.read() >> x.clear() ; Free(x)
 * def gc() = each(roots) >r> start(r) ; each(nodes) >n> finish(n) >> stop ; signal
 * ```
 *
 * Every node has a mark cell (written = black). `start` marks from every
 * root in parallel on several collector fibers; `finish` visits every node,
 * frees the unmarked and clears the marked. Mutator fibers allocate, load and
 * store pointers meanwhile, and a write barrier keeps them from hiding a
 * white node behind a black one. Mark cells, pointer fields and roots are
 * separate cells, so the explorer can put a mutator's store between any two
 * of the collector's reads.
 *
 * @module
 */
import type { Cell, Kernel } from "../sim/kernel.ts";
import type { Fiber } from "../sim/fiber.ts";
import { type Action, Op } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import type { StateSource, StateWriter } from "../sim/state.ts";
import { Stm, type Tx } from "./atomic.ts";
import { Handshake, type HandshakeOptions, type WorldLock } from "./handshake.ts";
import {
  type Heap,
  HeapExhausted,
  NULL,
  POISON,
  type Ref,
  shapeBytes,
  type Space,
} from "./heap.ts";

/**
 * The write barrier. `none` (broken). `insertion` (Dijkstra): a store shades
 * the new target; roots are rescanned when marking ends. `deletion` (Yuasa):
 * a store shades the target it overwrites; roots are snapshotted before
 * marking and never rescanned.
 */
export type Barrier = "none" | "insertion" | "deletion";

/**
 * The mark cell. `clear`: a write-once cell, written = black, with the
 * `clear` reset (the note's first version). `flip`: the version without
 * reset, where the meaning is flipped: true = not yet marked; `start` does
 * `atomic(if x.read() then x.write(false))`; `finish` frees the true ones and
 * writes true back into the others. `flip-nonatomic`: the same without the
 * atomic section: two fibers may both read true and both trace the node
 * (repeated work, never a wrong free). `flip-stm`: the note's atomic
 * section as an atomic region (`runtime/atomic.ts`): the read and the write
 * of the mark are one transaction, so no node is traced twice.
 */
export type MarkMode = "clear" | "flip" | "flip-nonatomic" | "flip-stm";

/** How a mark-and-sweep collector is built. */
export interface MarkSweepOptions {
  /** The write barrier mutators' stores run. */
  readonly barrier: Barrier;
  /** `clear` by default. */
  readonly mark?: MarkMode;
  /** Collector fibers that mark and sweep in parallel; 1 by default. */
  readonly collectors?: number;
  /** Prefix of the collector's shared objects in reports; `gc` by default. */
  readonly name?: string;
  /**
   * Rescan the roots when marking ends. By default only with the insertion
   * barrier, which needs it; turning it off shows why.
   */
  readonly rescan?: boolean;
  /**
   * Allocate black while marking (default true). The deletion barrier needs
   * it; turning it off shows why.
   */
  readonly allocateBlack?: boolean;
  /**
   * How the world is stopped: a reader-writer lock (default), or a
   * handshake on cells, fenced or not (`runtime/handshake.ts`).
   */
  readonly handshake?: HandshakeOptions;
  /**
   * End marking with the world stopped (default true). False needs the
   * deletion barrier: the collector drains the grey list and sweeps while
   * mutators run on, and the barrier shades the old target with plain
   * stores *before* the pointer store (load, shade, store), so a collector
   * that sees the new pointer must also see the shade. Under a weak memory
   * model that takes `publish`.
   */
  readonly finalStop?: boolean;
  /**
   * Order the barrier's shade before the pointer store for other cores: the
   * mutator stores the pointer with `release`, the collector loads pointer
   * fields with `acquire` (default false; free under `sc` and `tso`).
   */
  readonly publish?: boolean;
}

/** What the collector did, summed over its cycles. */
export interface MarkSweepStats {
  /** Collection cycles finished. */
  cycles: number;
  /** Times a node's fields were traced. */
  traced: number;
  /** Traces of a node already traced in the same cycle: repeated work. */
  retraced: number;
  /** Nodes the barrier shaded. */
  shaded: number;
  /** Objects freed by sweeping. */
  freed: number;
}

const MARKING = 1;
const IDLE = 0;

/**
 * A concurrent mark-and-sweep collector and the mutator operations that
 * cooperate with it.
 *
 * Mutators act only through `move`, `load`, `store`, `alloc` and `touch`.
 * Each is a mutator operation: it holds the world lock for reading, so the
 * collector can stop the world (take it for writing) between operations,
 * never in the middle of one. The world is stopped twice per cycle: to
 * snapshot the roots when marking starts, and to end marking (drain what the
 * barrier shaded, and for `insertion` rescan the roots); once with
 * `finalStop: false`. Marking and sweeping themselves run concurrently with
 * the mutators.
 *
 * A fiber's registers are its stack slots (`heap.roots.stack`): root cells
 * only their owner writes, so the owner reads them without a scheduling
 * point. The pointer operands of `load`, `store` and `touch` must be the
 * calling fiber's own registers; `move` reads any root with a scheduling
 * point.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import { Heap, NULL } from "./heap.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 1);
 * const heap = new Heap(k);
 * const gc = new MarkSweep(heap, heap.space("nodes", 1024), { barrier: "insertion" });
 * const c = gc.node({ name: "C" });
 * const b = gc.node({ name: "B" });
 * heap.roots.global("g0", gc.node({ name: "A", ptrs: [b] }));
 * k.spawn("gc", collectCycles, gc, 1);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals([heap.get(c).freed, heap.get(b).freed], [true, false]);
 * assertEquals(gc.stats.freed, 1);
 * ```
 */
export class MarkSweep implements StateSource {
  /** The heap collected. */
  readonly heap: Heap;
  /** The space whose objects it frees. */
  readonly space: Space;
  /** The write barrier mutators' stores run. */
  readonly barrier: Barrier;
  /** How marking proceeds. */
  readonly mark: MarkMode;
  /** How many collector fibers mark together. */
  readonly collectors: number;
  /** The collector's name, which prefixes its cells' names. */
  readonly name: string;
  /** Whether the collector rescans the roots before sweeping. */
  readonly rescan: boolean;
  /** Whether objects allocated during marking start black. */
  readonly allocateBlack: boolean;
  /** Whether marking ends with the world stopped. */
  readonly finalStop: boolean;
  /** Whether pointer stores are releases and the collector's pointer loads acquires. */
  readonly publish: boolean;
  /** The world lock: mutator operations read-lock it, stopping the world write-locks it. */
  readonly world: WorldLock;
  /** What the collector did so far in the run. */
  readonly stats: MarkSweepStats = { cycles: 0, traced: 0, retraced: 0, shaded: 0, freed: 0 };
  /** The value of an unmarked (white) cell. */
  readonly white: number;
  /** The value of a marked (black) cell. */
  readonly black: number;
  readonly #grey: GreyList;
  readonly #allocOp: Op;
  /** Mark cells by object id; undefined for objects this collector does not manage. */
  readonly #marks: (Cell<number> | undefined)[] = [];
  /** Managed nodes, in allocation order. */
  readonly #nodes: Ref[] = [];
  /** Guarded by the world lock: read by mutators inside operations, written with the world stopped. */
  #phase = IDLE;
  /** Traces per node in the current cycle. */
  #tracedIn: number[] = [];
  /** Nodes whose fields were all scanned in the current cycle: black, for reports. */
  #scanned: boolean[] = [];

  /** Makes a collector over `space` of `heap` (in setup). */
  constructor(heap: Heap, space: Space, options: MarkSweepOptions) {
    const collectors = options.collectors ?? 1;
    if (!Number.isInteger(collectors) || collectors < 1 || collectors > 64) {
      throw new RangeError(`Cannot run ${collectors} collector fibers: need 1..64`);
    }
    this.heap = heap;
    this.space = space;
    this.barrier = options.barrier;
    this.mark = options.mark ?? "clear";
    this.collectors = collectors;
    this.name = options.name ?? "gc";
    this.rescan = options.rescan ?? this.barrier === "insertion";
    this.allocateBlack = options.allocateBlack ?? true;
    this.finalStop = options.finalStop ?? true;
    this.publish = options.publish ?? false;
    if (!this.finalStop && this.barrier !== "deletion") {
      throw new RangeError(
        `Cannot end marking without stopping the world with the ${this.barrier} barrier: ` +
          "only the deletion barrier needs no final rescan",
      );
    }
    const k = heap.kernel;
    this.world = options.handshake === undefined
      ? k.rwlock(`${this.name}.world`)
      : new Handshake(k, `${this.name}.world`, options.handshake);
    this.#grey = new GreyList(heap, `${this.name}.grey`);
    this.#allocOp = new Op("alloc", k.newObject(`${this.name}.alloc`), true);
    // clear: empty (0) is white, written (1) is black. flip: true (1) is
    // white, false (0) is black, as in the note's version without reset.
    this.white = this.mark === "clear" ? 0 : 1;
    this.black = this.mark === "clear" ? 1 : 0;
    k.describe(this);
  }

  /**
   * For reports: the phase, the grey list, and each node's colour
   * (`color/<name>`): white unmarked, grey marked but its fields not all
   * scanned yet this cycle, black marked and scanned.
   */
  describeState(out: StateWriter): void {
    const heap = this.heap;
    out.put("gc", `${this.name}.phase`, this.#phase === MARKING ? "marking" : "idle");
    out.put("gc", `${this.name}.grey`, this.#grey.items.map((r) => heap.get(r).name));
    for (const r of this.#nodes) {
      const obj = heap.get(r);
      if (obj.freed) continue;
      const v = this.#marks[r]?.peek();
      const color = v === this.white
        ? "white"
        : this.#phase === MARKING && this.#scanned[r] !== true
        ? "grey"
        : "black";
      out.put("color", obj.name, color);
    }
  }

  /** True between the root snapshot and the end of marking. */
  get marking(): boolean {
    return this.#phase === MARKING;
  }

  /** Every node this collector manages, freed or not, in allocation order. */
  get nodes(): readonly Ref[] {
    return this.#nodes;
  }

  /** The mark cell of `ref`. */
  markOf(ref: Ref): Cell<number> {
    const c = this.#marks[ref];
    if (c === undefined) {
      throw new RangeError(`${this.heap.get(ref).name} is not managed by ${this.name}`);
    }
    return c;
  }

  /**
   * Places a node during setup (not a scheduling point): white, with `ptrs`
   * pointer fields (initially the given refs) and no immediates.
   */
  node(init: { name?: string; ptrs?: readonly Ref[]; fields?: number } = {}): Ref {
    const ptrs = init.ptrs ?? [];
    const fields = Math.max(init.fields ?? 1, ptrs.length);
    const all = Array.from({ length: fields }, (_, i) => ptrs[i] ?? NULL);
    return this.#place(all, init.name, this.white);
  }

  #place(ptrs: Ref[], name: string | undefined, color: number): Ref {
    const bytes = shapeBytes({ ptrs });
    const free = this.space.bytesMax - this.space.top;
    if (bytes > free) throw new HeapExhausted(`${this.name}.alloc`, bytes, free);
    const obj = this.heap.place(this.space, { ptrs, mutable: true, name });
    this.#marks[obj.id] = this.heap.kernel.cell(`${obj.name}.mark`, color);
    this.#nodes.push(obj.id);
    return obj.id;
  }

  // ---- mutator operations ------------------------------------------------

  /**
   * `dst := src` between root slots (a register and a global); `src` null
   * stores NULL. `src` may be any root, so reading it is a scheduling point.
   */
  *move(dst: Cell<number>, src: Cell<number> | null): Action<void> {
    yield* this.world.readLock();
    yield* dst.write(src === null ? NULL : yield* src.read());
    yield* this.world.readUnlock();
  }

  /** `dst := src.field`; a no-op when `src` holds NULL. Loads take no barrier. */
  *load(dst: Cell<number>, src: Cell<number>, field: number): Action<void> {
    yield* this.world.readLock();
    const obj = src.peek();
    if (obj !== NULL) yield* dst.write(yield* this.heap.load(obj, field));
    yield* this.world.readUnlock();
  }

  /**
   * `obj.field := src` (NULL when `src` is null), with the write barrier; a
   * no-op when `obj` holds NULL.
   */
  *store(obj: Cell<number>, field: number, src: Cell<number> | null): Action<void> {
    yield* this.world.readLock();
    const target = obj.peek();
    const value = src === null ? NULL : src.peek();
    if (target !== NULL && !this.finalStop) {
      yield* this.#storeShadingFirst(target, field, value);
    } else if (target !== NULL) {
      const marking = this.#phase === MARKING;
      if (marking && this.barrier === "insertion" && value !== NULL) yield* this.#shade(value);
      const old = yield* this.heap.swap(target, field, value);
      if (marking && this.barrier === "deletion" && old !== NULL) yield* this.#shade(old);
    }
    yield* this.world.readUnlock();
  }

  /**
   * `dst := new node` with `fields` NULL pointer fields, allocated black
   * while marking (it is live and must survive the cycle; unless the
   * `allocateBlack` knob is off) and white otherwise. Raises `HeapExhausted` when the space is full.
   */
  *alloc(dst: Cell<number>, fields = 1, name?: string): Action<Ref> {
    yield* this.world.readLock();
    yield this.#allocOp;
    let ref: Ref;
    try {
      const color = this.#phase === MARKING && this.allocateBlack ? this.black : this.white;
      ref = this.#place(new Array(fields).fill(NULL), name, color);
    } catch (e) {
      yield* this.world.readUnlock();
      throw e;
    }
    yield* dst.write(ref);
    yield* this.world.readUnlock();
    return ref;
  }

  /** Uses the node in `reg` (reads its first field); a use of a freed node fails. */
  *touch(reg: Cell<number>): Action<void> {
    yield* this.world.readLock();
    const obj = reg.peek();
    if (obj !== NULL) yield* this.heap.load(obj, 0);
    yield* this.world.readUnlock();
  }

  // The deletion barrier of a collector that ends marking while mutators
  // run: the old target is shaded before the store that overwrites it, by a
  // plain load and store of its mark bit; the collector finds it by scanning
  // the marks (bitmap marking: no list to push to). A collector may mark it
  // too: repeated work, never a wrong free. A collector that loads the new
  // pointer and so skips the old target counts on seeing the shade: under
  // pso the two stores drain out of order, and under ra it may read the new
  // pointer and a stale mark, unless the store is a release and the
  // collector's load an acquire (`publish`).
  *#storeShadingFirst(target: Ref, field: number, value: Ref): Action<void> {
    const old = yield* this.heap.load(target, field);
    if (this.#phase === MARKING && old !== NULL) {
      const mark = this.markOf(old);
      const v = yield* mark.read();
      if (v !== v) throw usedFreed(this.heap, old);
      if (v === this.white) {
        yield* mark.write(this.black);
        this.stats.shaded++;
      }
    }
    yield* this.heap.write(target, field, value, this.publish ? "release" : undefined);
  }

  *#shade(ref: Ref): Action<void> {
    if (yield* this.#tryMark(ref)) {
      this.stats.shaded++;
      yield* this.#grey.push(ref);
    }
  }

  // ---- the collector -----------------------------------------------------

  /**
   * One collection cycle, run by the coordinating collector fiber. With
   * several collectors it spawns the others for each parallel phase and
   * joins them. Checks completeness when the cycle ends.
   */
  *cycle(): Action<void> {
    // Stop the world: snapshot the roots, start marking.
    yield* this.world.writeLock();
    this.#checkMarksReset();
    // Garbage is taken before the roots are read: with the world stopped it
    // makes no difference, and when a broken stop lets a mutator run between
    // the reads, a node it drops meanwhile is floating garbage, not a miss.
    const garbage = this.#unreachable();
    const roots: Ref[] = [];
    for (const slot of this.heap.roots.slots) roots.push(yield* slot.read());
    this.#phase = MARKING;
    this.stats.cycles++;
    this.#tracedIn = [];
    this.#scanned = [];
    yield* this.world.writeUnlock();

    // start(r) for every root, in parallel.
    yield* this.#parallel(markShare, roots);

    // Drain what the barrier shaded meanwhile, then end marking with the
    // world stopped: drain again, and (insertion) rescan the roots.
    yield* this.#drainGrey();
    if (!this.finalStop) yield* this.#scanMarks();
    if (this.finalStop) yield* this.world.writeLock();
    yield* this.#drainGrey();
    if (this.rescan) {
      const stack: Ref[] = [];
      for (const slot of this.heap.roots.slots) {
        const r = yield* slot.read();
        if (r !== NULL && (yield* this.#tryMark(r))) stack.push(r);
      }
      yield* this.trace(stack);
    }
    this.#phase = IDLE;
    const nodes = this.#nodes.filter((r) => !this.heap.get(r).freed);
    if (this.finalStop) yield* this.world.writeUnlock();

    // finish(n) for every node, in parallel.
    yield* this.#parallel(sweepShare, nodes);

    for (const r of garbage) {
      if (!this.heap.get(r).freed) {
        throw new Violation(
          "completeness",
          `${this.heap.get(r).name} was unreachable when cycle ${this.stats.cycles} started ` +
            "but was not freed",
        );
      }
    }
  }

  // Runs `body(this, items, i, n)` on n collector fibers: n - 1 spawned, one
  // being the caller; returns when all are done.
  *#parallel(
    body: (ms: MarkSweep, items: readonly Ref[], share: number, shares: number) => Action<void>,
    items: readonly Ref[],
  ): Action<void> {
    const k = this.heap.kernel;
    const n = this.collectors;
    const helpers: Fiber[] = [];
    const me = k.current?.name ?? this.name;
    for (let i = 1; i < n; i++) helpers.push(k.spawn(`${me}.${i}`, body, this, items, i, n));
    yield* body(this, items, 0, n);
    for (const h of helpers) yield* k.join(h);
  }

  /** start(r): marks `r` and traces everything it reaches that is still white. */
  *start(r: Ref): Action<void> {
    if (r !== NULL && (yield* this.#tryMark(r))) yield* this.trace([r]);
  }

  /** Traces the marked nodes on `stack` and everything white they reach. */
  *trace(stack: Ref[]): Action<void> {
    const heap = this.heap;
    while (stack.length > 0) {
      const x = stack.pop() as Ref;
      this.stats.traced++;
      const n = (this.#tracedIn[x] ?? 0) + 1;
      this.#tracedIn[x] = n;
      if (n > 1) this.stats.retraced++;
      const fields = heap.get(x).ptrs.length;
      for (let i = 0; i < fields; i++) {
        const y = yield* heap.load(x, i, this.publish ? "acquire" : undefined);
        if (y !== NULL && (yield* this.#tryMark(y))) stack.push(y);
      }
      this.#scanned[x] = true;
    }
  }

  /** finish(n): frees `n` if it is unmarked, else resets its mark for the next cycle. */
  *finish(n: Ref): Action<void> {
    const cell = this.markOf(n);
    const v = yield* cell.read();
    if (v !== v) throw new Violation("double-free", `${this.heap.get(n).name} swept twice`);
    if (v === this.white) {
      yield* this.heap.free(n);
      yield* cell.write(POISON);
      this.stats.freed++;
    } else {
      yield* cell.write(this.white);
    }
  }

  // x.write() on the write-once cell, or the flipped version's
  // atomic(if x.read() then x.write(false)): true when this call marked it.
  *#tryMark(ref: Ref): Action<boolean> {
    const cell = this.markOf(ref);
    if (this.mark === "flip-stm") {
      return yield* Stm.of(this.heap.kernel).atomic(
        markInTx,
        cell,
        this.white,
        this.black,
        this.heap,
        ref,
      );
    }
    if (this.mark === "flip-nonatomic") {
      const v = yield* cell.read();
      if (v !== v) throw usedFreed(this.heap, ref);
      if (v !== this.white) return false;
      const again = yield* cell.swap(this.black);
      if (again !== again) throw usedFreed(this.heap, ref);
      return true;
    }
    const old = yield* cell.swap(this.black);
    if (old !== old) throw usedFreed(this.heap, ref);
    return old === this.white;
  }

  // Bitmap marking's grey set: nodes marked (by the barrier) but not traced
  // this cycle. Scans the mark bits until a pass traces nothing new.
  *#scanMarks(): Action<void> {
    for (let found = true; found;) {
      found = false;
      for (const r of this.#nodes) {
        if (this.heap.get(r).freed || this.#tracedIn[r] !== undefined) continue;
        if ((yield* this.markOf(r).read()) !== this.black) continue;
        yield* this.trace([r]);
        found = true;
      }
    }
  }

  *#drainGrey(): Action<void> {
    for (;;) {
      const r = yield* this.#grey.pop();
      if (r === NULL) return;
      yield* this.trace([r]);
    }
  }

  // Between cycles every live node must be white, or the next cycle would
  // take a stale mark for a fresh one. For `flip` this checks that finish
  // wrote true back.
  #checkMarksReset(): void {
    for (const r of this.#nodes) {
      if (this.heap.get(r).freed) continue;
      const v = this.markOf(r).peek();
      if (v !== this.white) {
        throw new Violation(
          "marks-reset",
          `${this.heap.get(r).name} is still marked when cycle ${this.stats.cycles + 1} starts`,
        );
      }
    }
  }

  // What no core can reach: under a store-buffer model a register store
  // still in the mutator's buffer keeps its target live (the collector only
  // misses it when the world was not really stopped, and then the heap's
  // safety checks judge the run).
  #unreachable(): Ref[] {
    const live = this.heap.reachableFromAnyCore();
    return this.#nodes.filter((r) => live[r] === 0 && !this.heap.get(r).freed);
  }
}

// The note's atomic(if x.read() >> x.write(false)), as a transaction.
function* markInTx(
  tx: Tx,
  cell: Cell<number>,
  white: number,
  black: number,
  heap: Heap,
  ref: Ref,
): Action<boolean> {
  const v = yield* tx.read(cell);
  if (v !== v) throw usedFreed(heap, ref);
  if (v !== white) return false;
  tx.write(cell, black);
  return true;
}

/** The marking share `share` of `shares`: start(r) for every shares-th root. */
export function* markShare(
  ms: MarkSweep,
  roots: readonly Ref[],
  share: number,
  shares: number,
): Action<void> {
  for (let i = share; i < roots.length; i += shares) yield* ms.start(roots[i]);
}

/** The sweeping share `share` of `shares`: finish(n) for every shares-th node. */
export function* sweepShare(
  ms: MarkSweep,
  nodes: readonly Ref[],
  share: number,
  shares: number,
): Action<void> {
  for (let i = share; i < nodes.length; i += shares) yield* ms.finish(nodes[i]);
}

/** A collector fiber's body: `cycles` collection cycles, back to back. */
export function* collectCycles(ms: MarkSweep, cycles: number): Action<void> {
  for (let c = 0; c < cycles; c++) yield* ms.cycle();
}

function usedFreed(heap: Heap, ref: Ref): Violation {
  return new Violation("use-after-free", `marked ${heap.get(ref).name}, which was freed`);
}

/**
 * The shared list of nodes the barrier shaded: grey, waiting to be traced.
 * It stands for a lock-protected list: under a weak memory model a push
 * releases (what the pusher stored before it, the node's mark, is published)
 * and a pop acquires.
 */
class GreyList {
  readonly id: number;
  readonly #k: Kernel;
  readonly #items: Ref[] = [];
  readonly #pushOp: Op;

  /** The shaded nodes, oldest first: for reports. */
  get items(): readonly Ref[] {
    return this.#items;
  }
  readonly #popOp: Op;

  constructor(heap: Heap, name: string) {
    this.#k = heap.kernel;
    this.id = heap.kernel.newObject(name);
    this.#pushOp = new Op("push", this.id, true);
    this.#popOp = new Op("pop", this.id, true);
  }

  *push(r: Ref): Action<void> {
    const weak = this.#k.weak;
    if (weak) yield* this.#k.releasing(this);
    yield this.#pushOp;
    if (weak) this.#k.released(this);
    this.#items.push(r);
  }

  /** The most recently pushed node, or NULL when empty. */
  *pop(): Action<Ref> {
    yield this.#popOp;
    if (this.#k.weak) this.#k.acquired(this);
    return this.#items.pop() ?? NULL;
  }
}
