import { assert, assertEquals } from "../deps.ts";
import { forwarding } from "./forwarding.ts";
import { judgeVariant } from "./_judge.ts";

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
