/**
 * Parking: an idle fiber waits, without spinning, until a condition holds.
 *
 * @module
 */
import type { Fiber } from "../sim/fiber.ts";
import { readsAs } from "../sim/memory.ts";
import { parkAcquires } from "../sim/ra.ts";
import { type Action, type Footprint, type Guard, Op } from "../sim/op.ts";

/** How a parking spot is built. */
export interface ParkingOptions {
  /**
   * The ids of the objects whose writes make `ready` true (a queue's bottom
   * and top, a flag): the footprint of the wait, read-only.
   */
  readonly watches: number | readonly number[];
  /**
   * True when `ready` reads only the watched objects; DPOR then trusts the
   * footprint. Leave it out when `ready` reads anything else.
   */
  readonly watchesAll?: boolean;
  /** True when a parked fiber may go on; reads state with `peek`, never an action. */
  readonly ready: () => boolean;
  /** What a parked fiber waits for, for deadlock reports. */
  readonly reason: string;
}

/**
 * Where idle workers wait for work. `park` is one scheduling point that is
 * enabled only while `ready()` holds: the kernel's guard polling stands in
 * for a futex, so there is no wake-up to lose and no spin to starve others.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import type { Cell } from "../sim/cell.ts";
 * function* waiter(p: ParkingSpot) { yield* p.park(); }
 * function* setter(c: Cell<boolean>) { yield* c.write(true); }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 1);
 * const flag = k.cell("flag", false);
 * const p = new ParkingSpot("p", { watches: flag.id, ready: () => flag.peek(), reason: "the flag" });
 * k.spawn("w", waiter, p);
 * k.spawn("s", setter, flag);
 * assertEquals(k.execute().verdict, "pass");
 * ```
 */
export class ParkingSpot implements Guard {
  /** The spot's name, shown in deadlock messages. */
  readonly name: string;
  readonly footprintOnly: boolean;
  readonly #op: Op;
  readonly #ready: () => boolean;
  readonly #reason: string;

  /** Makes a parking spot whose waiters wake when `options.ready()` holds. */
  constructor(name: string, options: ParkingOptions) {
    this.name = name;
    this.#ready = options.ready;
    this.#reason = options.reason;
    const ids = typeof options.watches === "number" ? [options.watches] : options.watches;
    if (ids.length === 0) {
      throw new RangeError(`Cannot make parking spot ${name}: it watches nothing`);
    }
    // Past two objects, the rest go in the operation's extra footprint, all read.
    const more: Footprint | null = ids.length > 2
      ? { objs: ids.slice(2), writes: ids.slice(2).map(() => false) }
      : null;
    this.footprintOnly = options.watchesAll === true;
    this.#op = new Op("park", ids[0], false, this, 1, -1, ids[1] ?? -1, more);
  }

  /**
   * The condition as the parked fiber's own loads would see it: under a weak
   * memory model that includes the stores its core still buffers.
   */
  ready(fiber: Fiber): boolean {
    return readsAs(fiber, this.#ready);
  }

  waitReason(): string {
    return this.#reason;
  }

  /**
   * Waits until the condition holds. Under `ra` the fiber then has seen
   * what the condition read, as if by acquire loads (see `parkAcquires`).
   */
  *park(): Action<void> {
    yield this.#op;
    parkAcquires(this.#ready);
  }
}
