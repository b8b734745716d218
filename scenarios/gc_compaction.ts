/**
 * Reading messages in place against compaction (seed note on communication
 * between contexts): a receiver in another context reads messages directly
 * in the sender's heap while the sender's collector compacts that heap.
 *
 * @module
 */
import { z } from "zod";
import { Arena } from "../runtime/arena.ts";
import { Compaction, Semispaces } from "../runtime/compaction.ts";
import { Heap, type LocalRefs, NULL, type Ref } from "../runtime/heap.ts";
import type { Cell, Semaphore } from "../sim/kernel.ts";
import { Violation } from "../sim/outcome.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

/** The sender's context: a compacting heap of two semispaces. */
interface Context {
  readonly heap: Heap;
  readonly semi: Semispaces;
}

/** Builds each message (a list of `length` cells, garbage between them) and posts it. */
function* sender(
  ctx: Context,
  outbox: Cell<number>[],
  sent: Semaphore,
  length: number,
  garbage: number,
) {
  const lock = ctx.semi.compaction.lock;
  for (let m = 0; m < outbox.length; m++) {
    // The context's own worker always stops for compaction: it allocates and
    // holds pointers only inside the read lock.
    yield* lock.readLock();
    const arena = ctx.semi.live;
    let list: Ref = NULL;
    for (let i = length - 1; i >= 0; i--) {
      for (let g = 0; g < garbage; g++) yield* arena.alloc({ imms: [-1] });
      list = yield* arena.alloc({ ptrs: [list], imms: [m, i], name: `msg${m}.${i}` });
    }
    yield* outbox[m].write(list);
    yield* lock.readUnlock();
    yield* sent.release();
  }
}

/** Reads each message in place once it is posted, checking every cell. */
function* receiver(
  ctx: Context,
  outbox: Cell<number>[],
  sent: Semaphore,
  length: number,
  locals: LocalRefs,
) {
  const heap = ctx.heap;
  for (let m = 0; m < outbox.length; m++) {
    yield* sent.acquire();
    yield* ctx.semi.compaction.beginRead();
    let r = yield* outbox[m].read();
    locals.set(0, r);
    for (let i = 0; i < length; i++) {
      if (r === NULL) throw new Violation("message-intact", `message ${m} ends after ${i} cells`);
      const mm = yield* heap.readImm(r, 0);
      const ii = yield* heap.readImm(r, 1);
      if (mm !== m || ii !== i) {
        throw new Violation("message-intact", `message ${m} cell ${i} reads (${mm}, ${ii})`);
      }
      r = yield* heap.load(r, 0);
      locals.set(0, r);
    }
    locals.clear();
    yield* ctx.semi.compaction.endRead();
  }
}

/** The sender's collector: compacts the live semispace into the other, again and again. */
function* compactor(ctx: Context, compactions: number) {
  for (let c = 0; c < compactions; c++) yield* ctx.semi.flip();
}

/** The parameters of `gcCompaction` (see its `params` schema for ranges and defaults). */
export type GcCompactionParams = {
  /** Messages the sender builds and posts. */
  readonly messages: number;
  /** Cells in each message's list. */
  readonly length: number;
  /** Compactions the sender's collector runs. */
  readonly compactions: number;
  /** Unreachable cells allocated between a message's cells. */
  readonly garbage: number;
};

/** `rwlock`: readers hold the read lock. `unguarded`: they read during compaction. */
export const gcCompaction: Scenario<GcCompactionParams> = defineScenario({
  name: "gc-compaction",
  description: "a receiver reads messages in place in the sender's heap while the sender's " +
    "collector compacts it; a reader-writer lock guards compaction",
  params: z.object({
    messages: z.number().int().min(1).max(4).default(2),
    length: z.number().int().min(1).max(6).default(3),
    compactions: z.number().int().min(1).max(4).default(2),
    garbage: z.number().int().min(0).max(3).default(1),
  }),
  variants: {
    rwlock: {
      description: "the receiver reads under the read lock; compaction takes the write lock",
      // DPOR exhausts the default size in 59 schedules.
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 1_000 } },
    },
    unguarded: {
      description: "the receiver reads without the lock: compaction frees cells it holds",
      expect: { verdict: "bug", check: "free-safety", budget: { strategy: "pct", runs: 1_000 } },
    },
  },
  stepsMax: ({ messages, length, compactions, garbage }) =>
    200 + 40 * messages * length * (garbage + 2) * (compactions + 1),
  setup(k, { messages, length, compactions, garbage }, variant) {
    const heap = new Heap(k, { objectsMax: 2_000 });
    const compaction = new Compaction(heap, { guard: variant === "rwlock" ? "rwlock" : "none" });
    const ctx: Context = {
      heap,
      semi: new Semispaces(compaction, [
        new Arena(heap, "ctx.a", 1 << 14),
        new Arena(heap, "ctx.b", 1 << 14),
      ]),
    };
    const outbox: Cell<number>[] = [];
    for (let m = 0; m < messages; m++) outbox.push(heap.roots.global(`outbox${m}`));
    const sent = k.semaphore("sent", 0);
    k.spawn("sender", sender, ctx, outbox, sent, length, garbage);
    k.spawn("receiver", receiver, ctx, outbox, sent, length, heap.roots.locals("receiver", 1));
    k.spawn("gc", compactor, ctx, compactions);
    k.invariant("no-dangling", () => heap.dangling() ?? true);
  },
});
