/**
 * The modeled runtime, built on the kernel's primitives only.
 *
 * @module
 */
export * from "./channel.ts";
