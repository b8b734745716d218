import { assert, assertEquals, assertThrows } from "../deps.ts";
import { catalog, lockOrder, lostUpdate } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor, replay } from "./explore.ts";
import { type AnyScenario, UsageError } from "./scenario.ts";
import { shrinkTrace } from "./shrink.ts";
import { parseTrace, serializeTrace } from "./trace.ts";

function failingTrace(
  scenario: AnyScenario = lostUpdate,
  variant = "racy",
  params: Record<string, unknown> = {},
  strategy = "random",
) {
  const target = makeTarget(scenario, variant, { params });
  const r = judge(target, { ...planFor(target, { strategy }), seed: 11 });
  assert(r.failures.length > 0, `${scenario.name}/${variant}: no failure found`);
  return makeTrace(target, r.strategy, r.failures[0]);
}

Deno.test("lost-update shrinks to one preemption, four steps and two fibers", () => {
  const trace = failingTrace(lostUpdate, "racy", { fibers: 4, increments: 3 });
  const r = shrinkTrace(trace, lostUpdate);
  assertEquals(r.after, { steps: 4, preemptions: 1, switches: 2, decisions: 3 });
  assertEquals(r.shrunk.params, { fibers: 2, increments: 1, localWork: 0 });
  assertEquals(r.shrunk.decisions, "0,1*2"); // the lexicographically smallest
  assertEquals([r.shrunk.outcome.verdict, r.shrunk.outcome.check], ["bug", "no-lost-update"]);
  assertEquals(r.shrunk.strategy, { name: "shrink", from: "random" });
  assertEquals(r.stopped, "fixpoint");
});

Deno.test("lock-order shrinks to the two lock steps that deadlock", () => {
  const r = shrinkTrace(failingTrace(lockOrder, "opposite", { rounds: 3 }), lockOrder);
  assertEquals([r.after.steps, r.after.preemptions], [2, 1]);
  assertEquals(r.shrunk.params, { rounds: 1 });
  assertEquals(r.shrunk.outcome.verdict, "deadlock");
});

Deno.test("every broken catalog variant shrinks to a trace that replays exactly and fails the same way", () => {
  for (const scenario of catalog) {
    for (const [variant, v] of Object.entries(scenario.variants)) {
      if (v.expect.verdict === "pass") continue;
      const target = makeTarget(scenario, variant);
      const found = judge(target, { ...planFor(target), seed: 1 });
      const trace = makeTrace(target, found.strategy, found.failures[0]);
      const r = shrinkTrace(trace, scenario, { runsMax: 5_000 });
      const again = replay(parseTrace(serializeTrace(r.shrunk)), scenario);
      assert(again.reproduced, `${scenario.name}/${variant}: ${again.message}`);
      assertEquals(again.outcome.verdict, trace.outcome.verdict);
      assertEquals(again.outcome.check, trace.outcome.check);
      const [b, a] = [r.before, r.after];
      assert(
        a.preemptions < b.preemptions || (a.preemptions === b.preemptions && a.steps <= b.steps),
        `${scenario.name}/${variant}: ${JSON.stringify(b)} -> ${JSON.stringify(a)}`,
      );
    }
  }
});

Deno.test("shrinking keeps to its budget", () => {
  const trace = failingTrace(lostUpdate, "racy", { fibers: 5, increments: 4 });
  const r = shrinkTrace(trace, lostUpdate, { runsMax: 30 });
  assertEquals(r.stopped, "runs");
  assert(r.runs <= 31, `${r.runs} runs`);
  let t = 0;
  const timed = shrinkTrace(trace, lostUpdate, { now: () => (t += 10), timeMsMax: 100 });
  assertEquals(timed.stopped, "time");
});

Deno.test("without parameter shrinking, the parameters stay", () => {
  const trace = failingTrace(lostUpdate, "racy", { fibers: 3, increments: 2 });
  const r = shrinkTrace(trace, lostUpdate, { params: false });
  assertEquals(r.shrunk.params, { fibers: 3, increments: 2, localWork: 0 });
  assertEquals(r.after.preemptions, 1);
});

Deno.test("a passing trace or one that no longer reproduces cannot be shrunk", () => {
  const target = makeTarget(lostUpdate, "locked");
  const pass = makeTrace(target, planFor(target).strategy, {
    seed: 1,
    outcome: { verdict: "pass", check: "", message: "", step: 8, fiber: null },
    decisions: [],
  });
  assertThrows(() => shrinkTrace(pass, lostUpdate), UsageError, "nothing to shrink");
  const trace = failingTrace();
  const wrong = { ...trace, outcome: { ...trace.outcome, step: 99 } };
  assertEquals(shrinkTrace(wrong, lostUpdate).after.preemptions, 1); // same verdict and check
  const other = { ...trace, decisions: "0*3" };
  assertThrows(() => shrinkTrace(other, lostUpdate), UsageError, "does not reproduce");
});

Deno.test("limits a scenario derives from its parameters follow the shrunk parameters", async () => {
  const { defineScenario } = await import("./scenario.ts");
  const { z } = await import("zod");
  const { lostUpdate: base } = await import("../scenarios/mod.ts");
  const perFiber = defineScenario({
    ...base,
    name: "lost-update-per-core",
    cores: ({ fibers }: { fibers: number }) => fibers,
    stepsMax: ({ fibers }: { fibers: number }) => 100 * fibers,
    params: z.object({
      fibers: z.number().int().min(1).default(4),
      increments: z.number().int().min(1).default(2),
      localWork: z.number().int().min(0).default(0),
    }),
  });
  const trace = failingTrace(perFiber, "racy");
  assertEquals([trace.cores, trace.stepsMax], [4, 400]);
  const r = shrinkTrace(trace, perFiber);
  assertEquals(r.shrunk.params.fibers, 2);
  assertEquals([r.shrunk.cores, r.shrunk.stepsMax], [2, 200]);
  const again = replay(parseTrace(serializeTrace(r.shrunk)), perFiber);
  assert(again.reproduced, again.message);
});
