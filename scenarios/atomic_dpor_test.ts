/**
 * DPOR against full DFS on transactional scenarios: commits and snapshot
 * checks declare every cell they read and write, and nothing else shared is
 * read outside a footprint, so DPOR must reach exactly the final states and
 * failures DFS reaches.
 */
import { assert, assertEquals } from "../deps.ts";
import { DfsStrategy } from "../sim/dfs.ts";
import { DporStrategy } from "../sim/dpor.ts";
import type { ExhaustiveStrategy } from "../sim/exhaustive.ts";
import { makeTarget, Runner, type Target } from "../sim/explore.ts";
import type { Outcome } from "../sim/outcome.ts";
import { atomicBank } from "./atomic_bank.ts";
import { atomicNested } from "./atomic_nested.ts";

function observe(target: Target, strategy: ExhaustiveStrategy) {
  const finals = new Set<string>();
  const failures = new Set<string>();
  const runner = new Runner(target);
  let schedules = 0;
  for (;;) {
    let o: Outcome | null = null;
    try {
      o = runner.run(strategy, 0);
    } catch (e) {
      if (!(e instanceof Error) || e.name !== "PrunedRun") throw e;
    }
    schedules++;
    if (o !== null) {
      if (o.verdict === "pass") finals.add(JSON.stringify(runner.kernel.snapshot()));
      else failures.add(`${o.verdict} ${o.check}`);
    }
    if (!strategy.advance()) break;
    if (schedules > 60_000) throw new Error("exploration too large for this test");
  }
  return { finals: [...finals].sort(), failures: [...failures].sort(), schedules };
}

Deno.test("DPOR reaches the final states and failures of DFS on atomic-bank and atomic-nested", () => {
  const cases = [
    { s: atomicBank, v: "stm", params: { tellers: 2, accounts: 2, auditors: 1, work: 0 } },
    { s: atomicBank, v: "no-validate", params: { tellers: 2, accounts: 2, auditors: 1, work: 0 } },
    { s: atomicBank, v: "no-snapshot", params: { tellers: 2, accounts: 2, auditors: 1, work: 0 } },
    { s: atomicBank, v: "no-snapshot", params: { tellers: 1, accounts: 2, auditors: 1, work: 0 } },
    { s: atomicNested, v: "closed", params: { movers: 2 } },
    { s: atomicNested, v: "flat-abort", params: { movers: 2 } },
  ];
  for (const c of cases) {
    const target = makeTarget(c.s, c.v, { params: c.params });
    const dfs = observe(target, new DfsStrategy());
    const dpor = observe(target, new DporStrategy());
    const what = `${c.s.name}/${c.v} ${JSON.stringify(c.params)}`;
    assertEquals(dpor.finals, dfs.finals, what);
    assertEquals(dpor.failures, dfs.failures, what);
    assert(
      dpor.schedules <= dfs.schedules,
      `${what}: dpor ${dpor.schedules} > dfs ${dfs.schedules}`,
    );
  }
});
