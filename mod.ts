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
export { z } from "zod";
export {
  assertScenario,
  type AssertScenarioOptions,
  testScenario,
  type VariantResult,
} from "./testing/mod.ts";
