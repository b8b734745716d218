import { assert, assertEquals, assertThrows } from "../deps.ts";
import { createStrategy, judge, makeTarget, planFor, sweep } from "../sim/explore.ts";
import { UsageError } from "../sim/scenario.ts";
import { piGc } from "./pi_gc.ts";

Deno.test("pi-gc: DPOR exhausts generational, full-copy and presimplify at the default size", () => {
  for (const variant of ["generational", "full-copy", "presimplify"]) {
    const target = makeTarget(piGc, variant);
    const r = judge(target, { ...planFor(target), seed: 1 });
    assert(r.ok, `${variant}: ${r.outcome?.message}`);
    assert(r.exploration?.exhausted, `${variant}: not exhausted in ${r.runs} schedules`);
  }
});

Deno.test("pi-gc broken variants need search: some random runs fail, most pass; DPOR finds them", () => {
  const checks: Record<string, string> = {
    "mutable-pointer": "old-to-young",
    "scan-simple-skip": "no-dangling",
  };
  for (const [variant, check] of Object.entries(checks)) {
    const target = makeTarget(piGc, variant);
    let failing = 0;
    sweep(target, {
      strategy: createStrategy("random", target),
      seed: 1,
      runs: 400,
      keepGoing: true,
      onRun: ({ outcome }) => {
        if (outcome.verdict === "pass") return;
        failing++;
        assertEquals(outcome.check, check);
      },
    });
    assert(failing > 0 && failing < 200, `${variant}: ${failing} of 400 random runs fail`);
    const dpor = judge(target, { ...planFor(target, { strategy: "dpor", runs: 2_000 }), seed: 1 });
    assertEquals(dpor.outcome?.check, check);
  }
});

Deno.test("pi-gc passes with more rounds, collections and two readers (PCT, sampled)", () => {
  for (const variant of ["generational", "full-copy", "presimplify"]) {
    const target = makeTarget(piGc, variant, {
      params: { rounds: 3, cycles: 4, readers: 2, reads: 4, gap: 3, presimplify: true },
    });
    const r = judge(target, { ...planFor(target, { strategy: "pct", runs: 200 }), seed: 9 });
    assert(r.ok, `${variant}: ${r.outcome?.message}`);
  }
});

Deno.test("pi-gc: bad parameters are zod errors naming the field", () => {
  assertThrows(
    () => makeTarget(piGc, "generational", { params: { presimplify: "yes" } }),
    (e: unknown) => e instanceof UsageError && /presimplify/.test(e.message),
  );
  assertThrows(() => makeTarget(piGc, "generational", { params: { cycles: 0 } }), UsageError);
});

Deno.test("pi-gc: DPOR exhausts the generational variants with every early full collection", () => {
  // A `collect` fault turns a nursery collection into a full one: DPOR
  // branches on it like on any choice, so both are tried in every interleaving.
  for (const variant of ["generational", "presimplify"]) {
    const plain = judge(makeTarget(piGc, variant), {
      ...planFor(makeTarget(piGc, variant)),
      seed: 1,
    });
    const target = makeTarget(piGc, variant, { params: { faults: { collect: 0.5 } } });
    const r = judge(target, { ...planFor(target), seed: 1 });
    assert(r.ok && r.exploration?.exhausted, `${variant}: ${r.outcome?.message}`);
    assertEquals(r.runs, 2 * plain.runs, `${variant}: the fault doubles the schedules`);
  }
});
