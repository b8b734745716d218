/**
 * Communication and scheduling: schedules per second on the correct channel
 * and deque, and how many schedules PCT, random and DPOR need to find each
 * broken variant of issue 5's scenarios.
 */
import { catalog } from "../scenarios/mod.ts";
import { DporStrategy } from "../sim/dpor.ts";
import { exploreExhaustive } from "../sim/exhaustive.ts";
import { judge, makeTarget, planFor, type Target } from "../sim/explore.ts";
import { median, printTable } from "./_measure.ts";

/** Seed bases a sampling strategy is tried from; each is a separate search. */
const BASES = 20;
const SAMPLE_RUNS_MAX = 20_000;
const DPOR_RUNS_MAX = 10_000;

function target(scenario: string, variant: string, params: Record<string, unknown> = {}): Target {
  const s = catalog.find((x) => x.name === scenario);
  if (s === undefined) throw new Error(`no scenario ${scenario}`);
  return makeTarget(s, variant, { params });
}

function rate(t: Target, strategy: string, runs: number): number {
  const plan = planFor(t, { strategy, runs });
  judge(t, { ...plan, seed: 1, runs: Math.min(runs, 200) }); // warm up
  const t0 = performance.now();
  const r = judge(t, { ...plan, seed: 1 });
  return r.runs / ((performance.now() - t0) / 1000);
}

function throughput(): void {
  console.log("\n## Communication and scheduling: schedules per second (correct variants)\n");
  const rows: (string | number)[][] = [];
  const correct = [
    ["channel-mpmc", "correct"],
    ["work-stealing", "chase-lev"],
    ["forwarding", "correct"],
  ];
  for (const [scenario, variant] of correct) {
    const t = target(scenario, variant);
    const steps = judge(t, { ...planFor(t, { strategy: "random", runs: 1000 }), seed: 1 }).steps /
      1000;
    rows.push([
      `${scenario}/${variant}`,
      steps.toFixed(0),
      Math.round(rate(t, "random", 20_000)).toLocaleString("en"),
      Math.round(rate(t, "pct", 20_000)).toLocaleString("en"),
      Math.round(rate(t, "dpor", 5_000)).toLocaleString("en"),
    ]);
  }
  printTable(["scenario", "steps/run", "random /s", "PCT /s", "DPOR /s"], rows);
}

/** Runs needed by a sampling strategy, over BASES independent seed bases. */
function sampled(t: Target, strategy: string): string {
  const needed: number[] = [];
  const other = new Map<string, number>();
  let missed = 0;
  for (let b = 0; b < BASES; b++) {
    const r = judge(t, {
      ...planFor(t, { strategy, runs: SAMPLE_RUNS_MAX }),
      seed: 1 + b * 1_000_003,
    });
    if (r.outcome === undefined) {
      missed++;
      continue;
    }
    needed.push(r.runs);
    if (!r.ok) {
      const key = `${r.outcome.verdict} ${r.outcome.check}`;
      other.set(key, (other.get(key) ?? 0) + 1);
    }
  }
  let text = needed.length === 0
    ? `none in ${SAMPLE_RUNS_MAX}`
    : `${median(needed)} / ${Math.max(...needed)}`;
  if (missed > 0 && needed.length > 0) text += `, ${missed} missed`;
  for (const [key, n] of other) text += ` (${n} of ${BASES} hit ${key} first)`;
  return text;
}

/** Schedules DPOR needs: to the first failure, and to the declared one when it differs. */
function dpor(t: Target, check: string | undefined): string {
  const r = exploreExhaustive(t, new DporStrategy(), { runs: DPOR_RUNS_MAX, keepGoing: true });
  const first = r.failures[0];
  if (first === undefined) {
    return r.exhausted ? `none (exhausted in ${r.schedules})` : `none in ${r.schedules}`;
  }
  const firstCheck = first.outcome.check;
  if (check === undefined || firstCheck === check) return String(first.schedule);
  const right = r.failures.find((f) => f.outcome.check === check);
  return `${first.schedule} (${firstCheck}); ${check}: ` +
    (right === undefined ? `none in ${r.schedules}` : String(right.schedule));
}

const BROKEN: [string, string, Record<string, unknown>][] = [
  ["channel-mpmc", "racy-enqueue", {}],
  ["channel-mpmc", "racy-close", {}],
  ["reactor", "shared-arena", {}],
  ["comms", "no-gc-lock", {}],
  ["forwarding", "drop-on-forward", {}],
  ["forwarding", "stale-forward", {}],
  ["forwarding", "lost-resolve", {}],
  ["pf-pipeline", "cyclic", {}],
  ["work-stealing", "no-cas-last", {}],
  ["work-stealing", "steal-read-after-cas", {}],
  ["work-stealing", "steal-read-after-cas", { thieves: 1, tasks: 3 }],
];

function finding(): void {
  console.log(
    "\n## Communication and scheduling: schedules to find each broken variant\n" +
      `\nPCT (depth 3) and random: median / max runs to the first failure over ${BASES} seed ` +
      `bases, each searching up to ${SAMPLE_RUNS_MAX.toLocaleString("en")} runs.` +
      `\nDPOR: schedules to the first failure, up to ${DPOR_RUNS_MAX.toLocaleString("en")}.\n`,
  );
  const rows: string[][] = [];
  for (const [scenario, variant, params] of BROKEN) {
    const t = target(scenario, variant, params);
    const expect = t.scenario.variants[variant].expect;
    const shown = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(" ");
    rows.push([
      `${scenario}/${variant}${shown === "" ? "" : ` (${shown})`}`,
      expect.check ?? expect.verdict,
      sampled(t, "pct"),
      sampled(t, "random"),
      dpor(t, expect.check),
    ]);
  }
  printTable(["variant", "expected", "PCT", "random", "DPOR"], rows);
}

/** Prints the communication-and-scheduling section of the bench report. */
export function commBench(): void {
  throughput();
  finding();
}
