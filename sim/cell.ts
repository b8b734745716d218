/**
 * Shared memory cells: the unit of shared state and of footprints.
 *
 * @module
 */
import type { Kernel } from "./kernel.ts";
import { Op } from "./op.ts";

/**
 * A shared memory cell. Every access is a scheduling point with a footprint.
 * `peek` and `poke` are for checks and setup: they are not scheduling points.
 */
export class Cell<T> {
  readonly id: number;
  readonly name: string;
  #value: T;
  readonly #readOp: Op;
  readonly #writeOp: Op;
  readonly #rmwOp: Op;

  constructor(kernel: Kernel, name: string, init: T) {
    this.id = kernel.newObject(name);
    this.name = name;
    this.#value = init;
    this.#readOp = new Op("read", this.id, false, null, kernel.costOf("read"));
    this.#writeOp = new Op("write", this.id, true, null, kernel.costOf("write"));
    this.#rmwOp = new Op("rmw", this.id, true, null, kernel.costOf("rmw"));
  }

  /** Reads the value. */
  *read(): Generator<Op, T, void> {
    yield this.#readOp;
    return this.#value;
  }

  /** Writes `value`. */
  *write(value: T): Generator<Op, void, void> {
    yield this.#writeOp;
    this.#value = value;
  }

  /** Writes `value` if the cell holds `expected` (by ===); says whether it did. */
  *cas(expected: T, value: T): Generator<Op, boolean, void> {
    yield this.#rmwOp;
    if (this.#value !== expected) return false;
    this.#value = value;
    return true;
  }

  /** Writes `value` and returns what was there. */
  *swap(value: T): Generator<Op, T, void> {
    yield this.#rmwOp;
    const old = this.#value;
    this.#value = value;
    return old;
  }

  /** Adds `delta` atomically and returns the old value. */
  *fetchAdd(this: Cell<number>, delta: number): Generator<Op, number, void> {
    yield this.#rmwOp;
    const old = this.#value;
    this.#value = old + delta;
    return old;
  }

  /** The value, for checks: not a scheduling point. */
  peek(): T {
    return this.#value;
  }

  /** Sets the value outside the schedule (setup only). */
  poke(value: T): void {
    this.#value = value;
  }
}
