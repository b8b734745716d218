/**
 * Atomic regions (seed note 001: "an atomic region has a transaction"): a
 * software transactional memory over the kernel's cells.
 *
 * A transaction reads cells through its read set (each entry remembers the
 * version and value it saw) and buffers its writes. Its commit is one step:
 * it validates the read set and publishes every write at once, or aborts
 * and the body runs again. Each read checks its snapshot first (TL2's rule
 * with timestamp extension), so even a transaction that will abort never
 * sees a mix of old and new state. Nested atomic regions are closed-nested:
 * an inner abort re-runs only the inner region, an inner commit merges its
 * sets into the enclosing one.
 *
 * A transaction is an atomic region of the fiber that runs it: it is the
 * innermost region of kind `atomic` in the fiber's scope. README.md, section
 * "Atomic regions", states how it meets the other regions.
 *
 * @module
 */
import type { Cell } from "../sim/cell.ts";
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import { type Action, Op } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import type { LogicalRegion, RegionScope } from "./logical_region.ts";

/** The body of an atomic region: the transaction, then the caller's arguments. */
export type TxBody<A extends unknown[], T> = (tx: Tx, ...args: A) => Generator<Op, T, void>;

/** Where a transaction's send goes once it commits: a channel, a queue. */
export interface Sink<M> {
  /** The action that delivers `message` when the transaction commits. */
  post(message: M): Action<unknown>;
}

/**
 * Sees what transactions do, to judge them independently of this module
 * (`TxHistory` in `atomic_check.ts`). `attempt` numbers every run of a
 * top-level body; `depth` is 0 for the top level, 1 for a region nested in
 * it, and so on.
 */
export interface TxObserver {
  /** A top-level attempt begins. */
  begin(attempt: number, fiber: Fiber): void;
  /** A nested region at `depth` begins (or begins again after an inner abort). */
  enter(attempt: number, depth: number): void;
  /** The nested region at `depth` aborted: its reads no longer count. */
  leaveAborted(attempt: number, depth: number): void;
  /** The nested region at `depth` committed into its parent. */
  leaveCommitted(attempt: number, depth: number): void;
  /** A read of shared state (not of the transaction's own buffered writes). */
  read(attempt: number, depth: number, cell: Cell<unknown>, value: unknown): void;
  /** Called in the commit step, before `writes` are published. */
  commit(attempt: number, writes: ReadonlyArray<readonly [Cell<unknown>, unknown]>): void;
  /** The top-level attempt aborted. */
  abort(attempt: number): void;
}

/** How a transaction manager is built; the broken variants leave a piece out. */
export interface StmOptions {
  /** Commit validates the read set (default true). Without it, updates get lost. */
  readonly validate?: boolean;
  /**
   * Each read checks that the snapshot still holds before its value is used
   * (default true). Without it, a doomed transaction can see inconsistent
   * state until its commit fails: opacity is lost.
   */
  readonly snapshot?: boolean;
  /**
   * `closed` (default): an inner abort discards only the inner region's
   * reads and writes. `flat-abort`: it discards the enclosing regions'
   * buffered writes too, yet only the inner region runs again (a bug).
   */
  readonly nesting?: "closed" | "flat-abort";
  /** Aborts of one atomic call, inner ones included, before the run ends with `step-limit`. */
  readonly retriesMax?: number;
  /** Sees every read, commit and abort: the checkers. */
  readonly observer?: TxObserver | null;
}

/** Counts of one run, for benches and tests. */
export interface StmStats {
  /** Top-level commits. */
  commits: number;
  /** Top-level aborts: at commit, or when a read finds the outermost read set stale. */
  aborts: number;
  /** Aborts of a nested region only. */
  innerAborts: number;
}

/** The number of aborts of one atomic call unless the scenario says otherwise. */
export const RETRIES_MAX_DEFAULT = 1_000;

interface ReadEntry {
  readonly cell: Cell<unknown>;
  readonly version: number;
  readonly value: unknown;
}

interface Send {
  readonly sink: Sink<unknown>;
  readonly message: unknown;
}

/** One level of a transaction: the top level or a nested region. */
class Level {
  readonly reads: Map<number, ReadEntry> = new Map();
  readonly writes: Map<number, [Cell<unknown>, unknown]> = new Map();
  readonly sends: Send[] = [];
}

/** Thrown inside a transaction to abort the level at `depth`; its atomic call catches it. */
class TxAbort extends Error {
  readonly tx: Tx;
  readonly depth: number;
  constructor(tx: Tx, depth: number) {
    super(`transaction of ${tx.owner.name} aborted at depth ${depth}`);
    this.name = "TxAbort";
    this.tx = tx;
    this.depth = depth;
  }
}

/** The scope a fiber runs in inside an atomic region. */
export class AtomicRegion implements RegionScope {
  /** What kind of region this is. */
  readonly kind = "atomic";
  /** The region's name. */
  readonly name: string;
  readonly parent: RegionScope | null;
  readonly logical: LogicalRegion | null;
  readonly realStart: number;
  /** The fiber running the transaction; fibers spawned inside are not part of it. */
  readonly owner: Fiber;
  /** The transaction the region's reads and writes go through. */
  readonly tx: Tx;
  /** How deeply the region is nested in other atomic regions (0 at the top). */
  readonly depth: number;

  /** Makes the scope of a region inside `parent`; `Regions.atomic` does this. */
  constructor(parent: RegionScope | null, tx: Tx, depth: number) {
    this.parent = parent;
    this.logical = parent?.logical ?? null;
    this.realStart = parent?.realStart ?? 0;
    this.owner = tx.owner;
    this.tx = tx;
    this.depth = depth;
    this.name = `tx${tx.attempt}.${depth}`;
  }
}

/**
 * The innermost atomic region `fiber` itself runs in, or null. Walks out
 * through real-time regions; a logical region ends the walk, because a
 * transaction never encloses one (`sim` inside a transaction is refused).
 */
export function atomicRegionOf(fiber: Fiber): AtomicRegion | null {
  for (let s = fiber.scope as RegionScope | null; s !== null; s = s.parent) {
    if (s.kind === "logical") return null;
    if (s instanceof AtomicRegion && s.owner === fiber) return s;
  }
  return null;
}

/**
 * A transaction: what an atomic body gets as its first argument. Reads go
 * through it and writes are buffered in it until the commit.
 */
export class Tx {
  /** The fiber running the transaction. */
  readonly owner: Fiber;
  /** Numbers the attempts of every transaction of the run, from 1. */
  attempt = 0;
  /** Aborts so far of this atomic call, inner ones included. */
  retries = 0;
  /**
   * The newest version among the reads so far. Every read is consistent with
   * the state at the last snapshot check (or the first read); a cell whose
   * version is no newer was written before that point and is still current,
   * so it is consistent too and needs no check. Taking versions from the
   * reads, not from the global clock, keeps the clock out of every step but
   * the commits.
   */
  #rv = 0;
  readonly #stm: Stm;
  readonly #levels: Level[] = [];

  /** Starts a transaction of `owner`; `Stm` does this for each attempt. */
  constructor(stm: Stm, owner: Fiber) {
    this.#stm = stm;
    this.owner = owner;
  }

  /** The nesting depth of the innermost open level: 0 at the top. */
  get depth(): number {
    return this.#levels.length - 1;
  }

  /** Reads `cell` in the transaction: its own buffered write, or shared state (a step). */
  *read<T>(cell: Cell<T>): Action<T> {
    this.#check("read");
    const levels = this.#levels;
    for (let d = levels.length - 1; d >= 0; d--) {
      const w = levels[d].writes.get(cell.id);
      if (w !== undefined) return w[1] as T;
    }
    const value = yield* cell.read();
    const stm = this.#stm;
    const version = stm.versionOf(cell);
    // A cell read before keeps its first entry: if it has changed since,
    // the snapshot check below finds that entry stale.
    let before = 0;
    let again = false;
    for (const level of levels) {
      before += level.reads.size;
      if (level.reads.has(cell.id)) again = true;
    }
    if (!again) {
      levels[levels.length - 1].reads.set(cell.id, { cell: cell as Cell<unknown>, version, value });
    }
    if (stm.snapshot && version > this.#rv) {
      // The value may be newer than the earlier reads. The snapshot check
      // reads every cell read so far: its own step, with a footprint that
      // covers them (the read's names only `cell`).
      if (before > 0) {
        yield stm.checkOp(this);
        this.#extend();
      }
      this.#rv = version;
    }
    stm.observer?.read(this.attempt, levels.length - 1, cell as Cell<unknown>, value);
    return value;
  }

  /** Buffers a write of `value` to `cell`, published when the transaction commits. */
  write<T>(cell: Cell<T>, value: T): void {
    this.#check("write");
    this.#levels[this.#levels.length - 1].writes.set(cell.id, [cell as Cell<unknown>, value]);
  }

  /**
   * Buffers a send of `message` to `sink`: the fiber posts it after the
   * commit, in order with the transaction's other sends. An aborted
   * attempt's sends are dropped.
   */
  send<M>(sink: Sink<M>, message: M): void {
    this.#check("send");
    this.#levels[this.#levels.length - 1].sends.push({
      sink: sink as Sink<unknown>,
      message,
    });
  }

  // ---- used by Stm -------------------------------------------------------

  /** Starts a top-level attempt. */
  begin(attempt: number): void {
    this.attempt = attempt;
    this.#levels.length = 0;
    this.#levels.push(new Level());
    this.#rv = 0;
  }

  /** Opens a nested level and gives its depth. */
  enter(): number {
    this.#levels.push(new Level());
    return this.#levels.length - 1;
  }

  /** Drops the levels from `depth` in; with `flat`, also the writes and sends of the others. */
  dropFrom(depth: number, flat: boolean): void {
    this.#levels.length = depth;
    if (!flat) return;
    for (const level of this.#levels) {
      level.writes.clear();
      level.sends.length = 0;
    }
  }

  /** Merges the innermost level into its parent (an inner commit). */
  mergeInner(): void {
    const inner = this.#levels.pop() as Level;
    const parent = this.#levels[this.#levels.length - 1];
    for (const [id, e] of inner.reads) if (!parent.reads.has(id)) parent.reads.set(id, e);
    for (const [id, w] of inner.writes) parent.writes.set(id, w);
    for (const s of inner.sends) parent.sends.push(s);
  }

  /** True when every read of every level still holds. */
  valid(): boolean {
    for (const level of this.#levels) {
      for (const e of level.reads.values()) if (!this.#stm.holds(e)) return false;
    }
    return true;
  }

  /**
   * The footprint of a step over every cell the open levels read or write:
   * ids, and whether the step writes each (only a commit writes, and only
   * the cells it publishes).
   */
  footprint(commit: boolean): { objs: number[]; writes: boolean[] } {
    const objs: number[] = [];
    const writes: boolean[] = [];
    for (const level of this.#levels) {
      for (const id of level.writes.keys()) {
        const i = objs.indexOf(id);
        if (i < 0) objs.push(id), writes.push(commit);
        else writes[i] ||= commit;
      }
      for (const id of level.reads.keys()) {
        if (!objs.includes(id)) objs.push(id), writes.push(false);
      }
    }
    return { objs, writes };
  }

  /**
   * The top level's writes and sends, once the top level is all that is left.
   *
   * @ignore internal to the transaction manager
   */
  get outcome(): Level {
    return this.#levels[0];
  }

  // A read saw a version newer than the snapshot. If every read so far (the
  // new one included: it may have changed since its step) still holds, the
  // snapshot moves up to now. Otherwise the outermost level holding a stale read aborts:
  // closed nesting re-runs only as much as it must.
  #extend(): void {
    const levels = this.#levels;
    for (let d = 0; d < levels.length; d++) {
      for (const e of levels[d].reads.values()) {
        if (!this.#stm.holds(e)) throw new TxAbort(this, d);
      }
    }
  }

  #check(what: string): void {
    const me = this.#stm.kernel.current;
    if (me !== this.owner || this.#levels.length === 0) {
      throw new Error(
        `Cannot ${what} in ${this.owner.name}'s transaction from ` +
          `${
            me?.name ?? "outside any fiber"
          }: a transaction belongs to the fiber in its atomic region`,
      );
    }
  }
}

/**
 * The transaction manager of one run: `Stm.of(kernel)`, set up with
 * `configure` in setup. `Regions.atomic` runs bodies through it.
 *
 * Cells a transaction reads must be written only by transactions, or while
 * no transaction can run (the mark-and-sweep writes its marks outside them,
 * in another phase): validation compares versions and values, and DPOR
 * relies on commits being the only other writers.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel, type Cell } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * function* move(tx: Tx, from: Cell<number>, to: Cell<number>) {
 *   const a = yield* tx.read(from);
 *   const b = yield* tx.read(to);
 *   tx.write(from, a - 1);
 *   tx.write(to, b + 1);
 * }
 * function* mover(stm: Stm, from: Cell<number>, to: Cell<number>) {
 *   yield* stm.atomic(move, from, to);
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 3);
 * const stm = Stm.of(k);
 * const [x, y] = [k.cell("x", 5), k.cell("y", 5)];
 * k.spawn("a", mover, stm, x, y);
 * k.spawn("b", mover, stm, y, x);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals([x.peek() + y.peek(), stm.stats.commits], [10, 2]);
 * ```
 */
export class Stm {
  /** The kernel of the run. */
  readonly kernel: Kernel;
  /** Commits published so far: the global version clock. */
  clock = 0;
  /** Whether commits validate reads (off: a broken variant that commits stale reads). */
  validate = true;
  /** Whether reads see one snapshot (off: reads may mix states). */
  snapshot = true;
  /** How nested regions abort: on their own (`closed`) or with the whole transaction. */
  nesting: "closed" | "flat-abort" = "closed";
  /** Attempts before a transaction gives up. */
  retriesMax: number = RETRIES_MAX_DEFAULT;
  /** Told of every commit and abort, for checks. */
  observer: TxObserver | null = null;
  /** Commits and aborts so far in the run. */
  readonly stats: StmStats = { commits: 0, aborts: 0, innerAborts: 0 };
  readonly #id: number;
  readonly #cost: { commit: number; check: number };
  /** The version of each cell, by id: the clock of the commit that last wrote it. */
  readonly #versions: number[] = [];
  #attempts = 0;

  /** The transaction manager of the kernel's current run, made on first use. */
  static of(kernel: Kernel): Stm {
    return kernel.attached(Stm, (k) => new Stm(k));
  }

  private constructor(kernel: Kernel) {
    this.kernel = kernel;
    this.#id = kernel.newObject("stm");
    this.#cost = { commit: kernel.costOf("commit"), check: kernel.costOf("snapshot-check") };
  }

  /** Sets how transactions behave in this run (setup only). */
  configure(options: StmOptions): this {
    const retriesMax = options.retriesMax ?? RETRIES_MAX_DEFAULT;
    if (!Number.isInteger(retriesMax) || retriesMax < 0) {
      throw new RangeError(`Cannot allow ${retriesMax} retries: need an integer >= 0`);
    }
    this.validate = options.validate ?? true;
    this.snapshot = options.snapshot ?? true;
    this.nesting = options.nesting ?? "closed";
    this.retriesMax = retriesMax;
    this.observer = options.observer ?? null;
    return this;
  }

  /** The version of `cell`: the commit that last wrote it, 0 for none. */
  versionOf(cell: Cell<unknown>): number {
    return this.#versions[cell.id] ?? 0;
  }

  /**
   * True when a read still holds: same version, same value.
   *
   * @ignore internal to the transaction manager
   */
  holds(e: ReadEntry): boolean {
    return this.versionOf(e.cell) === e.version && Object.is(e.cell.peek(), e.value);
  }

  /**
   * Runs `body(tx, ...args)` as a transaction and returns its result once it
   * commits. Inside another atomic region of the same fiber it is a closed
   * nested transaction.
   */
  *atomic<A extends unknown[], T>(body: TxBody<A, T>, ...args: A): Action<T> {
    const me = this.kernel.current;
    if (me === null) throw new Error("Cannot run an atomic region outside a fiber");
    const enclosing = atomicRegionOf(me);
    if (enclosing !== null) return yield* this.#nested(enclosing.tx, me, body, args);
    const tx = new Tx(this, me);
    const outer = me.scope;
    for (;;) {
      tx.begin(++this.#attempts);
      this.observer?.begin(tx.attempt, me);
      me.scope = new AtomicRegion(outer as RegionScope | null, tx, 0);
      let result: T;
      try {
        result = yield* body(tx, ...args);
        yield this.#footprint(tx, "commit", true, this.#cost.commit);
      } catch (e) {
        me.scope = outer;
        if (!(e instanceof TxAbort) || e.tx !== tx) throw e;
        this.#aborted(tx, me);
        continue;
      }
      me.scope = outer;
      if (this.#publish(tx)) {
        const sends = tx.outcome.sends;
        for (let i = 0; i < sends.length; i++) yield* sends[i].sink.post(sends[i].message);
        return result;
      }
      this.#aborted(tx, me);
    }
  }

  *#nested<A extends unknown[], T>(
    tx: Tx,
    me: Fiber,
    body: TxBody<A, T>,
    args: A,
  ): Action<T> {
    const outer = me.scope;
    for (;;) {
      const depth = tx.enter();
      this.observer?.enter(tx.attempt, depth);
      me.scope = new AtomicRegion(outer as RegionScope | null, tx, depth);
      try {
        const result = yield* body(tx, ...args);
        me.scope = outer;
        tx.mergeInner();
        this.observer?.leaveCommitted(tx.attempt, depth);
        return result;
      } catch (e) {
        me.scope = outer;
        if (!(e instanceof TxAbort) || e.tx !== tx || e.depth !== depth) throw e;
        tx.dropFrom(depth, this.nesting === "flat-abort");
        this.observer?.leaveAborted(tx.attempt, depth);
        this.stats.innerAborts++;
        this.#countRetry(tx, me);
      }
    }
  }

  /** @internal The operation of a snapshot check of `tx`: it reads every cell `tx` read. */
  checkOp(tx: Tx): Op {
    return this.#footprint(tx, "snapshot-check", false, this.#cost.check);
  }

  // A commit reads its read set and writes its write set in one step; its
  // footprint names every one of those cells (Op.more past two), so DPOR
  // orders it against exactly the steps that touch them.
  #footprint(tx: Tx, kind: string, commit: boolean, cost: number): Op {
    const { objs, writes } = tx.footprint(commit);
    if (objs.length === 0) return this.kernel.plainOp(this.#id, 3, kind, false, cost);
    if (objs.length === 1) return this.kernel.plainOp(objs[0], 3, kind, writes[0], cost);
    const more = { objs: objs.slice(1), writes: writes.slice(1) };
    return new Op(kind, objs[0], writes[0], null, cost, -1, -1, more);
  }

  // The commit step: validate, then publish every write under one new version.
  #publish(tx: Tx): boolean {
    if (this.validate && !tx.valid()) return false;
    const writes = [...tx.outcome.writes.values()];
    this.observer?.commit(tx.attempt, writes);
    if (writes.length > 0) {
      const version = ++this.clock;
      for (const [cell, value] of writes) {
        cell.poke(value);
        this.#versions[cell.id] = version;
      }
    }
    this.stats.commits++;
    return true;
  }

  #aborted(tx: Tx, me: Fiber): void {
    this.stats.aborts++;
    this.observer?.abort(tx.attempt);
    this.#countRetry(tx, me);
  }

  #countRetry(tx: Tx, me: Fiber): void {
    if (++tx.retries > this.retriesMax) {
      throw new Violation(
        "retry-limit",
        `${me.name}'s transaction aborted ${tx.retries} times (the bound is ${this.retriesMax}): ` +
          "a livelock of conflicting transactions, or an unfair schedule?",
        "step-limit",
      );
    }
  }
}
