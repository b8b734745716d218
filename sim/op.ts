/**
 * Operation descriptors: what a fiber is about to do, yielded before it does it.
 *
 * @module
 */
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";

/**
 * A blocking condition. A fiber whose pending operation has a guard that is
 * not ready is blocked and cannot be scheduled. Guards are polled by the
 * kernel before each step, so a primitive never has to remember to wake anyone.
 */
export interface Guard {
  /** True when `fiber` may perform its pending operation now. */
  ready(fiber: Fiber): boolean;
  /** Why `fiber` is waiting, for deadlock reports ("lock A held by t1"). */
  waitReason(fiber: Fiber): string;
  /**
   * True when `ready` reads only state that operations on this guard's
   * operation footprint write (a mutex's owner, changed only by operations on
   * that mutex). DPOR trusts footprints for such guards; any other guard
   * (one reading virtual time, or cells its operation does not name) makes
   * its operation dependent with every other step, which is sound but
   * explores more.
   */
  readonly footprintOnly?: boolean;
  /**
   * The fibers `fiber` waits for (a lock's holders, a joined fiber), for the
   * wait-for graph of reports; absent when the guard cannot name them. A
   * fiber named here keeps the guard from being ready until it takes a step
   * itself (only a holder releases its lock): DPOR relies on this to know
   * that a waiting step cannot be moved before the release it waited for.
   */
  blockers?(fiber: Fiber): readonly Fiber[];
  /**
   * True when `ready` gives the same answer whichever fiber asks (a mutex is
   * free or not). With `footprintOnly`, DPOR then keeps one record of when
   * the guard was ready for every fiber that waits on it, which tells a race
   * it can reverse (two lock takers) from one it cannot (an unlock and the
   * lock that waited for it).
   */
  readonly anyFiber?: boolean;
}

/**
 * True when `v` is an operation from this or another copy of this module (a
 * scenario file may import another checkout's `mod.ts`).
 */
export function isOp(v: unknown): v is Op {
  return v instanceof Op ||
    (typeof v === "object" && v !== null &&
      (v.constructor as { brand?: symbol })?.brand === Op.brand);
}

/**
 * An operation descriptor. Its footprint is (`obj`, `write`): two operations
 * are dependent when they touch the same object and at least one writes.
 * Locks, queues and channels count as objects that every operation on them
 * writes. Primitives create their descriptors once and yield the same object
 * each time, so the hot path allocates nothing.
 */
export class Op {
  /** The brand a kernel recognises operations by, the same in every copy of this module. */
  static readonly brand: symbol = Symbol.for("simtest.op");
  /** What kind of action this is ("read", "write", "lock", ...), for reports. */
  readonly kind: string;
  /** The id of the object touched; -1 for none. */
  readonly obj: number;
  /** True when the action may modify `obj`. */
  readonly write: boolean;
  /** The blocking condition, or null when the operation is always enabled. */
  readonly guard: Guard | null;
  /** Virtual time this operation takes, in ticks. */
  readonly cost: number;
  /**
   * A deadline in virtual time when this is a timed wait, else -1. When no
   * fiber can step, the kernel jumps the clock to the earliest deadline after
   * `now`. Writable: a timer queue shares one op among its waiters and keeps
   * its deadline at the queue's earliest, so timed waits allocate nothing.
   */
  deadline: number;
  /**
   * A second object the action touches (a condition-variable wait also
   * releases its mutex), with the same access as `obj`; -1 for none.
   */
  readonly obj2: number;
  /**
   * Further objects, each with its own access, for an operation that touches
   * more than two (`Kernel.atomic`); null for almost every operation.
   */
  readonly more: Footprint | null;

  /** Makes an operation; fibers reuse theirs rather than allocating one per step. */
  constructor(
    kind: string,
    obj: number,
    write: boolean,
    guard: Guard | null = null,
    cost = 1,
    deadline = -1,
    obj2 = -1,
    more: Footprint | null = null,
  ) {
    this.kind = kind;
    this.obj = obj;
    this.write = write;
    this.guard = guard;
    this.cost = cost;
    this.deadline = deadline;
    this.obj2 = obj2;
    this.more = more;
  }
}

/** Objects an operation touches beyond `obj` and `obj2`, and whether it writes each. */
export interface Footprint {
  /** The object ids. */
  readonly objs: readonly number[];
  /** Whether the operation writes each. */
  readonly writes: readonly boolean[];
}

/** How many (object, access) slots `op` has: `obj`, `obj2`, then `more`. Unused slots are -1. */
export function accessCount(op: Op): number {
  return op.more === null ? 2 : 2 + op.more.objs.length;
}

/** The object of slot `i` of `op` (-1 when unused). */
export function accessObj(op: Op, i: number): number {
  return i === 0 ? op.obj : i === 1 ? op.obj2 : (op.more as Footprint).objs[i - 2];
}

/** True when `op` may write the object of slot `i`. */
export function accessWrites(op: Op, i: number): boolean {
  return i < 2 ? op.write : (op.more as Footprint).writes[i - 2];
}

/** True when `op` touches object `obj` (>= 0). */
export function touches(op: Op, obj: number): boolean {
  if (op.obj === obj || op.obj2 === obj) return true;
  return op.more !== null && op.more.objs.includes(obj);
}

/**
 * True when two operations do not commute: they touch the same object and at
 * least one of them writes.
 *
 * @example
 * ```ts
 * import { assert } from "../deps.ts";
 * assert(dependent(new Op("read", 1, false), new Op("write", 1, true)));
 * assert(!dependent(new Op("read", 1, false), new Op("read", 1, false)));
 * ```
 */
export function dependent(a: Op, b: Op): boolean {
  if (opaque(a) || opaque(b)) return true;
  if (a.more !== null || b.more !== null) return dependentSlots(a, b);
  if (!a.write && !b.write) return false;
  return (a.obj >= 0 && (a.obj === b.obj || a.obj === b.obj2)) ||
    (a.obj2 >= 0 && (a.obj2 === b.obj || a.obj2 === b.obj2));
}

function dependentSlots(a: Op, b: Op): boolean {
  const na = accessCount(a);
  const nb = accessCount(b);
  for (let i = 0; i < na; i++) {
    const o = accessObj(a, i);
    if (o < 0) continue;
    const w = accessWrites(a, i);
    for (let j = 0; j < nb; j++) {
      if (accessObj(b, j) === o && (w || accessWrites(b, j))) return true;
    }
  }
  return false;
}

/** True for an operation whose guard may read state outside its footprint. */
function opaque(op: Op): boolean {
  return op.guard !== null && op.guard.footprintOnly !== true;
}

/**
 * The type of every fiber body: a generator function yielding operation
 * descriptors. It runs with `this` bound to the kernel, so a body declared
 * `function* worker(this: Kernel, c: Cell<number>)` can spawn, join, assert
 * and pause without taking the kernel as an argument.
 */
export type FiberBody<A extends unknown[] = []> = (
  this: Kernel,
  ...args: A
) => Generator<Op, unknown, void>;

/** A primitive action used with `yield*`, returning `T`. */
export type Action<T = void> = Generator<Op, T, void>;
