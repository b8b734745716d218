/**
 * simtest: a deterministic simulation testbed for concurrent runtimes.
 *
 * Everything a scenario file needs: the kernel and its primitives, the
 * scenario declaration, and zod for parameters.
 *
 * @module
 */
export * from "./sim/mod.ts";
export * from "./runtime/mod.ts";
import { z as zod } from "zod";
/** zod, re-exported for scenario parameter schemas: `params: z.object({ n: z.number() })`. */
export const z: typeof zod = zod;
export {
  assertScenario,
  type AssertScenarioOptions,
  testScenario,
  type VariantResult,
} from "./testing/mod.ts";
