/**
 * Search order: schedules to the first bug, depth-first against seeded orders
 * and delay bounding, beside random testing.
 */
import { z } from "zod";
import { pfPipeline, workStealing } from "../scenarios/mod.ts";
import { DfsStrategy, IterativeDfsStrategy } from "../sim/dfs.ts";
import { DporStrategy, IterativeDporStrategy } from "../sim/dpor.ts";
import { type ExhaustiveStrategy, exploreExhaustive } from "../sim/exhaustive.ts";
import { type AnyScenario, defineScenario } from "../sim/scenario.ts";
import { makeTarget, sweep, type Target } from "../sim/explore.ts";
import type { Cell, Mutex } from "../sim/kernel.ts";
import { RandomStrategy } from "../sim/random.ts";
import { printTable } from "./_measure.ts";
import { InterleavedStrategy, type TreeSpec } from "../sim/split.ts";

function interleaved(t: Target, spec: TreeSpec): ExhaustiveStrategy {
  return new InterleavedStrategy(t, spec);
}

function* racer(x: Cell<number>) {
  const v = yield* x.read();
  yield* x.write(v + 1);
}

function* locked(c: Cell<number>, m: Mutex) {
  yield* m.lock();
  const v = yield* c.read();
  yield* c.write(v + 1);
  yield* m.unlock();
}

/**
 * Eight fibers: the first and the last race on `x` (one preemption loses an
 * update), the six between take one lock in turn. Depth-first search varies
 * the order of the locked sections (6! of them, none equivalent) before it
 * comes back to the root, where the race is.
 */
export const nearRoot: AnyScenario = defineScenario({
  name: "near-root",
  description: "a race between the first and the last of 8 fibers; 6 lock takers between",
  params: z.object({ fibers: z.number().int().min(2).max(12).default(8) }),
  variants: {
    racy: {
      description: "-",
      expect: { verdict: "bug", budget: { strategy: "random", runs: 100 } },
    },
  },
  setup(k, { fibers }) {
    const x = k.cell("x", 0);
    const c = k.cell("c", 0);
    const m = k.mutex("m");
    k.spawn("racer0", racer, x);
    for (let i = 1; i < fibers - 1; i++) k.spawn(`locked${i}`, locked, c, m);
    k.spawn("racer1", racer, x);
    k.invariant("no-lost-update", () => x.peek() === 2 || `x is ${x.peek()}, expected 2`);
  },
}) as AnyScenario;

const SEEDS = 20;
const BUDGET = 1_000;

function firstBug(target: Target, strategy: ExhaustiveStrategy, seed: number): number {
  const r = exploreExhaustive(target, strategy, { runs: BUDGET, seed });
  return r.failures.length > 0 ? r.schedules : Infinity;
}

function randomFirstBug(target: Target, seed: number): number {
  const r = sweep(target, { strategy: new RandomStrategy(), seed: seed * 1_000, runs: BUDGET });
  return r.failures.length > 0 ? r.runs : Infinity;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

function show(n: number): string {
  return n === Infinity ? `>${BUDGET}` : String(n);
}

function seeded(f: (seed: number) => number): string {
  const xs = Array.from({ length: SEEDS }, (_, i) => f(i + 1));
  const within = xs.filter((x) => x <= 100).length;
  return `${show(median(xs))} (${within}/${SEEDS} within 100)`;
}

/** Bounded DPOR (source-DPOR's backtrack sets cut at a bound), default and seeded order. */
export function boundedDporRows(name: string, t: Target): string[][] {
  const rows: string[][] = [];
  for (const [kind, k] of [["preemptions", 1], ["delays", 1], ["delays", 2]] as const) {
    const flag = `dpor --${kind} ${k}`;
    rows.push([name, flag, show(firstBug(t, new DporStrategy({ [kind]: k }), 0))]);
    const spec: TreeSpec = { strategy: "dpor", dpor: "source", [kind]: k, order: "random" };
    rows.push([
      name,
      `${flag} --order random`,
      seeded((s) => firstBug(t, interleaved(t, spec), s)),
    ]);
  }
  const it = (kind: "preemptions" | "delays", order: "default" | "random") =>
    new IterativeDporStrategy({ kind, order });
  rows.push([name, "dpor --iterative --delays 0", show(firstBug(t, it("delays", "default"), 0))]);
  rows.push([
    name,
    "dpor --iterative --delays 0 --order random",
    seeded((s) => firstBug(t, it("delays", "random"), s)),
  ]);
  rows.push([
    name,
    "dpor --iterative --order random",
    seeded((s) => firstBug(t, it("preemptions", "random"), s)),
  ]);
  return rows;
}

/** Prints the search-order section of the bench report. */
export function orderBench(): void {
  console.log(
    `\n## Schedules to the first bug: median over ${SEEDS} seeds, budget ${BUDGET}\n`,
  );
  const targets: [string, Target][] = [
    ["near-root (8 fibers)", makeTarget(nearRoot, "racy")],
    ["pf-pipeline/cyclic", makeTarget(pfPipeline, "cyclic")],
    ["work-stealing/steal-read-after-cas", makeTarget(workStealing, "steal-read-after-cas")],
  ];
  const rows: string[][] = [];
  for (const [name, t] of targets) {
    rows.push([name, "random", seeded((s) => randomFirstBug(t, s))]);
    rows.push([name, "dfs", show(firstBug(t, new DfsStrategy(), 0))]);
    rows.push([name, "dfs --iterative", show(firstBug(t, new IterativeDfsStrategy(), 0))]);
    rows.push([
      name,
      "dfs --iterative --delays 0",
      show(firstBug(t, new IterativeDfsStrategy({ kind: "delays" }), 0)),
    ]);
    rows.push([
      name,
      "dfs --order random",
      seeded((s) => firstBug(t, interleaved(t, { strategy: "dfs", order: "random" }), s)),
    ]);
    rows.push([
      name,
      "dfs --iterative --delays 0 --order random",
      seeded((s) => firstBug(t, new IterativeDfsStrategy({ kind: "delays", order: "random" }), s)),
    ]);
    rows.push([name, "dpor", show(firstBug(t, new DporStrategy(), 0))]);
    rows.push([
      name,
      "dpor --order random",
      seeded((s) => firstBug(t, interleaved(t, { strategy: "dpor", order: "random" }), s)),
    ]);
    rows.push(...boundedDporRows(name, t));
  }
  printTable(["program", "search", "schedules to first bug"], rows);
}

if (import.meta.main) orderBench();
