/**
 * Atomic regions and π's collectors: transactions committed per wall
 * second and the abort rate by contention; π's bytes copied, values
 * scanned and live-set accuracy per collector on one mutator.
 */
import { Stm } from "../runtime/atomic.ts";
import { atomicBank } from "../scenarios/atomic_bank.ts";
import { buildPi, PI_BUILDS } from "../scenarios/pi_gc.ts";
import { createStrategy, makeTarget, Runner } from "../sim/explore.ts";
import { Kernel } from "../sim/kernel.ts";
import { RandomStrategy } from "../sim/random.ts";
import { printTable } from "./_measure.ts";

const RUNS = 2_000;

/** Commits per wall second and the abort rate of atomic-bank by tellers × accounts. */
export function atomicBench(): void {
  console.log(
    "\natomic: atomic-bank/stm under random scheduling, 2 transfers per teller, no auditor",
  );
  const rows: string[][] = [];
  for (const accounts of [2, 4, 8]) {
    for (const tellers of [2, 4, 8]) {
      const target = makeTarget(atomicBank, "stm", {
        params: { tellers, accounts, transfers: 2, auditors: 0, work: 0 },
      });
      const runner = new Runner(target);
      const strategy = createStrategy("random", target);
      let commits = 0;
      let aborts = 0;
      runner.run(strategy, 0); // warm up
      const t0 = performance.now();
      for (let seed = 1; seed <= RUNS; seed++) {
        const o = runner.run(strategy, seed);
        if (o.verdict !== "pass") throw new Error(`atomic-bank failed: ${o.message}`);
        const stats = Stm.of(runner.kernel).stats;
        commits += stats.commits;
        aborts += stats.aborts + stats.innerAborts;
      }
      const s = (performance.now() - t0) / 1000;
      rows.push([
        `${tellers}×${accounts}`,
        String(commits),
        String(aborts),
        `${((100 * aborts) / (commits + aborts)).toFixed(1)}%`,
        `${(commits / s / 1000).toFixed(1)}k`,
      ]);
    }
  }
  printTable(["tellers×accounts", "commits", "aborts", "abort rate", "commits/s"], rows);
}

/** π: the same mutator under each collector. */
export function piBench(): void {
  const params = { rounds: 3, cycles: 4, readers: 0, reads: 1, presimplify: false, gap: 3 };
  console.log(
    `\npi: pi-gc mutator (${params.rounds} rounds, ${params.cycles} collections), ` +
      `${RUNS} random runs each; per collection`,
  );
  const rows: string[][] = [];
  for (const variant of ["full-copy", "generational", "presimplify"]) {
    const k = new Kernel();
    const strategy = new RandomStrategy();
    const sum = {
      collections: 0,
      bytes: 0,
      scanned: 0,
      simple: 0,
      copiedOut: 0,
      after: 0,
      live: 0,
    };
    const t0 = performance.now();
    for (let seed = 1; seed <= RUNS; seed++) {
      k.reset({ cores: 0, stepsMax: 1_000 }, strategy, seed);
      const m = buildPi(k, params, PI_BUILDS[variant]);
      const o = k.execute();
      if (o.verdict !== "pass") throw new Error(`pi-gc/${variant} failed: ${o.message}`);
      sum.collections += m.stats.collections;
      sum.bytes += m.stats.bytesCopied;
      sum.scanned += m.stats.valuesScanned;
      sum.simple += m.stats.valuesMovedSimple;
      sum.copiedOut += m.stats.bytesCopiedOut;
      sum.after += m.stats.bytesAfterGc;
      sum.live += m.stats.liveSetAfterGc;
    }
    const ms = performance.now() - t0;
    const per = (x: number) => (x / sum.collections).toFixed(1);
    rows.push([
      variant,
      per(sum.bytes),
      per(sum.scanned),
      per(sum.simple),
      per(sum.copiedOut),
      per(sum.after),
      `${((100 * sum.live) / sum.after).toFixed(1)}%`,
      `${(ms / RUNS * 1000).toFixed(0)} µs`,
    ]);
  }
  printTable(
    [
      "collector",
      "bytes copied",
      "scanned",
      "moved unscanned",
      "bytes copied out",
      "heap bytes after",
      "live-set sum / heap",
      "per run",
    ],
    rows,
  );
  console.log(
    "live-set sum: the obligations of every root entry, kept at each push and pop; it counts a " +
      "value once per root naming it (and garbage an old space still holds is not in it)",
  );
}
