/**
 * Lazy slices against a copying collector (seed note on π's GC): slices are
 * taken in O(1) and keep referring to their parent; when only slices keep the
 * parent alive, the collector copies their parts out and lets the parent go.
 *
 * @module
 */
import { z } from "zod";
import { Arena } from "../runtime/arena.ts";
import { Compaction, Semispaces } from "../runtime/compaction.ts";
import type { SlicePolicy } from "../runtime/copying.ts";
import { Heap, NULL } from "../runtime/heap.ts";
import { readWord, slice, sliceSlack } from "../runtime/slices.ts";
import type { Cell } from "../sim/kernel.ts";
import { Violation } from "../sim/outcome.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

interface World {
  readonly heap: Heap;
  readonly semi: Semispaces;
}

const FIRST_WORD = 100;

/** Checks that the slice in `reg` still reads words [from, from + length) of the text. */
function* checkSlice(w: World, reg: Cell<number>, from: number, length: number) {
  const s = reg.peek();
  for (let i = 0; i < length; i++) {
    const v = yield* readWord(w.heap, s, i);
    if (v !== FIRST_WORD + from + i) {
      throw new Violation("slice-contents", `${reg.name} word ${i} reads ${v}`);
    }
  }
}

/**
 * Makes a text, slices it (and slices the slice), drops the text, then reads
 * the slices again and again: each step a separate critical section, so
 * collections fall in between.
 */
function* mutator(w: World, r: Cell<number>[], words: number, reads: number) {
  const lock = w.semi.compaction.lock;
  yield* lock.readLock();
  const text = Array.from({ length: words }, (_, i) => FIRST_WORD + i);
  yield* r[0].write(yield* w.semi.live.alloc({ kind: "binary", imms: text, name: "text" }));
  const s1 = yield* slice(w.heap, w.semi.live, r[0].peek(), { offset: 2, length: 3, name: "s1" });
  yield* r[1].write(s1);
  const s2 = yield* slice(w.heap, w.semi.live, s1, { offset: 1, length: 2, name: "s2" });
  yield* r[2].write(s2);
  yield* lock.readUnlock();
  yield* lock.readLock();
  yield* r[0].write(NULL); // only the slices refer to the text now
  yield* lock.readUnlock();
  for (let n = 0; n < reads; n++) {
    yield* lock.readLock();
    yield* checkSlice(w, r[1], 2, 3);
    yield* checkSlice(w, r[2], 3, 2);
    yield* lock.readUnlock();
  }
}

/** Semispace collections; after each, no parent may be kept for its slices alone. */
function* collector(w: World, collections: number) {
  for (let c = 0; c < collections; c++) {
    yield* w.semi.flip();
    const slack = sliceSlack(w.heap);
    if (slack !== null) throw new Violation("slice-slack", slack);
  }
}

/** The parameters of `lazySlice` (see its `params` schema for ranges and defaults). */
export type LazySliceParams = {
  /** Words in the text that is sliced. */
  readonly words: number;
  /** Collections the collector runs. */
  readonly collections: number;
  /** Times the mutator reads the slices again. */
  readonly reads: number;
};

/** `copy-out` (pass); `pin` keeps whole parents; `no-copy-out` leaves slices dangling. */
export const lazySlice: Scenario<LazySliceParams> = defineScenario({
  name: "lazy-slice",
  description: "O(1) slices of a text survive copying collections with the same contents, " +
    "and the text's memory is reclaimed once only slices refer to it",
  params: z.object({
    words: z.number().int().min(6).max(64).default(8),
    collections: z.number().int().min(1).max(4).default(2),
    reads: z.number().int().min(1).max(4).default(2),
  }),
  variants: {
    "copy-out": {
      description: "a collection copies a slice's part out when its parent is otherwise dead",
      // DPOR exhausts the default size in 15 schedules.
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 1_000 } },
    },
    pin: {
      description: "slices pin their parent: contents survive, the parent's memory does not go",
      expect: { verdict: "bug", check: "slice-slack", budget: { strategy: "random", runs: 200 } },
    },
    "no-copy-out": {
      description: "the parent is let go without copying the parts out: the slices dangle",
      expect: { verdict: "bug", check: "free-safety", budget: { strategy: "random", runs: 200 } },
    },
  },
  stepsMax: ({ words, collections, reads }) => 200 + 20 * words * collections + 60 * reads,
  setup(k, { words, collections, reads }, variant) {
    const heap = new Heap(k, { objectsMax: 200 });
    const w: World = {
      heap,
      semi: new Semispaces(new Compaction(heap, { slices: variant as SlicePolicy }), [
        new Arena(heap, "semi.a", 4096),
        new Arena(heap, "semi.b", 4096),
      ]),
    };
    k.spawn("mutator", mutator, w, heap.roots.stack("mutator", 3), words, reads);
    k.spawn("gc", collector, w, collections);
    k.invariant("no-dangling", () => heap.dangling() ?? true);
  },
});
