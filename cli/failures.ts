/**
 * What the `sim` command does with a failure once a sweep found it: shrink
 * it, write the shrunk trace beside the original, and draw the HTML report.
 *
 * @module
 */
import { renderHtml } from "../reports/html.ts";
import { writeAtomic } from "./output.ts";
import type { FailureNote, ShrinkNote } from "../reports/markdown.ts";
import { type Timeline, timelineOf } from "../reports/timeline.ts";
import type { Failure, Target } from "../sim/explore.ts";
import { makeTrace } from "../sim/explore.ts";
import { describeOutcome, isCut } from "../sim/outcome.ts";
import { formatSwarm } from "../sim/swarm.ts";
import { type AnyScenario, UsageError } from "../sim/scenario.ts";
import type { ShrinkOptions, ShrinkResult } from "../sim/shrink.ts";
import type { Strategy } from "../sim/strategy.ts";
import { serializeTrace, type Trace } from "../sim/trace.ts";
import { verifyFound, verifyShrunk } from "../sim/verify.ts";

/** A failure as noted: what to print, and where its files went. */
export interface NotedFailure extends FailureNote {
  /** Why shrinking or the report was skipped, or "". */
  readonly warning: string;
  /**
   * Why the failure cannot be trusted: its trace does not replay, its
   * strategy record does not rerun it, or its shrunk trace lost the failure.
   * Any problem fails the command (exit 1).
   */
  readonly problems: readonly string[];
  /** Where `--save` copied the trace. */
  savedPath?: string;
}

/** What `noteFailure` needs to know about one failure. */
export interface FailureContext {
  readonly target: Target;
  readonly strategy: Strategy;
  readonly failure: Failure;
  /** Where its trace was written. */
  readonly tracePath: string;
  readonly expected: boolean;
  readonly rerun: string;
  /** Shrink it (unless `--no-shrink`). */
  readonly shrink: boolean;
  /** Write the HTML report beside the trace. */
  readonly html: boolean;
  /** A wall clock in milliseconds, for the shrink time budget. */
  readonly now: () => number;
  readonly shrinkOptions?: ShrinkOptions;
  /**
   * Shrinks elsewhere (a supervised worker); gives why it stopped instead of
   * a result when a candidate schedule hung or ran out of memory.
   */
  readonly shrinker?: ((trace: Trace) => Promise<ShrinkResult | string>) | null;
}

/** "pct (depth 3, steps 4)". */
export function strategyText(
  strategy: Strategy,
  options: Record<string, unknown> = strategy.options(),
): string {
  const shown = Object.entries(options).map(([k, v]) => `${k} ${v}`).join(", ");
  return `${strategy.name}${shown === "" ? "" : ` (${shown})`}`;
}

/** Shrinks `trace` with the shrinker loaded on first use (it brings fast-check). */
export async function shrinkLazily(
  trace: Trace,
  scenario: AnyScenario,
  options: ShrinkOptions,
): Promise<ShrinkResult> {
  const { shrinkTrace } = await import("../sim/shrink.ts");
  return shrinkTrace(trace, scenario, options);
}

/**
 * Runs longer than this get a report without state and source lines:
 * recording them costs about a millisecond a step (22 s for a 100,000-step
 * run, against 0.06 s without them; a 1,000,000-step run's report took
 * minutes).
 */
export const REPORT_STATE_STEPS_MAX = 10_000;

/**
 * The timeline an HTML report draws of `trace`, and why it leaves out the
 * state and source lines ("" when it does not): a run over
 * `REPORT_STATE_STEPS_MAX` steps is drawn without them.
 */
export function reportTimeline(
  trace: Trace,
  scenario: AnyScenario,
): { timeline: Timeline; note: string } {
  const steps = trace.outcome.step;
  if (steps <= REPORT_STATE_STEPS_MAX) return { timeline: timelineOf(trace, scenario), note: "" };
  return {
    timeline: timelineOf(trace, scenario, { state: false }),
    note: `report without state or source lines: the run has ${steps} steps, over ` +
      `${REPORT_STATE_STEPS_MAX} (deno task sim --replay FILE --at STEP shows one step's)`,
  };
}

/** The path of a trace's sibling file: `x.json` gives `x.shrunk.json`, `x.html`. */
export function besidePath(tracePath: string, suffix: string): string {
  return tracePath.replace(/(\.shrunk)?\.json$/, "") + suffix;
}

/** The parameters shrinking made smaller. */
export function paramChanges(r: ShrinkResult): ShrinkNote["params"] {
  const out: { name: string; from: unknown; to: unknown }[] = [];
  // Under swarm the drawn configuration is what shrinks, like parameters.
  const before = { ...r.original.params, ...r.original.swarm };
  const after = { ...r.shrunk.params, ...r.shrunk.swarm };
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const from = before[name];
    const to = after[name];
    if (JSON.stringify(from) !== JSON.stringify(to)) out.push({ name, from, to });
  }
  return out;
}

/**
 * Shrinks a failure, writes the shrunk trace beside the original and the
 * HTML report beside both, and returns what to print.
 */
export async function noteFailure(c: FailureContext): Promise<NotedFailure> {
  const trace = makeTrace(c.target, c.strategy, c.failure);
  let shrunk: ShrinkNote | null = null;
  let shrunkTrace: Trace | null = null;
  let warning = "";
  const problems = verifyFound(trace, c.target.scenario);
  if (c.shrink && problems.length === 0) {
    try {
      // A hang is refused before any run: no need for the worker.
      const r = c.shrinker && !isCut(trace.outcome)
        ? await c.shrinker(trace)
        : await shrinkLazily(trace, c.target.scenario, { now: c.now, ...c.shrinkOptions });
      if (typeof r === "string") throw new ShrinkStopped(r);
      const path = besidePath(c.tracePath, ".shrunk.json");
      writeText(path, serializeTrace(r.shrunk));
      shrunk = { path, before: r.before, after: r.after, params: paramChanges(r) };
      shrunkTrace = r.shrunk;
      problems.push(...verifyShrunk(trace, r.shrunk, c.target.scenario));
    } catch (e) {
      if (e instanceof ShrinkStopped) {
        // A schedule tried while shrinking hangs: a finding, and the command fails.
        problems.push(
          `shrinking stopped: its ${e.message}: the scenario hangs or runs out of memory ` +
            "in some schedules (--no-shrink skips shrinking)",
        );
      } else if (!(e instanceof UsageError)) {
        throw e;
      } else {
        warning = `not shrunk: ${e.message}`;
      }
    }
  }
  let reportPath: string | null = null;
  if (c.html) {
    try {
      reportPath = besidePath(c.tracePath, ".html");
      const original = reportTimeline(trace, c.target.scenario);
      if (original.note !== "") {
        warning = warning === "" ? original.note : `${warning}; ${original.note}`;
      }
      writeText(
        reportPath,
        renderHtml({
          title: `${c.target.scenario.name}/${c.target.variant}`,
          original: original.timeline,
          shrunk: shrunkTrace === null
            ? null
            : reportTimeline(shrunkTrace, c.target.scenario).timeline,
          originalPath: c.tracePath,
          shrunkPath: shrunk?.path ?? null,
          rerun: c.rerun,
          expected: c.expected,
          where: whereText(c.failure),
        }),
      );
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      warning = `no report: ${e.message}`;
      reportPath = null;
    }
  }
  return {
    title: `${c.target.scenario.name}/${c.target.variant}`,
    outcome: describeOutcome(c.failure.outcome),
    seed: c.failure.seed,
    where: whereText(c.failure),
    strategy: strategyText(c.strategy, c.failure.options),
    config: trace.swarm === undefined ? null : formatSwarm(trace.swarm),
    expected: c.expected,
    tracePath: c.tracePath,
    rerun: c.rerun,
    shrunk,
    reportPath,
    warning,
    problems,
  };
}

// The supervised shrinker was stopped: the message says where.
class ShrinkStopped extends Error {}

/** Writes a file atomically, turning a failure into a `UsageError` that names the path. */
export function writeText(path: string, text: string): void {
  writeAtomic(path, text);
}

/** Which run failed, as the command line names it: "seed 44", or "schedule 13" for DFS and DPOR. */
export function whereText(failure: Failure): string {
  return failure.schedule === undefined ? `seed ${failure.seed}` : `schedule ${failure.schedule}`;
}
