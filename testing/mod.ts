/**
 * Judging scenarios inside `deno test`: `assertScenario` and `testScenario`.
 *
 * @example
 * ```ts ignore
 * import { testScenario } from "./mod.ts";
 * import { lostUpdate } from "../scenarios/mod.ts";
 * testScenario(lostUpdate); // one Deno.test, a step per variant
 * ```
 *
 * @module
 */
export {
  assertScenario,
  type AssertScenarioOptions,
  testScenario,
  type VariantResult,
} from "./assert.ts";
