import { assert, assertEquals } from "../deps.ts";
import { Stm } from "../runtime/atomic.ts";
import { createStrategy, judge, makeTarget, planFor, Runner, sweep } from "../sim/explore.ts";
import { atomicNested } from "./atomic_nested.ts";

Deno.test("atomic-nested/closed: DPOR exhausts 2 and 3 movers", () => {
  for (const movers of [2, 3]) {
    const target = makeTarget(atomicNested, "closed", { params: { movers } });
    const r = judge(target, { ...planFor(target), seed: 1 });
    assert(r.ok, r.outcome?.message);
    assert(r.exploration?.exhausted, `${movers} movers: not exhausted in ${r.runs} schedules`);
  }
});

Deno.test("atomic-nested/closed: random runs do abort inner regions, and all pass", () => {
  const target = makeTarget(atomicNested, "closed", { params: { movers: 3, rounds: 2 } });
  const runner = new Runner(target);
  const strategy = createStrategy("random", target);
  let innerAborts = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const o = runner.run(strategy, seed);
    assertEquals(o.verdict, "pass", `seed ${seed}: ${o.message}`);
    innerAborts += Stm.of(runner.kernel).stats.innerAborts;
  }
  assert(innerAborts > 0, "no inner abort in 300 runs: the scenario would not test nesting");
});

Deno.test("atomic-nested/flat-abort needs search and is found by DPOR too", () => {
  const target = makeTarget(atomicNested, "flat-abort");
  let failing = 0;
  sweep(target, {
    strategy: createStrategy("random", target),
    seed: 1,
    runs: 500,
    keepGoing: true,
    onRun: ({ outcome }) => {
      if (outcome.verdict === "pass") return;
      failing++;
      assertEquals(outcome.check, "total");
    },
  });
  assert(failing > 0 && failing < 250, `${failing} of 500 random runs fail`);
  const dpor = judge(target, { ...planFor(target, { strategy: "dpor", runs: 1_000 }), seed: 1 });
  assertEquals(dpor.outcome?.check, "total");
});
