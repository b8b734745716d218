/**
 * Stopping the world by a handshake on shared cells instead of a lock: the
 * way runtimes stop mutators at safepoints. Each mutator raises its own
 * `busy` flag for an operation and checks the collector's `stop` flag; the
 * collector raises `stop` and waits until no mutator is busy. It is Dekker's
 * protocol: under sequential consistency at least one side sees the other's
 * flag. On x86 and SPARC each side's store may still sit in its store buffer
 * when it loads the other's flag (the SB litmus test), so both may go on:
 * each side needs a full fence between its store and its load.
 *
 * @module
 */
import type { Cell } from "../sim/cell.ts";
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import { ParkingSpot } from "./park.ts";

/** What a mark-and-sweep needs of its world lock (a `RwLock` is one). */
export interface WorldLock {
  /** A mutator operation begins: waits while the world is stopped. */
  readLock(): Action<void>;
  /** A mutator operation ends. */
  readUnlock(): Action<void>;
  /** The collector stops the world: waits until no mutator is in an operation. */
  writeLock(): Action<void>;
  /** The collector lets the world go on. */
  writeUnlock(): Action<void>;
}

/** How a handshake is built. */
export interface HandshakeOptions {
  /** Mutator fibers that take part; each gets a busy flag on its first operation. */
  readonly mutators: number;
  /** A seq_cst fence between each side's store of its flag and its load of the other's. */
  readonly fenced: boolean;
}

/**
 * A stop-the-world handshake on cells (see the module comment). Mutators
 * take slots in the order of their first operation; one collector fiber
 * stops the world at a time.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import type { Cell } from "../sim/cell.ts";
 * function* mutate(h: Handshake, c: Cell<number>) {
 *   yield* h.readLock();
 *   yield* c.write(1);
 *   yield* c.write(2);
 *   yield* h.readUnlock();
 * }
 * function* collect(h: Handshake, c: Cell<number>, seen: number[]) {
 *   yield* h.writeLock();
 *   seen.push(yield* c.read());
 *   yield* h.writeUnlock();
 * }
 * const k = new Kernel();
 * const seen: number[] = [];
 * for (let seed = 0; seed < 50; seed++) {
 *   k.reset({ cores: 0, stepsMax: 200 }, new RandomStrategy(), seed);
 *   const c = k.cell("c", 0);
 *   const h = new Handshake(k, "world", { mutators: 1, fenced: true });
 *   k.spawn("m", mutate, h, c);
 *   k.spawn("gc", collect, h, c, seen);
 *   assertEquals(k.execute().verdict, "pass");
 * }
 * // The collector never sees the operation half done.
 * assertEquals(seen.includes(1), false);
 * ```
 */
export class Handshake implements WorldLock {
  /** The handshake's name, which prefixes its cells' names. */
  readonly name: string;
  readonly #k: Kernel;
  readonly #fenced: boolean;
  readonly #stop: Cell<number>;
  readonly #busy: Cell<number>[] = [];
  readonly #idle: ParkingSpot[] = [];
  readonly #resumed: ParkingSpot;
  readonly #slots = new Map<Fiber, number>();

  /** Makes the stop flag and each mutator's busy flag (in setup). */
  constructor(k: Kernel, name: string, options: HandshakeOptions) {
    this.name = name;
    this.#k = k;
    this.#fenced = options.fenced;
    const stop = this.#stop = k.cell(`${name}.stop`, 0);
    for (let i = 0; i < options.mutators; i++) {
      const busy = k.cell(`${name}.busy${i}`, 0);
      this.#busy.push(busy);
      this.#idle.push(
        new ParkingSpot(`${name}.idle${i}`, {
          watches: busy.id,
          watchesAll: true,
          ready: () => busy.peek() === 0,
          reason: `mutator ${i} of ${name} to leave its operation`,
        }),
      );
    }
    this.#resumed = new ParkingSpot(`${name}.resumed`, {
      watches: stop.id,
      watchesAll: true,
      ready: () => stop.peek() === 0,
      reason: `the collector to restart the world (${name})`,
    });
  }

  #slot(): number {
    const me = this.#k.current as Fiber;
    let s = this.#slots.get(me);
    if (s === undefined) {
      s = this.#slots.size;
      if (s >= this.#busy.length) {
        throw new RangeError(`${this.name} has flags for ${this.#busy.length} mutators only`);
      }
      this.#slots.set(me, s);
    }
    return s;
  }

  *readLock(): Action<void> {
    const busy = this.#busy[this.#slot()];
    for (;;) {
      yield* busy.write(1);
      if (this.#fenced) yield* this.#k.fence("seq_cst");
      if ((yield* this.#stop.read("acquire")) === 0) return;
      // The world is being stopped: step back and wait.
      yield* busy.write(0, "release");
      yield* this.#resumed.park();
    }
  }

  *readUnlock(): Action<void> {
    yield* this.#busy[this.#slot()].write(0, "release");
  }

  *writeLock(): Action<void> {
    yield* this.#stop.write(1);
    if (this.#fenced) yield* this.#k.fence("seq_cst");
    for (let i = 0; i < this.#busy.length; i++) {
      while ((yield* this.#busy[i].read("acquire")) !== 0) yield* this.#idle[i].park();
    }
  }

  *writeUnlock(): Action<void> {
    yield* this.#stop.write(0, "release");
  }
}
