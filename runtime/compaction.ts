/**
 * Compaction guarded by a reader-writer lock (seed notes on communication
 * between contexts): another context reads messages in place in this
 * context's heap; the compacting collector must not move them under it.
 *
 * @module
 */
import type { Cell, RwLock } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import type { Arena } from "./arena.ts";
import { CopyingCollector, type CopyingOptions, type CopyStats } from "./copying.ts";
import type { Heap } from "./heap.ts";

/**
 * How readers are kept out of a compaction. `rwlock` (correct): readers
 * hold the read lock while they read in place, the compactor holds the write
 * lock. `none` (broken): readers read whenever they like.
 */
export type CompactionGuard = "rwlock" | "none";

/** Options of a guarded compaction. */
export interface CompactionOptions extends CopyingOptions {
  /** `rwlock` by default. */
  readonly guard?: CompactionGuard;
  /** The lock's name in reports; `gc-lock` by default. */
  readonly name?: string;
}

/**
 * The compaction API: `compact` moves everything live out of one arena into
 * another under the write lock; readers bracket every in-place read with
 * `beginRead` and `endRead`, and must not keep pointers across them (the
 * compactor rewrites roots, not a reader's private references).
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import { Arena } from "./arena.ts";
 * import { Heap } from "./heap.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 3);
 * const heap = new Heap(k);
 * const startup = new Arena(heap, "startup", 256);
 * const global = new Arena(heap, "global", 256);
 * const msg = heap.roots.global("outbox", startup.place({ imms: [42] }));
 * const compaction = new Compaction(heap);
 * let seen = 0;
 * k.spawn("reader", function* () {
 *   yield* compaction.beginRead();
 *   seen = yield* heap.readImm(yield* msg.read(), 0);
 *   yield* compaction.endRead();
 * });
 * k.spawn("gc", function* () {
 *   yield* compaction.compact(startup, global, { seal: true });
 * });
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(seen, 42);
 * assertEquals(global.space.sealed, true);
 * ```
 */
export class Compaction {
  /** The heap compacted. */
  readonly heap: Heap;
  /** What readers take against compaction. */
  readonly guard: CompactionGuard;
  /** The reader-writer lock behind the guard. */
  readonly lock: RwLock;
  /** The collector that moves objects. */
  readonly collector: CopyingCollector;
  /** Compactions completed. */
  count = 0;
  /**
   * The arena the last compaction moved everything into (null before the
   * first): where the context's objects live now, and so where it
   * allocates. Changed with the write lock held.
   */
  live: Arena | null = null;

  /** Makes the lock and the collector (in setup). */
  constructor(heap: Heap, options: CompactionOptions = {}) {
    this.heap = heap;
    this.guard = options.guard ?? "rwlock";
    this.lock = heap.kernel.rwlock(options.name ?? "gc-lock");
    this.collector = new CopyingCollector(heap, options);
  }

  /** Starts reading in place: no compaction runs until `endRead`. */
  *beginRead(): Action<void> {
    if (this.guard === "rwlock") yield* this.lock.readLock();
  }

  /** Ends an in-place read. */
  *endRead(): Action<void> {
    if (this.guard === "rwlock") yield* this.lock.readUnlock();
  }

  /**
   * Compacts: under the write lock, copies everything reachable from `roots`
   * out of `from` into `to` and resets `from`. With `seal`, `to` takes no
   * more objects afterwards (the fixed global heap).
   */
  *compact(
    from: Arena,
    to: Arena,
    options: { readonly roots?: readonly Cell<number>[]; readonly seal?: boolean } = {},
  ): Action<CopyStats> {
    yield* this.lock.writeLock();
    const stats = yield* this.collector.collect(from, to, options.roots);
    if (options.seal) to.seal();
    this.live = to;
    this.count++;
    yield* this.lock.writeUnlock();
    return stats;
  }
}

/**
 * A context's heap as two semispaces: it allocates in the live one; a flip
 * compacts the live one into the other, which becomes live.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import { Arena } from "./arena.ts";
 * import { Heap } from "./heap.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 1);
 * const heap = new Heap(k);
 * const semi = new Semispaces(new Compaction(heap), [new Arena(heap, "a", 256), new Arena(heap, "b", 256)]);
 * heap.roots.global("g", semi.live.place({ imms: [1] }));
 * k.spawn("gc", function* () {
 *   yield* semi.flip();
 *   yield* semi.flip();
 * });
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(semi.live.name, "a");
 * ```
 */
export class Semispaces {
  /** The compaction that flips. */
  readonly compaction: Compaction;
  /** The two arenas; the first is live at the start. */
  readonly arenas: readonly [Arena, Arena];

  /** Makes the semispaces over two arenas (in setup). */
  constructor(compaction: Compaction, arenas: readonly [Arena, Arena]) {
    this.compaction = compaction;
    this.arenas = arenas;
  }

  /** The arena objects live and are allocated in now (it changes under the write lock). */
  get live(): Arena {
    return this.compaction.live ?? this.arenas[0];
  }

  /** Compacts the live arena into the other one. */
  *flip(): Action<CopyStats> {
    const from = this.live;
    return yield* this.compaction.compact(
      from,
      from === this.arenas[0] ? this.arenas[1] : this.arenas[0],
    );
  }
}
