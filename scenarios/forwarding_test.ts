import { assert, assertEquals } from "../deps.ts";
import { forwarding } from "./forwarding.ts";
import { judgeVariant } from "./_judge.ts";
import { createStrategy, makeTarget, sweep } from "../sim/explore.ts";

Deno.test("forwarding: correct passes random and PCT runs at the default size and a bigger one", () => {
  for (const strategy of ["random", "pct"]) {
    const r = judgeVariant(forwarding, "correct", { strategy, runs: 150 });
    assert(r.ok, `${strategy}: ${r.outcome?.message}`);
  }
  const big = judgeVariant(forwarding, "correct", {
    params: { contexts: 4, senders: 3, processes: 2, messages: 3, patience: 2 },
    runs: 100,
  });
  assert(big.ok, big.outcome?.message);
});

Deno.test("forwarding: both broken variants are found by the ledger as a lost message", () => {
  for (const variant of ["drop-on-forward", "stale-forward"]) {
    const r = judgeVariant(forwarding, variant, { strategy: "pct", runs: 500 });
    assert(r.ok, `${variant}: ${r.outcome?.message}`);
    assertEquals(r.outcome?.check, "delivered-once", variant);
    assert(/never served/.test(r.outcome?.message ?? ""), r.outcome?.message);
  }
});

Deno.test("forwarding: with two contexts there is no old entry to go stale", () => {
  const r = judgeVariant(forwarding, "stale-forward", {
    params: { contexts: 2 },
    strategy: "pct",
    runs: 300,
  });
  assertEquals([r.ok, r.outcome?.verdict ?? "pass"], [false, "pass"]);
});

Deno.test("forwarding: under --swarm (sizes, channel delays, worker stalls) correct passes", () => {
  const target = makeTarget(forwarding, "correct", { swarm: true });
  const r = sweep(target, { strategy: createStrategy("random", target, {}), seed: 1, runs: 200 });
  assertEquals(r.failures.length, 0, r.failures[0]?.outcome.message);
  const broken = makeTarget(forwarding, "drop-on-forward", { swarm: true });
  const b = sweep(broken, { strategy: createStrategy("random", broken, {}), seed: 1, runs: 200 });
  assertEquals(b.failures[0]?.outcome.check, "delivered-once");
});
