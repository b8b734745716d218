/**
 * Messages between contexts (the fourth seed note): built in the sender's
 * heap, announced through a comms matrix, read in place by the receiver under
 * a reader-writer lock against the sender's compacting collector.
 *
 * @module
 */
import type { Cell } from "../sim/cell.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import { Arena } from "./arena.ts";
import { Compaction } from "./compaction.ts";
import type { CopyStats } from "./copying.ts";
import { type Heap, type LocalRefs, NULL, type Ref } from "./heap.ts";
import { ParkingSpot } from "./park.ts";

/**
 * A deliberate bug: `no-gc-lock` has receivers read in place without taking
 * the sender's collector lock, so a compaction can move and free a message
 * under a reader.
 */
export type CommsFlaw = "no-gc-lock";

/** How a context is built. */
export interface ContextOptions {
  /** Bytes of each of the context's two semispaces. */
  readonly bytes: number;
  /** A deliberate bug for a broken variant, or null for the correct context. */
  readonly flaw?: CommsFlaw | null;
}

/**
 * A context: its own heap region (two semispaces, compacted from one into
 * the other by its own thread) and a reader-writer lock that in-place
 * readers from other contexts take against that compaction.
 */
export class Context {
  /** The context's name. */
  readonly name: string;
  /** The heap it allocates in. */
  readonly heap: Heap;
  /** Its compaction: the lock readers take, and the collector. */
  readonly compaction: Compaction;
  readonly #spaces: readonly [Arena, Arena];
  #current = 0;
  /** The roots of messages this context has sent and not yet seen taken. */
  readonly #outboxRoots: Cell<number>[] = [];

  /** Makes a context, its semispaces and its lock (in setup). */
  constructor(heap: Heap, name: string, options: ContextOptions) {
    this.name = name;
    this.heap = heap;
    this.#spaces = [
      new Arena(heap, `${name}.heap0`, options.bytes),
      new Arena(heap, `${name}.heap1`, options.bytes),
    ];
    this.compaction = new Compaction(heap, {
      guard: options.flaw === "no-gc-lock" ? "none" : "rwlock",
      name: `${name}.gc-lock`,
    });
  }

  /** Where the context allocates now. */
  get arena(): Arena {
    return this.#spaces[this.#current];
  }

  /** @internal A root slot for an outgoing message. */
  outboxSlot(name: string): Cell<number> {
    const c = this.heap.roots.global(`${this.name}.${name}`);
    this.#outboxRoots.push(c);
    return c;
  }

  /**
   * The context's own compacting collection: copies what its outboxes still
   * hold into the other semispace, under the write lock, and switches to it.
   */
  *collect(): Action<CopyStats> {
    const from = this.#spaces[this.#current];
    const to = this.#spaces[1 - this.#current];
    const stats = yield* this.compaction.compact(from, to, { roots: this.#outboxRoots });
    this.#current = 1 - this.#current;
    return stats;
  }
}

/** One sender-receiver pair of the matrix. */
class Link {
  /** Messages the sender has announced (the comms matrix entry). */
  readonly posted: Cell<number>;
  /** Messages the receiver has read and marked done. */
  readonly taken: Cell<number>;
  /** Root slots of messages in flight; message i uses slot i % slots. */
  readonly slots: Cell<number>[] = [];
  readonly hasMessage: ParkingSpot;
  readonly hasRoom: ParkingSpot;
  readonly readerRefs: LocalRefs;

  constructor(k: Kernel, from: Context, to: Context, slots: number) {
    const name = `${from.name}->${to.name}`;
    this.posted = k.cell(`comms[${name}].posted`, 0);
    this.taken = k.cell(`comms[${name}].taken`, 0);
    for (let i = 0; i < slots; i++) this.slots.push(from.outboxSlot(`out[${to.name}][${i}]`));
    const posted = this.posted, taken = this.taken;
    this.hasMessage = new ParkingSpot(`${name}.inbox`, {
      watches: [posted.id, taken.id],
      watchesAll: true,
      ready: () => posted.peek() > taken.peek(),
      reason: `a message from ${from.name}`,
    });
    this.hasRoom = new ParkingSpot(`${name}.outbox`, {
      watches: [taken.id, posted.id],
      watchesAll: true,
      ready: () => taken.peek() > posted.peek() - slots,
      reason: `${to.name} to take a message (the outbox to ${to.name} is full)`,
    });
    this.readerRefs = from.heap.roots.locals(`${to.name}.reading-${from.name}`, 1);
  }
}

/**
 * The comms matrix between contexts: a count of messages announced and a
 * count taken, per ordered pair. A message is a list of words built in the
 * sender's heap; the receiver walks it in place (zero copy) holding the
 * sender's collector lock for reading, then marks it done. A slot is reused
 * only once its message is taken; the sender then drops that message's root,
 * and its next collection lets it go.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import { Heap } from "./heap.ts";
 * function* sender(m: CommsMatrix, a: Context, b: Context) {
 *   yield* m.send(a, b, [1, 2, 3]);
 *   yield* a.collect(); // moves the message while b may be reading it
 * }
 * function* receiver(m: CommsMatrix, a: Context, b: Context, got: number[][]) {
 *   got.push(yield* m.receive(b, a));
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 4);
 * const heap = new Heap(k);
 * const a = new Context(heap, "A", { bytes: 256 });
 * const b = new Context(heap, "B", { bytes: 256 });
 * const m = new CommsMatrix(k, [a, b], { slots: 1 });
 * const got: number[][] = [];
 * k.spawn("A", sender, m, a, b);
 * k.spawn("B", receiver, m, a, b, got);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(got, [[1, 2, 3]]);
 * ```
 */
export class CommsMatrix {
  /** The contexts, in order. */
  readonly contexts: readonly Context[];
  readonly #links = new Map<string, Link>();

  /** Makes the counters of every ordered pair of contexts (in setup). */
  constructor(kernel: Kernel, contexts: readonly Context[], options: { readonly slots: number }) {
    if (!Number.isInteger(options.slots) || options.slots < 1) {
      throw new RangeError(`Cannot build a comms matrix with ${options.slots} slots a pair`);
    }
    this.contexts = contexts;
    for (const from of contexts) {
      for (const to of contexts) {
        if (from !== to) this.#links.set(key(from, to), new Link(kernel, from, to, options.slots));
      }
    }
  }

  #link(from: Context, to: Context): Link {
    const l = this.#links.get(key(from, to));
    if (l === undefined) throw new RangeError(`No comms link ${from.name} -> ${to.name}`);
    return l;
  }

  /** Messages announced from `from` to `to`, for checks: not a scheduling point. */
  peekPosted(from: Context, to: Context): number {
    return this.#link(from, to).posted.peek();
  }

  /**
   * Sends `words` from `from` to `to`: builds the message in `from`'s heap,
   * roots it in an outbox slot (dropping the message taken before it), then
   * bumps the matrix entry. Waits while every slot holds an untaken message.
   * The sender never touches the message again.
   */
  *send(from: Context, to: Context, words: readonly number[]): Action<void> {
    const link = this.#link(from, to);
    yield* link.hasRoom.park();
    const n = yield* link.posted.read();
    const arena = from.arena;
    const slot = link.slots[n % link.slots.length];
    // Built back to front, each node rooted as soon as it exists, so a
    // collection between two allocations keeps what is built so far.
    yield* slot.write(NULL);
    let head: Ref = NULL;
    for (let i = words.length - 1; i >= 0; i--) {
      head = yield* arena.alloc({ ptrs: [yield* slot.read()], imms: [words[i]] });
      yield* slot.write(head);
    }
    // A release: the message and its root reach memory before the count
    // that announces it (PSO would otherwise let the count overtake them).
    yield* link.posted.write(n + 1, "release");
  }

  /**
   * Waits for the next message from `from`, reads it in place under `from`'s
   * collector lock, marks it done and gives its words.
   */
  *receive(at: Context, from: Context): Action<number[]> {
    const link = this.#link(from, at);
    yield* link.hasMessage.park();
    const n = yield* link.taken.read();
    const slot = link.slots[n % link.slots.length];
    const heap = from.heap;
    const refs = link.readerRefs;
    const words: number[] = [];
    yield* from.compaction.beginRead();
    for (let r = yield* slot.read(); r !== NULL; r = yield* heap.load(r, 0)) {
      refs.set(0, r);
      words.push(yield* heap.readImm(r, 0));
    }
    refs.clear();
    yield* from.compaction.endRead();
    yield* link.taken.write(n + 1, "release");
    return words;
  }
}

function key(from: Context, to: Context): string {
  return `${from.name}->${to.name}`;
}
