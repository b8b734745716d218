/**
 * Shared memory cells: the unit of shared state and of footprints.
 *
 * @module
 */
import type { CellOps, Kernel } from "./kernel.ts";
import type { Op } from "./op.ts";
import { checkOrdering, type Ordering } from "./ordering.ts";

/**
 * A shared memory cell. Every access is a scheduling point with a footprint.
 * `peek` and `poke` are for checks and setup: they are not scheduling points.
 *
 * Every access takes an optional ordering (C11's). Under sequential
 * consistency (the default memory model) orderings change nothing; under a
 * weak model (`tso`, `pso`) the kernel makes cells whose orderings matter.
 */
export class Cell<T> {
  /** The object id the cell's operations name in their footprint. */
  readonly id: number;
  /** The name shown in the final state and reports. */
  readonly name: string;
  #value: T;
  readonly #ops: CellOps;

  readonly #kernel: Kernel;

  /** Makes a cell; use `k.cell(name, init)`. */
  constructor(kernel: Kernel, name: string, init: T) {
    this.#kernel = kernel;
    this.id = kernel.newObject(name);
    this.name = name;
    this.#value = init;
    this.#ops = kernel.cellOps(this.id);
  }

  /** Reads the value. */
  *read(order?: Ordering): Generator<Op, T, void> {
    if (order !== undefined) checkOrdering("load", order);
    yield this.#ops.read;
    return this.#value;
  }

  /** Writes `value`. */
  *write(value: T, order?: Ordering): Generator<Op, void, void> {
    if (order !== undefined) checkOrdering("store", order);
    yield this.#ops.write;
    this.#value = value;
  }

  /** Writes `value` if the cell holds `expected` (by ===); says whether it did. */
  *cas(expected: T, value: T, order?: Ordering): Generator<Op, boolean, void> {
    if (order !== undefined) checkOrdering("rmw", order);
    yield this.#ops.rmw;
    if (this.#value !== expected) return false;
    this.#value = value;
    return true;
  }

  /** Writes `value` and returns what was there. */
  *swap(value: T, order?: Ordering): Generator<Op, T, void> {
    if (order !== undefined) checkOrdering("rmw", order);
    yield this.#ops.rmw;
    const old = this.#value;
    this.#value = value;
    return old;
  }

  /** Adds `delta` atomically and returns the old value. */
  *fetchAdd(this: Cell<number>, delta: number, order?: Ordering): Generator<Op, number, void> {
    if (order !== undefined) checkOrdering("rmw", order);
    yield this.#ops.rmw;
    const old = this.#value;
    this.#value = old + delta;
    return old;
  }

  /** The value, for checks and inside `k.atomic`: not a scheduling point. */
  peek(): T {
    if (this.#kernel.inAtomic) this.#kernel.checkAtomicAccess(this, false);
    return this.#value;
  }

  /** Sets the value outside the schedule: in setup, or inside `k.atomic`. */
  poke(value: T): void {
    if (this.#kernel.inAtomic) this.#kernel.checkAtomicAccess(this, true);
    this.#value = value;
  }
}
