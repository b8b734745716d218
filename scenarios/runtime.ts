/**
 * The whole runtime under the scheduler: start-up with a stop-the-world
 * compaction, the fixed global heap, jobs on per-worker arenas with work
 * stealing, messages between contexts, real-time and logical timers, and a
 * concurrent mark-and-sweep of the shared heap (`runtime/system.ts`).
 *
 * @module
 */
import { z } from "zod";
import { drawFaults, type FaultConfig, Faults, FaultsSchema } from "../runtime/faults.ts";
import { type Heap, NULL, type Ref, shapeBytes } from "../runtime/heap.ts";
import type { JobOutcome } from "../runtime/reactor.ts";
import type { Pid } from "../runtime/forwarding.ts";
import type { Stepped } from "../runtime/process.ts";
import type { Regions } from "../runtime/regions.ts";
import {
  MESSAGE_NODE_BYTES,
  System,
  type SystemEvent,
  type SystemFlaw,
  type SystemJob,
  type SystemStartup,
} from "../runtime/system.ts";
import type { Action } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";
import { RunLedger } from "./_ledger.ts";

/** The weights the start-up script leaves in the global heap. */
const WEIGHTS = [3, 1, 4, 1, 5, 9, 2, 6];
/** Bytes of a list node: header, one pointer, one immediate. */
const NODE_BYTES = shapeBytes({ ptrs: [NULL], imms: [0] });

/**
 * The events, in id order: the list each job builds, and what else it does.
 * `timer`: a real-time timer of that many ticks holding the list's head;
 * `logical`: waits that long on a logical timer in a region of its own;
 * `message`: sends its result to the next worker's context.
 */
const EVENTS: readonly {
  n: number;
  inbox?: number;
  timer?: number;
  logical?: number;
  message?: boolean;
  /** Calls the tally process (which may have moved to another context) and checks its reply. */
  call?: boolean;
}[] = [
  { n: 2, inbox: 0, message: true, call: true },
  { n: 3, inbox: 0, timer: 3, message: true },
  { n: 1, inbox: 0, logical: 3, message: true, call: true },
  { n: 2, inbox: 1, timer: 2, message: true },
  { n: 2, inbox: 0, logical: 2, message: true },
  { n: 3, inbox: 0, timer: 1, message: true, call: true },
  { n: 5, inbox: 1 }, // larger than any default arena: fails with HeapExhausted
  { n: 1, inbox: 1, message: true },
];

/** Words in a message. */
const MESSAGE_WORDS = 2;

/** The message a job on event `id` sends: its id, its answer, its size, and a check word. */
function messageOf(id: number, sum: number, n: number): number[] {
  return [id * 1_000 + sum, n].slice(0, MESSAGE_WORDS);
}

/** Builds the global data amid garbage (enough to overflow once) and binds the callback. */
function* startup(ctx: SystemStartup, timerTicks: number, calls: CallLedger): Action<void> {
  const weights = ctx.root("weights", yield* ctx.alloc({ kind: "binary", imms: WEIGHTS }));
  // Scratch work, garbage by the end (some of it pointing at live data),
  // until the start-up heap has overflowed and been compacted once.
  for (let i = 0; ctx.collections === 0 && i < 64; i++) {
    yield* ctx.alloc({ ptrs: [yield* weights.read()], imms: [i, i] });
  }
  // Held in a register across the next allocation, which may collect.
  yield* ctx.registers[0].write(yield* ctx.alloc({ kind: "binary", imms: [7, 7], name: "label" }));
  const label = yield* ctx.registers[0].read();
  ctx.root("names", yield* ctx.alloc({ ptrs: [label], imms: [1], name: "names" }));
  const pid = ctx.host("tally", tally, { calls, count: 0 }, 0);
  ctx.bind("job", (job: SystemJob, n: number) => runJob(job, n, { timerTicks, pid, calls }));
}

/** What a job does: a list in its arena, weighed by the global table, then its side effects. */
/** What every job of a run shares. */
interface JobConfig {
  readonly timerTicks: number;
  /** The tally process. */
  readonly pid: Pid;
  readonly calls: CallLedger;
}

function* runJob(ctx: SystemJob, n: number, { timerTicks, pid, calls }: JobConfig): Action<number> {
  const { heap, arena, registers } = ctx;
  let head = NULL;
  for (let i = 0; i < n; i++) {
    head = yield* arena.alloc({ ptrs: [head], imms: [i] });
    yield* registers[0].write(head);
  }
  const table = yield* ctx.global("weights").read();
  let sum = 0;
  for (let r = head; r !== NULL; r = yield* heap.load(r, 0)) {
    const i = yield* heap.readImm(r, 0);
    sum += i * (yield* heap.readImm(table, i % WEIGHTS.length));
  }
  const e = EVENTS[ctx.event.id];
  if (e.timer !== undefined) {
    const ticks = 1 + ctx.heap.kernel.choose(e.timer * timerTicks, "timer");
    yield* ctx.after(ticks, head, fired);
  }
  if (e.logical !== undefined) yield* ctx.regions.sim(tick, ctx.regions, e.logical);
  if (e.message) yield* ctx.send(messageOf(ctx.event.id, sum, n));
  if (e.call) {
    const id = ctx.event.id;
    const reply = yield* ctx.call<number>(pid, id);
    if (reply !== calls.output(id)) {
      throw new Violation(
        "call-reply",
        `event ${id}'s call to the tally got ${reply}, it answered ${calls.output(id)}`,
      );
    }
  }
  yield* ctx.publish();
  return sum;
}

/**
 * Which event each call of the tally process served and what it answered
 * (ghost, independent of the forwarding net): a second serving fails.
 */
class CallLedger {
  readonly #out: (number | undefined)[] = [];

  serve(id: number, output: number): void {
    if (this.#out[id] !== undefined) {
      throw new Violation("delivered-once", `the tally served event ${id}'s call twice`);
    }
    this.#out[id] = output;
  }

  output(id: number): number | undefined {
    return this.#out[id];
  }
}

/** The tally process: answers a call with the event's id and how many calls came before. */
// deno-lint-ignore require-yield
function* tally(
  s: { readonly calls: CallLedger; readonly count: number },
  id: number,
): Action<Stepped<number, { readonly calls: CallLedger; readonly count: number }>> {
  const output = 1_000 * id + s.count;
  s.calls.serve(id, output);
  return { output, state: { calls: s.calls, count: s.count + 1 } };
}

/** A timer fires: the object it holds must still be the list's head. */
function* fired(heap: Heap, ref: Ref, event: SystemEvent): Action<void> {
  const v = yield* heap.readImm(ref, 0);
  if (v !== event.payload - 1) {
    throw new Violation("timer-object", `event ${event.id}'s timer read ${v} from its object`);
  }
}

/** Waits `t` on a logical timer; the wake-up must be exactly on time. */
function* tick(r: Regions, t: number): Action<void> {
  const before = r.lclock();
  yield* r.ltimer(t);
  const now = r.lclock();
  if (now !== before + t) {
    throw new Violation("time-axioms", `ltimer(${t}) from ${before} woke at ${now}`);
  }
}

/** The list sum a job on `n` gives. */
function listSum(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += i * WEIGHTS[i % WEIGHTS.length];
  return sum;
}

let last: System | null = null;

/** The system of the latest run set up (for benches and tests: its `stats`). */
export function lastSystem(): System | null {
  return last;
}

const FLAWS: Record<string, SystemFlaw | null> = {
  correct: null,
  "gc-during-read": "gc-during-read",
  "reset-with-timer": "reset-with-timer",
  "steal-during-overflow": "steal-during-overflow",
};

/** The parameters of `runtime` (see its `params` schema for ranges and defaults). */
export type RuntimeParams = {
  /** Worker fibers running jobs. */
  readonly workers: number;
  /** Events that arrive. */
  readonly events: number;
  /** Each worker's arena, in list nodes. */
  readonly arenaNodes: number;
  /** Each context semispace, in two-word messages. */
  readonly contextMessages: number;
  /** Capacity of each inbound event channel. */
  readonly queue: number;
  /** Mark-and-sweep cycles that run while the workers do (one more runs at the end). */
  readonly gcCycles: number;
  /** Each event arrives 0..delayMax ticks after the one before on its channel. */
  readonly delayMax: number;
  /** A timer of weight w waits 1..w * timerTicks ticks. */
  readonly timerTicks: number;
  /** Faults to inject (runtime/faults.ts); off when absent. */
  readonly faults?: FaultConfig | undefined;
};

/**
 * `runtime`: the composed runtime of `runtime/system.ts` on the events
 * above. Judged end to end, by checks that do not trust the system's own
 * bookkeeping: every event gets exactly one outcome, the right one (a
 * ledger and the answers computed here); every message is delivered exactly
 * once, intact, and every message sent arrives; every timer fires once with
 * its object intact; no use after free or after an arena reset and no free
 * of a reachable object (the heaps' oracles); the time axioms (the regions'
 * monitor, timers never early); and live-set accounting matches a traversal
 * (the global heap, and the shared heap after the last collection).
 */
export const runtime: Scenario<RuntimeParams> = defineScenario({
  name: "runtime",
  description: "the composed runtime: start-up, compaction, work-stealing jobs on arenas, " +
    "messages between contexts, timers in regions, concurrent mark-and-sweep",
  params: z.object({
    workers: z.number().int().min(2).max(4).default(2),
    events: z.number().int().min(1).max(EVENTS.length).default(6),
    /** Each worker's arena, in list nodes. */
    arenaNodes: z.number().int().min(1).max(16).default(4),
    /** Each context semispace, in two-word messages. */
    contextMessages: z.number().int().min(2).max(8).default(2),
    queue: z.number().int().min(1).max(8).default(2),
    gcCycles: z.number().int().min(0).max(4).default(1),
    delayMax: z.number().int().min(0).max(500).default(40),
    /** A timer of weight w waits 1..w * timerTicks ticks, drawn from the seed (stream "timer"). */
    timerTicks: z.number().int().min(1).max(2_000).default(250),
    /**
     * Faults (runtime/faults.ts): allocations fail, channel operations and
     * timers run late, workers stall, context collections come early. Off
     * when absent; correct code survives every one.
     */
    faults: FaultsSchema.optional(),
  }),
  variants: {
    correct: {
      description: "the parts composed as designed",
      expect: { verdict: "pass", budget: { strategy: "pct", runs: 200 } },
    },
    "gc-during-read": {
      description: "a message is read in its sender's context without the collector lock " +
        "while that context compacts",
      expect: { verdict: "bug", check: "free-safety", budget: { strategy: "random", runs: 300 } },
    },
    "reset-with-timer": {
      description: "a worker resets its arena while a timer still holds one of its objects",
      expect: { verdict: "bug", check: "free-safety", budget: { strategy: "random", runs: 300 } },
    },
    "steal-during-overflow": {
      description: "a job that overflows is handed back to the deque and retried too: a thief " +
        "that stole it runs it a second time",
      expect: { verdict: "bug", budget: { strategy: "random", runs: 300 } },
    },
  },
  stepsMax: (p: RuntimeParams) => 4_000 + 600 * p.events * p.workers,
  // Swarm: how many workers and events, arena and context heap sizes, queue,
  // collector cycles, arrival pace, timer lengths, and which faults are on.
  swarm: (draw) => ({
    workers: draw.int("workers", 2, 3),
    events: draw.int("events", 3, EVENTS.length),
    arenaNodes: draw.int("arenaNodes", 3, 6),
    contextMessages: draw.int("contextMessages", 2, 3),
    queue: draw.int("queue", 1, 3),
    gcCycles: draw.int("gcCycles", 0, 2),
    delayMax: draw.pick("delayMax", [40, 0, 10, 80]),
    timerTicks: draw.pick("timerTicks", [250, 50, 400]),
    faults: drawFaults(draw),
  }),
  setup(k, p: RuntimeParams, variant) {
    const flaw = FLAWS[variant];
    if (flaw === undefined) throw new RangeError(`runtime has no variant ${variant}`);
    Faults.enable(k, p.faults);
    const share = p.arenaNodes * NODE_BYTES;
    const outcomes = new RunLedger(p.events, "one-outcome");
    const delivered = new RunLedger(p.events, "delivered-once");
    const timers = new RunLedger(p.events, "timer-once");
    const expected = (id: number): JobOutcome =>
      EVENTS[id].n > p.arenaNodes
        ? { tag: "failed", reason: "overflow" }
        : { tag: "done", value: listSum(EVENTS[id].n) };
    const sys = new System(k, {
      workers: p.workers,
      startupBytes: Math.max(p.workers * share, 160),
      globalBytes: 256,
      contextBytes: p.contextMessages * MESSAGE_WORDS * MESSAGE_NODE_BYTES,
      sharedBytes: 16 * (p.events + 4),
      queue: p.queue,
      gcCycles: p.gcCycles,
      delayMax: p.delayMax,
      flaw,
      hooks: {
        onOutcome(event, outcome, w) {
          outcomes.run(event.id, `w${w}`);
          const want = expected(event.id);
          const right = want.tag === "done"
            ? outcome.tag === "done" && outcome.value === want.value
            : outcome.tag === "failed";
          if (!right) {
            const got = outcome.tag === "done" ? `${outcome.value}` : `failed (${outcome.reason})`;
            const exp = want.tag === "done" ? `${want.value}` : "an overflow";
            throw new Violation(
              "job-outcome",
              `event ${event.id} (a list of ${event.payload}) on w${w} gave ${got}, expected ${exp}`,
            );
          }
        },
        onDelivered(from, to, words) {
          const id = Math.floor(words[0] / 1_000);
          const want = expected(id);
          if (
            !EVENTS[id]?.message || want.tag !== "done" || to !== (from + 1) % p.workers ||
            words.join() !== messageOf(id, want.value, EVENTS[id].n).join()
          ) {
            throw new Violation(
              "message-intact",
              `c${to} read [${words.join(", ")}] from c${from}`,
            );
          }
          delivered.run(id, `c${to}`);
        },
        onTimer(event) {
          timers.run(event.id, "timer");
        },
      },
    });
    const events: SystemEvent[] = [];
    for (let id = 0; id < p.events; id++) {
      events.push({ id, channel: "job", payload: EVENTS[id].n, inbox: EVENTS[id].inbox });
    }
    const calls = new CallLedger();
    sys.start((ctx) => startup(ctx, p.timerTicks, calls), events);
    last = sys;
    k.invariant("one-outcome", () => outcomes.missing());
    k.invariant("delivered-once", () => {
      for (let id = 0; id < p.events; id++) {
        const sent = EVENTS[id].message === true && expected(id).tag === "done";
        if (sent && !delivered.has(id)) {
          return `message of event ${id} was never delivered`;
        }
      }
      return true;
    });
    k.invariant("call-reply", () => {
      for (let id = 0; id < p.events; id++) {
        const called = EVENTS[id].call === true && expected(id).tag === "done";
        if (called && calls.output(id) === undefined) return `event ${id}'s call was never served`;
      }
      return true;
    });
    k.invariant("timer-once", () => {
      for (let id = 0; id < p.events; id++) {
        const set = EVENTS[id].timer !== undefined && expected(id).tag === "done";
        if (set && !timers.has(id)) return `the timer of event ${id} never fired`;
      }
      return true;
    });
    k.invariant("no-dangling", () => sys.heap.dangling() ?? sys.shared.dangling() ?? true);
    k.invariant("live-set", () => {
      const roots = [...sys.globals.values()].map((c) => c.peek());
      const reached = sys.heap.reachableBytes(roots);
      const held = sys.global.space.bytesLive;
      if (held !== reached) {
        return `the global heap holds ${held} bytes, its roots reach ${reached}`;
      }
      if (sys.heap.liveBytesOf(roots) !== reached) {
        return `the global roots' live-set sizes sum to ${sys.heap.liveBytesOf(roots)}, ` +
          `a traversal finds ${reached}`;
      }
      const shared = sys.sharedLiveSet();
      if (shared.held !== shared.reachable) {
        return `after the last collection the shared heap holds ${shared.held} bytes, its ` +
          `roots reach ${shared.reachable}`;
      }
      return true;
    });
  },
});
