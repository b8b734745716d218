import { assert, assertEquals } from "../deps.ts";
import { catalog } from "../scenarios/mod.ts";
import { loadScenario } from "../scenarios/load.ts";
import { checkDeterminism } from "./determinism.ts";
import { createStrategy, makeTarget, planFor } from "./explore.ts";

Deno.test("every catalog variant runs each schedule the same way twice", () => {
  for (const scenario of catalog) {
    for (const variant of Object.keys(scenario.variants)) {
      const target = makeTarget(scenario, variant);
      const { strategy } = planFor(target);
      const r = checkDeterminism(target, { strategy, seed: 1, runs: 200 });
      assertEquals(r.problems, [], `${scenario.name}/${variant}`);
    }
  }
});

Deno.test("a scenario that keeps state between runs is reported with the step where runs part", async () => {
  const leaky = await loadScenario("tests/fixtures/leaky_scenario.ts");
  const target = makeTarget(leaky, "default");
  const r = checkDeterminism(target, {
    strategy: createStrategy("random", target),
    seed: 1,
    runs: 5,
  });
  assertEquals(r.problems.length, 1);
  const p = r.problems[0];
  assert(p.step >= 2, `step ${p.step}`);
  assert(/nondeterminism in the scenario: seed 1/.test(p.message), p.message);
  assert(/write c/.test(p.first + p.second), `${p.first} / ${p.second}`);
});

Deno.test("a determinism report leaves out a pass's empty check and message", async () => {
  const { defineScenario, z } = await import("../mod.ts");
  let setups = 0;
  const flaky = defineScenario({
    name: "flaky-end",
    description: "the same steps, but every other run fails at the end",
    params: z.object({}),
    variants: {
      v: { description: "", expect: { verdict: "pass", budget: { strategy: "random", runs: 1 } } },
    },
    setup(k) {
      const odd = setups++ % 2 === 1;
      k.spawn("a", function* () {
        yield* k.pause();
      });
      k.invariant("even", () => !odd);
    },
  });
  const target = makeTarget(flaky, "v");
  const r = checkDeterminism(target, {
    strategy: createStrategy("random", target),
    seed: 1,
    runs: 1,
  });
  assertEquals(
    r.problems[0].message,
    "nondeterminism in the scenario: seed 1, two runs of the same schedule differ at the end: " +
      "first pass at step 1; then bug (even) at step 1: invariant even does not hold",
  );
});
