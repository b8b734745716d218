import { assert, assertEquals, assertThrows } from "../deps.ts";
import { Arena } from "./arena.ts";
import { type Heap, HeapExhausted, NULL, type Ref } from "./heap.ts";
import { runLogged, world } from "./_testing.ts";

function* fill(arena: Arena, sizes: number[], got: (Ref | string)[]) {
  for (const n of sizes) {
    try {
      got.push(yield* arena.alloc({ imms: new Array(n).fill(n) }));
    } catch (e) {
      if (!(e instanceof HeapExhausted)) throw e;
      got.push(e.message);
    }
  }
}

function* resetAfter(arena: Arena, sizes: number[], got: (Ref | string)[]) {
  yield* fill(arena, sizes, got);
  got.push(`reset ${yield* arena.reset()}`);
  yield* fill(arena, sizes, got);
}

Deno.test("an allocation is one step on the bump pointer and places objects back to back", () => {
  const { k, heap } = world();
  const arena = new Arena(heap, "w0", 64);
  const got: (Ref | string)[] = [];
  k.spawn("job", fill, arena, [1, 2], got);
  const { outcome, log } = runLogged(k);
  assertEquals(outcome.verdict, "pass");
  assertEquals(log, ["job alloc w0.top", "job alloc w0.top"]);
  assertEquals(got.map((r) => heap.get(r as Ref).addr), [0, 16]);
  assertEquals(arena.bytesUsed, 40);
  assertEquals(arena.bytesFree, 24);
});

Deno.test("overflow raises HeapExhausted and leaves nothing behind; after a reset jobs fit again", () => {
  const { k, heap } = world();
  const arena = new Arena(heap, "w0", 48);
  const got: (Ref | string)[] = [];
  k.spawn("job", resetAfter, arena, [2, 3, 1], got);
  assertEquals(k.execute().verdict, "pass");
  // 24 bytes fit, 32 more do not (nothing written), 16 more fit.
  assertEquals(got[1], "w0 is exhausted: 32 bytes wanted, 24 free");
  assertEquals(got[3], "reset 40");
  assertEquals(typeof got[4], "number");
  assertEquals(got[5], "w0 is exhausted: 32 bytes wanted, 24 free");
  assertEquals(heap.objectCount, 4);
  assertEquals(arena.space.objects.map((o) => o.addr), [0, 24]);
  // The objects of the first job are freed and poisoned.
  assert(heap.get(got[0] as Ref).freed);
  assert(Number.isNaN(heap.get(got[0] as Ref).imms[0].peek()));
});

function* resetOnly(arena: Arena) {
  yield* arena.reset();
}

Deno.test("resetting an arena whose object is still reachable is a free-safety bug", () => {
  const { k, heap } = world();
  const arena = new Arena(heap, "w0", 64);
  const leaked = arena.place({ name: "result", imms: [1] });
  heap.roots.global("context", leaked);
  k.spawn("worker", resetOnly, arena);
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["bug", "free-safety"]);
});

function* allocMany(heap: Heap, arena: Arena, n: number, mine: Ref[]) {
  for (let i = 0; i < n; i++) mine.push(yield* arena.alloc({ imms: [i] }));
  return heap;
}

Deno.test("fibers sharing an arena never get overlapping memory", () => {
  for (let seed = 0; seed < 30; seed++) {
    const { k, heap } = world(seed);
    const arena = new Arena(heap, "startup", 16 * 6);
    const a: Ref[] = [], b: Ref[] = [];
    k.spawn("a", allocMany, heap, arena, 3, a);
    k.spawn("b", allocMany, heap, arena, 3, b);
    assertEquals(k.execute().verdict, "pass");
    const addrs = [...a, ...b].map((r) => heap.get(r).addr).sort((x, y) => x - y);
    assertEquals(addrs, [0, 16, 32, 48, 64, 80]);
  }
});

Deno.test("a sealed arena takes nothing more; an empty one subdivides into worker arenas", () => {
  const { heap } = world();
  const global = new Arena(heap, "global", 64);
  global.place({ ptrs: [NULL] });
  global.seal();
  assertThrows(() => global.place({}), /sealed/);
  const startup = new Arena(heap, "startup", 100);
  startup.place({});
  assertThrows(() => startup.subdivide(2), /reset it first/);
  const fresh = new Arena(heap, "startup2", 100);
  const workers = fresh.subdivide(3);
  assertEquals(workers.map((w) => [w.name, w.bytesMax]), [
    ["startup2/0", 33],
    ["startup2/1", 33],
    ["startup2/2", 33],
  ]);
  assertThrows(() => fresh.place({}), /subdivided/);
  assertThrows(() => fresh.subdivide(0), /into 0 parts/);
});
