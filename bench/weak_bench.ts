/**
 * Weak memory: the cost of a step under each memory model, how fast each
 * strategy finds work-stealing's missing fence, and litmus enumeration time.
 */
import { channelMpmc, gcMarkSweep, litmus, workStealing } from "../scenarios/mod.ts";
import { judge, makeTarget, planFor } from "../sim/explore.ts";
import { type Cell, Kernel } from "../sim/kernel.ts";
import type { Op } from "../sim/op.ts";
import type { MemoryModel } from "../sim/ordering.ts";
import { RandomStrategy } from "../sim/random.ts";
import { nsPerUnit, printTable } from "./_measure.ts";

const FIBERS = 4;
const ITERATIONS = 20_000;

/** The kernel bench's workload: reads and writes over three shared cells. */
function* worker(cells: Cell<number>[], me: number, n: number): Generator<Op, void, void> {
  for (let i = 0; i < n; i++) {
    const v = yield* cells[(me + i) % 3].read();
    yield* cells[(me + i + 1) % 3].write(v + 1);
  }
}

function stepsUnder(memory: MemoryModel): () => number {
  return () => {
    const k = new Kernel();
    k.reset({ cores: 0, stepsMax: 1e9, memory }, new RandomStrategy(), 1);
    const cells = [k.cell("a", 0), k.cell("b", 0), k.cell("c", 0)];
    for (let f = 0; f < FIBERS; f++) k.spawn(`w${f}`, worker, cells, f, ITERATIONS);
    return k.execute().step;
  };
}

/** Runs (or schedules) until the first failure of take-no-fence under tso, per strategy. */
function findTakeNoFence(): (string | number)[][] {
  const rows: (string | number)[][] = [];
  const target = makeTarget(workStealing, "take-no-fence");
  for (const [strategy, runs] of [["random", 10_000], ["pct", 10_000], ["dpor", 20_000]] as const) {
    const needed: number[] = [];
    // Run i of a sweep uses seed + i: seeds far apart give independent sweeps.
    const seeds = strategy === "dpor" ? [1] : [1, 100_001, 200_001, 300_001, 400_001];
    let found = 0;
    const t0 = performance.now();
    for (const seed of seeds) {
      const j = judge(target, { ...planFor(target, { strategy, runs }), seed });
      if (j.outcome !== undefined) found++;
      needed.push(j.runs);
    }
    const ms = (performance.now() - t0) / seeds.length;
    rows.push([
      strategy,
      found === seeds.length
        ? needed.join(", ")
        : `not found in ${runs} (${found}/${seeds.length})`,
      ms.toFixed(0),
    ]);
  }
  return rows;
}

/** The failing fraction of random runs: how much a broken variant needs search. */
function randomFraction(): string {
  const target = makeTarget(workStealing, "take-no-fence");
  const runs = 2_000;
  const j = judge(target, {
    ...planFor(target, { strategy: "random", runs }),
    seed: 1,
    keepGoing: true,
  });
  return `${j.failures.length}/${runs}`;
}

/** Runs to the first failure of the other weak-memory variants, under their own models. */
function findWeakVariants(): (string | number)[][] {
  const rows: (string | number)[][] = [];
  const targets = [
    ["channel-mpmc/relaxed-publish (pso)", makeTarget(channelMpmc, "relaxed-publish")],
    [
      "channel-mpmc/relaxed-publish (ra)",
      makeTarget(channelMpmc, "relaxed-publish", { memory: "ra" }),
    ],
    ["gc-mark-sweep/handshake-no-fence (tso)", makeTarget(gcMarkSweep, "handshake-no-fence")],
    ["gc-mark-sweep/satb-relaxed (pso)", makeTarget(gcMarkSweep, "satb-relaxed")],
    ["gc-mark-sweep/satb-relaxed-ra (ra)", makeTarget(gcMarkSweep, "satb-relaxed-ra")],
  ] as const;
  const strategies = [["random", 5_000], ["pct", 5_000], ["dpor", 5_000]] as const;
  for (const [name, target] of targets) {
    for (const [strategy, runs] of strategies) {
      const needed: (number | string)[] = [];
      // DPOR's order does not depend on the seed: one is enough.
      for (const seed of strategy === "dpor" ? [1] : [1, 100_001, 200_001]) {
        const j = judge(target, { ...planFor(target, { strategy, runs }), seed });
        needed.push(j.outcome === undefined ? `>${runs}` : j.runs);
      }
      rows.push([name, strategy, needed.join(", ")]);
    }
  }
  return rows;
}

function litmusDfs(): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const memory of ["sc", "tso", "pso", "ra"] as const) {
    let schedules = 0;
    const t0 = performance.now();
    for (const variant of Object.keys(litmus.variants)) {
      if (litmus.variants[variant].memory !== memory) continue;
      const target = makeTarget(litmus, variant);
      const j = judge(target, { ...planFor(target), seed: 0 });
      if (!j.ok || !j.exploration?.exhausted) throw new Error(`litmus ${variant} not exhausted`);
      schedules += j.runs;
    }
    const ms = performance.now() - t0;
    rows.push([memory, schedules, ms.toFixed(0), (schedules / ms * 1000).toFixed(0)]);
  }
  return rows;
}

/** Prints the weak-memory section of the bench report. */
export function weakBench(): void {
  console.log("\n## Weak memory\n");
  // Interleaved, best of 5 each, so a busy machine hurts every model alike.
  const best = [Infinity, Infinity, Infinity, Infinity];
  const models = ["sc", "tso", "pso", "ra"] as const;
  for (let rep = 0; rep < 5; rep++) {
    models.forEach((m, i) => best[i] = Math.min(best[i], nsPerUnit(stepsUnder(m), 1)));
  }
  const [sc, tso, pso, ra] = best;
  printTable(["model", "ns/step", "vs sc"], [
    ["sc", sc.toFixed(0), "1.00x"],
    ["tso", tso.toFixed(0), `${(tso / sc).toFixed(2)}x`],
    ["pso", pso.toFixed(0), `${(pso / sc).toFixed(2)}x`],
    ["ra", ra.toFixed(0), `${(ra / sc).toFixed(2)}x`],
  ]);
  console.log(
    "\n(4 fibers, reads and writes, random strategy; under tso and pso a drain is a step too;" +
      " under ra every load and store is a recorded choice)\n",
  );
  console.log("work-stealing/take-no-fence under tso: runs or schedules to the first failure");
  printTable(["strategy", "runs (per seed)", "ms"], findTakeNoFence());
  console.log(`random runs that fail: ${randomFraction()}\n`);
  console.log(
    "other weak-memory variants: runs (DPOR: schedules) to the first failure (3 seeds; DPOR 1)",
  );
  printTable(["variant", "strategy", "runs (per seed)"], findWeakVariants());
  console.log("");
  console.log("litmus: DFS over every variant of a model, to exhaustion");
  printTable(["model", "schedules", "ms", "schedules/s"], litmusDfs());
}
