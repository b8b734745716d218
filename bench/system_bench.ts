/**
 * The composed runtime (`runtime/system.ts`, scenario `runtime`): runs per
 * second and steps per run of the correct variant, simulated time per wall
 * second, and how many runs random, PCT and swarm (random under a
 * configuration drawn per run, faults included) need to find each broken
 * variant (median and worst over 20 seed bases).
 */
import { lastSystem, runtime } from "../scenarios/runtime.ts";
import { createStrategy, judge, makeTarget, planFor, sweep } from "../sim/explore.ts";
import { median, printTable } from "./_measure.ts";

/** Seed bases each sampling strategy is tried from. */
const BASES = 20;
const FIND_RUNS_MAX = 5_000;
/** A tick of virtual time counts as a microsecond, as in `clock-sync`. */
const TICKS_PER_SECOND = 1_000_000;

function throughput(): void {
  console.log("\n## Composed runtime: runtime/correct at the default size\n");
  const runs = 300;
  const rows: (string | number)[][] = [];
  for (const [strategy, swarm] of [["random", false], ["pct", false], ["random", true]] as const) {
    const target = makeTarget(runtime, "correct", { swarm });
    sweep(target, { strategy: createStrategy(strategy, target, {}), seed: 1, runs: 50 }); // warm up
    const t0 = performance.now();
    const r = sweep(target, { strategy: createStrategy(strategy, target, {}), seed: 1, runs });
    const wall = (performance.now() - t0) / 1000;
    if (r.failures.length > 0) throw new Error(`runtime/correct failed under ${strategy}`);
    rows.push([
      swarm ? `${strategy}, swarm` : strategy,
      Math.round(r.runs / wall).toLocaleString("en"),
      Math.round(r.steps / r.runs).toLocaleString("en"),
    ]);
  }
  printTable(["strategy", "runs/s", "steps/run"], rows);
  const target = makeTarget(runtime, "correct");
  // Virtual time: one run at a time, to read each run's clock at its end.
  let ticks = 0;
  const t0 = performance.now();
  for (let seed = 1; seed <= runs; seed++) {
    sweep(target, { strategy: createStrategy("random", target, {}), seed, runs: 1 });
    ticks += lastSystem()?.kernel.now ?? 0;
  }
  const wall = (performance.now() - t0) / 1000;
  console.log(
    `\n${Math.round(ticks / runs)} ticks of virtual time per run (a tick counts as 1 µs): ` +
      `${(ticks / TICKS_PER_SECOND / wall).toFixed(3)} simulated seconds per wall second`,
  );
}

/** Runs a sampling strategy needs to find `variant`, over BASES seed bases. */
function runsToFind(variant: string, strategy: string, swarm = false): string {
  const target = makeTarget(runtime, variant, { swarm });
  const needed: number[] = [];
  let missed = 0;
  for (let b = 0; b < BASES; b++) {
    const r = judge(target, {
      ...planFor(target, { strategy, runs: FIND_RUNS_MAX }),
      seed: 1 + b * 1_000_003,
    });
    if (r.outcome === undefined) missed++;
    else needed.push(r.runs);
  }
  if (needed.length === 0) return `none in ${FIND_RUNS_MAX}`;
  return `${median(needed)} / ${Math.max(...needed)}` + (missed > 0 ? `, ${missed} missed` : "");
}

function finding(): void {
  console.log(
    `\n## Composed runtime: runs to find each broken variant (median / worst of ${BASES} seeds)\n`,
  );
  const rows: string[][] = [];
  for (const variant of Object.keys(runtime.variants)) {
    if (runtime.variants[variant].expect.verdict === "pass") continue;
    rows.push([
      variant,
      runsToFind(variant, "random"),
      runsToFind(variant, "pct"),
      runsToFind(variant, "random", true),
    ]);
  }
  printTable(["variant", "random", "PCT", "swarm"], rows);
}

/** The `system` bench section. */
export function systemBench(): void {
  throughput();
  finding();
}

if (import.meta.main) systemBench();
