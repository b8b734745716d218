import { assertEquals, assertThrows } from "../deps.ts";
import type { Cell } from "../sim/kernel.ts";
import { FreeList } from "./freelist.ts";
import { HeapExhausted, NULL } from "./heap.ts";
import { world } from "./_testing.ts";

function* fillAndDrop(page: FreeList, regs: Cell<number>[], out: string[]) {
  // Two live objects, chained: the second only reachable through the first.
  const a = yield* page.alloc({ ptrs: [NULL] });
  yield* regs[0].write(a);
  const b = yield* page.alloc({ imms: [1] });
  yield* page.heap.store(a, 0, b);
  try {
    yield* page.alloc({ imms: [2] });
    out.push("ok");
  } catch (e) {
    if (!(e instanceof HeapExhausted)) throw e;
    out.push("exhausted");
  }
  yield* regs[0].write(NULL);
  yield* page.alloc({ imms: [3] });
  out.push(`ok, ${page.freeCells} free`);
}

Deno.test("a full page of live cells raises HeapExhausted; once dropped they are swept back", () => {
  const { k, heap } = world();
  const regs = heap.roots.stack("w", 1);
  const page = new FreeList(heap, "w.page", { cells: 2, cellBytes: 16, roots: regs });
  const out: string[] = [];
  k.spawn("w", fillAndDrop, page, regs, out);
  assertEquals(k.execute().verdict, "pass");
  assertEquals(out, ["exhausted", "ok, 1 free"]);
  assertEquals([page.stats.sweeps, page.stats.reclaimed], [2, 2]);
});

function* publishThenChurn(page: FreeList, shared: Cell<number>, pin: boolean) {
  const msg = yield* page.alloc({ imms: [42] });
  if (pin) page.pin(msg);
  yield* shared.write(msg); // the object escapes the owner's stack
  for (let i = 0; i < 3; i++) yield* page.alloc({ imms: [i] });
}

Deno.test("an object that escaped the page survives local sweeps only when pinned", () => {
  for (const pin of [true, false]) {
    const { k, heap } = world();
    const shared = heap.roots.global("outbox");
    const page = new FreeList(heap, "w.page", {
      cells: 2,
      cellBytes: 16,
      roots: heap.roots.stack("w", 1),
    });
    k.spawn("w", publishThenChurn, page, shared, pin);
    const o = k.execute();
    assertEquals([o.verdict, o.check], pin ? ["pass", ""] : ["bug", "free-safety"]);
  }
});

function* allocBig(page: FreeList) {
  yield* page.alloc({ imms: [1, 2, 3] });
}

Deno.test("objects bigger than a cell and bad pages are errors of the model", () => {
  const { k, heap } = world();
  const page = new FreeList(heap, "p", { cells: 1, cellBytes: 16, roots: [] });
  k.spawn("w", allocBig, page);
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["crash", "RangeError"]);
  assertThrows(() => new FreeList(heap, "q", { cells: 0, cellBytes: 16, roots: [] }), /0 cells/);
});
