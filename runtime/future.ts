/**
 * Single-assignment futures: what a send to a process gives back.
 *
 * @module
 */
import type { Kernel } from "../sim/kernel.ts";
import { type Action, type Guard, Op } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";

/**
 * A value that will be assigned once. `join` waits until it is; resolving
 * twice is a bug (`future-single-assignment`). Resolving writes the future's
 * footprint and joining reads it, so the explorer orders the two.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * function* waiter(f: Future<number>, out: number[]) { out.push(yield* f.join()); }
 * function* resolver(f: Future<number>) { yield* f.resolve(42); }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 3);
 * const f = new Future<number>(k, "f");
 * const out: number[] = [];
 * k.spawn("w", waiter, f, out);
 * k.spawn("r", resolver, f);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(out, [42]);
 * ```
 */
export class Future<T> implements Guard {
  /** The object id resolving and joining name in their footprint. */
  readonly id: number;
  /** The future's name. */
  readonly name: string;
  #resolved = false;
  #value: T | undefined = undefined;
  readonly #resolveOp: Op;
  readonly #joinOp: Op;
  readonly #kernel: Kernel;

  /** Makes an unresolved future. */
  constructor(kernel: Kernel, name: string) {
    this.#kernel = kernel;
    this.id = kernel.newObject(name);
    this.name = name;
    this.#resolveOp = new Op("resolve", this.id, true);
    this.#joinOp = new Op("join", this.id, false, this);
  }

  /** Only `resolve`, an operation on this future, changes it. */
  readonly footprintOnly = true;
  readonly anyFiber = true;

  ready(): boolean {
    return this.#resolved;
  }

  waitReason(): string {
    return `future ${this.name}`;
  }

  /**
   * Assigns the value; a second assignment is a bug. Under a weak memory
   * model resolving releases (the resolver's earlier stores are published)
   * and joining acquires, as for a lock.
   */
  *resolve(value: T): Action<void> {
    if (this.#kernel.weak) yield* this.#kernel.releasing(this);
    yield this.#resolveOp;
    if (this.#kernel.weak) this.#kernel.released(this);
    if (this.#resolved) {
      throw new Violation("future-single-assignment", `future ${this.name} resolved twice`);
    }
    this.#value = value;
    this.#resolved = true;
  }

  /** Waits until the value is assigned and gives it. */
  *join(): Action<T> {
    yield this.#joinOp;
    if (this.#kernel.weak) this.#kernel.acquired(this);
    return this.#value as T;
  }

  /** True once resolved, for checks: not a scheduling point. */
  peekResolved(): boolean {
    return this.#resolved;
  }
}

/**
 * Joins `value` and, while what comes back is itself a future, joins that
 * too: a pipeline's answer is a future of a future of its last stage's
 * output.
 */
export function* settle(value: unknown): Action<unknown> {
  let v = value;
  while (v instanceof Future) v = yield* v.join();
  return v;
}
