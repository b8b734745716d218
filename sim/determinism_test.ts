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
