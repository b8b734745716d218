/**
 * simtest against fast-check's scheduler on the same program, in one
 * process: two tasks each read a shared counter, then write it plus one (a
 * lost update when both read before either writes). Schedules per second,
 * and runs until the lost update is first seen (median over seeds).
 */
import fc from "fast-check";
import { lostUpdate } from "../scenarios/mod.ts";
import { judge, makeTarget, planFor, Runner } from "../sim/explore.ts";
import { RandomStrategy } from "../sim/random.ts";
import { Rng } from "../sim/rng.ts";
import { cpuMs, median, printTable } from "./_measure.ts";

// ---- the program under fast-check's scheduler ------------------------------

let counter = 0;

// Each await on the scheduler is a scheduling point placed before the
// action, as `yield* cell.read()` is in the scenario.
async function task(s: fc.Scheduler): Promise<void> {
  await s.schedule(Promise.resolve());
  const v = counter;
  await s.schedule(Promise.resolve());
  counter = v + 1;
}

async function raceUnder(s: fc.Scheduler): Promise<boolean> {
  counter = 0;
  const done = Promise.all([task(s), task(s)]);
  await s.waitAll();
  await done;
  return counter === 2;
}

/** fc.assert over fc.scheduler(), as users write it; the property never fails. */
async function fcAssertRuns(runs: number, seed: number): Promise<number> {
  let lost = 0;
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), async (s) => {
      if (!(await raceUnder(s))) lost++;
      return true;
    }),
    { numRuns: runs, seed },
  );
  return lost;
}

/** Schedulers drawn up front with fc.sample, then driven directly: the scheduler alone. */
async function fcBareRuns(runs: number, seed: number): Promise<number> {
  const schedulers = fc.sample(fc.scheduler(), { numRuns: runs, seed });
  let lost = 0;
  for (const s of schedulers) if (!(await raceUnder(s))) lost++;
  return lost;
}

/** Runs of fc.check until the property first fails. */
async function fcRunsToFind(seed: number): Promise<number> {
  const r = await fc.check(
    fc.asyncProperty(fc.scheduler(), (s) => raceUnder(s)),
    { numRuns: 1_000_000, seed, endOnFailure: true },
  );
  if (!r.failed) throw new Error("fast-check did not find the lost update");
  return r.numRuns;
}

// ---- the same program as a simtest scenario --------------------------------

const target = makeTarget(lostUpdate, "racy", { params: { fibers: 2, increments: 1 } });

function simRuns(runs: number, seed: number): number {
  const runner = new Runner(target);
  const strategy = new RandomStrategy();
  let lost = 0;
  for (let i = 0; i < runs; i++) if (runner.run(strategy, seed + i).verdict !== "pass") lost++;
  return lost;
}

function simRunsToFind(seed: number): number {
  const r = judge(target, { ...planFor(target, { strategy: "random", runs: 1_000_000 }), seed });
  return r.runs;
}

// ---- the floor: a bare generator scheduler, no kernel ---------------------------

const box = { value: 0 };
const STEP = {};

function* bareTask(b: { value: number }): Generator<unknown, void, void> {
  yield STEP;
  const v = b.value;
  yield STEP;
  b.value = v + 1;
}

/** A shared cell as simtest's are: each access is a `yield*` of a helper generator. */
class BareCell {
  value = 0;
  *read(): Generator<unknown, number, void> {
    yield STEP;
    return this.value;
  }
  *write(v: number): Generator<unknown, void, void> {
    yield STEP;
    this.value = v;
  }
}

function* bareHelperTask(c: { value: number }): Generator<unknown, void, void> {
  const cell = c as BareCell;
  const v = yield* cell.read();
  yield* cell.write(v + 1);
}

/**
 * Two generators running `task`, a seeded coin at every step, nothing
 * recorded, no checks: the floor any generator scheduler pays.
 */
function bareLoop(
  task: (b: { value: number }) => Generator<unknown, void, void>,
  box: { value: number },
  runs: number,
  seed: number,
): number {
  const rng = new Rng(0);
  let lost = 0;
  for (let i = 0; i < runs; i++) {
    rng.reseed(seed + i);
    box.value = 0;
    const a = task(box);
    const b = task(box);
    a.next();
    b.next();
    let aLive = true;
    let bLive = true;
    while (aLive || bLive) {
      const pickA = aLive && (!bLive || rng.below(2) === 0);
      if (pickA) aLive = !a.next().done;
      else bLive = !b.next().done;
    }
    if (box.value !== 2) lost++;
  }
  return lost;
}

const bareCell = new BareCell();
const bareRuns = (runs: number, seed: number) => bareLoop(bareTask, box, runs, seed);
const bareHelperRuns = (runs: number, seed: number) =>
  bareLoop(bareHelperTask, bareCell, runs, seed);

// ---- measuring -----------------------------------------------------------------

interface Harness {
  readonly name: string;
  readonly runs: number;
  run(seed: number): number | Promise<number>;
}

interface Measured {
  /** CPU µs per run: the figure ratios are taken from. */
  readonly us: number;
  /** Wall-clock µs per run. */
  readonly wallUs: number;
  readonly lostShare: number;
}

// The harnesses take turns, rep by rep, so that each sees the same heap and
// JIT state: measured one after the other, whichever runs second pays for
// the garbage the first one left.
async function measure(harnesses: readonly Harness[], reps: number): Promise<Measured[]> {
  for (const h of harnesses) await h.run(1); // warm up
  const cpu: number[][] = harnesses.map(() => []);
  const wall: number[][] = harnesses.map(() => []);
  const lost = harnesses.map(() => 0);
  for (let rep = 0; rep < reps; rep++) {
    for (const [i, h] of harnesses.entries()) {
      const c0 = cpuMs();
      const t0 = performance.now();
      lost[i] += await h.run(1000 + rep * h.runs);
      wall[i].push(((performance.now() - t0) * 1000) / h.runs);
      cpu[i].push(((cpuMs() - c0) * 1000) / h.runs);
    }
  }
  return harnesses.map((h, i) => ({
    us: median(cpu[i]),
    wallUs: median(wall[i]),
    lostShare: lost[i] / (h.runs * reps),
  }));
}

/** Prints the fast-check comparison section. */
export async function fastCheckBench(): Promise<void> {
  console.log("\n## simtest vs fast-check's scheduler: the two-task lost update, one process\n");
  console.log(
    "Ratios use the process's CPU time (median of 9 interleaved reps): on a shared machine\n" +
      "the wall clock also counts time spent waiting for a core.\n",
  );
  const [fcAssert, fcBare, sim, bare, bareHelpers] = await measure([
    { name: "fc.assert", runs: 20_000, run: (s) => fcAssertRuns(20_000, s) },
    { name: "fc bare", runs: 20_000, run: (s) => fcBareRuns(20_000, s) },
    { name: "simtest", runs: 200_000, run: (s) => simRuns(200_000, s) },
    { name: "bare", runs: 200_000, run: (s) => bareRuns(200_000, s) },
    { name: "bare yield*", runs: 200_000, run: (s) => bareHelperRuns(200_000, s) },
  ], 9);
  const seeds = Array.from({ length: 101 }, (_, i) => i * 7919 + 1);
  const fcFind: number[] = [];
  for (const s of seeds) fcFind.push(await fcRunsToFind(s));
  const simFind = seeds.map(simRunsToFind);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const row = (name: string, m: Measured, find: number[] | null) => [
    name,
    m.us.toFixed(3),
    m.wallUs.toFixed(3),
    Math.round(1e6 / m.us).toLocaleString("en"),
    `${(m.lostShare * 100).toFixed(1)}%`,
    find === null ? "-" : `${median(find)} / ${mean(find).toFixed(2)}`,
  ];
  printTable(
    [
      "harness",
      "CPU µs/run",
      "wall µs/run",
      "schedules/s (CPU)",
      "runs losing the update",
      "runs to find: median / mean",
    ],
    [
      row("fast-check fc.assert(asyncProperty(fc.scheduler()))", fcAssert, fcFind),
      row("fast-check fc.sample'd schedulers, driven directly", fcBare, null),
      row("simtest Runner.run, random strategy", sim, simFind),
      row("floor: bare generator loop, no kernel", bare, null),
      row("floor with simtest's yield* helpers, no kernel", bareHelpers, null),
    ],
  );
  console.log(
    `\nschedules/s, simtest over fast-check: ${(fcAssert.us / sim.us).toFixed(1)}x ` +
      `(fc.assert), ${(fcBare.us / sim.us).toFixed(1)}x (bare fc.scheduler); target: at least 25x`,
  );
  console.log(
    `the floor over fast-check: ${(fcAssert.us / bare.us).toFixed(1)}x (fc.assert), ` +
      `${(fcBare.us / bare.us).toFixed(1)}x (bare fc.scheduler); simtest costs ` +
      `${(sim.us / bare.us).toFixed(1)}x the floor per run`,
  );
  console.log(
    `with yield* helpers, the floor over fast-check: ${
      (fcAssert.us / bareHelpers.us).toFixed(1)
    }x ` +
      `(fc.assert); simtest costs ${(sim.us / bareHelpers.us).toFixed(1)}x that floor per run`,
  );
  console.log(
    `runs to find over ${seeds.length} seeds (median / mean): fast-check ` +
      `${median(fcFind)} / ${mean(fcFind).toFixed(2)}, simtest ${median(simFind)} / ${
        mean(simFind).toFixed(2)
      }`,
  );
}

if (import.meta.main) await fastCheckBench();
