/**
 * The modeled runtime, built on the kernel's primitives only.
 *
 * @module
 */
export * from "./balance.ts";
export * from "./channel.ts";
export * from "./deque.ts";
export * from "./future.ts";
export * from "./park.ts";
export * from "./process.ts";
