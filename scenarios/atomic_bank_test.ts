import { assert, assertEquals } from "../deps.ts";
import { createStrategy, judge, makeTarget, planFor, sweep } from "../sim/explore.ts";
import { atomicBank } from "./atomic_bank.ts";

Deno.test("atomic-bank/stm: DPOR exhausts the default size", () => {
  const target = makeTarget(atomicBank, "stm");
  const r = judge(target, { ...planFor(target), seed: 1 });
  assert(r.ok, r.outcome?.message);
  assert(r.exploration?.exhausted, `not exhausted in ${r.runs} schedules`);
});

Deno.test("atomic-bank broken variants need search: some random runs fail, most pass", () => {
  for (const [variant, check] of [["no-validate", "serializable"], ["no-snapshot", "opacity"]]) {
    const target = makeTarget(atomicBank, variant);
    let failing = 0;
    const r = sweep(target, {
      strategy: createStrategy("random", target),
      seed: 1,
      runs: 500,
      keepGoing: true,
      onRun: ({ outcome }) => {
        if (outcome.verdict === "pass") return;
        failing++;
        assertEquals(outcome.check, check);
      },
    });
    assertEquals(r.runs, 500);
    assert(failing > 0 && failing < 250, `${variant}: ${failing} of 500 random runs fail`);
  }
});

Deno.test("atomic-bank/stm passes larger banks under PCT (sampled)", () => {
  const target = makeTarget(atomicBank, "stm", {
    params: { tellers: 3, accounts: 4, transfers: 2, auditors: 2 },
  });
  const r = judge(target, { ...planFor(target, { strategy: "pct", runs: 300 }), seed: 5 });
  assert(r.ok, r.outcome?.message);
});
