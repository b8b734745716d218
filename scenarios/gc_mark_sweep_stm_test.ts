import { assert, assertEquals } from "../deps.ts";
import { Heap } from "../runtime/heap.ts";
import { collectCycles, MarkSweep } from "../runtime/mark_sweep.ts";
import { createStrategy, judge, makeTarget, planFor, Runner } from "../sim/explore.ts";
import type { Kernel } from "../sim/kernel.ts";
import { defineScenario } from "../sim/scenario.ts";
import { z } from "zod";
import { buildWorld, gcMarkSweep } from "./gc_mark_sweep.ts";

// Two collectors mark the same chain from both ends of the root set, so they
// race for every node's mark.
function contended(k: Kernel, mode: "flip-stm" | "flip-nonatomic"): MarkSweep {
  const heap = new Heap(k, { objectsMax: 16 });
  const gc = new MarkSweep(heap, heap.space("nodes", 1024), {
    barrier: "deletion",
    mark: mode,
    collectors: 2,
  });
  const c = gc.node({ name: "C" });
  const b = gc.node({ name: "B", ptrs: [c] });
  const a = gc.node({ name: "A", ptrs: [b] });
  heap.roots.global("g0", a);
  heap.roots.global("g1", a);
  k.spawn("gc", collectCycles, gc, 2);
  return gc;
}

const contention = defineScenario({
  name: "mark-contention",
  description: "two collectors race for the marks of one chain",
  params: z.object({}),
  variants: {
    "flip-stm": {
      description: "",
      expect: { verdict: "pass", budget: { strategy: "random", runs: 1 } },
    },
    "flip-nonatomic": {
      description: "",
      expect: { verdict: "pass", budget: { strategy: "random", runs: 1 } },
    },
  },
  setup(k, _p, variant) {
    contended(k, variant as "flip-stm" | "flip-nonatomic");
  },
});

Deno.test("no-reset-stm: the atomic region never lets two collectors trace one node; without it they do", () => {
  const retraced: Record<string, number> = {};
  for (const variant of ["flip-stm", "flip-nonatomic"]) {
    const target = makeTarget(contention, variant);
    const runner = new Runner(target);
    const strategy = createStrategy("random", target);
    let gc: MarkSweep | null = null;
    retraced[variant] = 0;
    for (let seed = 1; seed <= 300; seed++) {
      runner.kernel.reset({ cores: 0, stepsMax: 2_000 }, strategy, seed);
      gc = contended(runner.kernel, variant as "flip-stm" | "flip-nonatomic");
      assertEquals(runner.kernel.execute().verdict, "pass");
      retraced[variant] += gc.stats.retraced;
    }
  }
  assertEquals(retraced["flip-stm"], 0);
  assert(retraced["flip-nonatomic"] > 0, "the race never happened: the test shows nothing");
});

Deno.test("no-reset-stm with one collector: DPOR exhausts at the default size (sampled with two)", () => {
  const one = defineScenario({
    name: "no-reset-stm-1",
    description: "gc-mark-sweep/no-reset-stm with one collector fiber",
    params: z.object({
      cycles: z.number().default(2),
      mutators: z.number().default(1),
      garbage: z.number().default(0),
    }),
    variants: {
      v: {
        description: "",
        expect: { verdict: "pass", budget: { strategy: "dpor", runs: 60_000 } },
      },
    },
    stepsMax: () => 1_000,
    setup: (k, p) => buildWorld(k, p, { barrier: "deletion", mark: "flip-stm", collectors: 1 }),
  });
  const target = makeTarget(one, "v");
  const r = judge(target, { ...planFor(target), seed: 1 });
  assert(r.ok && r.exploration?.exhausted, `${r.runs} schedules: ${r.outcome?.message}`);
  const two = makeTarget(gcMarkSweep, "no-reset-stm", { params: { cycles: 2, mutators: 2 } });
  const pct = judge(two, { ...planFor(two, { strategy: "pct", runs: 300 }), seed: 3 });
  assert(pct.ok, pct.outcome?.message);
});
