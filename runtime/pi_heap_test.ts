import { assert, assertEquals } from "../deps.ts";
import { Kernel } from "../sim/kernel.ts";
import { RandomStrategy } from "../sim/random.ts";
import { type PiGcOptions, PiMachine } from "./pi_heap.ts";
import { refOffsets } from "./pi_value.ts";

function machine(options: PiGcOptions): { k: Kernel; m: PiMachine } {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax: 1_000 }, new RandomStrategy(), 1);
  return { k, m: new PiMachine(k, options) };
}

// A list L on the stack and C = [ref to L's first element, bytes] in local 0.
function* slicer(m: PiMachine, dropL: boolean) {
  yield* m.push("a text of some length");
  yield* m.push(42);
  yield* m.build(2);
  yield* m.slice(0);
  yield* m.push(new Uint8Array(3));
  yield* m.build(2);
  yield* m.store(0);
  if (dropL) yield* m.pop();
  yield* m.collect();
}

function refsLeft(m: PiMachine): number {
  return m.roots().reduce((n, a) => n + refOffsets(m.bytesAt(a) as Uint8Array).length, 0);
}

Deno.test("a collection moves simple values unscanned, rewrites references to live values, copies out the rest", () => {
  for (const dropL of [false, true]) {
    const { k, m } = machine({ mode: "full-copy" });
    k.spawn("m", slicer, m, dropL);
    assertEquals(k.execute().verdict, "pass");
    assertEquals(m.stats.valuesScanned, 1); // C only
    assertEquals(m.stats.valuesMovedSimple, dropL ? 0 : 1); // L
    assertEquals(m.stats.copiedOut, dropL ? 1 : 0);
    assertEquals(refsLeft(m), dropL ? 0 : 1);
    assertEquals(m.resolve(m.frames[0][0]), ["a text of some length", new Uint8Array(3)]);
    assertEquals(m.liveSetBytes, m.liveSetOracle());
    assertEquals(m.heapValues, dropL ? 1 : 2);
  }
});

Deno.test("presimplify copies every reference out: nothing stays complex, nothing is scanned twice", () => {
  const { k, m } = machine({ mode: "full-copy", presimplify: true });
  k.spawn("m", slicer, m, false);
  assertEquals(k.execute().verdict, "pass");
  assertEquals([m.stats.copiedOut, refsLeft(m)], [1, 0]);
  assertEquals(m.resolve(m.frames[0][0]), ["a text of some length", new Uint8Array(3)]);
});

function* generations(m: PiMachine) {
  yield* m.push(["an old list", 1]);
  yield* m.collect(); // minor: promotes it
  yield* m.slice(0); // a young reference into the old list
  yield* m.push("young");
  yield* m.collect(); // minor: the old list is neither moved nor scanned
}

Deno.test("a minor collection leaves old values alone; nothing old refers to anything young", () => {
  const { k, m } = machine({ mode: "generational", majorEvery: 10 });
  k.spawn("m", generations, m);
  k.invariant("old-to-young", () => m.oldToYoung() ?? true, "step");
  assertEquals(k.execute().verdict, "pass");
  assertEquals([m.stats.minor, m.stats.major], [2, 0]);
  // Moved: the list (first), then "young" and the reference (second); the
  // list was not copied again.
  assertEquals(m.stats.valuesMovedSimple + m.stats.valuesScanned, 3);
  assertEquals(m.resolve(m.stack[1]), "an old list");
  assert(m.liveSetBytes === m.liveSetOracle());
});
