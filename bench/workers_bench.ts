/**
 * Worker scaling: schedules per second of one sweep on this thread and on
 * 1 and 2 Deno Workers (pool start-up included).
 */
import { lostUpdate } from "../scenarios/mod.ts";
import { makeTarget, planFor, sweep } from "../sim/explore.ts";
import { sweepOnWorkers } from "../scale/workers.ts";
import { median, printTable } from "./_measure.ts";

const RUNS = 1_000_000;

/** Prints the worker scaling section. */
export async function workersBench(): Promise<void> {
  console.log(
    `\n## Workers: one sweep of ${RUNS.toLocaleString("en")} runs ` +
      "(lost-update/locked, 3 fibers, random strategy)\n",
  );
  const target = makeTarget(lostUpdate, "locked", { params: { fibers: 3 } });
  const plan = { ...planFor(target, { strategy: "random", runs: RUNS }), seed: 1 };
  const rows: (string | number)[][] = [];
  const time = async (fn: () => unknown): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await fn();
      samples.push(performance.now() - t0);
    }
    return median(samples);
  };
  const base = await time(() => sweep(target, plan));
  rows.push(["this thread (sweep)", Math.round(base), Math.round((RUNS / base) * 1000), "1.00x"]);
  for (const workers of [1, 2]) {
    const ms = await time(() => sweepOnWorkers(target, { ...plan, workers }));
    rows.push([
      `${workers} worker${workers === 1 ? "" : "s"}`,
      Math.round(ms),
      Math.round((RUNS / ms) * 1000),
      `${(base / ms).toFixed(2)}x`,
    ]);
  }
  printTable(["where", "ms", "schedules/s", "vs this thread"], rows);
  console.log(`\n(${navigator.hardwareConcurrency} cores on this machine)`);
}

if (import.meta.main) await workersBench();
