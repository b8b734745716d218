/**
 * DPOR against DFS, cost per schedule: what race analysis adds to a run. Both
 * walk the first schedules of the same target, alternately in one process, so
 * the ratio compares like with like on a shared machine. Times are CPU time
 * (the wall clock counts waiting for a core). Run on its own:
 *
 *   deno run -A bench/dpor_bench.ts [name filter]
 */
import { catalog, channelMpmc, gcMarkSweep, lostUpdate, workStealing } from "../scenarios/mod.ts";
import { DfsStrategy } from "../sim/dfs.ts";
import { DporStrategy } from "../sim/dpor.ts";
import { type ExhaustiveStrategy, exploreExhaustive } from "../sim/exhaustive.ts";
import { makeTarget, type Target } from "../sim/explore.ts";
import { boundedBufferScenario, largeProgram, programScenario } from "../sim/_programs.ts";
import { nearRoot } from "./order_bench.ts";
import { cpuMs, median, printTable } from "./_measure.ts";

/** Schedules timed per measurement (at least), and measurements per strategy. */
const SCHEDULES = 200;
const REPS = 7;
/** A measurement runs at least this much CPU time: rusage is too coarse for less. */
const CPU_MS_MIN = 4;

/** The cost of one strategy on one target: medians over the measurements. */
export interface Cost {
  /** Median CPU microseconds per schedule. */
  readonly us: number;
  /** Median CPU microseconds per step. */
  readonly usPerStep: number;
  readonly stepsPerSchedule: number;
  /** Schedules in one exploration (the whole space, when smaller than SCHEDULES). */
  readonly space: number;
}

interface Samples {
  perSchedule: number[];
  perStep: number[];
  steps: number;
  schedules: number;
  space: number;
}

// A space smaller than SCHEDULES is explored again (a fresh strategy each
// time) until SCHEDULES schedules ran: one tiny exploration is too short to
// time. So the fixed cost of starting an exploration is in the numbers, in
// proportion to how few schedules the space has.
function timeSchedules(target: Target, make: () => ExhaustiveStrategy, into: Samples): void {
  const t0 = cpuMs();
  let schedules = 0, steps = 0, space = 0;
  while (schedules < SCHEDULES || cpuMs() - t0 < CPU_MS_MIN) {
    const r = exploreExhaustive(target, make(), { runs: SCHEDULES, keepGoing: true });
    if (space === 0) space = r.schedules;
    schedules += r.schedules;
    steps += r.steps;
  }
  const us = (cpuMs() - t0) * 1000;
  into.perSchedule.push(us / schedules);
  into.perStep.push(us / Math.max(1, steps));
  into.steps = steps;
  into.schedules = schedules;
  into.space = space;
}

function samples(): Samples {
  return { perSchedule: [], perStep: [], steps: 0, schedules: 0, space: 0 };
}

function cost(s: Samples): Cost {
  return {
    us: median(s.perSchedule),
    usPerStep: median(s.perStep),
    stepsPerSchedule: s.steps / s.schedules,
    space: s.space,
  };
}

/**
 * DFS's and DPOR's CPU cost per schedule and per step on `target`, measured
 * alternately in this process so that load on the machine hits both alike;
 * `ratio` is the median of the ratios of back-to-back measurements, which
 * drifts in the machine's load cancel out of.
 */
export function costPerSchedule(
  target: Target,
  makeDpor: () => ExhaustiveStrategy = () => new DporStrategy(),
): { dfs: Cost; dpor: Cost; ratio: number; stepRatio: number } {
  const dfs = samples();
  const dpor = samples();
  for (let i = 0; i < 2; i++) { // warm-up
    timeSchedules(target, () => new DfsStrategy(), samples());
    timeSchedules(target, makeDpor, samples());
  }
  const ratios: number[] = [];
  const stepRatios: number[] = [];
  for (let i = 0; i < REPS; i++) {
    timeSchedules(target, () => new DfsStrategy(), dfs);
    timeSchedules(target, makeDpor, dpor);
    ratios.push(dpor.perSchedule[i] / dfs.perSchedule[i]);
    stepRatios.push(dpor.perStep[i] / dfs.perStep[i]);
  }
  return { dfs: cost(dfs), dpor: cost(dpor), ratio: median(ratios), stepRatio: median(stepRatios) };
}

/** Every catalog variant, then the large programs of issue 10. */
export function costTargets(): [string, Target][] {
  const targets: [string, Target][] = [];
  for (const s of catalog) {
    for (const v of Object.keys(s.variants)) targets.push([`${s.name}/${v}`, makeTarget(s, v)]);
  }
  targets.push([
    "lost-update/locked, 64 fibers, localWork 2",
    makeTarget(lostUpdate, "locked", { params: { fibers: 64, localWork: 2 } }),
  ]);
  targets.push([
    "generated program, 100 fibers x 8 steps",
    makeTarget(programScenario, "only", {
      params: { program: largeProgram(100, 8, 1) },
      stepsMax: 10_000,
    }),
  ]);
  return targets;
}

/**
 * DPOR's time to explore the whole space over DFS's, when DPOR's space has
 * fewer than SCHEDULES schedules: "<" when DFS's has more (only its first
 * SCHEDULES were timed, so the true ratio is lower).
 */
function wholeSpace(dfs: Cost, dpor: Cost, ratio: number): string {
  if (dpor.space >= SCHEDULES) return "-";
  const r = (ratio * dpor.space) / dfs.space;
  return `${dfs.space >= SCHEDULES ? "<" : ""}${r.toFixed(2)}x`;
}

/**
 * Prints DPOR/DFS CPU cost per schedule and per step for every catalog
 * variant and two large programs (or the targets whose name contains
 * `filter`), with the median ratio and how many are over 2x.
 */
export function dporCostBench(filter = ""): void {
  console.log(
    `\n## DPOR vs DFS: CPU cost per schedule (first ${SCHEDULES} schedules, median of ${REPS})\n`,
  );
  const rows: (string | number)[][] = [];
  const ratios: number[] = [];
  const stepRatios: number[] = [];
  for (const [name, target] of costTargets()) {
    if (!name.includes(filter)) continue;
    const { dfs, dpor, ratio, stepRatio } = costPerSchedule(target);
    ratios.push(ratio);
    stepRatios.push(stepRatio);
    rows.push([
      name,
      `${dfs.space}`,
      `${dpor.space}`,
      dfs.stepsPerSchedule.toFixed(0),
      dpor.stepsPerSchedule.toFixed(0),
      dfs.us.toFixed(1),
      dpor.us.toFixed(1),
      `${ratio.toFixed(2)}x`,
      `${stepRatio.toFixed(2)}x`,
      wholeSpace(dfs, dpor, ratio),
    ]);
  }
  printTable([
    "target",
    "DFS sched",
    "DPOR sched",
    "DFS steps/sched",
    "DPOR steps/sched",
    "DFS µs/sched",
    "DPOR µs/sched",
    "per sched",
    "per step",
    "whole space",
  ], rows);
  const over = ratios.filter((r) => r > 2).length;
  const overStep = stepRatios.filter((r) => r > 2).length;
  console.log(
    `\nDPOR/DFS per schedule: median ${median(ratios).toFixed(2)}x, worst ` +
      `${Math.max(...ratios).toFixed(2)}x, ${over} of ${ratios.length} over 2x. ` +
      `Per step: median ${median(stepRatios).toFixed(2)}x, worst ` +
      `${Math.max(...stepRatios).toFixed(2)}x, ${overStep} over 2x. ` +
      `"sched" columns: schedules in one exploration, capped at ${SCHEDULES}; "whole ` +
      `space": CPU time of DPOR's whole exploration over DFS's, where DPOR's is smaller.`,
  );
}

function exhaustDpor(target: Target, variant: "optimal" | "source", runs: number) {
  const t0 = performance.now();
  const r = exploreExhaustive(target, new DporStrategy({ variant }), { runs, keepGoing: true });
  return { r, ms: performance.now() - t0 };
}

/**
 * Prints schedules per Mazurkiewicz trace for optimal and source DPOR. For
 * lost-update/locked the traces are known: n! orders of the critical
 * sections, the private writes commuting with everything else. Elsewhere the
 * count of traces is not known here; pruned (sleep-set blocked) schedules are
 * redundant work either way.
 */
export function dporOptimalityBench(): void {
  console.log("\n## Optimal vs source DPOR: schedules per trace (1.00 is optimal)\n");
  const rows: (string | number)[][] = [];
  const row = (name: string, target: Target, traces: number | null, runs = 200_000) => {
    const o = exhaustDpor(target, "optimal", runs);
    const s = exhaustDpor(target, "source", runs);
    const per = (n: number) => traces === null ? "?" : (n / traces).toFixed(2);
    const count = (x: { r: { schedules: number; exhausted: boolean } }) =>
      `${x.r.exhausted ? "" : ">"}${x.r.schedules}`;
    rows.push([
      name,
      traces ?? "?",
      count(o),
      o.r.pruned,
      per(o.r.schedules),
      `${o.ms.toFixed(0)} ms`,
      count(s),
      s.r.pruned,
      per(s.r.schedules),
      `${s.ms.toFixed(0)} ms`,
    ]);
  };
  for (let fibers = 3; fibers <= 5; fibers++) {
    const target = makeTarget(lostUpdate, "locked", { params: { fibers, localWork: 2 } });
    let traces = 1;
    for (let i = 2; i <= fibers; i++) traces *= i;
    row(`lost-update/locked, ${fibers} fibers, localWork 2`, target, traces);
  }
  for (
    const [s, v] of [[gcMarkSweep, "insertion"], [gcMarkSweep, "no-reset"], [
      channelMpmc,
      "correct",
    ], [workStealing, "chase-lev"]] as const
  ) {
    row(`${s.name}/${v}`, makeTarget(s, v), null);
  }
  printTable([
    "target",
    "traces",
    "optimal",
    "pruned",
    "per trace",
    "time",
    "source",
    "pruned",
    "per trace",
    "time",
  ], rows);
}

/**
 * Prints DFS against DPOR on the one-slot bounded buffer (one mutex, one
 * condition variable, 2 producers, 2 consumers), by where the wakeup is.
 */
export function dporCondvarBench(): void {
  console.log("\n## DPOR around a condition variable: bounded buffer, 2 producers, 2 consumers\n");
  const rows: (string | number)[][] = [];
  for (const wake of ["signal-inside", "signal-after", "broadcast-after"] as const) {
    const target = makeTarget(boundedBufferScenario, "only", { params: { wake } });
    const cells: (string | number)[] = [wake];
    for (const make of [() => new DfsStrategy(), () => new DporStrategy()]) {
      const t0 = performance.now();
      const r = exploreExhaustive(target, make(), { runs: 1e6, keepGoing: true });
      cells.push(r.schedules, `${(performance.now() - t0).toFixed(0)} ms`);
    }
    rows.push(cells);
  }
  printTable(["wakeup", "DFS", "time", "DPOR", "time"], rows);
}

/** Prints preemption-bounded DFS against bounded DPOR: schedules to a bug or to exhaustion. */
export function boundedDporBench(): void {
  console.log("\n## Bounded DPOR against preemption-bounded DFS (budget 100,000)\n");
  const rows: (string | number)[][] = [];
  const cases: [string, Target][] = [
    ["near-root, 8 fibers", makeTarget(nearRoot, "racy")],
    ["gc-mark-sweep/no-reset", makeTarget(gcMarkSweep, "no-reset")],
    ["work-stealing/steal-read-after-cas", makeTarget(workStealing, "steal-read-after-cas")],
  ];
  const what = (r: ReturnType<typeof exploreExhaustive>) =>
    r.failures.length > 0
      ? `bug at ${r.failures[0].schedule}`
      : `${r.schedules}${r.exhausted ? " (exhausted)" : " (no bug)"}`;
  for (const [name, target] of cases) {
    for (const k of [0, 1, 2]) {
      const dfs = exploreExhaustive(target, new DfsStrategy({ preemptions: k }), { runs: 1e5 });
      const dpor = exploreExhaustive(target, new DporStrategy({ preemptions: k }), { runs: 1e5 });
      rows.push([name, k, what(dfs), what(dpor)]);
    }
  }
  printTable(["target", "preemptions", "DFS", "DPOR"], rows);
}

if (import.meta.main) dporCostBench(Deno.args[0] ?? "");
