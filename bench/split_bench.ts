/**
 * Exhaustive search on Deno Workers: the time to exhaust a tree whole on
 * this thread, and split into subtrees on 1 and 2 workers (issue 10's
 * targets, `gc-copying/cheney` and `gc-mark-sweep/no-reset` with DPOR).
 * Each case runs `SPLIT_ROUNDS` times (3 by default), whole, 1 worker and
 * 2 workers in turn; the table gives the best and the median of each, and
 * the 2-vs-1 ratio of the bests and the median of the rounds' ratios.
 */
import { gcCopying, gcMarkSweep } from "../scenarios/mod.ts";
import { exploreExhaustive } from "../sim/exhaustive.ts";
import { makeTarget, type Target } from "../sim/explore.ts";
import { subtreeStrategy, type TreeSpec } from "../sim/split.ts";
import { WorkerPool } from "../scale/workers.ts";
import { median, printTable } from "./_measure.ts";

const cases: [string, Target, TreeSpec][] = [
  [
    "gc-copying/cheney, 3 scripts, length 1 (DPOR)",
    makeTarget(gcCopying, "cheney", { params: { scripts: 3, length: 1 } }),
    { strategy: "dpor" },
  ],
  ["gc-mark-sweep/no-reset (DPOR)", makeTarget(gcMarkSweep, "no-reset"), { strategy: "dpor" }],
];

function fmt(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** The 1, 5 and 15 minute load averages: other work on the machine skews the ratios. */
function load(): string {
  return Deno.loadavg().map((x) => x.toFixed(2)).join(", ");
}

/** Prints the split-exploration section of the bench report. */
export async function splitBench(): Promise<void> {
  const rounds = Number(Deno.env.get("SPLIT_ROUNDS") ?? 3);
  console.log("\n## Exhausting a tree: whole on this thread, split on 1 and 2 workers\n");
  console.log(`load average before: ${load()}`);
  const pools = [new WorkerPool(1), new WorkerPool(2)];
  const rows: string[][] = [];
  try {
    // Start the workers, load the modules and warm each worker's JIT on
    // every case before timing anything.
    for (const p of pools) {
      for (const [, target, spec] of cases) await p.explore(target, spec, { runs: 300, seed: 0 });
    }
    for (const [name, target, spec] of cases) {
      const ms: number[][] = [[], [], []];
      // Per round of 2 workers: each worker's busy milliseconds.
      const busy: number[][] = [];
      let whole = 0, split = 0, complete = 0;
      for (let round = 0; round < rounds; round++) {
        let t0 = performance.now();
        whole = exploreExhaustive(target, subtreeStrategy(spec, []), { runs: 1e6 }).schedules;
        ms[0].push(performance.now() - t0);
        for (let w = 0; w < pools.length; w++) {
          const mine = [0, 0];
          t0 = performance.now();
          const r = await pools[w].explore(target, spec, {
            runs: 1e6,
            seed: 0,
            onSubtree: (d) => (mine[d.worker] += d.ms),
          });
          if (w === 1) busy.push(mine);
          ms[w + 1].push(performance.now() - t0);
          [split, complete] = [r.schedules, r.complete];
          if (!r.exhausted) throw new Error(`${name} was not exhausted on workers`);
        }
      }
      const best = ms.map((m) => Math.min(...m));
      const ratios = ms[1].map((one, i) => one / ms[2][i]);
      // What 2 workers would gain with a core each: all the work over the busier one's.
      const bound = median(busy.map(([a, b]) => (a + b) / Math.max(a, b)));
      rows.push([
        name,
        String(whole),
        `${complete} (${split - complete} pruned)`,
        `${fmt(best[0])} / ${fmt(median(ms[0]))}`,
        `${fmt(best[1])} / ${fmt(median(ms[1]))}`,
        `${fmt(best[2])} / ${fmt(median(ms[2]))}`,
        `${(best[1] / best[2]).toFixed(2)}x / ${median(ratios).toFixed(2)}x`,
        `${bound.toFixed(2)}x`,
      ]);
    }
  } finally {
    for (const p of pools) p.close();
  }
  printTable([
    "tree",
    "schedules whole",
    "split (32 subtrees)",
    "whole: best / median",
    "1 worker",
    "2 workers",
    "2 vs 1: best / median",
    "balance",
  ], rows);
  console.log(
    `\n${rounds} rounds; load average after: ${load()}. Balance: the 2 workers' busy time` +
      "\nover the busier one's (median): the most 2 workers can gain when each has a core." +
      "\nDFS splits exactly; DPOR's subtrees take the fibers earlier subtrees took as done" +
      "\n(see sim/split.ts), and a subtree that only reorders an earlier one is pruned at its prefix." +
      `\nThis machine reports ${navigator.hardwareConcurrency} cores; other load skews the ratio.`,
  );
}

if (import.meta.main) await splitBench();
