/**
 * Load balancing: the alternative to work stealing, where a dispatcher
 * places each task on the least-loaded worker instead of idle workers
 * taking work from busy ones.
 *
 * @module
 */
import type { Cell } from "../sim/cell.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import { Channel, type Retrieved } from "./channel.ts";

/** How a balancer is built. */
export interface BalancerOptions {
  /** How many workers. */
  readonly workers: number;
  /** Capacity of each worker's queue: a full queue makes `assign` wait. */
  readonly capacity: number;
}

/**
 * A dispatcher's view of its workers: one bounded channel per worker and a
 * load counter per worker (tasks assigned and not yet finished). `assign`
 * reads the loads and posts to the lowest; the reads are not atomic with the
 * post, so the choice is a heuristic, never a correctness matter.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * function* dispatch(lb: Balancer<number>, picked: number[]) {
 *   for (let t = 0; t < 3; t++) picked.push(yield* lb.assign(t));
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 1);
 * const lb = new Balancer<number>(k, "lb", { workers: 2, capacity: 4 });
 * const picked: number[] = [];
 * k.spawn("d", dispatch, lb, picked);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(picked, [0, 1, 0]);
 * ```
 */
export class Balancer<T> {
  /** The balancer's name, which prefixes its cells' names. */
  readonly name: string;
  readonly #queues: Channel<T>[] = [];
  readonly #loads: Cell<number>[] = [];

  /** Makes the channels and load counters (in setup). */
  constructor(kernel: Kernel, name: string, options: BalancerOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`Cannot balance over ${options.workers} workers: need at least 1`);
    }
    this.name = name;
    for (let w = 0; w < options.workers; w++) {
      this.#queues.push(new Channel<T>(kernel, `${name}.q${w}`, { capacity: options.capacity }));
      this.#loads.push(kernel.cell(`${name}.load${w}`, 0));
    }
  }

  /** Places `task` on the least-loaded worker (the lowest index on a tie); gives that worker. */
  *assign(task: T): Action<number> {
    let best = 0;
    let bestLoad = Infinity;
    for (let w = 0; w < this.#loads.length; w++) {
      const load = yield* this.#loads[w].read();
      if (load < bestLoad) {
        best = w;
        bestLoad = load;
      }
    }
    yield* this.#loads[best].fetchAdd(1);
    const r = yield* this.#queues[best].post(task);
    if (r.tag === "closed") {
      throw new Error(`${this.name}: assigned a task after close`);
    }
    return best;
  }

  /** The next task of `worker`, waiting for one; `closed` once closed and drained. */
  next(worker: number): Action<Retrieved<T>> {
    return this.#queues[worker].retrieve();
  }

  /** Called by `worker` when it has finished a task. */
  *finished(worker: number): Action<void> {
    yield* this.#loads[worker].fetchAdd(-1);
  }

  /** No more tasks: workers drain their queues, then get `closed`. */
  *close(): Action<void> {
    for (const q of this.#queues) yield* q.close();
  }
}
