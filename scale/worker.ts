/**
 * A sweep worker: runs the chunks of seeds the pool hands it and reports
 * each run's steps and every failure's decisions.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { loadScenario } from "../scenarios/load.ts";
import { createStrategy, makeTarget, sweep, type Target } from "../sim/explore.ts";
import { UsageError } from "../sim/scenario.ts";
import type { Strategy } from "../sim/strategy.ts";
import { exploreSubtree } from "../sim/split.ts";
import type {
  ChunkMessage,
  FromWorker,
  InitMessage,
  ResultMessage,
  SubtreeMessage,
  ToWorker,
  TreeInitMessage,
  WatchMessage,
} from "./_protocol.ts";

let setup: { target: Target; strategy: Strategy; init: InitMessage } | null = null;
let tree: { target: Target; init: TreeInitMessage } | null = null;
let watch: WatchMessage | null = null;

function post(m: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(m, transfer);
}

async function init(m: InitMessage): Promise<void> {
  const scenario = await loadScenario(m.scenario);
  const target = makeTarget(scenario, m.variant, {
    params: m.params,
    cores: m.cores,
    stepsMax: m.stepsMax,
    memory: m.memory,
    swarm: m.swarm,
    source: scenario.name === m.scenario ? null : m.scenario,
  });
  const strategy = createStrategy(m.strategy, target, { depth: m.depth, pctSteps: m.pctSteps });
  setup = { target, strategy, init: m };
  post({ type: "ready", sweep: m.sweep });
}

async function initTree(m: TreeInitMessage): Promise<void> {
  const scenario = await loadScenario(m.scenario);
  const target = makeTarget(scenario, m.variant, {
    params: m.params,
    cores: m.cores,
    stepsMax: m.stepsMax,
    memory: m.memory,
    swarm: m.swarm,
    source: scenario.name === m.scenario ? null : m.scenario,
  });
  tree = { target, init: m };
  post({ type: "ready", sweep: m.sweep });
}

function runSubtree(m: SubtreeMessage): void {
  if (tree === null) throw new Error("subtree before tree-init");
  const { target, init } = tree;
  const frontier = { prefixes: init.prefixes, boundHit: false, runs: 0 };
  const t0 = performance.now();
  const result = exploreSubtree(target, init.spec, frontier, m.index, {
    runs: m.runs,
    seed: init.seed,
    keepGoing: init.keepGoing,
    heartbeat: watch?.heartbeat,
  });
  post({ type: "subtree-result", sweep: m.sweep, result, ms: performance.now() - t0 });
}

function runChunk(m: ChunkMessage): void {
  if (setup === null) throw new Error("chunk before init");
  const { target, strategy, init } = setup;
  const of = init.shard.of;
  // Run i of the chunk is run first + i of the sweep: shift the shard index.
  const index = (((init.shard.index - m.first) % of) + of) % of;
  const seeds: number[] = [];
  const steps: number[] = [];
  const failures: ResultMessage["failures"][number][] = [];
  sweep(target, {
    strategy,
    seed: init.seed + m.first,
    runs: m.count,
    keepGoing: init.keepGoing,
    shard: { index, of },
    heartbeat: watch?.heartbeat,
    onRun: (info) => {
      seeds.push(info.seed);
      steps.push(info.outcome.step);
      if (info.failure !== null) {
        failures.push({
          index: seeds.length - 1,
          seed: info.seed,
          outcome: info.outcome,
          decisions: info.failure.decisions,
        });
      }
    },
  });
  const s = Float64Array.from(seeds);
  const t = Int32Array.from(steps);
  post({ type: "result", sweep: m.sweep, id: m.id, seeds: s, steps: t, failures }, [
    s.buffer,
    t.buffer,
  ]);
}

// Tells a watching pool this worker runs something, so a step that stands still is a hang.
function busy(work: () => void): void {
  if (watch !== null) watch.busy[0] = 1;
  try {
    work();
  } finally {
    if (watch !== null) watch.busy[0] = 0;
  }
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  try {
    if (e.data.type === "watch") watch = e.data;
    else if (e.data.type === "init") await init(e.data);
    else if (e.data.type === "tree-init") await initTree(e.data);
    else if (e.data.type === "subtree") busy(() => runSubtree(e.data as SubtreeMessage));
    else busy(() => runChunk(e.data as ChunkMessage));
  } catch (err) {
    post({
      type: "error",
      sweep: e.data.sweep,
      message: (err as Error).message ?? String(err),
      usage: err instanceof UsageError,
    });
  }
};
