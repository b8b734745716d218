/**
 * Process functions in a pipeline under pushback, and in a cycle that can
 * deadlock.
 *
 * @module
 */
import { z } from "zod";
import { settle } from "../runtime/future.ts";
import { Pipeline, Process, type Stepped } from "../runtime/process.ts";
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";
import { RunLedger } from "./_ledger.ts";

/** What flows through the processes: which task, and its value so far. */
interface Item {
  readonly task: number;
  readonly value: number;
}

/** A stage's state: its place in the line and the count of items it served. */
interface StageState {
  readonly k: Kernel;
  readonly stage: number;
  readonly ledger: RunLedger;
  readonly served: number;
}

/** Stage s adds 10^s: the last output tells which stages an item went through. */
function* addDigit(s: StageState, item: Item): Action<Stepped<Item, StageState>> {
  s.ledger.run(item.task, `stage${s.stage}`);
  yield* s.k.pause(); // the work itself: a scheduling point with no footprint
  return {
    output: { task: item.task, value: item.value + 10 ** s.stage },
    state: { ...s, served: s.served + 1 },
  };
}

function* produce(pipe: Pipeline, first: number, count: number, stages: number) {
  const futures = [];
  for (let t = first; t < first + count; t++) futures.push(yield* pipe.send({ task: t, value: 0 }));
  const want = (10 ** stages - 1) / 9; // 1 + 10 + ... + 10^(stages-1)
  for (let i = 0; i < futures.length; i++) {
    const out = (yield* settle(futures[i])) as Item;
    if (out.task !== first + i || out.value !== want) {
      throw new Violation(
        "pipeline-output",
        `task ${first + i} came out as task ${out.task} with ${out.value}, expected ${want}`,
      );
    }
  }
}

/** Waits for every driver, then stops the processes in order. */
function* stopAfter(k: Kernel, drivers: Fiber[], targets: { stop(): Action<unknown> }[]) {
  for (const d of drivers) yield* k.join(d);
  for (const t of targets) yield* t.stop();
}

/** A cycle member's state: the process it hands work on to. */
interface BounceState {
  peer: Process<Hop, unknown, BounceState> | null;
  readonly ledger: RunLedger;
  readonly name: string;
}

interface Hop {
  readonly task: number;
  readonly hops: number;
}

/** Serves a hop and passes the task to the peer until its hops are used up. */
function* bounce(s: BounceState, hop: Hop): Action<Stepped<unknown, BounceState>> {
  if (hop.hops === 0) {
    s.ledger.run(hop.task, s.name);
    return { output: hop.task, state: s };
  }
  const peer = s.peer as Process<Hop, unknown, BounceState>;
  const output = yield* peer.send({ task: hop.task, hops: hop.hops - 1 });
  return { output, state: s };
}

function* inject(
  p: Process<Hop, unknown, BounceState>,
  first: number,
  count: number,
  hops: number,
) {
  const futures = [];
  for (let t = first; t < first + count; t++) futures.push(yield* p.send({ task: t, hops }));
  for (const f of futures) yield* settle(f);
}

/** The parameters of `pfPipeline` (see its `params` schema for ranges and defaults). */
export type PfPipelineParams = {
  /** Stages in the line (`acyclic`). */
  readonly stages: number;
  /** Fibers sending tasks into the line. */
  readonly producers: number;
  /** Tasks each producer sends. */
  readonly tasks: number;
  /** Inputs a process's queue holds before a send waits. */
  readonly bound: number;
  /** Times a task passes between the two processes (`cyclic`). */
  readonly hops: number;
};

/**
 * `pf-pipeline`: `acyclic` sends tasks from several producers through a line
 * of forked process functions with bounded queues (pushback), and must pass:
 * every task served exactly once by every stage, every answer right, no
 * deadlock. `cyclic` forks two processes that hand tasks to each other; with
 * both queues full and both processes waiting to send, it deadlocks.
 */
export const pfPipeline: Scenario<PfPipelineParams> = defineScenario({
  name: "pf-pipeline",
  description: "forked process functions with bounded queues: a line passes, a cycle deadlocks",
  params: z.object({
    stages: z.number().int().min(1).max(6).default(3),
    producers: z.number().int().min(1).max(4).default(2),
    tasks: z.number().int().min(1).max(16).default(2),
    bound: z.number().int().min(1).max(16).default(1),
    hops: z.number().int().min(1).max(8).default(2),
  }),
  variants: {
    acyclic: {
      description: "a line of stages; each queue holds `bound` inputs before a send waits",
      expect: {
        verdict: "pass",
        budget: { strategy: "pct", runs: 2_000 },
        verify: { runs: 1_000, params: { stages: 3, producers: 1, tasks: 1 } },
      },
    },
    cyclic: {
      description: "two processes sending to each other through full queues",
      expect: { verdict: "deadlock", check: "deadlock", budget: { strategy: "pct", runs: 2_000 } },
    },
  },
  stepsMax: (p) => 2_000 + 300 * p.producers * p.tasks * (p.stages + p.hops),
  setup(k, { stages, producers, tasks, bound, hops }, variant) {
    const total = producers * tasks;
    if (variant === "cyclic") {
      const ledger = new RunLedger(total, "executed-once");
      const a = Process.fork(k, "A", bounce, { peer: null, ledger, name: "A" }, { bound });
      const b = Process.fork(k, "B", bounce, { peer: a, ledger, name: "B" }, { bound });
      a.peekState().peer = b;
      const drivers: Fiber[] = [];
      for (let d = 0; d < producers; d++) {
        drivers.push(k.spawn(`d${d}`, inject, d % 2 === 0 ? a : b, d * tasks, tasks, hops));
      }
      k.spawn("stopper", stopAfter, k, drivers, [a, b]);
      k.invariant("executed-once", () => ledger.missing());
      return;
    }
    const ledgers: RunLedger[] = [];
    const line = [];
    for (let s = 0; s < stages; s++) {
      const ledger = new RunLedger(total, "executed-once");
      ledgers.push(ledger);
      line.push({ name: `stage${s}`, fn: addDigit, state: { k, stage: s, ledger, served: 0 } });
    }
    const pipe = new Pipeline(k, line, { bound });
    const drivers: Fiber[] = [];
    for (let d = 0; d < producers; d++) {
      drivers.push(k.spawn(`p${d}`, produce, pipe, d * tasks, tasks, stages));
    }
    k.spawn("stopper", stopAfter, k, drivers, [pipe]);
    k.invariant("pushback", () => {
      for (const p of pipe.stages) {
        const n = p.queue.peekLength();
        if (n > bound) return `${p.queue.name} holds ${n} inputs, over its bound ${bound}`;
      }
      return true;
    }, "step");
    k.invariant("executed-once", () => {
      for (const l of ledgers) {
        const m = l.missing();
        if (m !== true) return m;
      }
      return true;
    });
  },
});
