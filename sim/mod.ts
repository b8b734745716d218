/**
 * The kernel: fibers, primitives, strategies, traces, exploration.
 *
 * The shrinker (`sim/shrink.ts`) is not re-exported here: it brings in
 * fast-check, and every scenario file imports this module, so it would add
 * fast-check's load time to every start-up. Import it from its own file.
 *
 * @module
 */
export * from "./clock.ts";
export * from "./core_clocks.ts";
export * from "./determinism.ts";
export * from "./events.ts";
export * from "./explore.ts";
export * from "./fiber.ts";
export * from "./guided.ts";
export * from "./kernel.ts";
export * from "./memory.ts";
export * from "./op.ts";
export * from "./ordering.ts";
export * from "./outcome.ts";
export * from "./pct.ts";
export * from "./random.ts";
export * from "./replay.ts";
export * from "./rng.ts";
export * from "./scenario.ts";
export type * from "./strategy.ts";
export * from "./streams.ts";
export * from "./swarm.ts";
export * from "./trace.ts";
export type { Change, StateRecording, StateSource, StateWriter } from "./state.ts";
export type {
  ExhaustiveStrategy,
  ExplorationResult,
  ExplorationStats,
  ExploreOptions,
} from "./exhaustive.ts";
export type { Frontier, TreeSpec } from "./split.ts";
export type { DporVariant } from "./dpor.ts";
