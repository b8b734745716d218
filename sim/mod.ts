/**
 * The kernel: fibers, primitives, strategies, traces, exploration.
 *
 * @module
 */
export * from "./clock.ts";
export * from "./core_clocks.ts";
export * from "./explore.ts";
export * from "./fiber.ts";
export * from "./kernel.ts";
export * from "./op.ts";
export * from "./outcome.ts";
export * from "./pct.ts";
export * from "./random.ts";
export * from "./replay.ts";
export * from "./rng.ts";
export * from "./scenario.ts";
export type * from "./strategy.ts";
export * from "./streams.ts";
export * from "./trace.ts";
