import { assertEquals, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
import { lockOrder, lostUpdate } from "../scenarios/mod.ts";
import { captured } from "../tests/_io.ts";
import { type AnyScenario, type Cell, defineScenario, Violation, z } from "../mod.ts";
import { judge, makeTarget, makeTrace, planFor } from "./explore.ts";
import { shrinkTrace } from "./shrink.ts";
import type { Trace } from "./trace.ts";
import { verifyFound, verifyShrunk } from "./verify.ts";

function found(
  scenario: AnyScenario,
  variant: string,
  plan: Parameters<typeof planFor>[1],
): Trace {
  const target = makeTarget(scenario, variant);
  const r = judge(target, { ...planFor(target, plan), seed: 1 });
  return makeTrace(target, r.strategy, r.failures[0]);
}

Deno.test("a trace records every strategy option, and the gate accepts it", () => {
  const pct = found(lostUpdate, "racy", { strategy: "pct", depth: 2, pctSteps: 7 });
  assertEquals(pct.strategy, { name: "pct", depth: 2, steps: 7 });
  const dfs = found(lockOrder, "opposite", { strategy: "dfs", preemptions: 1 });
  assertEquals(dfs.strategy, { name: "dfs", preemptions: 1 });
  const iterative = found(lockOrder, "opposite", { strategy: "dfs", iterative: true });
  assertEquals(iterative.strategy, { name: "dfs", preemptions: 1, iterative: true });
  const random = found(lostUpdate, "racy", { strategy: "random" });
  assertEquals(random.strategy, { name: "random" });
  const portfolio = found(lostUpdate, "racy", { strategy: "portfolio", pctSteps: 7 });
  assertEquals(Object.keys(portfolio.strategy).sort(), ["member", "name", "steps"]);
  for (const t of [pct, dfs, iterative, random, portfolio]) {
    assertEquals(verifyFound(t, t.scenario === "lost-update" ? lostUpdate : lockOrder), []);
  }
});

Deno.test("the gate refuses a trace that drops or changes a strategy option", () => {
  const pct = found(lostUpdate, "racy", { strategy: "pct", depth: 2, pctSteps: 7 });
  const { depth: _d, ...noDepth } = pct.strategy;
  const { steps: _s, ...noSteps } = pct.strategy;
  for (const strategy of [noDepth, noSteps]) {
    const [p] = verifyFound({ ...pct, strategy }, lostUpdate);
    assertMatch(p, /an option is missing from the trace/);
  }
  const [other] = verifyFound({ ...pct, strategy: { ...pct.strategy, steps: 50 } }, lostUpdate);
  assertMatch(other, /does not rerun to the recorded run/);
  const dfs = found(lockOrder, "opposite", { strategy: "dfs", preemptions: 1 });
  const [bound] = verifyFound({ ...dfs, strategy: { name: "dfs", preemptions: 0 } }, lockOrder);
  assertMatch(bound, /takes 1 preemptions, more than the bound of 0/);
});

Deno.test("the gate refuses a trace that does not replay to its outcome", () => {
  const t = found(lostUpdate, "racy", { strategy: "random" });
  const [p] = verifyFound(
    { ...t, outcome: { ...t.outcome, step: t.outcome.step + 1 } },
    lostUpdate,
  );
  assertMatch(p, /^the trace does not replay: recorded bug/);
  const [q] = verifyFound({ ...t, decisions: `${t.decisions},0,0,0` }, lostUpdate);
  assertMatch(q, /^the trace does not replay: Cannot replay trace/);
});

// Reading 1 and reading 2 are two different bugs; the shorter schedule finds
// `saw-one`, so a shrinker that accepted any bug would trade `saw-two` for it.
function* writer(x: Cell<number>) {
  yield* x.write(1);
  yield* x.write(2);
  yield* x.write(0);
}
function* reader(x: Cell<number>) {
  const v = yield* x.read();
  if (v === 1) throw new Violation("saw-one", "read 1");
  if (v === 2) throw new Violation("saw-two", "read 2");
}
const twoBugs = defineScenario({
  name: "two-bugs",
  description: "two checks, one needs a longer schedule",
  params: z.object({}),
  variants: {
    v: { description: "", expect: { verdict: "bug", budget: { strategy: "dfs", runs: 100 } } },
  },
  setup(k) {
    const x = k.cell("x", 0);
    k.spawn("w", writer, x);
    k.spawn("r", reader, x);
  },
});

Deno.test("the shrinker keeps the failure's check, and the gate refuses a shrunk trace with another", () => {
  const target = makeTarget(twoBugs, "v");
  const r = judge(target, { ...planFor(target), seed: 1, keepGoing: true });
  const byCheck = (c: string) =>
    makeTrace(target, r.strategy, r.failures.find((f) => f.outcome.check === c)!);
  const two = byCheck("saw-two");
  const shrunk = shrinkTrace(two, twoBugs).shrunk;
  assertEquals([shrunk.outcome.verdict, shrunk.outcome.check], ["bug", "saw-two"]);
  assertEquals(verifyShrunk(two, shrunk, twoBugs), []);
  const [p] = verifyShrunk(two, byCheck("saw-one"), twoBugs);
  assertEquals(p, "the shrunk trace fails with bug (saw-one), not bug (saw-two) like the original");
});

Deno.test("the gate refuses a shrunk trace that stops replaying", () => {
  const t = found(lostUpdate, "racy", { strategy: "random" });
  const shrunk = shrinkTrace(t, lostUpdate).shrunk;
  assertEquals(verifyShrunk(t, shrunk, lostUpdate), []);
  const [p] = verifyShrunk(t, { ...shrunk, decisions: shrunk.decisions + ",1" }, lostUpdate);
  assertMatch(p, /^the shrunk trace does not replay: /);
});

Deno.test("the main job fails (exit 1) when a found failure's trace does not replay", async () => {
  const out = await Deno.makeTempDir({ prefix: "sim-gate-test-" });
  const r = await captured(main, [
    "--scenario",
    "tests/fixtures/unreplayable_scenario.ts",
    "--out",
    out,
  ]);
  const text = r.out.join("\n");
  assertEquals(r.code, 1, text);
  assertMatch(
    text,
    /unreplayable\/default: bug \(third-run\) at step \d+ in fiber a: the third run/,
  );
  assertMatch(text, /NOT TRUSTED: the trace does not replay: recorded bug \(third-run\)/);
  assertMatch(text, /1 of 1 verdicts NOT as expected/);
  await Deno.remove(out, { recursive: true });
});
