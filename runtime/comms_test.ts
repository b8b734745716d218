import { assert, assertEquals, assertThrows } from "../deps.ts";
import { judge, makeTarget, planFor } from "../sim/explore.ts";
import { comms } from "../scenarios/comms.ts";
import { PctStrategy } from "../sim/pct.ts";
import type { Strategy } from "../sim/strategy.ts";
import { type CommsFlaw, CommsMatrix, Context } from "./comms.ts";
import { world } from "./_testing.ts";

function* sender(m: CommsMatrix, a: Context, b: Context, n: number) {
  for (let i = 0; i < n; i++) {
    yield* m.send(a, b, [i, i + 1]);
    yield* a.collect();
  }
}

function* receiver(m: CommsMatrix, a: Context, b: Context, n: number, got: number[][]) {
  for (let i = 0; i < n; i++) got.push(yield* m.receive(b, a));
}

function exchange(flaw: CommsFlaw | null, seed: number, strategy?: Strategy) {
  const { k, heap } = world(seed, { strategy });
  const a = new Context(heap, "A", { bytes: 96, flaw });
  const b = new Context(heap, "B", { bytes: 96, flaw });
  const m = new CommsMatrix(k, [a, b], { slots: 1 });
  const got: number[][] = [];
  k.spawn("A", sender, m, a, b, 3);
  k.spawn("B", receiver, m, a, b, 3, got);
  return { outcome: k.execute(), got, m, a, b, heap };
}

Deno.test("messages arrive intact, in order, through one slot, while the sender compacts", () => {
  for (let seed = 0; seed < 200; seed++) {
    const { outcome, got, m, a, b } = exchange(null, seed);
    assertEquals(outcome.verdict, "pass", outcome.message);
    assertEquals(got, [[0, 1], [1, 2], [2, 3]]);
    assertEquals(m.peekPosted(a, b), 3);
    assertEquals(a.compaction.count, 3);
  }
});

Deno.test("the last message stays in the sender's heap, moved by each compaction", () => {
  const { heap, a } = exchange(null, 1);
  // Only the last message (two nodes) is still rooted in A's outbox.
  assertEquals(a.arena.space.objects.length, 2);
  assert(a.arena.space.objects.every((o) => heap.get(o.origin).space !== a.arena.space));
});

Deno.test("without the collector lock a compaction frees a message under its reader", () => {
  const pct = new PctStrategy({ depth: 3, steps: 130 });
  const checks = new Set<string>();
  for (let seed = 0; seed < 200; seed++) {
    const { outcome } = exchange("no-gc-lock", seed, pct);
    if (outcome.verdict !== "pass") checks.add(`${outcome.verdict} ${outcome.check}`);
  }
  assertEquals([...checks], ["bug free-safety"]);
});

Deno.test("a comms matrix needs at least one slot a pair", () => {
  const { k, heap } = world();
  const a = new Context(heap, "A", { bytes: 64 });
  assertThrows(() => new CommsMatrix(k, [a], { slots: 0 }), /0 slots/);
});

Deno.test("under tso and pso the comms matrix still delivers each message intact; no-gc-lock is still found", () => {
  for (const memory of ["tso", "pso"] as const) {
    for (const strategy of ["dpor", "random"] as const) {
      const target = makeTarget(comms, "correct", { memory });
      const runs = strategy === "dpor" ? 150 : 400;
      const j = judge(target, { ...planFor(target, { strategy, runs }), seed: 0 });
      assert(j.ok, `${memory} ${strategy}: ${j.outcome?.check} ${j.outcome?.message}`);
    }
    const bug = makeTarget(comms, "no-gc-lock", { memory });
    const j = judge(bug, { ...planFor(bug, { strategy: "random", runs: 2_000 }), seed: 0 });
    assert(j.ok, `${memory} no-gc-lock: ${j.outcome?.check ?? "not found"}`);
  }
});
