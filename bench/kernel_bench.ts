/**
 * Kernel cost per step against a bare loop resuming the same generators.
 */
import { lostUpdate } from "../scenarios/mod.ts";
import { makeTarget, Runner } from "../sim/explore.ts";
import { type Cell, Kernel } from "../sim/kernel.ts";
import type { Op } from "../sim/op.ts";
import { RandomStrategy } from "../sim/random.ts";
import { nsPerUnit, printTable } from "./_measure.ts";

const FIBERS = 4;
const ITERATIONS = 50_000;

/** The synthetic workload: reads and writes over three shared cells. */
function* worker(cells: Cell<number>[], me: number, n: number): Generator<Op, void, void> {
  for (let i = 0; i < n; i++) {
    const v = yield* cells[(me + i) % 3].read();
    yield* cells[(me + i + 1) % 3].write(v + 1);
  }
}

function kernelRun(): number {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax: 1e9 }, new RandomStrategy(), 1);
  const cells = [k.cell("a", 0), k.cell("b", 0), k.cell("c", 0)];
  for (let f = 0; f < FIBERS; f++) k.spawn(`w${f}`, worker, cells, f, ITERATIONS);
  return k.execute().step;
}

function bareRun(): number {
  const k = new Kernel(); // only to give the cells ids: nothing here schedules
  k.reset({ cores: 0, stepsMax: 1 }, new RandomStrategy(), 1);
  const cells = [k.cell("a", 0), k.cell("b", 0), k.cell("c", 0)];
  const gens: (Generator<Op, void, void> | null)[] = [];
  for (let f = 0; f < FIBERS; f++) gens.push(worker(cells, f, ITERATIONS));
  for (const g of gens) g?.next();
  let steps = 0;
  let live = FIBERS;
  for (let i = 0; live > 0; i = (i + 1) % FIBERS) {
    const g = gens[i];
    if (g === null) continue;
    steps++;
    if (g.next().done) {
      gens[i] = null;
      live--;
    }
  }
  return steps;
}

/** Small whole runs: lost-update/racy, setup included. */
function smallRuns(): number {
  const runner = new Runner(makeTarget(lostUpdate, "racy"));
  const strategy = new RandomStrategy();
  const runs = 200_000;
  for (let seed = 0; seed < runs; seed++) runner.run(strategy, seed);
  return runs;
}

/** Prints the kernel section of the bench report. */
export function kernelBench(): void {
  console.log(
    "\n## Kernel step cost (4 fibers, reads and writes, random strategy, recording on)\n",
  );
  const bare = nsPerUnit(bareRun);
  const kernel = nsPerUnit(kernelRun);
  printTable(["loop", "ns/step", "steps/s"], [
    ["bare round-robin", bare.toFixed(0), Math.round(1e9 / bare).toLocaleString("en")],
    ["kernel", kernel.toFixed(0), Math.round(1e9 / kernel).toLocaleString("en")],
  ]);
  console.log(`\nkernel / bare = ${(kernel / bare).toFixed(2)}x (target: at most 2x)`);
  const run = nsPerUnit(smallRuns, 5);
  console.log(
    `lost-update/racy whole runs: ${(run / 1000).toFixed(2)} µs/run, ` +
      `${Math.round(1e9 / run).toLocaleString("en")} runs/s`,
  );
}
