import { assert, assertEquals, assertThrows } from "../deps.ts";
import type { Cell, RwLock } from "../sim/kernel.ts";
import { PctStrategy } from "../sim/pct.ts";
import { HeapExhausted, NULL } from "./heap.ts";
import { collectCycles, type MarkMode, MarkSweep, type MarkSweepOptions } from "./mark_sweep.ts";
import { world } from "./_testing.ts";

/** g0 → A → B → C, and D unreachable. */
function setup(seed: number, options: MarkSweepOptions, bytes = 4096) {
  const { k, heap } = world(seed, { strategy: new PctStrategy({ depth: 3, steps: 80 }) });
  const gc = new MarkSweep(heap, heap.space("nodes", bytes), options);
  const c = gc.node({ name: "C" });
  const b = gc.node({ name: "B", ptrs: [c] });
  const a = gc.node({ name: "A", ptrs: [b] });
  const d = gc.node({ name: "D" });
  const g0 = heap.roots.global("g0", a);
  return { k, heap, gc, a, b, c, d, g0, regs: heap.roots.stack("m", 3) };
}

/** Allocates a node, links it under A, then drops B. */
function* allocator(gc: MarkSweep, g0: Cell<number>, r: Cell<number>[], born: number[]) {
  yield* gc.move(r[0], g0);
  born.push(yield* gc.alloc(r[1]));
  yield* gc.store(r[1], 0, null);
  yield* gc.load(r[2], r[0], 0);
  yield* gc.store(r[0], 0, r[1]);
  yield* gc.move(r[1], null);
  yield* gc.move(r[2], null);
}

Deno.test("unreachable nodes are freed, reachable ones survive and are white again", () => {
  for (const mark of ["clear", "flip", "flip-nonatomic"] as MarkMode[]) {
    const { k, heap, gc, a, b, c, d } = setup(1, { barrier: "insertion", mark });
    k.spawn("gc", collectCycles, gc, 2);
    assertEquals(k.execute().verdict, "pass");
    assertEquals([a, b, c, d].map((r) => heap.get(r).freed), [false, false, false, true]);
    assertEquals([a, b, c].map((r) => gc.markOf(r).peek()), [gc.white, gc.white, gc.white]);
    assert(Number.isNaN(gc.markOf(d).peek()));
    assertEquals(gc.stats.cycles, 2);
    assertEquals(gc.white, mark === "clear" ? 0 : 1, "flip: true (1) means unmarked");
  }
});

Deno.test("nodes allocated during a cycle survive it and are white after it", () => {
  for (const barrier of ["insertion", "deletion"] as const) {
    for (let seed = 0; seed < 200; seed++) {
      const { k, heap, gc, g0, regs } = setup(seed, { barrier });
      const born: number[] = [];
      k.spawn("gc", collectCycles, gc, 2);
      k.spawn("m", allocator, gc, g0, regs, born);
      const o = k.execute();
      assertEquals(o.verdict, "pass", `${barrier} seed ${seed}: ${o.message}`);
      assertEquals(heap.get(born[0]).freed, false);
      assertEquals(gc.markOf(born[0]).peek(), gc.white);
    }
  }
});

Deno.test("without the atomic section two collectors sometimes trace a node twice, never wrongly free", () => {
  let repeated = 0;
  for (let seed = 0; seed < 300; seed++) {
    const { k, gc, g0, regs } = setup(seed, {
      barrier: "deletion",
      mark: "flip-nonatomic",
      collectors: 2,
    });
    k.spawn("gc", collectCycles, gc, 2);
    k.spawn("m", allocator, gc, g0, regs, []);
    assertEquals(k.execute().verdict, "pass");
    if (gc.stats.retraced > 0) repeated++;
  }
  assert(repeated > 0, "no schedule showed the repeated work the note predicts");
  for (let seed = 0; seed < 100; seed++) {
    const { k, gc, g0, regs } = setup(seed, { barrier: "deletion", mark: "flip", collectors: 2 });
    k.spawn("gc", collectCycles, gc, 2);
    k.spawn("m", allocator, gc, g0, regs, []);
    assertEquals(k.execute().verdict, "pass");
    assertEquals(gc.stats.retraced, 0, "the atomic section rules out repeated work");
  }
});

Deno.test("a mark left set when a cycle starts is reported (marks-reset)", () => {
  const { k, gc, b } = setup(1, { barrier: "deletion", mark: "flip" });
  gc.markOf(b).poke(gc.black);
  k.spawn("gc", collectCycles, gc, 1);
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["bug", "marks-reset"]);
});

Deno.test("a node a fiber holds only in a local reference is not a root: freeing it is caught", () => {
  const { k, heap, gc, d } = setup(1, { barrier: "insertion" });
  heap.roots.locals("m", 1).set(0, d);
  k.spawn("gc", collectCycles, gc, 1);
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["bug", "free-safety"]);
});

function* allocUntilFull(gc: MarkSweep, r: Cell<number>[], out: string[]) {
  for (let i = 0; i < 4; i++) {
    try {
      yield* gc.alloc(r[0]);
      out.push("ok");
    } catch (e) {
      if (!(e instanceof HeapExhausted)) throw e;
      out.push("full");
    }
  }
}

Deno.test("allocation raises HeapExhausted when the space is full and the world goes on", () => {
  // 4 nodes of 16 bytes are placed; room for one more.
  const { k, gc, regs } = setup(1, { barrier: "deletion" }, 80);
  const out: string[] = [];
  k.spawn("gc", collectCycles, gc, 1);
  k.spawn("m", allocUntilFull, gc, regs, out);
  assertEquals(k.execute().verdict, "pass");
  assertEquals(out, ["ok", "full", "full", "full"]);
  assertEquals((gc.world as RwLock).readerCount, 0);
});

Deno.test("bad collector counts and unmanaged nodes are errors of the model", () => {
  const { heap } = world();
  assertThrows(
    () => new MarkSweep(heap, heap.space("s", 64), { barrier: "none", collectors: 0 }),
    /1\.\.64/,
  );
  const gc = new MarkSweep(heap, heap.space("t", 64), { barrier: "none" });
  const other = heap.place(heap.space("u", 64), { ptrs: [NULL] });
  assertThrows(() => gc.markOf(other.id), /not managed/);
});
