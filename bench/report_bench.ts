/**
 * The HTML report with the state view: size and generation time for failing
 * runs of about 100 and about 10,000 steps (replay with the state recorder,
 * the race search, rendering), and what recording costs against a plain
 * replay of the same trace. Source lines cover every step; the "last 1,000"
 * columns show the report when only the last 1,000 steps got them.
 */
import { renderHtml } from "../reports/html.ts";
import { type Timeline, timelineOf } from "../reports/timeline.ts";
import { gcMarkSweep, lostUpdate, zeno } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
import type { AnyScenario } from "../sim/scenario.ts";
import type { Trace } from "../sim/trace.ts";
import { median, printTable } from "./_measure.ts";

interface Case {
  readonly label: string;
  readonly scenario: AnyScenario;
  readonly variant: string;
  readonly params: Record<string, unknown>;
}

const CASES: Case[] = [
  { label: "gc-mark-sweep/no-barrier", scenario: gcMarkSweep, variant: "no-barrier", params: {} },
  {
    label: "zeno/busy-wait",
    scenario: zeno,
    variant: "busy-wait",
    params: { instantStepsMax: 95 },
  },
  {
    label: "zeno/busy-wait",
    scenario: zeno,
    variant: "busy-wait",
    params: { instantStepsMax: 9_995 },
  },
  {
    label: "lost-update/racy",
    scenario: lostUpdate,
    variant: "racy",
    params: { fibers: 10, increments: 500 },
  },
];

function failingTrace(c: Case): Trace {
  const target = makeTarget(c.scenario, c.variant, { params: c.params });
  const plan = planFor(target, c.scenario === gcMarkSweep ? {} : { strategy: "random" });
  const r = judge(target, { ...plan, seed: 1 });
  if (r.failures.length === 0) throw new Error(`${c.label}: no failure found`);
  return makeTrace(target, r.strategy, r.failures[0]);
}

/** Prints the report section of the bench report. */
export function reportBench(): void {
  console.log("\n## HTML report with the state view (original trace only, median of 5)\n");
  const rows: (string | number)[][] = [];
  for (const c of CASES) {
    const trace = failingTrace(c);
    const plain: number[] = [];
    const full: number[] = [];
    const windowed: number[] = [];
    let bytes = 0;
    let windowedBytes = 0;
    let capped = false;
    let steps = 0;
    for (let rep = 0; rep < 6; rep++) {
      let t0 = performance.now();
      timelineOf(trace, c.scenario, { state: false });
      const p = performance.now() - t0;
      t0 = performance.now();
      const t = timelineOf(trace, c.scenario);
      const html = render(c.label, t);
      const f = performance.now() - t0;
      t0 = performance.now();
      const last = render(c.label, timelineOf(trace, c.scenario, { sourceStepsMax: 1_000 }));
      const w = performance.now() - t0;
      if (rep === 0) continue; // warm-up
      plain.push(p);
      full.push(f);
      windowed.push(w);
      bytes = new TextEncoder().encode(html).length;
      windowedBytes = new TextEncoder().encode(last).length;
      capped = t.state?.capped ?? false;
      steps = t.steps;
    }
    rows.push([
      c.label,
      steps,
      (bytes / 1e6).toFixed(2),
      capped ? "yes" : "no",
      median(plain).toFixed(1),
      median(full).toFixed(1),
      `${Math.min(...full).toFixed(0)}-${Math.max(...full).toFixed(0)}`,
      (windowedBytes / 1e6).toFixed(2),
      median(windowed).toFixed(1),
    ]);
  }
  printTable(
    [
      "run",
      "steps",
      "MB",
      "state capped",
      "plain replay ms",
      "report ms",
      "report ms range",
      "MB (last 1,000)",
      "report ms (last 1,000)",
    ],
    rows,
  );
}

function render(title: string, t: Timeline): string {
  return renderHtml({ title, original: t, shrunk: null, originalPath: "x.json", shrunkPath: null });
}

if (import.meta.main) reportBench();
