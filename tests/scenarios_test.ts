/**
 * The scenario regression suite: every catalog variant against the verdict
 * it declares, within the budget it declares.
 */
import { assert, assertEquals } from "../deps.ts";
import { catalog, clockSync, lockOrder, lostUpdate, zeno } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor, replay } from "../sim/explore.ts";
import { parseTrace, serializeTrace } from "../sim/trace.ts";

for (const scenario of catalog) {
  for (const [variant, v] of Object.entries(scenario.variants)) {
    const b = v.expect.budget;
    Deno.test(
      `${scenario.name}/${variant} gets ${v.expect.verdict} within ${b.runs} ${b.strategy} runs`,
      () => {
        const target = makeTarget(scenario, variant);
        const result = judge(target, { ...planFor(target), seed: 1 });
        assert(
          result.ok,
          `expected ${v.expect.verdict}${v.expect.check ? ` (${v.expect.check})` : ""}, got ` +
            `${result.outcome?.verdict ?? "pass"} ${result.outcome?.message ?? ""}`,
        );
      },
    );
  }
}

Deno.test("PCT finds lost-update/racy within a few hundred runs, for every one of 20 seeds", () => {
  const target = makeTarget(lostUpdate, "racy");
  const needed: number[] = [];
  for (let seed = 0; seed < 20 * 1000; seed += 1000) {
    const r = judge(target, { ...planFor(target, { strategy: "pct", runs: 300 }), seed });
    assert(r.ok, `seed ${seed}: not found in 300 runs`);
    needed.push(r.runs);
  }
  assert(Math.max(...needed) <= 300);
});

Deno.test("lost-update/locked passes 10,000 random runs", () => {
  const target = makeTarget(lostUpdate, "locked", { params: { fibers: 3, increments: 2 } });
  const r = judge(target, { ...planFor(target, { strategy: "random", runs: 10_000 }), seed: 7 });
  assertEquals([r.ok, r.runs, r.failures.length], [true, 10_000, 0]);
});

Deno.test("lock-order/opposite reports a deadlock whose trace replays exactly", () => {
  const target = makeTarget(lockOrder, "opposite");
  const r = judge(target, { ...planFor(target), seed: 1 });
  assertEquals(r.outcome?.verdict, "deadlock");
  const trace = parseTrace(serializeTrace(makeTrace(target, r.strategy, r.failures[0])));
  const again = replay(trace, lockOrder);
  assert(again.reproduced, again.message);
  assertEquals(again.outcome.verdict, "deadlock");
});

Deno.test("a broken variant run with too small a budget is reported as not found", () => {
  const target = makeTarget(lostUpdate, "racy");
  // Two runs of a sequential strategy cannot interleave: run 1 and 2 of PCT
  // with depth 1 never preempt.
  const r = judge(target, { ...planFor(target, { strategy: "pct", depth: 1, runs: 2 }), seed: 1 });
  assertEquals([r.ok, r.outcome], [false, undefined]);
});

Deno.test("zeno outcomes are traces like any other: written, read back and replayed exactly", () => {
  for (const variant of ["busy-wait", "endless-nested"]) {
    const target = makeTarget(zeno, variant);
    const r = judge(target, { ...planFor(target), seed: 11 });
    assertEquals([r.outcome?.verdict, r.outcome?.check], ["zeno", "zeno"]);
    const trace = parseTrace(serializeTrace(makeTrace(target, r.strategy, r.failures[0])));
    const again = replay(trace, zeno);
    assert(again.reproduced, again.message);
  }
});

Deno.test("clock-sync: judged by the bound alone, ignoring the round trip is found at once", () => {
  for (const variant of ["no-rtt", "berkeley-no-rtt"]) {
    for (const minDelay of [10, 100, 1_000]) {
      const target = makeTarget(clockSync, variant, {
        params: { minDelay, maxDelay: 10 * minDelay, slackTicks: 0 },
      });
      const r = judge(target, { ...planFor(target, { runs: 20 }), seed: 3 });
      assertEquals(r.outcome?.check, "sync-error", `${variant}, minDelay ${minDelay}`);
      assert(r.runs <= 3, `${variant}, minDelay ${minDelay}: took ${r.runs} runs`);
    }
  }
});

Deno.test("clock-sync: the correct algorithms hold their bound under large drift and delays", () => {
  for (const variant of ["cristian", "berkeley"]) {
    const target = makeTarget(clockSync, variant, {
      params: {
        driftPpmMax: 50_000,
        minDelay: 0,
        maxDelay: 50_000,
        clients: 4,
        rounds: 4,
        slackTicks: 0,
      },
    });
    const r = judge(target, { ...planFor(target, { runs: 500 }), seed: 5 });
    assert(r.ok, `${variant}: ${r.outcome?.message}`);
  }
});
