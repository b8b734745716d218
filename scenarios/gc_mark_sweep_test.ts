import { assert, assertEquals, assertMatch } from "../deps.ts";
import type { MarkSweepOptions } from "../runtime/mark_sweep.ts";
import { judge, makeTarget, planFor } from "../sim/explore.ts";
import { defineScenario } from "../sim/scenario.ts";
import { z } from "zod";
import { BUILDS, buildWorld, gcMarkSweep } from "./gc_mark_sweep.ts";

Deno.test("DPOR exhausts insertion, deletion and parallel-mark at the default size", () => {
  for (const variant of ["insertion", "deletion", "parallel-mark"]) {
    const target = makeTarget(gcMarkSweep, variant);
    const r = judge(target, { ...planFor(target), seed: 1 });
    assert(r.ok, `${variant}: ${r.outcome?.message}`);
    assert(r.exploration?.exhausted, `${variant} not exhausted in ${r.runs} schedules`);
  }
});

Deno.test("no-barrier: the failing schedule is the classic lost object, found by DPOR and PCT", () => {
  const target = makeTarget(gcMarkSweep, "no-barrier");
  const dpor = judge(target, { ...planFor(target), seed: 1 });
  assertEquals([dpor.outcome?.verdict, dpor.outcome?.check], ["bug", "free-safety"]);
  assertMatch(dpor.outcome?.message ?? "", /freed C, which is still reachable/);
  assert(dpor.runs <= 50, `DPOR needed ${dpor.runs} schedules`);
  const pct = judge(target, { ...planFor(target, { strategy: "pct", runs: 2_000 }), seed: 1 });
  assertEquals(pct.outcome?.check, "free-safety");
});

/** A collector build with one ingredient knocked out, on the same world. */
function ablation(build: MarkSweepOptions) {
  return defineScenario({
    name: "gc-mark-sweep-ablation",
    description: "gc-mark-sweep with one ingredient of a correct variant removed",
    params: z.object({
      cycles: z.number().default(1),
      mutators: z.number().default(1),
      garbage: z.number().default(0),
    }),
    variants: {
      knocked: {
        description: "",
        expect: { verdict: "bug", check: "free-safety", budget: { strategy: "dpor", runs: 500 } },
      },
    },
    stepsMax: () => 900,
    setup: (k, params) => buildWorld(k, params, build),
  });
}

Deno.test("each ingredient of the correct variants is needed: without it DPOR finds a free of a live node", () => {
  const knocked: Record<string, MarkSweepOptions> = {
    "insertion without its shade": { ...BUILDS.insertion, barrier: "none", rescan: true },
    "insertion without the final rescan": { ...BUILDS.insertion, rescan: false },
    "deletion without allocating black": { ...BUILDS.deletion, allocateBlack: false },
    "deletion without its shade": { ...BUILDS.deletion, barrier: "none" },
  };
  for (const [what, build] of Object.entries(knocked)) {
    const target = makeTarget(ablation(build), "knocked");
    const r = judge(target, { ...planFor(target), seed: 1 });
    assert(r.ok, `${what}: not found in ${r.runs} schedules`);
  }
});

Deno.test("the mark-sweep variants pass with more mutators, cycles and garbage (PCT)", () => {
  for (const variant of ["insertion", "deletion", "no-reset", "parallel-mark"]) {
    const target = makeTarget(gcMarkSweep, variant, {
      params: { cycles: 2, mutators: 2, garbage: 2 },
    });
    const r = judge(target, { ...planFor(target, { strategy: "pct", runs: 300 }), seed: 7 });
    assert(r.ok, `${variant}: ${r.outcome?.message}`);
  }
});
