import fc from "fast-check";
import { assert, assertEquals } from "../deps.ts";
import { Arena } from "./arena.ts";
import { CopyingCollector, type CopyStats, valueGraph } from "./copying.ts";
import { type Heap, NULL, type Ref } from "./heap.ts";
import { world } from "./_testing.ts";

function* collectOnce(gc: CopyingCollector, from: Arena, to: Arena, out: CopyStats[]) {
  out.push(yield* gc.collect(from, to));
}

/** A heap graph described by data: each node's pointer targets (indices) and immediates. */
interface GraphSpec {
  nodes: { ptrs: number[]; imms: number[]; binary: boolean }[];
  roots: number[];
}

const graphSpec: fc.Arbitrary<GraphSpec> = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.record({
    nodes: fc.array(
      fc.record({
        ptrs: fc.array(fc.integer({ min: -1, max: n - 1 }), { maxLength: 3 }),
        imms: fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 3 }),
        binary: fc.boolean(),
      }),
      { minLength: n, maxLength: n },
    ),
    roots: fc.array(fc.integer({ min: -1, max: n - 1 }), { minLength: 1, maxLength: 3 }),
  })
);

/** Builds the graph in `arena`: pointers are patched after every node exists, so cycles work. */
function build(heap: Heap, arena: Arena, spec: GraphSpec): Ref[] {
  const ids = spec.nodes.map((n, i) =>
    arena.place(
      n.binary
        ? { kind: "binary", imms: n.imms, name: `n${i}` }
        : { ptrs: n.ptrs.map(() => NULL), imms: n.imms, name: `n${i}`, mutable: true },
    )
  );
  spec.nodes.forEach((n, i) => {
    if (n.binary) return;
    n.ptrs.forEach((t, j) => heap.get(ids[i]).ptrs[j].poke(t < 0 ? NULL : ids[t]));
  });
  return spec.roots.map((r, i) => heap.roots.global(`g${i}`, r < 0 ? NULL : ids[r]).peek());
}

Deno.test("any graph, with sharing, cycles and garbage, is copied once each and isomorphically", () => {
  fc.assert(
    fc.property(graphSpec, fc.nat(), (spec, seed) => {
      const { k, heap } = world(seed);
      const from = new Arena(heap, "from", 4096);
      const to = new Arena(heap, "to", 4096);
      const roots = build(heap, from, spec);
      const before = JSON.stringify(valueGraph(heap, roots));
      const live = heap.reachable();
      const liveCount = heap.objects.filter((o) => live[o.id] === 1).length;
      const liveSimple = heap.objects.filter((o) => live[o.id] === 1 && o.simple).length;
      const stats: CopyStats[] = [];
      k.spawn("gc", collectOnce, new CopyingCollector(heap), from, to, stats);
      const o = k.execute();
      assertEquals(o.verdict, "pass", o.message);
      const after = heap.roots.slots.map((c) => c.peek());
      assertEquals(JSON.stringify(valueGraph(heap, after)), before);
      assertEquals(stats[0].objectsCopied, liveCount);
      assertEquals(stats[0].skippedSimple, liveSimple);
      assertEquals(stats[0].scanned, liveCount - liveSimple);
      assertEquals(from.space.objects.length, 0);
      assertEquals(from.bytesUsed, 0);
      assert(heap.objects.every((obj) => obj.space === to.space || obj.freed));
      assertEquals(heap.dangling(), null);
    }),
    { numRuns: 200, seed: 11 },
  );
});

Deno.test("a simple value is moved without scanning: its words are read once, never as pointers", () => {
  const { k, heap } = world();
  const from = new Arena(heap, "from", 1024);
  const to = new Arena(heap, "to", 1024);
  const text = from.place({ kind: "binary", imms: [1, 2, 3], name: "text" });
  heap.roots.global("g", from.place({ ptrs: [text, text], name: "pair" }));
  const steps: string[] = [];
  k.observe({ onStep: (_f, op, kk) => void steps.push(`${op.kind} ${kk.objectName(op.obj)}`) });
  k.spawn("gc", collectOnce, new CopyingCollector(heap), from, to, []);
  assertEquals(k.execute().verdict, "pass");
  // text is read exactly once per word (to copy it) and its forwarding
  // header is read once per reference to it.
  assertEquals(steps.filter((s) => s.startsWith("read text.i")).length, 3);
  assertEquals(steps.filter((s) => s === "read text.fwd").length, 2);
  assertEquals(steps.filter((s) => s === "write text.fwd").length, 1);
});

Deno.test("without forwarding addresses a shared object is copied twice: copied-once fails", () => {
  const { k, heap } = world();
  const from = new Arena(heap, "from", 1024);
  const to = new Arena(heap, "to", 1024);
  const leaf = from.place({ imms: [1], name: "leaf" });
  heap.roots.global("g", from.place({ ptrs: [leaf, leaf], name: "pair" }));
  k.spawn("gc", collectOnce, new CopyingCollector(heap, { forwarding: false }), from, to, []);
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["bug", "copied-once"]);
});

Deno.test("copying compacts: the live objects end up back to back in to-space", () => {
  const { k, heap } = world();
  const from = new Arena(heap, "startup", 1024);
  const global = new Arena(heap, "global", 1024);
  const a = from.place({ imms: [1] });
  from.place({ imms: [0, 0, 0, 0] }); // garbage between live objects
  const b = from.place({ ptrs: [a], imms: [2] });
  heap.roots.global("g", b);
  const stats: CopyStats[] = [];
  k.spawn("gc", collectOnce, new CopyingCollector(heap), from, global, stats);
  assertEquals(k.execute().verdict, "pass");
  assertEquals(global.space.objects.map((o) => [o.addr, o.bytes]), [[0, 24], [24, 16]]);
  assertEquals(stats[0].bytesFreed, 16 + 40 + 24);
  assertEquals(global.bytesUsed, heap.reachableBytes([heap.roots.slots[0].peek()]));
});
