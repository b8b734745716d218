/**
 * Reports: the results table, progress lines, step logs, and the failure
 * reports (HTML with SVG timelines, Markdown summaries, JSON Lines).
 *
 * @module
 */
export * from "./html.ts";
export * from "./jsonl.ts";
export * from "./markdown.ts";
export * from "./progress.ts";
export * from "./steps.ts";
export * from "./text.ts";
export * from "./timeline.ts";
export type { Race } from "./race.ts";
export type { StepRange } from "./sources.ts";
