/**
 * Reports: the results table, progress lines.
 *
 * @module
 */
export * from "./progress.ts";
export * from "./text.ts";
