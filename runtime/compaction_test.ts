import { assert, assertEquals, assertThrows } from "../deps.ts";
import type { Cell } from "../sim/kernel.ts";
import { PctStrategy } from "../sim/pct.ts";
import { RandomStrategy } from "../sim/random.ts";
import { Arena } from "./arena.ts";
import { Compaction, type CompactionGuard } from "./compaction.ts";
import { type Heap, type LocalRefs, NULL } from "./heap.ts";
import { world } from "./_testing.ts";

function* readList(
  c: Compaction,
  heap: Heap,
  outbox: Cell<number>,
  locals: LocalRefs,
  seen: number[],
) {
  yield* c.beginRead();
  let r = yield* outbox.read();
  locals.set(0, r);
  while (r !== NULL) {
    seen.push(yield* heap.readImm(r, 0));
    r = yield* heap.load(r, 0);
    locals.set(0, r);
  }
  yield* c.endRead();
}

function* compactInto(c: Compaction, from: Arena, to: Arena) {
  yield* c.compact(from, to);
}

function race(guard: CompactionGuard, seed: number, pct = false) {
  const strategy = pct ? new PctStrategy({ depth: 2, steps: 60 }) : new RandomStrategy();
  const { k, heap } = world(seed, { strategy });
  const from = new Arena(heap, "ctx", 1024);
  const to = new Arena(heap, "ctx2", 1024);
  let list = NULL;
  for (const v of [3, 2, 1]) {
    from.place({ imms: [99] }); // garbage between the message's cells
    list = from.place({ ptrs: [list], imms: [v] });
  }
  const outbox = heap.roots.global("outbox", list);
  const c = new Compaction(heap, { guard });
  const seen: number[] = [];
  k.spawn("reader", readList, c, heap, outbox, heap.roots.locals("reader", 1), seen);
  k.spawn("gc", compactInto, c, from, to);
  return { outcome: k.execute(), seen };
}

Deno.test("readers holding the read lock always see the whole message, whenever compaction runs", () => {
  for (let seed = 0; seed < 300; seed++) {
    const { outcome, seen } = race("rwlock", seed);
    assertEquals(outcome.verdict, "pass", `seed ${seed}: ${outcome.message}`);
    assertEquals(seen, [1, 2, 3]);
  }
});

Deno.test("unguarded readers are caught holding a message the compactor frees", () => {
  // The reader has to stall while the whole compaction runs: PCT's change
  // points do that, uniform random schedules almost never do.
  const found = [];
  for (let seed = 0; seed < 300; seed++) {
    const { outcome } = race("none", seed, true);
    if (outcome.verdict !== "pass") found.push(outcome.check);
  }
  assert(found.length > 0, "no schedule of 300 caught the unguarded reader");
  assert(found.every((c) => c === "free-safety"), found.join(", "));
});

Deno.test("compacting the start-up heap into the global heap can seal it", () => {
  const { k, heap } = world();
  const startup = new Arena(heap, "startup", 256);
  const global = new Arena(heap, "global", 256);
  heap.roots.global("g", startup.place({ imms: [1] }));
  const c = new Compaction(heap);
  k.spawn("gc", function* () {
    yield* c.compact(startup, global, { seal: true });
  });
  assertEquals(k.execute().verdict, "pass");
  assertEquals(c.count, 1);
  assertThrows(() => global.place({}), /sealed/);
  assertEquals(startup.subdivide(2).length, 2);
});
