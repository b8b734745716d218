/**
 * Test helper for the scenario tests: judges one variant with given
 * parameters and an optional strategy override.
 */
import { judge, type Judgement, makeTarget, planFor } from "../sim/explore.ts";
import type { AnyScenario } from "../sim/scenario.ts";

/** Judges `variant` of `scenario` with `params`, by its budget unless `strategy` and `runs` say otherwise. */
export function judgeVariant(
  scenario: AnyScenario,
  variant: string,
  options: { params?: Record<string, unknown>; strategy?: string; runs?: number; seed?: number } =
    {},
): Judgement {
  const target = makeTarget(scenario, variant, { params: options.params });
  const plan = planFor(target, { strategy: options.strategy, runs: options.runs });
  return judge(target, { ...plan, seed: options.seed ?? 1 });
}
