/**
 * Exhaustive exploration: DFS against DPOR on lost-update/locked.
 */
import { lostUpdate } from "../scenarios/mod.ts";
import { DfsStrategy } from "../sim/dfs.ts";
import { DporStrategy } from "../sim/dpor.ts";
import { type ExhaustiveStrategy, exploreExhaustive } from "../sim/exhaustive.ts";
import { makeTarget } from "../sim/explore.ts";
import { printTable } from "./_measure.ts";
import {
  boundedDporBench,
  dporCondvarBench,
  dporCostBench,
  dporOptimalityBench,
} from "./dpor_bench.ts";

const BUDGET = 200_000;

function exhaust(
  fibers: number,
  increments: number,
  localWork: number,
  strategy: ExhaustiveStrategy,
) {
  const target = makeTarget(lostUpdate, "locked", { params: { fibers, increments, localWork } });
  const t0 = performance.now();
  const r = exploreExhaustive(target, strategy, { runs: BUDGET });
  const ms = performance.now() - t0;
  return { r, ms };
}

function cell(x: { r: { schedules: number; exhausted: boolean }; ms: number }): string[] {
  const n = x.r.exhausted ? String(x.r.schedules) : `>${x.r.schedules}`;
  return [n, x.ms < 1000 ? `${x.ms.toFixed(1)} ms` : `${(x.ms / 1000).toFixed(1)} s`];
}

/** Prints the exhaustive-exploration section of the bench report. */
export function exploreBench(): void {
  for (const [increments, localWork, fibersMax] of [[1, 0, 6], [2, 0, 4], [1, 2, 5]]) {
    const local = localWork === 0 ? "" : `, ${localWork} private writes before each`;
    console.log(
      `\n## Exhausting lost-update/locked, ${increments} increment(s) per fiber${local}: ` +
        "DFS vs DPOR\n",
    );
    const rows: (string | number)[][] = [];
    for (let fibers = 2; fibers <= fibersMax; fibers++) {
      const dfs = exhaust(fibers, increments, localWork, new DfsStrategy());
      const dpor = exhaust(fibers, increments, localWork, new DporStrategy());
      rows.push([
        fibers,
        ...cell(dfs),
        ...cell(dpor),
        dpor.r.pruned,
        `${dfs.r.exhausted ? "" : ">"}${(dfs.r.schedules / dpor.r.schedules).toFixed(1)}x`,
        (dpor.r.steps / dpor.r.schedules).toFixed(0),
      ]);
    }
    printTable([
      "fibers",
      "DFS schedules",
      "DFS time",
      "DPOR schedules",
      "DPOR time",
      "pruned",
      "reduction",
      "steps/schedule",
    ], rows);
  }
  console.log(
    "\nWith one increment, every fiber's whole work is one critical section on the same lock" +
      "\nand counter: the n! orders of those sections are distinct traces, so no sound" +
      "\nreduction can go below n!; DFS has nothing to cut either. With private work before" +
      "\nthe lock, DFS interleaves that work every way while DPOR completes n! schedules" +
      "\n(the rest are sleep-set blocked and cut short). SPIN's partial-order reduction stores" +
      "\n~117 states for 3 locked fibers and ~1,471 for 5 (states, not schedules: SPIN is stateful).",
  );
  dporOptimalityBench();
  dporCondvarBench();
  boundedDporBench();
  dporCostBench();
}
