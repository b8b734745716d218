/**
 * Virtual time: how fast clock-sync runs against the simulated clock, and
 * what a timed wait costs against a plain step.
 */
import { clockSync } from "../scenarios/mod.ts";
import { makeTarget, Runner } from "../sim/explore.ts";
import { Clock } from "../sim/clock.ts";
import { type Cell, Kernel } from "../sim/kernel.ts";
import type { Op } from "../sim/op.ts";
import { RandomStrategy } from "../sim/random.ts";
import { Regions } from "../runtime/regions.ts";
import { nsPerUnit, printTable } from "./_measure.ts";

const FIBERS = 4;
const ITERATIONS = 25_000;
const TICKS_PER_SECOND = 1_000_000; // clock-sync's tick is a microsecond

function* reader(c: Cell<number>, n: number): Generator<Op, void, void> {
  for (let i = 0; i < n; i++) yield* c.read();
}

function* sleeper(clock: Clock, n: number): Generator<Op, void, void> {
  for (let i = 0; i < n; i++) yield* clock.sleep(1 + (i & 3));
}

function* ltimers(r: Regions, n: number): Generator<Op, void, void> {
  for (let i = 0; i < n; i++) yield* r.ltimer(1 + (i & 3));
}

function* spawnLtimers(k: Kernel, r: Regions, n: number): Generator<Op, void, void> {
  for (let f = 0; f < FIBERS; f++) k.spawn(`l${f}`, ltimers, r, n);
  yield* k.pause();
}

function* region(k: Kernel, r: Regions, n: number): Generator<Op, void, void> {
  yield* r.sim(spawnLtimers, k, r, n);
}

function kernel(): Kernel {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax: 1e9 }, new RandomStrategy(), 1);
  return k;
}

/** Steps per run of FIBERS fibers doing `body` ITERATIONS times. */
function plainSteps(): number {
  const k = kernel();
  const c = k.cell("c", 0);
  for (let f = 0; f < FIBERS; f++) k.spawn(`r${f}`, reader, c, ITERATIONS);
  return k.execute().step;
}

function timerSteps(): number {
  const k = kernel();
  const clock = Clock.of(k);
  for (let f = 0; f < FIBERS; f++) k.spawn(`s${f}`, sleeper, clock, ITERATIONS);
  return k.execute().step;
}

/** Counts every step, the region's ticks included. */
function ltimerSteps(): number {
  const k = kernel();
  const r = Regions.of(k);
  r.instantStepsMax = 1e9;
  k.spawn("main", region, k, r, ITERATIONS / 5);
  return k.execute().step;
}

/** Simulated seconds of one clock-sync variant, per run. */
function clockSyncSeconds(variant: string, rounds: number): () => number {
  const target = makeTarget(clockSync, variant, { params: { rounds } });
  const runner = new Runner(target);
  const strategy = new RandomStrategy();
  let seed = 0;
  return () => {
    let ticks = 0;
    for (let i = 0; i < 5; i++) {
      const o = runner.run(strategy, seed++);
      if (o.verdict !== "pass") throw new Error(`clock-sync/${variant} failed: ${o.message}`);
      ticks += runner.kernel.now;
    }
    return ticks / TICKS_PER_SECOND;
  };
}

/** Prints the virtual-time section of the bench report. */
export function timeBench(): void {
  console.log("\n## Virtual time\n");
  const plain = nsPerUnit(plainSteps);
  const timer = nsPerUnit(timerSteps);
  const ltimer = nsPerUnit(ltimerSteps);
  printTable(["4 fibers, each step is", "ns/step", "vs plain"], [
    ["a cell read (plain step)", plain.toFixed(0), "1.00x"],
    ["a timer wait (clock.sleep)", timer.toFixed(0), `${(timer / plain).toFixed(2)}x`],
    [
      "a logical timer or a tick (ltimer in sim)",
      ltimer.toFixed(0),
      `${(ltimer / plain).toFixed(2)}x`,
    ],
  ]);
  console.log();
  const rows: string[][] = [];
  for (const variant of ["cristian", "berkeley"]) {
    const nsPerSimSecond = nsPerUnit(clockSyncSeconds(variant, 1_000), 5);
    rows.push([
      variant,
      Math.round(1e9 / nsPerSimSecond).toLocaleString("en"),
      (nsPerSimSecond / 1000).toFixed(2),
    ]);
  }
  printTable(
    ["clock-sync (3 clients, 1 round/s)", "simulated s per wall s", "µs per simulated s"],
    rows,
  );
}
