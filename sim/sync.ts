/**
 * Synchronization primitives: mutex, reader-writer lock, condition variable,
 * semaphore. Each blocks through a guard the kernel polls, and each operation
 * is a scheduling point whose footprint is the primitive itself.
 *
 * @module
 */
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import { type Guard, Op } from "./op.ts";
import { Violation } from "./outcome.ts";
import type { StateSource, StateWriter } from "./state.ts";

/** A mutual-exclusion lock. Unlocking a lock one does not hold is a bug. */
export class Mutex implements Guard, StateSource {
  /** The object id the lock's operations name in their footprint. */
  readonly id: number;
  /** The owner changes only by operations on this mutex. */
  readonly footprintOnly = true;
  readonly anyFiber = true;
  /** The name shown in reports and deadlock messages. */
  readonly name: string;
  #owner: Fiber | null = null;
  readonly #kernel: Kernel;
  readonly #lockOp: Op;
  readonly #unlockOp: Op;
  readonly #tryOp: Op;

  /** Makes a mutex; use `k.mutex(name)`. */
  constructor(kernel: Kernel, name: string) {
    this.#kernel = kernel;
    this.id = kernel.newObject(name);
    this.name = name;
    this.#lockOp = new Op("lock", this.id, true, this, kernel.costOf("lock"));
    kernel.offerGuard(this.#lockOp);
    this.#unlockOp = new Op("unlock", this.id, true, null, kernel.costOf("unlock"));
    this.#tryOp = new Op("trylock", this.id, true, null, kernel.costOf("trylock"));
    kernel.describe(this);
  }

  /** Guard of `lock`: the lock is free. */
  ready(): boolean {
    return this.#owner === null;
  }

  waitReason(): string {
    return `lock ${this.name} (held by ${this.#owner?.name})`;
  }

  /** A locker waits for the holder. */
  blockers(): readonly Fiber[] {
    return this.#owner === null ? [] : [this.#owner];
  }

  /** For reports: the holder. */
  describeState(out: StateWriter): void {
    out.put("lock", this.name, { kind: "mutex", holder: this.#owner?.name ?? null });
  }

  /** The fiber holding the lock, or null. */
  get owner(): Fiber | null {
    return this.#owner;
  }

  /** Waits until the lock is free, then takes it. */
  *lock(): Generator<Op, void, void> {
    yield this.#lockOp;
    this.#owner = this.#kernel.current;
    if (this.#kernel.weak) this.#kernel.acquired(this);
  }

  /** Takes the lock if it is free; says whether it did. Never blocks. */
  *tryLock(): Generator<Op, boolean, void> {
    yield this.#tryOp;
    if (this.#owner !== null) return false;
    this.#owner = this.#kernel.current;
    if (this.#kernel.weak) this.#kernel.acquired(this);
    return true;
  }

  /** @internal Drops the lock held by `fiber` inside another primitive's step. */
  release(fiber: Fiber): void {
    if (this.#owner === fiber) this.#owner = null;
  }

  /**
   * @internal Waits until `cond` signalled `fiber` and the lock is free, then
   * takes it: the second half of a condition-variable wait.
   */
  *reacquire(fiber: Fiber, cond: CondVar): Generator<Op, void, void> {
    const guard: Guard = {
      // The owner and the signal change only by operations on the mutex or
      // on the condition variable's wakeups, both in this operation's footprint.
      footprintOnly: true,
      ready: () => this.#owner === null && cond.signalled(fiber, false),
      blockers: () => this.#owner === null ? [] : [this.#owner],
      waitReason: () =>
        cond.signalled(fiber, false)
          ? `lock ${this.name} after a signal on ${cond.name} (held by ${this.#owner?.name})`
          : `a signal on ${cond.name}`,
    };
    const cost = this.#kernel.costOf("relock");
    yield new Op("relock", this.id, true, guard, cost, -1, cond.wakeId);
    cond.signalled(fiber, true);
    this.#owner = fiber;
    if (this.#kernel.weak) this.#kernel.acquired(this);
  }

  /** Releases the lock, which the calling fiber must hold. */
  *unlock(): Generator<Op, void, void> {
    if (this.#kernel.weak) yield* this.#kernel.releasing(this);
    yield this.#unlockOp;
    if (this.#kernel.weak) this.#kernel.released(this);
    const me = this.#kernel.current;
    if (this.#owner !== me) {
      throw new Violation(
        "mutex-owner",
        `${me?.name} unlocked ${this.name}, held by ${this.#owner?.name ?? "nobody"}`,
      );
    }
    this.#owner = null;
  }
}

/**
 * A reader-writer lock: any number of readers, or one writer. Taking and
 * releasing a read lock only read the lock's footprint, so readers commute
 * with each other; writers conflict with everyone.
 */
export class RwLock implements StateSource {
  /** The object id the lock's operations name in their footprint. */
  readonly id: number;
  /** The name shown in reports and deadlock messages. */
  readonly name: string;
  readonly #kernel: Kernel;
  #readers: Fiber[] = [];
  #writer: Fiber | null = null;
  readonly #readOp: Op;
  readonly #readUnlockOp: Op;
  readonly #writeOp: Op;
  readonly #writeUnlockOp: Op;

  /** Makes a reader-writer lock; use `k.rwlock(name)`. */
  constructor(kernel: Kernel, name: string) {
    this.#kernel = kernel;
    this.id = kernel.newObject(name);
    this.name = name;
    const forRead: Guard = {
      footprintOnly: true,
      anyFiber: true,
      ready: () => this.#writer === null,
      waitReason: () => `read lock ${name} (written by ${this.#writer?.name})`,
      blockers: () => this.#writer === null ? [] : [this.#writer],
    };
    const forWrite: Guard = {
      footprintOnly: true,
      anyFiber: true,
      ready: () => this.#writer === null && this.#readers.length === 0,
      waitReason: () =>
        this.#writer !== null
          ? `write lock ${name} (written by ${this.#writer.name})`
          : `write lock ${name} (read by ${this.#readers.map((f) => f.name).join(", ")})`,
      blockers: () => this.#writer === null ? this.#readers : [this.#writer],
    };
    this.#readOp = new Op("rlock", this.id, false, forRead, kernel.costOf("rlock"));
    this.#readUnlockOp = new Op("runlock", this.id, false, null, kernel.costOf("runlock"));
    this.#writeOp = new Op("wlock", this.id, true, forWrite, kernel.costOf("wlock"));
    kernel.offerGuard(this.#readOp);
    kernel.offerGuard(this.#writeOp);
    this.#writeUnlockOp = new Op("wunlock", this.id, true, null, kernel.costOf("wunlock"));
    kernel.describe(this);
  }

  /** For reports: the writer and the readers. */
  describeState(out: StateWriter): void {
    out.put("lock", this.name, {
      kind: "rwlock",
      writer: this.#writer?.name ?? null,
      readers: this.#readers.map((f) => f.name),
    });
  }

  /** The fiber holding the write lock, or null. */
  get writer(): Fiber | null {
    return this.#writer;
  }

  /** How many fibers hold the read lock. */
  get readerCount(): number {
    return this.#readers.length;
  }

  /** Waits until no writer holds the lock, then joins the readers. */
  *readLock(): Generator<Op, void, void> {
    yield this.#readOp;
    this.#readers.push(this.#kernel.current as Fiber);
    if (this.#kernel.weak) this.#kernel.acquired(this);
  }

  /** Leaves the readers; the calling fiber must be one. */
  *readUnlock(): Generator<Op, void, void> {
    // Readers publish only to writers (their unlock reads the lock's footprint).
    if (this.#kernel.weak) yield* this.#kernel.releasing(this.#readOp);
    yield this.#readUnlockOp;
    if (this.#kernel.weak) this.#kernel.released(this.#readOp);
    const me = this.#kernel.current as Fiber;
    const i = this.#readers.indexOf(me);
    if (i < 0) {
      throw new Violation("rwlock-owner", `${me.name} read-unlocked ${this.name} without reading`);
    }
    this.#readers.splice(i, 1);
  }

  /** Waits until nobody holds the lock, then takes it for writing. */
  *writeLock(): Generator<Op, void, void> {
    yield this.#writeOp;
    this.#writer = this.#kernel.current;
    if (this.#kernel.weak) {
      this.#kernel.acquired(this);
      this.#kernel.acquired(this.#readOp);
    }
  }

  /** Releases the write lock, which the calling fiber must hold. */
  *writeUnlock(): Generator<Op, void, void> {
    if (this.#kernel.weak) yield* this.#kernel.releasing(this);
    yield this.#writeUnlockOp;
    if (this.#kernel.weak) this.#kernel.released(this);
    const me = this.#kernel.current as Fiber;
    if (this.#writer !== me) {
      throw new Violation(
        "rwlock-owner",
        `${me.name} write-unlocked ${this.name}, held by ${this.#writer?.name ?? "nobody"}`,
      );
    }
    this.#writer = null;
  }
}

/**
 * A condition variable. `wait` releases the mutex and blocks until signalled,
 * then takes the mutex back. Which waiter a `signal` wakes is a recorded
 * choice, so the explorer tries each.
 */
export class CondVar implements StateSource {
  /** The list of waiters: waits and signals touch it. */
  readonly id: number;
  /**
   * @internal The signals not yet taken up: signals that wake someone write
   * it, and a signalled fiber's wakeup reads and takes its own. Apart from
   * `id`, so a signal with nobody to wake commutes with wakeups.
   */
  readonly wakeId: number;
  /** The name shown in reports and deadlock messages. */
  readonly name: string;
  readonly #kernel: Kernel;
  /** Waiting fibers, in the order they started waiting. */
  #waiting: Fiber[] = [];
  /** Fibers signalled but not yet holding the mutex again. */
  #woken = new Set<Fiber>();
  readonly #waitOps = new Map<Mutex, Op>();
  readonly #signalOp: Op;
  /** What a signal or broadcast with no waiter touches: it only reads who waits. */
  readonly #idleSignalOp: Op;

  /** Makes a condition variable; use `k.condvar(name)`. */
  constructor(kernel: Kernel, name: string) {
    this.#kernel = kernel;
    this.id = kernel.newObject(name);
    this.wakeId = kernel.newObject(`${name}.wake`);
    this.name = name;
    const cost = kernel.costOf("signal");
    this.#signalOp = new Op("signal", this.id, true, null, cost, -1, this.wakeId);
    this.#idleSignalOp = new Op("signal", this.id, false, null, cost);
    kernel.describe(this);
  }

  /** For reports: who waits, who was signalled and has yet to retake the mutex. */
  describeState(out: StateWriter): void {
    out.put("lock", this.name, {
      kind: "condvar",
      waiting: this.#waiting.map((f) => f.name),
      signalled: [...this.#woken].map((f) => f.name),
    });
  }

  /** How many fibers are waiting and not yet signalled. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Releases `mutex` (which the caller holds), waits for a signal, retakes `mutex`. */
  *wait(mutex: Mutex): Generator<Op, void, void> {
    let op = this.#waitOps.get(mutex);
    if (op === undefined) {
      // Waiting also releases the mutex: both are in the footprint.
      op = new Op("wait", this.id, true, null, this.#kernel.costOf("wait"), -1, mutex.id);
      this.#waitOps.set(mutex, op);
    }
    if (this.#kernel.weak) yield* this.#kernel.releasing(mutex);
    yield op;
    if (this.#kernel.weak) this.#kernel.released(mutex);
    const me = this.#kernel.current as Fiber;
    if (mutex.owner !== me) {
      throw new Violation(
        "condvar-mutex",
        `${me.name} waited on ${this.name} without ${mutex.name}`,
      );
    }
    mutex.release(me);
    this.#waiting.push(me);
    yield* mutex.reacquire(me, this);
  }

  /** Wakes one waiting fiber, if any; which one is a recorded choice. */
  *signal(): Generator<Op, void, void> {
    yield this.#signalOp;
    if (this.#waiting.length === 0) {
      // Nobody to wake: the step only read the waiting list, so it commutes
      // with other signals and with the wakeups of fibers signalled before.
      this.#kernel.narrowStep(this.#idleSignalOp);
      return;
    }
    const i = this.#kernel.choose(this.#waiting.length, "condvar");
    this.#woken.add(this.#waiting[i]);
    this.#waiting.splice(i, 1);
  }

  /** Wakes every waiting fiber. */
  *broadcast(): Generator<Op, void, void> {
    yield this.#signalOp;
    if (this.#waiting.length === 0) this.#kernel.narrowStep(this.#idleSignalOp);
    for (const f of this.#waiting) this.#woken.add(f);
    this.#waiting.length = 0;
  }

  /** @internal Whether `fiber` was signalled; consumes the signal when `take`. */
  signalled(fiber: Fiber, take: boolean): boolean {
    const has = this.#woken.has(fiber);
    if (has && take) this.#woken.delete(fiber);
    return has;
  }
}

/** A counting semaphore. */
export class Semaphore implements Guard, StateSource {
  /** The object id the semaphore's operations name in their footprint. */
  readonly id: number;
  /** Permits change only by operations on this semaphore. */
  readonly footprintOnly = true;
  readonly anyFiber = true;
  /** The name shown in reports and deadlock messages. */
  readonly name: string;
  #permits: number;
  readonly #kernel: Kernel;
  readonly #acquireOp: Op;
  readonly #releaseOp: Op;

  /** Makes a semaphore with `permits` permits; use `k.semaphore(name, permits)`. */
  constructor(kernel: Kernel, name: string, permits: number) {
    if (!Number.isInteger(permits) || permits < 0) {
      throw new RangeError(`Cannot create semaphore ${name} with ${permits} permits`);
    }
    this.#kernel = kernel;
    this.id = kernel.newObject(name);
    this.name = name;
    this.#permits = permits;
    this.#acquireOp = new Op("acquire", this.id, true, this, kernel.costOf("acquire"));
    kernel.offerGuard(this.#acquireOp);
    this.#releaseOp = new Op("release", this.id, true, null, kernel.costOf("release"));
    kernel.describe(this);
  }

  /** For reports: the permits left. */
  describeState(out: StateWriter): void {
    out.put("lock", this.name, { kind: "semaphore", permits: this.#permits });
  }

  /** Permits available now. */
  get permits(): number {
    return this.#permits;
  }

  ready(): boolean {
    return this.#permits > 0;
  }

  waitReason(): string {
    return `a permit of ${this.name}`;
  }

  /** Waits for a permit and takes it. */
  *acquire(): Generator<Op, void, void> {
    yield this.#acquireOp;
    this.#permits--;
    if (this.#kernel.weak) this.#kernel.acquired(this);
  }

  /** Returns a permit. */
  *release(): Generator<Op, void, void> {
    if (this.#kernel.weak) yield* this.#kernel.releasing(this);
    yield this.#releaseOp;
    if (this.#kernel.weak) this.#kernel.released(this);
    this.#permits++;
  }
}
