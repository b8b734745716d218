/**
 * Exhaustive search on Deno Workers: the time to exhaust a tree whole on
 * this thread, and split into subtrees on 1 and 2 workers.
 */
import { gcMarkSweep, lostUpdate } from "../scenarios/mod.ts";
import { exploreExhaustive } from "../sim/exhaustive.ts";
import { makeTarget, type Target } from "../sim/explore.ts";
import { subtreeStrategy, type TreeSpec } from "../sim/split.ts";
import { WorkerPool } from "../scale/workers.ts";
import { printTable } from "./_measure.ts";

const cases: [string, Target, TreeSpec][] = [
  [
    "lost-update/locked, 3 fibers, localWork 2 (DFS)",
    makeTarget(lostUpdate, "locked", { params: { fibers: 3, localWork: 2 } }),
    { strategy: "dfs" },
  ],
  ["gc-mark-sweep/no-reset (DPOR)", makeTarget(gcMarkSweep, "no-reset"), { strategy: "dpor" }],
];

function fmt(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Prints the split-exploration section of the bench report. */
export async function splitBench(): Promise<void> {
  console.log("\n## Exhausting a tree: whole on this thread, split on 1 and 2 workers\n");
  const pools = [new WorkerPool(1), new WorkerPool(2)];
  const rows: string[][] = [];
  try {
    // Start the workers (and load the modules) before timing anything.
    for (const p of pools) await p.explore(cases[0][1], cases[0][2], { runs: 10, seed: 0 });
    for (const [name, target, spec] of cases) {
      let t0 = performance.now();
      const whole = exploreExhaustive(target, subtreeStrategy(spec, []), { runs: 1e6 });
      const wholeMs = performance.now() - t0;
      const times: number[] = [];
      let split = 0;
      for (const pool of pools) {
        t0 = performance.now();
        const r = await pool.explore(target, spec, { runs: 1e6, seed: 0 });
        times.push(performance.now() - t0);
        split = r.schedules;
        if (!r.exhausted) throw new Error(`${name} was not exhausted on workers`);
      }
      rows.push([
        name,
        String(whole.schedules),
        fmt(wholeMs),
        String(split),
        fmt(times[0]),
        fmt(times[1]),
        `${(times[0] / times[1]).toFixed(2)}x`,
      ]);
    }
  } finally {
    for (const p of pools) p.close();
  }
  printTable([
    "tree",
    "schedules whole",
    "whole, this thread",
    "schedules split",
    "1 worker",
    "2 workers",
    "2 vs 1",
  ], rows);
  console.log(
    "\nDFS splits exactly; DPOR's subtrees repeat some classes (see sim/split.ts)." +
      `\nThis machine reports ${navigator.hardwareConcurrency} cores; other load skews the ratio.`,
  );
}

if (import.meta.main) await splitBench();
