/**
 * The start-up heap compacted into the fixed global heap (seed note "GC :=
 * Reactor"): script fibers build linked structures in the start-up arena, and
 * one may point at another's (sharing it, and closing a cycle when both do);
 * once they are done the heap is compacted by a copying collector into a
 * global heap that is then sealed, the start-up arena is split into worker
 * arenas, and workers read their structures in the global heap.
 *
 * Whether structures are shared depends on the schedule: a script links to its
 * peer only if the peer published before the script reached cell `linkAt`.
 * At the defaults about one random schedule in five shares (18.1% of 1,000
 * random runs), so `no-forwarding` needs search: most schedules pass.
 *
 * @module
 */
import { z } from "zod";
import { Arena } from "../runtime/arena.ts";
import { Compaction } from "../runtime/compaction.ts";
import { Heap, NULL, type Ref } from "../runtime/heap.ts";
import type { Fiber } from "../sim/fiber.ts";
import type { Cell } from "../sim/kernel.ts";
import { Violation } from "../sim/outcome.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

/**
 * A start-up script: a list of `length` cells (next, text, peer), each with
 * its own text and with garbage between them. Before it builds cell `linkAt`,
 * the script looks at its peer's root: when the peer has published its list
 * by then, the head's peer field points at it, and the peer's head becomes
 * shared (reachable from two roots). In most schedules the peer is not done
 * yet and the structures stay disjoint; only those that share need
 * forwarding addresses.
 */
function* script(
  heap: Heap,
  arena: Arena,
  me: number,
  roots: Cell<number>[],
  sizes: { length: number; linkAt: number },
) {
  let head: Ref = NULL;
  let tail: Ref = NULL;
  let peer: Ref = NULL;
  for (let i = 0; i < sizes.length; i++) {
    if (i === sizes.linkAt) peer = yield* roots[(me + 1) % roots.length].read();
    yield* arena.alloc({ imms: [-1] }); // garbage
    const text = yield* arena.alloc({
      kind: "binary",
      imms: [me, i, me + 2],
      name: `text${me}.${i}`,
    });
    const cell = yield* arena.alloc({
      ptrs: [NULL, text, NULL],
      imms: [me, i],
      mutable: true,
      name: `s${me}.${i}`,
    });
    if (head === NULL) head = cell;
    else yield* heap.store(tail, 0, cell);
    tail = cell;
  }
  if (sizes.linkAt >= sizes.length) peer = yield* roots[(me + 1) % roots.length].read();
  yield* heap.store(head, 2, peer);
  yield* roots[me].write(head);
}

/** Reads a structure back, cell by cell, and checks it; then uses its worker arena. */
function* worker(heap: Heap, arena: Arena, me: number, root: Cell<number>, length: number) {
  let cell = yield* root.read();
  for (let i = 0; i < length; i++) {
    const who = yield* heap.readImm(cell, 0);
    const at = yield* heap.readImm(cell, 1);
    const text = yield* heap.load(cell, 1);
    const word = yield* heap.readImm(text, 2);
    if (who !== me || at !== i || word !== me + 2) {
      throw new Violation(
        "content-intact",
        `script ${me} cell ${i} reads (${who}, ${at}, ${word})`,
      );
    }
    cell = yield* heap.load(cell, 0);
  }
  if (cell !== NULL) {
    throw new Violation("content-intact", `script ${me}'s list does not end after ${length} cells`);
  }
  yield* arena.alloc({ imms: [me] });
  yield* arena.reset();
}

/** Waits for the scripts, compacts, seals the global heap and starts the workers. */
function* reactor(
  heap: Heap,
  compaction: Compaction,
  arenas: { startup: Arena; global: Arena },
  scripts: Fiber[],
  roots: Cell<number>[],
  length: number,
) {
  for (const s of scripts) yield* heap.kernel.join(s);
  const stats = yield* compaction.compact(arenas.startup, arenas.global, { seal: true });
  if (stats.skippedSimple !== roots.length * length) {
    throw new Violation("simple-unscanned", `${stats.skippedSimple} texts moved unscanned`);
  }
  const workers = arenas.startup.subdivide(roots.length);
  for (let w = 0; w < roots.length; w++) {
    heap.kernel.spawn(`w${w}`, worker, heap, workers[w], w, roots[w], length);
  }
}

/** The parameters of `gcCopying` (see its `params` schema for ranges and defaults). */
export type GcCopyingParams = {
  /** Start-up script fibers. */
  readonly scripts: number;
  /** Cells in each script's list. */
  readonly length: number;
  /** The cell at which a script looks for its peer's structure to link to. */
  readonly linkAt: number;
};

/**
 * `cheney`: forwarding addresses (pass). `no-forwarding`: a shared head is
 * copied twice, in the schedules where a script links to its peer.
 */
export const gcCopying: Scenario<GcCopyingParams> = defineScenario({
  name: "gc-copying",
  description: "start-up scripts build linked structures, shared when one links to a peer that " +
    "published first; a Cheney copy compacts them into the fixed global heap; workers then " +
    "read them and use their own arenas",
  params: z.object({
    scripts: z.number().int().min(1).max(4).default(2),
    length: z.number().int().min(1).max(6).default(3),
    /** The cell before which a script looks for its peer (`length` or more: after the last). */
    linkAt: z.number().int().min(0).max(6).default(2),
  }),
  variants: {
    cheney: {
      description: "Cheney's copy with forwarding addresses: isomorphic, each object copied once",
      expect: {
        verdict: "pass",
        budget: { strategy: "random", runs: 500 },
        verify: { runs: 1_000, params: { scripts: 2, length: 1, linkAt: 1 } },
      },
    },
    "no-forwarding": {
      description: "no forwarding addresses: a shared or cyclic object is copied twice; " +
        "only schedules where a script links to its peer share one",
      expect: { verdict: "bug", check: "copied-once", budget: { strategy: "random", runs: 100 } },
    },
  },
  stepsMax: ({ scripts, length }) => 300 + 80 * scripts * (length + 2),
  setup(k, { scripts, length, linkAt }, variant) {
    const heap = new Heap(k, { objectsMax: 1_000 });
    const arenas = {
      startup: new Arena(heap, "startup", 4096),
      global: new Arena(heap, "global", 4096),
    };
    const compaction = new Compaction(heap, { forwarding: variant === "cheney" });
    const roots: Cell<number>[] = [];
    for (let s = 0; s < scripts; s++) roots.push(heap.roots.global(`script${s}`));
    const fibers: Fiber[] = [];
    for (let s = 0; s < scripts; s++) {
      fibers.push(
        k.spawn(`script${s}`, script, heap, arenas.startup, s, roots, { length, linkAt }),
      );
    }
    k.spawn("reactor", reactor, heap, compaction, arenas, fibers, roots, length);
    k.invariant(
      "global-sealed",
      () => arenas.global.space.sealed || "the global heap is not sealed",
    );
    k.invariant("no-dangling", () => heap.dangling() ?? true);
  },
});
