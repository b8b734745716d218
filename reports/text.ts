/**
 * Plain-text output: the results table.
 *
 * @module
 */

/** One row of the results table. */
export interface Row {
  /** The scenario's name. */
  readonly scenario: string;
  /** The variant's name. */
  readonly variant: string;
  /** The expected verdict. */
  readonly expected: string;
  /** The verdict got. */
  readonly got: string;
  /** Runs made. */
  readonly runs: number;
  /** Steps taken. */
  readonly steps: number;
  /** Wall time in milliseconds. */
  readonly ms: number;
  /** Whether the variant got its expected verdict. */
  readonly ok: boolean;
  /** For a pass: "exhausted" (every schedule), "exhausted (smaller)" (at a declared size), "sampled". */
  readonly search?: string;
}

const HEAD = ["scenario", "variant", "expected", "got", "runs", "steps", "time", "", "pass is"];

/**
 * Formats rows as an aligned table.
 *
 * @example
 * ```ts
 * import { assert } from "../deps.ts";
 * const t = table([{ scenario: "s", variant: "v", expected: "pass", got: "pass", runs: 3, steps: 9, ms: 1.5, ok: true }]);
 * assert(t.includes("s") && t.includes("pass"));
 * ```
 */
export function table(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.scenario,
    r.variant,
    r.expected,
    r.got,
    String(r.runs),
    String(r.steps),
    formatMs(r.ms),
    r.ok ? "ok" : "MISMATCH",
    r.search ?? "",
  ]);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string =>
    c.map((x, i) => (i >= 4 && i <= 6 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join("  ")
      .trimEnd();
  return [line(HEAD), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** Milliseconds for people: "840 ms", "2.4 s". */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * "all 3 verdicts", or "the 1 verdict" when there is one.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * assertEquals(allVerdicts(1), "the 1 verdict");
 * assertEquals(allVerdicts(3), "all 3 verdicts");
 * ```
 */
export function allVerdicts(n: number): string {
  return n === 1 ? "the 1 verdict" : `all ${n} verdicts`;
}
