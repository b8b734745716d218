/**
 * The Markdown summary: what a CI log or a job summary shows.
 *
 * @module
 */
import type { ScheduleStats } from "../sim/guided.ts";
import { allVerdicts, formatMs, type Row } from "./text.ts";

/** One failure as the summary and the terminal show it. */
export interface FailureNote {
  /** "scenario/variant". */
  readonly title: string;
  /** The outcome in one line. */
  readonly outcome: string;
  /** The failing run's seed. */
  readonly seed: number;
  /** Which run failed: "seed 44", or "schedule 7" for DFS and DPOR. */
  readonly where: string;
  /** "pct (depth 3, steps 4)". */
  readonly strategy: string;
  /** Under `--swarm`: the configuration the run drew, as one line; else null. */
  readonly config?: string | null;
  /** Whether the variant expects this failure. */
  readonly expected: boolean;
  /** The trace file written for it. */
  readonly tracePath: string;
  /** The command that reruns it. */
  readonly rerun: string;
  /** The shrunk trace, when shrinking ran. */
  readonly shrunk: ShrinkNote | null;
  /** The HTML report, when one was written. */
  readonly reportPath: string | null;
}

/** What shrinking did to one failure. */
export interface ShrinkNote {
  /** The shrunk trace's file. */
  readonly path: string;
  /** The schedule before shrinking. */
  readonly before: ScheduleStats;
  /** The schedule after shrinking. */
  readonly after: ScheduleStats;
  /** Parameters that shrinking made smaller: name, from, to. */
  readonly params: readonly { name: string; from: unknown; to: unknown }[];
}

/** Before and after, as one line: "24 steps, 14 preemptions, 17 context switches -> 4 ...". */
export function shrinkText(s: ShrinkNote): string {
  const stats = (x: ScheduleStats) =>
    `${plural(x.steps, "step")}, ${plural(x.preemptions, "preemption")}, ` +
    `${plural(x.switches, "context switch", "context switches")}`;
  const params = s.params.length === 0
    ? ""
    : ` (${s.params.map((p) => `${p.name} ${shown(p.from)} -> ${shown(p.to)}`).join(", ")})`;
  return `${stats(s.before)} -> ${stats(s.after)}${params}`;
}

// A drawn fault configuration is an object: printed as JSON, not [object Object].
function shown(v: unknown): string {
  return v !== null && typeof v === "object" ? JSON.stringify(v) : String(v);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The summary of a `sim` invocation as Markdown.
 *
 * @example
 * ```ts
 * import { assert } from "../deps.ts";
 * const md = renderMarkdown([{ scenario: "s", variant: "v", expected: "pass", got: "pass", runs: 3, steps: 9, ms: 1.5, ok: true }], [], 2);
 * assert(md.includes("| s | v | pass | pass | 3 | 9 |"));
 * ```
 */
export function renderMarkdown(
  rows: readonly Row[],
  failures: readonly FailureNote[],
  elapsedMs: number,
): string {
  const bad = rows.filter((r) => !r.ok).length;
  const head = bad === 0
    ? `## simtest: ${allVerdicts(rows.length)} as expected (${formatMs(elapsedMs)})`
    : `## simtest: ${bad} of ${rows.length} verdicts NOT as expected`;
  const out = [
    head,
    "",
    "| scenario | variant | expected | got | runs | steps | time | |",
    "| --- | --- | --- | --- | ---: | ---: | ---: | --- |",
    ...rows.map((r) =>
      `| ${cell(r.scenario)} | ${cell(r.variant)} | ${r.expected} | ${r.got} | ${r.runs} | ` +
      `${r.steps} | ${formatMs(r.ms)} | ${r.ok ? "ok" : "**MISMATCH**"} |`
    ),
  ];
  if (failures.length > 0) {
    out.push("", "### Failures", "");
    for (const f of failures) {
      const tag = f.expected ? " (as expected)" : " **(not expected)**";
      out.push(`- **${cell(f.title)}**: ${cell(f.outcome)}${tag}`);
      out.push(`  - ${f.where}, strategy ${f.strategy}`);
      if (f.config) out.push(`  - config: ${cell(f.config)}`);
      if (f.shrunk !== null) {
        out.push(`  - shrunk: ${shrinkText(f.shrunk)}`);
        out.push(`  - replay shrunk: \`deno task sim --replay ${f.shrunk.path}\``);
      }
      out.push(`  - replay: \`deno task sim --replay ${f.tracePath}\``);
      if (f.reportPath !== null) out.push(`  - report: \`${f.reportPath}\``);
      out.push(`  - rerun: \`${f.rerun}\``);
    }
  }
  return out.join("\n") + "\n";
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
