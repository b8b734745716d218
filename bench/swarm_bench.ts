/**
 * Faults and swarm: what faults and `--swarm` cost per run, and how many runs
 * random and PCT need to find each broken variant of the scenarios that opt
 * in, with and without swarm.
 */
import { catalog } from "../scenarios/mod.ts";
import { judge, makeTarget, planFor, type Target } from "../sim/explore.ts";
import { median, printTable } from "./_measure.ts";

/** Seed bases each search is tried from. */
const BASES = 20;
const RUNS_MAX = 5_000;
const FAULTS = { alloc: 0.05, delay: 0.05, stall: 0.05 };
/** The faults each scenario opts into, at the rates above (`collect` at 5% too). */
const FAULTS_OF: Record<string, Record<string, number>> = {
  "channel-mpmc": { delay: FAULTS.delay },
  reactor: FAULTS,
  "stw-safepoint": { alloc: FAULTS.alloc, collect: 0.05 },
};

function target(
  scenario: string,
  variant: string,
  mode: "plain" | "faults" | "swarm",
): Target {
  const s = catalog.find((x) => x.name === scenario);
  if (s === undefined) throw new Error(`no scenario ${scenario}`);
  const faults = FAULTS_OF[scenario];
  return makeTarget(s, variant, {
    params: mode === "faults" ? { faults } : {},
    swarm: mode === "swarm",
  });
}

function throughput(): void {
  console.log("\n## Faults and swarm: runs per second of the correct variants (random)\n");
  const rows: (string | number)[][] = [];
  for (const scenario of ["channel-mpmc", "reactor", "stw-safepoint"]) {
    for (const mode of ["plain", "faults", "swarm"] as const) {
      const t = target(scenario, "correct", mode);
      const plan = planFor(t, { strategy: "random", runs: 2_000 });
      judge(t, { ...plan, seed: 1, runs: 200 }); // warm up
      const t0 = performance.now();
      const r = judge(t, { ...plan, seed: 1 });
      const s = (performance.now() - t0) / 1000;
      rows.push([
        `${scenario}/correct`,
        mode,
        (r.steps / r.runs).toFixed(0),
        Math.round(r.runs / s).toLocaleString("en"),
      ]);
    }
  }
  printTable(["scenario", "mode", "steps/run", "runs/s"], rows);
}

/** Median runs to the first failure over BASES seed bases, and how many bases missed. */
function runsToFind(t: Target, strategy: string): string {
  const needed: number[] = [];
  let missed = 0;
  for (let b = 0; b < BASES; b++) {
    const r = judge(t, { ...planFor(t, { strategy, runs: RUNS_MAX }), seed: 1 + b * 1_000_003 });
    if (r.outcome === undefined) missed++;
    else needed.push(r.runs);
  }
  const m = needed.length === 0 ? `>${RUNS_MAX}` : String(median(needed));
  return missed === 0 ? m : `${m} (${missed} missed)`;
}

function finding(): void {
  console.log(
    `\n## Faults and swarm: runs to find each broken variant (median of ${BASES} seed bases)\n`,
  );
  const rows: string[][] = [];
  for (
    const [scenario, variant] of [
      ["channel-mpmc", "racy-enqueue"],
      ["channel-mpmc", "racy-close"],
      ["reactor", "shared-arena"],
      ["stw-safepoint", "missing-safepoint"],
      ["stw-safepoint", "lost-resume"],
    ]
  ) {
    const row = [`${scenario}/${variant}`];
    for (const mode of ["plain", "swarm"] as const) {
      for (const strategy of ["random", "pct"]) {
        row.push(runsToFind(target(scenario, variant, mode), strategy));
      }
    }
    rows.push(row);
  }
  printTable(["variant", "random", "pct", "random --swarm", "pct --swarm"], rows);
}

/** The section: throughput, then runs to find. */
export function swarmBench(): void {
  throughput();
  finding();
}

if (import.meta.main) swarmBench();
