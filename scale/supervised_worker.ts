/**
 * The worker a `Supervisor` runs sweeps and explorations on. It runs them
 * exactly as the main thread would (`judge`), publishes every step to the
 * shared heartbeat, and streams runs, failures and progress back.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { loadScenario } from "../scenarios/load.ts";
import { BEAT_RUN, type Heartbeat } from "../sim/kernel.ts";
import { checkDeterminism } from "../sim/determinism.ts";
import {
  type Failure,
  isExhaustive,
  judge,
  makeTarget,
  planFor,
  probeSteps,
  superviseRunners,
  type Target,
} from "../sim/explore.ts";
import type { ExplorationStats } from "../sim/exhaustive.ts";
import type { Outcome } from "../sim/outcome.ts";
import { exploreSplit, listFrontier, treeSpecOf } from "../sim/split.ts";
import { OrderingError } from "../sim/ordering.ts";
import { UsageError } from "../sim/scenario.ts";
import type {
  BatchMessage,
  FromSupervised,
  JobMessage,
  TargetSpec,
  ToSupervised,
} from "./supervisor.ts";

/** Stats slots the worker fills after each schedule (see `Supervisor`). */
const STATS = ["schedules", "complete", "pruned", "maxDepth", "steps"] as const;
const FLUSH_RUNS = 256;
const FLUSH_MS = 100;

function post(m: FromSupervised, transfer: Transferable[] = []): void {
  self.postMessage(m, transfer);
}

async function targetOf(spec: TargetSpec): Promise<Target> {
  const scenario = await loadScenario(spec.scenario);
  return makeTarget(scenario, spec.variant, {
    params: spec.params,
    cores: spec.cores,
    stepsMax: spec.stepsMax,
    memory: spec.memory,
    source: spec.source,
    swarm: spec.swarm,
  });
}

// The jobs besides sweeps and explorations: each gives one value. Their
// schedules run through runners that publish to the beat (`superviseRunners`).
async function runAux(m: JobMessage): Promise<boolean> {
  if (m.type === "load") {
    // Loading is timed like a run's first step.
    m.heartbeat.beat[BEAT_RUN] = 1;
    await loadScenario(m.path);
    post({ type: "result", job: m.job, value: null });
    return true;
  }
  if (m.type !== "frontier" && m.type !== "determinism" && m.type !== "shrink") return false;
  superviseRunners(m.heartbeat);
  try {
    let value: unknown;
    if (m.type === "shrink") {
      const scenario = await loadScenario(m.scenario);
      // Loaded on first use: it brings fast-check, which sweeps never need.
      const { shrinkTrace } = await import("../sim/shrink.ts");
      value = shrinkTrace(m.trace, scenario, { ...m.budget, now: () => performance.now() });
    } else {
      const target = await targetOf(m.target);
      value = m.type === "frontier"
        ? listFrontier(target, m.spec, { seed: m.seed })
        : checkDeterminism(target, {
          strategy: planFor(target, m.plan).strategy,
          seed: m.seed,
          runs: m.runs,
        });
    }
    post({ type: "result", job: m.job, value });
  } finally {
    superviseRunners(null);
  }
  return true;
}

async function run(m: JobMessage): Promise<void> {
  if (await runAux(m)) return;
  if (m.type !== "judge" && m.type !== "probe") return;
  const target = await targetOf(m.target);
  const heartbeat: Heartbeat = {
    ...m.heartbeat,
    onGrow: (buffer) => post({ type: "decisions", job: m.job, buffer }),
  };
  if (m.type === "probe") {
    post({ type: "probed", job: m.job, steps: probeSteps(target, heartbeat) });
    return;
  }
  const { strategy } = planFor(target, m.plan);
  const stats = new Float64Array(m.stats);
  let seeds: number[] = [];
  let steps: number[] = [];
  let failures: BatchMessage["failures"][number][] = [];
  let flushed = performance.now();
  let optionsText = "";
  const flush = () => {
    const s = Float64Array.from(seeds);
    const t = Int32Array.from(steps);
    post({ type: "batch", job: m.job, seeds: s, steps: t, failures }, [s.buffer, t.buffer]);
    seeds = [];
    steps = [];
    failures = [];
    flushed = performance.now();
  };
  const onSchedule = (s: ExplorationStats, _outcome: Outcome | null, failure?: Failure | null) => {
    for (let i = 0; i < STATS.length; i++) stats[i] = s[STATS[i]];
    const text = JSON.stringify(strategy.options());
    if (text !== optionsText) {
      optionsText = text;
      post({ type: "options", job: m.job, options: strategy.options() });
    }
    if (failure !== undefined && failure !== null) {
      post({ type: "found", job: m.job, failure: { ...failure, options: strategy.options() } });
    }
    if ((s.schedules & 63) === 0) post({ type: "progress", job: m.job, stats: s });
  };
  if (m.split && isExhaustive(strategy)) {
    // A shard of a split tree, as `deno task sim --shard` explores it.
    const r = exploreSplit(target, treeSpecOf(strategy), {
      runs: m.runs,
      seed: m.seed,
      keepGoing: m.keepGoing,
      shard: m.shard,
      onSchedule,
      heartbeat,
    });
    const { frontier: _, failures, ...exploration } = r;
    post({
      type: "done",
      job: m.job,
      runs: r.schedules,
      steps: r.steps,
      exploration,
      failures: failures.map((f) => ({ ...f, options: strategy.options() })),
    });
    return;
  }
  const result = judge(target, {
    strategy,
    runs: m.runs,
    seed: m.seed,
    keepGoing: m.keepGoing,
    shard: m.shard,
    heartbeat,
    onRun: (info) => {
      seeds.push(info.seed);
      steps.push(info.outcome.step);
      if (info.failure !== null) {
        failures.push({
          index: seeds.length - 1,
          failure: { ...info.failure, options: strategy.options() },
        });
      }
      if (
        info.failure !== null || seeds.length >= FLUSH_RUNS ||
        ((seeds.length & 15) === 0 && performance.now() - flushed > FLUSH_MS)
      ) flush();
    },
    onSchedule,
  });
  if (seeds.length > 0) flush();
  post({
    type: "done",
    job: m.job,
    runs: result.runs,
    steps: result.steps,
    exploration: result.exploration,
    failures: result.exploration === null
      ? []
      : result.failures.map((f) => ({ ...f, options: strategy.options() })),
  });
}

self.onmessage = async (e: MessageEvent<ToSupervised>) => {
  try {
    await run(e.data);
  } catch (err) {
    post({
      type: "error",
      job: e.data.job,
      message: (err as Error)?.message ?? String(err),
      // Bad input, as the command reports it on this thread: one line, exit 2.
      usage: err instanceof UsageError || err instanceof OrderingError,
    });
  }
};
