/**
 * Channels: the only way simulated threads talk to each other (the first
 * seed note). A synchronized FIFO over a ring of shared cells.
 *
 * @module
 */
import type { Cell } from "../sim/cell.ts";
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import { type Action, type Guard, Op } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import type { StateSource, StateWriter } from "../sim/state.ts";
import { Faults } from "./faults.ts";

/**
 * A deliberate bug, so the explorer can prove it tells a channel apart from
 * a broken one.
 *
 * - `racy-enqueue`: a producer claims its position by reading the tail and
 *   then writing tail + 1, instead of one compare-and-swap; two producers can
 *   claim the same slot.
 * - `racy-close`: "closed" is a flag of its own, checked before the tail is
 *   claimed, instead of a bit of the tail; a post can slip in after a
 *   consumer has seen the channel closed and drained.
 * - `relaxed-publish`: a producer publishes a slot's stamp with a plain
 *   store instead of a release read-modify-write; under a weak memory model
 *   (pso, ra) a consumer may see the stamp before the value.
 *
 * The correct channel's orderings: a producer's stamp swap is acq_rel (it
 * publishes the value and takes the slot back from the consumer of the last
 * lap), a consumer reads the stamp with acquire and frees the slot with a
 * release store.
 */
export type ChannelFlaw = "racy-enqueue" | "racy-close" | "relaxed-publish";

/** How a channel is built. */
export interface ChannelOptions {
  /**
   * Messages the channel holds before `post` waits (pushback). "unbounded"
   * never waits; it fails once it holds `lengthMax` messages.
   */
  readonly capacity: number | "unbounded";
  /** The limit of an unbounded channel; 1024 unless given. */
  readonly lengthMax?: number;
  /** A deliberate bug for a broken variant, or null for the correct channel. */
  readonly flaw?: ChannelFlaw | null;
  /**
   * Whether the channel asserts its own protocol (default true): a producer
   * writes only into a slot free for its position, the tail never goes
   * backwards, and no post reopens a closed channel. Turn them off to judge a
   * flawed channel by its users' end-to-end checks alone; then a producer
   * that finds the tail gone backwards skips the position, as a spinning
   * producer that gives up on it would.
   */
  readonly selfChecks?: boolean;
}

/** What a blocking `post` gives: the message is in, or the channel is closed. */
export type Posted = { readonly tag: "ok" } | { readonly tag: "closed" };
/** What `tryPost` gives: as `post`, or `full` when it would have to wait. */
export type TryPosted = Posted | { readonly tag: "full" };
/** What a blocking `retrieve` gives: a message, or closed (and drained). */
export type Retrieved<T> = { readonly tag: "ok"; readonly value: T } | { readonly tag: "closed" };
/** What `tryRetrieve` gives: as `retrieve`, or `empty` when it would have to wait. */
export type TryRetrieved<T> = Retrieved<T> | { readonly tag: "empty" };

const OK: Posted = Object.freeze({ tag: "ok" });
const CLOSED: { readonly tag: "closed" } = Object.freeze({ tag: "closed" });
const FULL: TryPosted = Object.freeze({ tag: "full" });
const EMPTY: { readonly tag: "empty" } = Object.freeze({ tag: "empty" });

const LENGTH_MAX_DEFAULT = 1024;
/** Positions stay below this so tails and stamps (2 * position) stay exact. */
const POSITIONS_MAX = 2 ** 50;

interface Slot<T> {
  /**
   * The slot's stamp (Vyukov's sequence number, doubled): 2p while free for
   * a producer at position p, 2p + 1 once filled at p, 2(p + ring) once
   * consumed. Vyukov's p / p + 1 would make "filled at p" and "free for
   * p + 1" the same number on a one-slot ring.
   */
  readonly stamp: Cell<number>;
  readonly value: Cell<T | undefined>;
  /** Waits for the slot to be freed, or for the channel to close. */
  readonly spaceOp: Op;
  /** Waits for the slot to be filled (a producer claimed it and is writing). */
  readonly itemOp: Op;
  /** Waits for the slot to be filled, or for the channel to close. */
  readonly itemOrCloseOp: Op;
}

/**
 * A multi-producer, multi-consumer FIFO channel. It is Vyukov's bounded
 * queue: a ring of slots, each with a stamp (a sequence number); a producer claims a
 * position with a compare-and-swap on `tail`, a consumer with one on `head`.
 * "Closed" is the low bit of `tail` (as in crossbeam), so a post and a close
 * cannot both win. Every cell access is a scheduling point; waiting is a
 * guard on the slot's stamp cell, never a spin.
 *
 * The channel also asserts its own protocol (a producer writes only into a
 * slot that is free for its position), so a broken claim is reported where
 * it happens, as the message loss it causes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * function* producer(ch: Channel<number>) {
 *   for (let i = 0; i < 3; i++) yield* ch.post(i);
 *   yield* ch.close();
 * }
 * function* consumer(ch: Channel<number>, got: number[]) {
 *   for (;;) {
 *     const r = yield* ch.retrieve();
 *     if (r.tag === "closed") return;
 *     got.push(r.value);
 *   }
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 7);
 * const ch = new Channel<number>(k, "ch", { capacity: 1 });
 * const got: number[] = [];
 * k.spawn("p", producer, ch);
 * k.spawn("c", consumer, ch, got);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(got, [0, 1, 2]);
 * ```
 */
export class Channel<T> implements StateSource {
  /** The channel's name, which prefixes its cells' names. */
  readonly name: string;
  /** Messages held before `post` waits; Infinity when unbounded. */
  readonly capacity: number;
  /** The deliberate bug this channel has, or null. */
  readonly flaw: ChannelFlaw | null;
  /** Whether the channel asserts its own protocol (`ChannelOptions.selfChecks`). */
  readonly selfChecks: boolean;
  readonly #k: Kernel;
  readonly #ring: number;
  /** The next position a consumer takes. */
  readonly #head: Cell<number>;
  /** 2 * (the next position a producer takes) + 1 when closed. */
  readonly #tail: Cell<number>;
  /** The separate closed flag of the `racy-close` flaw. */
  readonly #closedFlag: Cell<boolean> | null;
  readonly #slots: (Slot<T> | undefined)[] = [];
  /** Per fiber id: the stamp the fiber's wait needs to see. */
  readonly #want: number[] = [];
  /** Ghost: a close has taken effect (the tail's closed bit, once set, stays set). */
  #closeDone = false;
  readonly #faults: Faults;

  /** Makes a channel and its cells (in setup). */
  constructor(kernel: Kernel, name: string, options: ChannelOptions) {
    const { capacity } = options;
    if (capacity !== "unbounded" && (!Number.isInteger(capacity) || capacity < 1)) {
      throw new RangeError(
        `Cannot create channel ${name} with capacity ${capacity}: need an integer >= 1 or "unbounded"`,
      );
    }
    const lengthMax = options.lengthMax ?? LENGTH_MAX_DEFAULT;
    if (!Number.isInteger(lengthMax) || lengthMax < 1) {
      throw new RangeError(`Cannot create channel ${name} with lengthMax ${lengthMax}`);
    }
    this.#k = kernel;
    this.#faults = Faults.of(kernel);
    this.name = name;
    this.flaw = options.flaw ?? null;
    this.selfChecks = options.selfChecks ?? true;
    this.capacity = capacity === "unbounded" ? Infinity : capacity;
    this.#ring = capacity === "unbounded" ? lengthMax : capacity;
    this.#head = kernel.cell(`${name}.head`, 0);
    this.#tail = kernel.cell(`${name}.tail`, 0);
    this.#closedFlag = this.flaw === "racy-close" ? kernel.cell(`${name}.closed`, false) : null;
    // An unbounded channel's ring is long: its slots come into being when
    // first used, so a short run does not pay for the limit.
    if (capacity !== "unbounded") { for (let i = 0; i < capacity; i++) this.#slot(i); }
    kernel.describe(this);
  }

  /**
   * For reports: the positions consumers and producers take next, whether
   * it is closed, and the values in the slots between them, oldest first
   * (a slot a producer has claimed but not yet filled shows undefined).
   */
  describeState(out: StateWriter): void {
    const head = this.#head.peek();
    const tail = this.#tail.peek();
    const items: unknown[] = [];
    for (let p = head; p < tail >> 1 && items.length < this.#ring; p++) {
      items.push(this.#slots[p % this.#ring]?.value.peek());
    }
    out.put("chan", this.name, { head, tail: tail >> 1, closed: (tail & 1) === 1, items });
  }

  #slot(i: number): Slot<T> {
    const have = this.#slots[i];
    if (have !== undefined) return have;
    const k = this.#k;
    const stamp = k.cell(`${this.name}.stamp[${i}]`, 2 * i);
    const value = k.cell<T | undefined>(`${this.name}.slot[${i}]`, undefined);
    const want = this.#want;
    // The closed state lives in the tail (or in a separate flag in the racy
    // variant): with it as the wait's second object, the guard reads only its
    // footprint, which DPOR can then trust.
    const closedId = this.#closedFlag !== null ? this.#closedFlag.id : this.#tail.id;
    const space: Guard = {
      footprintOnly: true,
      ready: (f: Fiber) => stamp.peek() >= want[f.id] || this.#closedNow(),
      waitReason: () => `space in channel ${this.name} (slot ${i} holds an undelivered message)`,
    };
    const item: Guard = {
      // Reads only the stamp cell, this operation's footprint (and the
      // fiber's own ticket).
      footprintOnly: true,
      ready: (f: Fiber) => stamp.peek() >= want[f.id],
      waitReason: (f: Fiber) =>
        `a message in channel ${this.name} (position ${(want[f.id] - 1) / 2} is claimed, ` +
        "not yet written)",
    };
    const itemOrClose: Guard = {
      footprintOnly: true,
      ready: (f: Fiber) => stamp.peek() >= want[f.id] || this.#closedNow(),
      waitReason: () => `a message in channel ${this.name} (empty)`,
    };
    const slot: Slot<T> = {
      stamp,
      value,
      spaceOp: new Op("wait-space", stamp.id, false, space, 1, -1, closedId),
      itemOp: new Op("wait-item", stamp.id, false, item),
      itemOrCloseOp: new Op("wait-item", stamp.id, false, itemOrClose, 1, -1, closedId),
    };
    this.#slots[i] = slot;
    return slot;
  }

  #closedNow(): boolean {
    return this.#closedFlag !== null ? this.#closedFlag.peek() : (this.#tail.peek() & 1) === 1;
  }

  #wait(op: Op, stamp: number): Action<void> {
    this.#want[(this.#k.current as Fiber).id] = stamp;
    return waitOn(op);
  }

  /**
   * Posts `value`, waiting while the channel is full (pushback). A marked
   * place: a `delay` fault holds the message back for a few ticks first,
   * which may reorder it after other senders' messages, never its own.
   */
  *post(value: T): Action<Posted> {
    if (this.#faults.on) yield* this.#faults.wait("delay");
    for (;;) {
      const r = yield* this.#tryPost(value, true);
      if (r !== FULL) return r as Posted;
    }
  }

  /** Posts `value` unless the channel is full or closed; never waits. */
  tryPost(value: T): Action<TryPosted> {
    return this.#tryPost(value, false);
  }

  // One attempt; with `block`, a full slot is waited for and FULL returned so
  // the caller starts over with a fresh tail.
  *#tryPost(value: T, block: boolean): Action<TryPosted> {
    const tail = this.#tail;
    const closedFlag = this.#closedFlag;
    let t = yield* tail.read();
    for (;;) {
      if (closedFlag !== null ? yield* closedFlag.read() : (t & 1) === 1) return CLOSED;
      const pos = Math.floor(t / 2);
      if (pos >= POSITIONS_MAX) {
        throw new RangeError(`channel ${this.name} ran out of positions (${POSITIONS_MAX})`);
      }
      const slot = this.#slot(pos % this.#ring);
      const s = yield* slot.stamp.read("acquire");
      if (s === 2 * pos) {
        if (yield* this.#claimTail(t)) {
          yield* this.#fill(slot, pos, value);
          return OK;
        }
        t = yield* tail.read();
      } else if (s < 2 * pos) {
        // The slot still holds the message from one lap ago: full.
        if (this.capacity === Infinity) {
          throw new RangeError(
            `unbounded channel ${this.name} holds ${this.#ring} messages, its lengthMax: ` +
              "a producer without a consumer?",
          );
        }
        if (!block) return FULL;
        yield* this.#wait(slot.spaceOp, 2 * pos);
        return FULL;
      } else {
        // Another producer filled this position already, so it moved the
        // tail past it: a tail that has not moved went backwards.
        const again = yield* tail.read();
        if (again === t && !this.selfChecks) {
          t += 2;
          continue;
        }
        if (again === t) {
          this.#lost(
            `${slot.value.name} is filled at position ${pos} (stamp ${s}), yet the tail is still ` +
              `at ${pos}: the tail went backwards, so the next post overwrites a message`,
          );
        }
        t = again;
      }
    }
  }

  *#claimTail(t: number): Action<boolean> {
    let won = true;
    if (this.flaw === "racy-enqueue") {
      // The flaw: a plain write after the earlier read of the tail.
      yield* this.#tail.write(t + 2);
    } else {
      won = yield* this.#tail.cas(t, t + 2);
    }
    if (this.selfChecks && this.#closeDone && !this.#closedNow()) {
      throw new Violation(
        "nothing-after-close",
        `${this.#k.current?.name} wrote ${this.#tail.name} over the close of ${this.name}: ` +
          "the channel is open again, so a post after the close gets in",
      );
    }
    return won;
  }

  *#fill(slot: Slot<T>, pos: number, value: T): Action<void> {
    yield* slot.value.write(value);
    if (this.selfChecks) this.#checkClaim(slot, pos, "wrote into");
    if (this.flaw === "relaxed-publish") {
      // The flaw: a plain store, which may overtake the value's store.
      yield* slot.stamp.write(2 * pos + 1);
      return;
    }
    const before = yield* slot.stamp.swap(2 * pos + 1, "acq_rel");
    if (this.selfChecks && before !== 2 * pos) this.#doubleClaim(slot, pos, before, "published");
  }

  #checkClaim(slot: Slot<T>, pos: number, what: string): void {
    const stamp = slot.stamp.peek();
    if (stamp !== 2 * pos) this.#doubleClaim(slot, pos, stamp, what);
  }

  #doubleClaim(slot: Slot<T>, pos: number, stamp: number, what: string): never {
    this.#lost(
      `${what} ${slot.value.name} for position ${pos}, but its stamp is ${stamp}, not ` +
        `${2 * pos} (free at ${pos}): two producers claimed position ${pos}, so a message is lost`,
    );
  }

  #lost(why: string): never {
    throw new Violation("no-lost-message", `${this.#k.current?.name}: ${why}`);
  }

  /**
   * Takes the oldest message, waiting while the channel is empty and open.
   * A marked place: a `delay` fault holds the consumer back a few ticks first.
   */
  *retrieve(): Action<Retrieved<T>> {
    if (this.#faults.on) yield* this.#faults.wait("delay");
    for (;;) {
      const r = yield* this.#tryRetrieve(true);
      if (r !== EMPTY) return r as Retrieved<T>;
    }
  }

  /** Takes the oldest message unless the channel is empty (or closed and drained). */
  tryRetrieve(): Action<TryRetrieved<T>> {
    return this.#tryRetrieve(false);
  }

  *#tryRetrieve(block: boolean): Action<TryRetrieved<T>> {
    const head = this.#head;
    let h = yield* head.read();
    for (;;) {
      const slot = this.#slot(h % this.#ring);
      const s = yield* slot.stamp.read("acquire");
      if (s === 2 * h + 1) {
        if (yield* head.cas(h, h + 1)) {
          const value = yield* slot.value.read();
          yield* slot.stamp.write(2 * (h + this.#ring), "release");
          return { tag: "ok", value: value as T };
        }
        h = yield* head.read();
      } else if (s < 2 * h + 1) {
        // Nothing published at h: either nobody claimed h (empty, or closed
        // and drained), or a producer claimed it and is still writing.
        const t = yield* this.#tail.read();
        const claimed = Math.floor(t / 2) > h;
        if (!claimed && (yield* this.#closed(t))) return CLOSED;
        if (!block) return EMPTY;
        yield* this.#wait(claimed ? slot.itemOp : slot.itemOrCloseOp, 2 * h + 1);
        return EMPTY;
      } else {
        // Another consumer took position h already.
        h = yield* head.read();
      }
    }
  }

  *#closed(t: number): Action<boolean> {
    return this.#closedFlag !== null ? yield* this.#closedFlag.read() : (t & 1) === 1;
  }

  /**
   * Closes the channel: later posts give `closed`; consumers drain what was
   * posted before, then get `closed`. Closing twice is harmless.
   */
  *close(): Action<void> {
    if (this.#closedFlag !== null) {
      yield* this.#closedFlag.write(true);
      return;
    }
    const tail = this.#tail;
    let t = yield* tail.read();
    while ((t & 1) === 0 && !(yield* tail.cas(t, t + 1))) t = yield* tail.read();
    this.#closeDone = true;
  }

  /** Messages in the channel now, for checks: not a scheduling point. */
  peekLength(): number {
    return Math.floor(this.#tail.peek() / 2) - this.#head.peek();
  }

  /** True once closed, for checks: not a scheduling point. */
  peekClosed(): boolean {
    return this.#closedNow();
  }
}

function* waitOn(op: Op): Action<void> {
  yield op;
}
