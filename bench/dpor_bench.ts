/**
 * DPOR against DFS, cost per schedule: what race analysis adds to a run. Both
 * walk the first schedules of the same target, alternately in one process, so
 * the ratio compares like with like on a shared machine.
 */
import { catalog, channelMpmc, gcMarkSweep, lostUpdate, workStealing } from "../scenarios/mod.ts";
import { DfsStrategy } from "../sim/dfs.ts";
import { DporStrategy } from "../sim/dpor.ts";
import { type ExhaustiveStrategy, exploreExhaustive } from "../sim/exhaustive.ts";
import { makeTarget, type Target } from "../sim/explore.ts";
import { boundedBufferScenario, largeProgram, programScenario } from "../sim/_programs.ts";
import { nearRoot } from "./order_bench.ts";
import { median, printTable } from "./_measure.ts";

/** Schedules timed per measurement, and measurements per strategy. */
const SCHEDULES = 200;
const REPS = 5;

interface Cost {
  /** Median microseconds per schedule. */
  readonly us: number;
  readonly stepsPerSchedule: number;
}

// A space smaller than SCHEDULES is explored again (a fresh strategy each
// time) until SCHEDULES schedules ran: one tiny exploration is too short to time.
function timeSchedules(target: Target, make: () => ExhaustiveStrategy, samples: number[]) {
  const t0 = performance.now();
  let schedules = 0, steps = 0;
  while (schedules < SCHEDULES) {
    const r = exploreExhaustive(target, make(), { runs: SCHEDULES - schedules, keepGoing: true });
    schedules += r.schedules;
    steps += r.steps;
  }
  samples.push(((performance.now() - t0) * 1000) / schedules);
  return steps / schedules;
}

/** DFS's and DPOR's cost per schedule on `target`, measured alternately. */
export function costPerSchedule(target: Target): { dfs: Cost; dpor: Cost } {
  const dfs: number[] = [];
  const dpor: number[] = [];
  let dfsSteps = 0, dporSteps = 0;
  // Warm up both, then alternate so that load on the machine hits both alike.
  timeSchedules(target, () => new DfsStrategy(), []);
  timeSchedules(target, () => new DporStrategy(), []);
  for (let i = 0; i < REPS; i++) {
    dfsSteps = timeSchedules(target, () => new DfsStrategy(), dfs);
    dporSteps = timeSchedules(target, () => new DporStrategy(), dpor);
  }
  return {
    dfs: { us: median(dfs), stepsPerSchedule: dfsSteps },
    dpor: { us: median(dpor), stepsPerSchedule: dporSteps },
  };
}

/** Prints DPOR/DFS cost per schedule for every catalog variant and two large programs. */
export function dporCostBench(): void {
  console.log(
    `\n## DPOR vs DFS: cost per schedule (first ${SCHEDULES} schedules, median of ${REPS})\n`,
  );
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
  const rows: (string | number)[][] = [];
  let worst = 0;
  for (const [name, target] of targets) {
    const { dfs, dpor } = costPerSchedule(target);
    const ratio = dpor.us / dfs.us;
    worst = Math.max(worst, ratio);
    rows.push([
      name,
      dfs.us.toFixed(1),
      dpor.us.toFixed(1),
      `${ratio.toFixed(2)}x`,
      dfs.stepsPerSchedule.toFixed(0),
      dpor.stepsPerSchedule.toFixed(0),
    ]);
  }
  printTable([
    "target",
    "DFS µs/schedule",
    "DPOR µs/schedule",
    "DPOR/DFS",
    "DFS steps/schedule",
    "DPOR steps/schedule",
  ], rows);
  console.log(`\nWorst DPOR/DFS ratio: ${worst.toFixed(2)}x (the target is at most 2x).`);
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
