/**
 * The modeled memory: how fast gc-mark-sweep runs, and how many schedules
 * each strategy needs to find the missing write barrier.
 */
import { gcMarkSweep } from "../scenarios/mod.ts";
import { createStrategy, judge, makeTarget, planFor, Runner } from "../sim/explore.ts";
import { median, nsPerUnit, printTable } from "./_measure.ts";

const SEEDS = 20;
const FIND_BUDGET = 100_000;

/** Whole runs of gc-mark-sweep/insertion under the random strategy: ns per run. */
function schedulesPerSecond(): { nsPerRun: number; stepsPerRun: number } {
  const target = makeTarget(gcMarkSweep, "insertion");
  const runner = new Runner(target);
  const strategy = createStrategy("random", target);
  const runs = 20_000;
  let steps = 0;
  let seed = 0;
  const ns = nsPerUnit(() => {
    steps = 0;
    for (let i = 0; i < runs; i++) steps += runner.run(strategy, seed++).step;
    return runs;
  }, 5);
  return { nsPerRun: ns, stepsPerRun: steps / runs };
}

/** Schedules a sampling strategy needs to find no-barrier, for each of SEEDS seeds. */
function schedulesToFind(strategy: string, depth?: number): number[] {
  const target = makeTarget(gcMarkSweep, "no-barrier");
  const needed: number[] = [];
  for (let s = 0; s < SEEDS; s++) {
    const r = judge(target, {
      ...planFor(target, { strategy, depth, runs: FIND_BUDGET }),
      seed: s * 100_003,
    });
    needed.push(r.outcome?.verdict === "bug" ? r.runs : Infinity);
  }
  return needed;
}

/** Runs an exhaustive strategy on a variant: schedules, exhausted or found, and time. */
function exhaustive(variant: string, strategy: string, preemptions?: number): string[] {
  const target = makeTarget(gcMarkSweep, variant);
  const t0 = performance.now();
  const r = judge(target, {
    ...planFor(target, { strategy, preemptions, runs: 200_000 }),
    seed: 1,
  });
  const ms = performance.now() - t0;
  const how = r.outcome !== undefined
    ? `found (${r.outcome.check})`
    : r.exploration?.exhausted
    ? "exhausted, pass"
    : "budget spent";
  const name = preemptions === undefined ? strategy : `${strategy}, ${preemptions} preemption(s)`;
  return [variant, name, String(r.runs), how, `${ms.toFixed(0)} ms`];
}

function summary(xs: number[]): string[] {
  const found = xs.filter(Number.isFinite);
  const show = (x: number) => Number.isFinite(x) ? String(x) : `>${FIND_BUDGET}`;
  return [
    show(median(xs)),
    show(Math.min(...xs)),
    show(Math.max(...xs)),
    `${found.length}/${xs.length}`,
  ];
}

/** Prints the memory section of the bench report. */
export function memoryBench(): void {
  console.log("\n## gc-mark-sweep/insertion, random strategy (1 collector, 1 mutator, 4 nodes)\n");
  const speed = schedulesPerSecond();
  printTable(["schedules/s", "µs/schedule", "steps/schedule", "ns/step"], [[
    Math.round(1e9 / speed.nsPerRun).toLocaleString("en"),
    (speed.nsPerRun / 1000).toFixed(1),
    speed.stepsPerRun.toFixed(1),
    (speed.nsPerRun / speed.stepsPerRun).toFixed(0),
  ]]);

  console.log(`\n## Schedules to find gc-mark-sweep/no-barrier, over ${SEEDS} seeds\n`);
  printTable(["strategy", "median", "min", "max", "found"], [
    ["pct, depth 3", ...summary(schedulesToFind("pct", 3))],
    ["pct, depth 2", ...summary(schedulesToFind("pct", 2))],
    ["random", ...summary(schedulesToFind("random"))],
  ]);

  console.log("\n## Exhaustive strategies on gc-mark-sweep (seed-independent)\n");
  printTable(["variant", "strategy", "schedules", "result", "time"], [
    exhaustive("no-barrier", "dpor"),
    exhaustive("no-barrier", "dfs", 1),
    exhaustive("no-barrier", "dfs", 2),
    exhaustive("insertion", "dpor"),
    exhaustive("deletion", "dpor"),
    exhaustive("parallel-mark", "dpor"),
  ]);
}
