/**
 * Stop-the-world collection at safepoints (seed note "GC := Reactor": when
 * the allocator overflows, a stop-the-world collection runs). Mutators handle
 * events: each waits for its next event in a safe region (off the heap),
 * counts it in its record, and allocates a new item into the live semispace;
 * the allocation that overflows stops the world and copies the live
 * semispace into the other (Cheney), so every object moves.
 *
 * The checks are end to end and know nothing of the safepoint module: the
 * heap poisons from-space when it is reset (a use of a moved object is a
 * `use-after-free`), the copying collector compares the reachable graph
 * before and after, and the scenario's own ledger (`mutator-state`) says
 * what each mutator's record must hold after each event and at the end.
 * A lost resume leaves a mutator parked for ever: a deadlock.
 *
 * Both broken variants fail only when a mutator leaves its safe region while
 * a collection runs, so most schedules pass (see `tests/need_search_test.ts`).
 *
 * @module
 */
import { z } from "zod";
import { Arena } from "../runtime/arena.ts";
import { Compaction, Semispaces } from "../runtime/compaction.ts";
import { drawFaults, Faults, FaultsSchema } from "../runtime/faults.ts";
import { Heap, HeapExhausted, type Ref, type Shape, shapeBytes } from "../runtime/heap.ts";
import { type Collectable, type Mutator, Safepoints } from "../runtime/safepoint.ts";
import type { Cell } from "../sim/kernel.ts";
import { Violation } from "../sim/outcome.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

/** A mutator's record: its item, and (mutator, events counted) as immediates. */
const RECORD_BYTES = shapeBytes({ ptrs: [0], imms: [0, 0] });
/** An item: (mutator, event) as immediates, pointer-free. */
const ITEM_BYTES = shapeBytes({ imms: [0, 0] });

interface World {
  readonly heap: Heap;
  readonly sp: Safepoints;
  readonly semi: Collectable;
  /** The off-heap event source a mutator waits on in its safe region. */
  readonly events: Cell<number>;
  readonly eventsEach: number;
}

/**
 * Allocates through the safepoints (stopping the world on overflow), and
 * again after an injected allocation fault: those are resumable.
 */
function* allocate(w: World, m: Mutator, shape: Shape) {
  for (;;) {
    try {
      return yield* w.sp.allocate(m, shape, w.semi);
    } catch (e) {
      if (!(e instanceof HeapExhausted) || !e.injected) throw e;
    }
  }
}

/**
 * Handles `events` events. Its only heap reference across a safepoint is its
 * stack root `root` (its record), which the collector rewrites; it reloads it
 * after every safepoint.
 */
function* mutator(w: World, me: number, m: Mutator, root: Cell<number>) {
  const { heap, sp } = w;
  for (let e = 1; e <= w.eventsEach; e++) {
    // Wait for an event, off the heap.
    yield* sp.enterSafe(m);
    yield* w.events.fetchAdd(1);
    yield* sp.leaveSafe(m);
    // Count it in the record: no safepoint between loading the root and the write.
    const rec = yield* root.read();
    const counted = yield* heap.readImm(rec, 1);
    if (counted !== e - 1) {
      throw new Violation("mutator-state", `m${me} counted ${counted} events before event ${e}`);
    }
    yield* heap.writeImm(rec, 1, e);
    // Allocate: a safepoint, and where the world is stopped when the semispace is full.
    yield* allocate(w, m, { imms: [-1] });
    const item = yield* allocate(w, m, { kind: "binary", imms: [me, e] });
    yield* heap.store(yield* root.read(), 0, item);
    yield* sp.poll(m); // the loop's back-edge
  }
  yield* sp.unregister(m);
}

/** A message naming the first mutator whose record does not hold all its events, or null. */
function checkRecords(heap: Heap, roots: readonly Cell<number>[], events: number): string | null {
  for (let me = 0; me < roots.length; me++) {
    const rec = heap.get(roots[me].peek());
    const item: Ref = rec.ptrs[0].peek();
    const got = [rec.imms[0].peek(), rec.imms[1].peek()];
    const itemGot = item >= 0 ? heap.get(item).imms.map((c) => c.peek()) : [];
    if (got.join() !== `${me},${events}` || itemGot.join() !== `${me},${events}`) {
      return `m${me}'s record holds (${got.join(", ")}) and item (${itemGot.join(", ")}), ` +
        `expected (${me}, ${events}) for both`;
    }
  }
  return null;
}

/** The parameters of `stwSafepoint` (see its `params` schema for ranges and defaults). */
export type StwSafepointParams = {
  /** Mutator fibers. */
  readonly mutators: number;
  /** Events each mutator waits for and records. */
  readonly events: number;
  /** Bytes of each semispace: small enough that the events overflow it. */
  readonly semispaceBytes: number;
};

/**
 * `correct` (pass); `missing-safepoint`: leaving a safe region does not wait
 * for a running collection; `lost-resume`: a mutator parked after the stop
 * was granted is never resumed.
 */
export const stwSafepoint: Scenario<StwSafepointParams> = defineScenario({
  name: "stw-safepoint",
  description: "mutators wait for events in safe regions and allocate into a semispace; the " +
    "allocation that overflows stops the world at safepoints and copies the live objects",
  params: z.object({
    mutators: z.number().int().min(1).max(4).default(2),
    events: z.number().int().min(1).max(6).default(3),
    /** Bytes of each semispace: small enough that the events overflow it. */
    semispaceBytes: z.number().int().min(56).max(4096).default(256),
    /**
     * Faults (runtime/faults.ts): `alloc` fails an allocation resumably (the
     * mutator stops the world, collects and tries again), `collect` stops the
     * world and collects early. Off when absent.
     */
    faults: FaultsSchema.optional(),
  }).refine(
    // Live at a collection: each record and its item; then room for the allocation that overflowed.
    (p) => p.semispaceBytes >= p.mutators * (RECORD_BYTES + ITEM_BYTES) + ITEM_BYTES,
    {
      message: "semispaceBytes is too small: it must hold every record and item, and one more item",
    },
  ),
  variants: {
    correct: {
      description: "polls at allocation and back-edges; a safe region is left only once no " +
        "stop is on; every parked mutator is resumed",
      expect: {
        verdict: "pass",
        budget: { strategy: "random", runs: 300 },
        // Two mutators, one event each, one collection: 205 schedules.
        verify: { runs: 2_000, params: { mutators: 2, events: 1, semispaceBytes: 136 } },
      },
    },
    "missing-safepoint": {
      description: "leaving a safe region skips the safepoint: a mutator that wakes during a " +
        "collection touches its record while it is being moved",
      expect: { verdict: "bug", budget: { strategy: "random", runs: 200 } },
    },
    "lost-resume": {
      description: "the collector resumes only the mutators parked when the stop was granted: " +
        "one that left its safe region during the collection stays parked",
      expect: { verdict: "deadlock", budget: { strategy: "random", runs: 200 } },
    },
  },
  // Faults add collections, each some 100 steps.
  stepsMax: ({ mutators, events, faults }) => 400 + 120 * mutators * events * (faults ? 4 : 1),
  // Swarm: mutators (two at least for the broken variants, whose flaw needs a
  // mutator other than the collector), events, room left after the live set
  // (a collection every event, or seldom), and which faults are on.
  swarm: (draw, _params, variant) => {
    const mutators = draw.int("mutators", variant === "correct" ? 1 : 2, 3);
    return {
      mutators,
      events: draw.int("events", 1, 4),
      semispaceBytes: mutators * (RECORD_BYTES + ITEM_BYTES) + ITEM_BYTES +
        draw.pick("slackBytes", [0, 64, 192]),
      faults: drawFaults(draw, ["alloc", "collect"]),
    };
  },
  setup(k, { mutators, events, semispaceBytes, faults }, variant) {
    Faults.enable(k, faults);
    const heap = new Heap(k, { objectsMax: 2_000 });
    const sp = new Safepoints(k, {
      regionExit: variant === "missing-safepoint" ? "no-wait" : "wait",
      resume: variant === "lost-resume" ? "granted-only" : "all",
    });
    const semis = new Semispaces(new Compaction(heap), [
      new Arena(heap, "semi-a", semispaceBytes),
      new Arena(heap, "semi-b", semispaceBytes),
    ]);
    const semi: Collectable = {
      allocator: () => semis.live,
      collect: () => semis.flip(),
    };
    const w: World = { heap, sp, semi, events: k.cell("events", 0), eventsEach: events };
    const roots: Cell<number>[] = [];
    for (let me = 0; me < mutators; me++) {
      const item = semis.live.place({ kind: "binary", imms: [me, 0], name: `item${me}.0` });
      const rec = semis.live.place({
        ptrs: [item],
        imms: [me, 0],
        mutable: true,
        name: `rec${me}`,
      });
      const [root] = heap.roots.stack(`m${me}`, 1);
      root.poke(rec);
      roots.push(root);
      k.spawn(`m${me}`, mutator, w, me, sp.register(`m${me}`), root);
    }
    k.invariant("mutator-state", () => checkRecords(heap, roots, events) ?? true);
    k.invariant("no-dangling", () => heap.dangling() ?? true);
  },
});
