import { assert, assertEquals, assertMatch } from "../deps.ts";
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

Deno.test("forwarding: both broken routings are found by a ledger as a lost message or a lost value", () => {
  for (const variant of ["drop-on-forward", "stale-forward"]) {
    const r = judgeVariant(forwarding, variant, { strategy: "pct", runs: 500 });
    assert(r.ok, `${variant}: ${r.outcome?.message}`);
    assert(["delivered-once", "future-value"].includes(r.outcome?.check ?? ""), variant);
    assert(/never (served|saw)/.test(r.outcome?.message ?? ""), r.outcome?.message);
  }
  // Without located futures only messages can be lost.
  const r = judgeVariant(forwarding, "drop-on-forward", {
    params: { futures: 0 },
    strategy: "pct",
    runs: 500,
  });
  assertEquals([r.ok, r.outcome?.check], [true, "delivered-once"]);
});

Deno.test("forwarding: lost-resolve is found by the readers' ledger, needs search, and needs a future", () => {
  const r = judgeVariant(forwarding, "lost-resolve", { strategy: "pct", runs: 500 });
  assert(r.ok, r.outcome?.message);
  assertEquals(r.outcome?.check, "future-value");
  assertMatch(r.outcome?.message ?? "", /the reader at ctx\d never saw F0's value/);
  // Most random runs pass: the resolve usually reaches the home before the owner leaves.
  const target = makeTarget(forwarding, "lost-resolve", {});
  const s = sweep(target, {
    strategy: createStrategy("random", target, {}),
    seed: 1,
    runs: 200,
    keepGoing: true,
  });
  assert(s.failures.length > 0 && s.failures.length < 100, `${s.failures.length} of 200 failed`);
  const none = judgeVariant(forwarding, "lost-resolve", {
    params: { futures: 0 },
    strategy: "pct",
    runs: 300,
  });
  assertEquals([none.ok, none.outcome?.verdict ?? "pass"], [false, "pass"]);
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
