/**
 * The composed runtime: every part of `runtime/` wired into one system that
 * runs under the virtual scheduler (issue 13). It adds no primitive of its
 * own; it only decides which part calls which.
 *
 * 1. Start-up: a script allocates into the start-up arena (two semispaces)
 *    and binds callbacks to channels. When an allocation does not fit, the
 *    world is stopped (`safepoint.ts`: the workers, which exist from the
 *    start, wait for the start-up in a safe region) and the start-up heap is
 *    compacted into its other semispace; pointers are followed through the
 *    forwarding addresses.
 * 2. The start-up heap is compacted into the fixed global heap, which is
 *    sealed; the emptied start-up arena is split among the workers.
 * 3. Events arrive on one channel per worker, at times drawn from the seed.
 *    Each worker moves what arrived into its Chase-Lev deque, takes jobs
 *    from it, and steals from the other deques when it runs dry. It polls a
 *    safepoint at every turn of its loop, and waits in a safe region.
 * 4. A job runs the callback bound to its event's channel on the worker's
 *    arena. The arena is reset only when it fills: a job that raises
 *    `HeapExhausted` drops its work, the arena is reset (after the timers
 *    that still hold its objects have fired) and the job runs again, or
 *    fails when even a fresh arena is too small.
 * 5. A job may send a message to the next worker's context (built in its
 *    own context's heap, read in place by the receiver under the sender's
 *    collector lock); a context compacts its heap when the next message
 *    would not fit. It may set a real-time timer that holds one of its
 *    objects, wait on logical timers in a region, and publish a node into
 *    the shared heap, which a concurrent mark-and-sweep collects.
 * 6. When every event has an outcome, the workers stop, the receivers drain,
 *    and a last, quiescent collection cycle runs.
 *
 * Faults (`faults.ts`), when a run enables them: an allocation fails (the
 * job or the send drops its work and tries again), channel operations and
 * timers run late, a worker stalls, a context collects early.
 *
 * The system asserts nothing about itself: it is judged end to end by the
 * scenario that runs it (a ledger of outcomes and deliveries, the heaps'
 * oracles, the time axioms, live-set accounting against a traversal).
 *
 * @module
 */
import type { Cell } from "../sim/cell.ts";
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import type { StateSource, StateWriter } from "../sim/state.ts";
import { Clock } from "../sim/clock.ts";
import { Violation } from "../sim/outcome.ts";
import { Arena } from "./arena.ts";
import { Channel } from "./channel.ts";
import { CommsMatrix, Context } from "./comms.ts";
import { Compaction } from "./compaction.ts";
import { Deque } from "./deque.ts";
import { Faults } from "./faults.ts";
import { ForwardingNet, type Pid } from "./forwarding.ts";
import {
  Heap,
  HeapExhausted,
  type LocalRefs,
  NULL,
  type Ref,
  type Shape,
  WORD_BYTES,
} from "./heap.ts";
import { MarkSweep } from "./mark_sweep.ts";
import type { JobOutcome } from "./reactor.ts";
import { ParkingSpot } from "./park.ts";
import type { ProcessFn } from "./process.ts";
import { Regions } from "./regions.ts";
import { type Collectable, type Mutator, Safepoints } from "./safepoint.ts";

/**
 * A deliberate bug that only shows when parts interact.
 *
 * - `gc-during-read`: receivers read messages in place without the sender's
 *   collector lock, while the sender's context may compact.
 * - `reset-with-timer`: a worker resets its arena without waiting for the
 *   timers that still hold objects in it.
 * - `steal-during-overflow`: a job that overflows is handed back to the
 *   worker's deque for an idle worker with a fresh arena, and also retried
 *   here; the hand-back is cancelled by a `take` that assumes it got the job
 *   back, but a thief may have stolen it already: it runs twice.
 */
export type SystemFlaw = "gc-during-read" | "reset-with-timer" | "steal-during-overflow";

/** Every flaw, for parameter schemas and tests. */
export const SYSTEM_FLAWS: readonly SystemFlaw[] = [
  "gc-during-read",
  "reset-with-timer",
  "steal-during-overflow",
];

/** An event: the channel it is bound to, a payload, and its number. */
export interface SystemEvent {
  /** The event's number. */
  readonly id: number;
  /** The callback's channel name (`bind`). */
  readonly channel: string;
  /** Its payload. */
  readonly payload: number;
  /** The worker whose inbound channel it arrives on; `id % workers` by default. */
  readonly inbox?: number;
}

/** What a callback works with while it runs as a job. */
export interface SystemJob {
  /** The heap the job allocates in. */
  readonly heap: Heap;
  /** The worker running the job. */
  readonly worker: number;
  /** The event the job handles. */
  readonly event: SystemEvent;
  /** The worker's arena: the job allocates here. */
  readonly arena: Arena;
  /** The worker's stack slots (roots). */
  readonly registers: readonly Cell<number>[];
  /** The run's regions: timers and clocks. */
  readonly regions: Regions;
  /** The global root `name` bound by the start-up script. */
  global(name: string): Cell<number>;
  /** Sends `words` to the next worker's context. */
  send(words: readonly number[]): Action<void>;
  /**
   * Sets a real-time timer: after `ticks`, `callback` runs in its own fiber
   * with `ref` (an object of the job's arena), which it holds until then.
   */
  after(ticks: number, ref: Ref, callback: TimerCallback): Action<void>;
  /** Publishes a result node into the shared, collected heap. */
  publish(): Action<void>;
  /**
   * Sends `input` to process `pid` (wherever it has moved: the message is
   * forwarded) and waits for its output.
   */
  call<O>(pid: Pid, input: unknown): Action<O>;
}

/** A job's callback, declared once; may raise `HeapExhausted` through `arena.alloc`. */
export type SystemCallback = (ctx: SystemJob, payload: number) => Action<number>;

/** A timer's callback, declared once: runs when the timer fires, with the object it holds. */
export type TimerCallback = (heap: Heap, ref: Ref, event: SystemEvent) => Action<void>;

/** What the start-up script works with. */
export interface SystemStartup {
  /** The heap the script allocates in. */
  readonly heap: Heap;
  /**
   * Allocates in the start-up heap. When it does not fit, the world is
   * stopped and the start-up heap compacted first: only what the globals
   * reach survives, and the pointers in `shape` are followed to where
   * their objects moved.
   */
  alloc(shape: Shape): Action<Ref>;
  /** Binds `callback` to the events of `channel`. */
  bind(channel: string, callback: SystemCallback): void;
  /**
   * The script's stack slots (roots of its collections, cleared when it
   * ends): an object it still needs must be held here or in a global
   * across an allocation, which may move it or, unheld, free it.
   */
  readonly registers: readonly Cell<number>[];
  /** A global root: what it reaches survives into the global heap. */
  root(name: string, ref: Ref): Cell<number>;
  /** Stop-the-world compactions of the start-up heap so far. */
  readonly collections: number;
  /**
   * Starts a process function at worker `home`'s context; idle workers ask
   * for work, so it may move (`forwarding.ts`). Gives its pid for `call`.
   */
  host<I, O, S>(name: string, fn: ProcessFn<I, O, S>, state: S, home: number): Pid;
}

/** The start-up script, declared once. */
export type SystemScript = (ctx: SystemStartup) => Action<void>;

/** Ghost hooks the judging scenario sees (not scheduling points). */
export interface SystemHooks {
  /** Every job outcome, when the worker records it. */
  onOutcome?(event: SystemEvent, outcome: JobOutcome, worker: number): void;
  /** Every message a receiver read, with its words. */
  onDelivered?(from: number, to: number, words: readonly number[]): void;
  /** Every timer whose callback has run to the end. */
  onTimer?(event: SystemEvent): void;
}

/** How a system is built. */
export interface SystemOptions {
  /** Worker fibers running jobs. */
  readonly workers: number;
  /** Each of the two start-up semispaces; the one compacted last is split among the workers. */
  readonly startupBytes: number;
  /** The fixed global heap. */
  readonly globalBytes: number;
  /** Each of a context's two semispaces (its message heap). */
  readonly contextBytes: number;
  /** Bytes of the shared, collected heap. */
  readonly sharedBytes: number;
  /** Capacity of each inbound event channel (pushback on the source). */
  readonly queue: number;
  /** Mark-and-sweep cycles that run while the workers do (one more runs at the end). */
  readonly gcCycles: number;
  /** Each event arrives 0..delayMax ticks after the one before on its channel (stream "arrival"). */
  readonly delayMax: number;
  /** A deliberate bug for a broken variant, or null for the correct system. */
  readonly flaw?: SystemFlaw | null;
  /** Where a scenario observes the system (for its end-to-end checks). */
  readonly hooks?: SystemHooks;
}

/** Bytes of one message node: header, next pointer, one word. */
export const MESSAGE_NODE_BYTES: number = 8 + 2 * WORD_BYTES;
/** Result nodes a worker keeps reachable in the shared heap. */
const KEPT = 2;

/** What a run of the system did (ghost counters, for reports and benches). */
export interface SystemStats {
  /** Stop-the-world compactions of the start-up heap. */
  startupCollections: number;
  /** Jobs run, attempts included. */
  attempts: number;
  /** Jobs retried on a reset arena after an overflow. */
  retries: number;
  /** Jobs taken from another worker's deque. */
  steals: number;
  /** Arena resets. */
  resets: number;
  /** Resets that had to wait for a timer holding one of the arena's objects. */
  resetsWaited: number;
  /** Messages sent between contexts. */
  messages: number;
  /** Compactions of a context's message heap. */
  contextCollections: number;
  /** Timers that fired. */
  timers: number;
  /** Requests for work an idle worker sent to the context before it (which may move a process). */
  workRequests: number;
  /** Allocation faults a job or a send survived by trying again. */
  injected: number;
}

/** One worker's state. */
interface Worker {
  readonly index: number;
  readonly inbox: Channel<SystemEvent>;
  readonly deque: Deque<SystemEvent>;
  arena: Arena;
  readonly registers: Cell<number>[];
  readonly context: Context;
  /** Timer fibers still holding objects of this worker's arena. */
  readonly timers: Fiber[];
  /** The worker's roots in the shared heap: its newest result and two registers. */
  readonly latest: Cell<number>;
  readonly sharedRegs: Cell<number>[];
  fiber: Fiber | null;
  /** Where the worker waits when it has nothing to do. */
  idle: ParkingSpot | null;
  /** True once the worker has asked the context before it for work. */
  requested: boolean;
  /** The worker as a mutator: it polls the safepoint, and stops when the world does. */
  readonly mutator: Mutator;
}

/**
 * The composed runtime. Build it in setup, then `start` it with the start-up
 * script and the events: that spawns the start-up fiber, the workers and
 * one event source per worker.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import type { Action } from "../sim/op.ts";
 * function* script(ctx: SystemStartup): Action<void> {
 *   ctx.root("seven", yield* ctx.alloc({ kind: "binary", imms: [7] }));
 *   ctx.bind("add", add);
 * }
 * function* add(ctx: SystemJob, n: number): Action<number> {
 *   const seven = yield* ctx.global("seven").read();
 *   return n + (yield* ctx.heap.readImm(seven, 0));
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 5_000 }, new RandomStrategy(), 1);
 * const got: number[] = [];
 * const sys = new System(k, {
 *   workers: 2, startupBytes: 128, globalBytes: 64, contextBytes: 96, sharedBytes: 256,
 *   queue: 2, gcCycles: 1, delayMax: 2,
 *   hooks: { onOutcome: (_e, o) => { if (o.tag === "done") got.push(o.value); } },
 * });
 * const events = [1, 2, 3].map((p, id) => ({ id, channel: "add", payload: p }));
 * sys.start(script, events);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(got.sort((a, b) => a - b), [8, 9, 10]);
 * ```
 */
export class System implements StateSource {
  /** The kernel of the run. */
  readonly kernel: Kernel;
  /** The heap of start-up, the global heap and the workers' arenas. */
  readonly heap: Heap;
  /** The shared heap, collected concurrently by `gc`. */
  readonly shared: Heap;
  /** The concurrent mark-and-sweep collector of the shared heap. */
  readonly gc: MarkSweep;
  /** The fixed global heap the start-up heap is compacted into. */
  readonly global: Arena;
  /** The run's regions: timers and clocks. */
  readonly regions: Regions;
  /** Message counts between contexts. */
  readonly comms: CommsMatrix;
  /** The deliberate bug this system has, or null. */
  readonly flaw: SystemFlaw | null;
  /** What the run did so far. */
  readonly stats: SystemStats = {
    startupCollections: 0,
    attempts: 0,
    retries: 0,
    steals: 0,
    resets: 0,
    resetsWaited: 0,
    messages: 0,
    contextCollections: 0,
    timers: 0,
    workRequests: 0,
    injected: 0,
  };
  /** Safepoints: the workers and the start-up fiber are its mutators. */
  readonly safepoints: Safepoints;
  /** The run's fault injector. */
  readonly faults: Faults;
  /** Processes and the forwarding of messages to them as they move between contexts. */
  readonly net: ForwardingNet;
  /** Outcomes recorded so far (a shared counter: the workers stop when it reaches the events). */
  readonly outcomes: Cell<number>;
  readonly #options: SystemOptions;
  readonly #startup: [Arena, Arena];
  #live = 0;
  readonly #startupGc: Compaction;
  readonly #startupRegs: Cell<number>[];
  readonly #bootMutator: Mutator;
  /** The start-up heap as a stop-the-world collection sees it. */
  readonly #startupHeap: Collectable;
  #running = false;
  /** @internal Where workers wait (in a safe region) for the start-up to end. */
  readonly started: ParkingSpot;
  readonly #globals = new Map<string, Cell<number>>();
  readonly #callbacks = new Map<string, SystemCallback>();
  /** @internal */
  readonly workerList: Worker[] = [];
  /** @internal Per receiving context: which sender has a message for it (in send order). */
  readonly doorbells: Channel<number>[] = [];
  /** @internal Events of the run. */
  eventCount = 0;
  /** @internal */
  readonly hooks: SystemHooks | undefined;

  /** Builds the system's heaps, channels, contexts and fibers (in setup); `start` runs it. */
  constructor(kernel: Kernel, options: SystemOptions) {
    const w = options.workers;
    if (!Number.isInteger(w) || w < 2) {
      throw new RangeError(`Cannot run a system of ${w} workers: messages need at least 2`);
    }
    this.kernel = kernel;
    this.#options = options;
    this.flaw = options.flaw ?? null;
    this.hooks = options.hooks;
    const heap = this.heap = new Heap(kernel, { objectsMax: 4_000 });
    this.shared = new Heap(kernel, { objectsMax: 1_000 });
    this.gc = new MarkSweep(this.shared, this.shared.space("shared", options.sharedBytes), {
      barrier: "insertion",
      name: "shared-gc",
    });
    // The start-up script's allocations are not faulted: its overflow is
    // the stop-the-world path, which must be taken only when the heap is full.
    this.#startup = [
      new Arena(heap, "startup0", options.startupBytes, { faultable: false }),
      new Arena(heap, "startup1", options.startupBytes, { faultable: false }),
    ];
    this.faults = Faults.of(kernel);
    this.safepoints = new Safepoints(kernel);
    this.#bootMutator = this.safepoints.register("boot");
    const moving = { alloc: (shape: Shape) => this.#allocMoved(shape) };
    this.#startupHeap = { allocator: () => moving, collect: () => this.#collectStartup() };
    this.started = new ParkingSpot("started", {
      watches: kernel.newObject("system.phase"),
      ready: () => this.#running,
      reason: "the end of start-up",
    });
    this.#startupGc = new Compaction(heap, { name: "startup-gc" });
    this.#startupRegs = heap.roots.stack("boot", 2);
    this.global = new Arena(heap, "global", options.globalBytes);
    this.regions = Regions.of(kernel);
    this.outcomes = kernel.cell("outcomes", 0);
    const contexts: Context[] = [];
    for (let i = 0; i < w; i++) {
      contexts.push(
        new Context(heap, `c${i}`, {
          bytes: options.contextBytes,
          flaw: this.flaw === "gc-during-read" ? "no-gc-lock" : null,
        }),
      );
    }
    this.comms = new CommsMatrix(kernel, contexts, { slots: 1 });
    this.net = new ForwardingNet(kernel, { contexts: w });
    for (let i = 0; i < w; i++) {
      this.doorbells.push(new Channel<number>(kernel, `bell${i}`, { capacity: "unbounded" }));
      this.workerList.push({
        index: i,
        inbox: new Channel<SystemEvent>(kernel, `in${i}`, { capacity: options.queue }),
        deque: new Deque<SystemEvent>(kernel, `dq${i}`, { capacity: 2 }),
        arena: this.#startup[0], // replaced by the worker's slice after start-up
        registers: heap.roots.stack(`w${i}`, 2),
        context: contexts[i],
        timers: [],
        latest: this.shared.roots.global(`latest${i}`),
        sharedRegs: this.shared.roots.stack(`w${i}`, 2),
        fiber: null,
        idle: null,
        requested: false,
        mutator: this.safepoints.register(`w${i}`),
      });
    }
    for (const wk of this.workerList) wk.idle = this.#idleSpot(wk);
    kernel.describe(this);
  }

  /**
   * For reports: the phase (start-up or running), what the run did so far,
   * and per worker the arena it allocates in (bytes used of its size), the
   * timers still holding objects of it, and whether it asked for work. The
   * parts (heaps, collectors, channels, deques, safepoints, the forwarding
   * net, regions) describe themselves.
   */
  describeState(out: StateWriter): void {
    out.put("system", "phase", this.#running ? "running" : "start-up");
    out.put("system", "stats", this.stats);
    for (const wk of this.workerList) {
      out.put("system", `w${wk.index}`, {
        arena: `${wk.arena.name} ${wk.arena.bytesUsed}/${wk.arena.bytesMax} bytes`,
        timers: wk.timers.filter((t) => !t.done).map((t) => t.name),
        requested: wk.requested,
      });
    }
  }

  // An idle worker wakes for an event on its own channel, a job in its own
  // deque, a surplus (two or more jobs) in another deque, or the last
  // outcome. A lone job is left to its owner, which is not idle while it has one.
  #idleSpot(wk: Worker): ParkingSpot {
    const workers = this.workerList;
    const outcomes = this.outcomes;
    return new ParkingSpot(`idle${wk.index}`, {
      watches: [outcomes.id, wk.deque.bottomId],
      ready: () => {
        if (outcomes.peek() >= this.eventCount) return true;
        if (wk.inbox.peekLength() > 0 || wk.deque.peekLength() > 0) return true;
        for (const other of workers) if (other.deque.peekLength() > 1) return true;
        return false;
      },
      reason: "an event, a job to steal, or the last outcome",
    });
  }

  /** The worker count. */
  get workers(): number {
    return this.workerList.length;
  }

  /** Worker `w`'s arena (its slice of the start-up arena once running). */
  arenaOf(w: number): Arena {
    return this.workerList[w].arena;
  }

  /** The global roots the start-up script bound, by name. */
  get globals(): ReadonlyMap<string, Cell<number>> {
    return this.#globals;
  }

  /**
   * Spawns the system's fibers: `boot` (start-up, then it runs the workers
   * and shuts down), and one event source per worker delivering the events
   * that arrive on its inbound channel.
   */
  start(script: SystemScript, events: readonly SystemEvent[]): void {
    this.eventCount = events.length;
    const k = this.kernel;
    k.spawn("boot", boot, this, script);
    // The workers exist from the start: they wait for the start-up in a safe
    // region, so a stop of the world does not wait for them.
    for (const wk of this.workerList) wk.fiber = k.spawn(`w${wk.index}`, work, this, wk);
    for (const wk of this.workerList) {
      const n = this.workerList.length;
      const mine = events.filter((e) => (e.inbox ?? e.id) % n === wk.index);
      k.spawn(`src${wk.index}`, source, k, wk.inbox, mine, this.#options.delayMax);
    }
  }

  // ---- start-up ----------------------------------------------------------

  /** @internal The start-up context handed to the script. */
  startupContext(): SystemStartup {
    const stats = this.stats;
    return {
      heap: this.heap,
      registers: this.#startupRegs,
      alloc: (shape) => this.#startupAlloc(shape),
      bind: (channel, callback) => {
        this.#callbacks.set(channel, callback);
      },
      root: (name, ref) => {
        const c = this.heap.roots.global(name, ref);
        this.#globals.set(name, c);
        return c;
      },
      get collections() {
        return stats.startupCollections;
      },
      host: (name, fn, state, home) => this.net.host(name, fn, state, { home }),
    };
  }

  // The overflow path of the seed notes: on HeapExhausted the world is
  // stopped (every other mutator parked at a safepoint or in a safe
  // region), the start-up heap compacted, and the allocation tried again.
  *#startupAlloc(shape: Shape): Action<Ref> {
    return yield* this.safepoints.allocate(this.#bootMutator, shape, this.#startupHeap);
  }

  // Allocates in the live start-up semispace; pointers in `shape` are
  // followed to where a collection moved their objects.
  *#allocMoved(shape: Shape): Action<Ref> {
    const ptrs = shape.ptrs?.map((r) => this.#moved(r));
    return yield* this.#startup[this.#live].alloc(ptrs === undefined ? shape : { ...shape, ptrs });
  }

  // Where `ref` lives now: follows the forwarding addresses compactions left.
  #moved(ref: Ref): Ref {
    let r = ref;
    for (;;) {
      if (r === NULL) return r;
      const fwd = this.heap.get(r).forwarding;
      if (fwd === null || fwd === NULL) return r;
      r = fwd;
    }
  }

  // With the world stopped: compacts the start-up heap into its other semispace.
  *#collectStartup(): Action<void> {
    const from = this.#startup[this.#live];
    const to = this.#startup[1 - this.#live];
    const roots = [...this.#startupRegs, ...this.#globals.values()];
    yield* this.#startupGc.compact(from, to, { roots });
    this.stats.startupCollections++;
    this.#live = 1 - this.#live;
  }

  /** @internal After the script: compaction into the global heap, arenas, workers. */
  *afterStartup(): Action<void> {
    for (const r of this.#startupRegs) yield* r.write(NULL);
    const from = this.#startup[this.#live];
    const roots = [...this.#globals.values()];
    const compaction = new Compaction(this.heap, { name: "global-gc" });
    yield* compaction.compact(from, this.global, { roots, seal: true });
    const parts = from.subdivide(this.workerList.length);
    for (const wk of this.workerList) wk.arena = parts[wk.index];
    this.net.start();
    this.#running = true;
    yield* this.safepoints.unregister(this.#bootMutator);
  }

  /** @internal Shutdown: joins the workers, drains the receivers, runs the last cycle. */
  *shutdown(receivers: readonly Fiber[], collector: Fiber): Action<void> {
    const k = this.kernel;
    for (const wk of this.workerList) yield* k.join(wk.fiber as Fiber);
    yield* this.net.quiesce();
    for (const bell of this.doorbells) yield* bell.close();
    for (const f of receivers) yield* k.join(f);
    yield* k.join(collector);
    // Drop the workers' shared roots, then a quiescent cycle collects everything else.
    for (const wk of this.workerList) {
      for (const r of wk.sharedRegs) yield* this.gc.move(r, null);
    }
    yield* this.gc.cycle();
  }

  /** @internal Spawns the receivers and the collector; gives them for shutdown. */
  spawnServices(): { receivers: Fiber[]; collector: Fiber } {
    const k = this.kernel;
    const receivers = this.workerList.map((wk) =>
      k.spawn(`rx${wk.index}`, receive, this, wk.index)
    );
    const collector = k.spawn("shared-gc", collect, this.gc, this.#options.gcCycles);
    return { receivers, collector };
  }

  // ---- jobs --------------------------------------------------------------

  /** @internal Runs `event` on worker `wk`, retrying once on a reset arena after an overflow. */
  *runJob(wk: Worker, event: SystemEvent): Action<void> {
    const callback = this.#callbacks.get(event.channel);
    let outcome: JobOutcome;
    let offered = false;
    if (callback === undefined) {
      outcome = { tag: "failed", reason: `no callback bound to ${event.channel}` };
    } else {
      const ctx = this.#jobContext(wk, event);
      for (;;) {
        const fresh = wk.arena.bytesUsed === 0;
        this.stats.attempts++;
        try {
          outcome = { tag: "done", value: yield* callback(ctx, event.payload) };
          break;
        } catch (e) {
          if (!(e instanceof HeapExhausted)) throw e;
          for (const r of wk.registers) yield* r.write(NULL);
          if (e.injected) {
            // An injected failure says nothing about the arena: drop the work, try again.
            this.stats.injected++;
            continue;
          }
          yield* this.#resetArena(wk);
          if (fresh) {
            outcome = { tag: "failed", reason: e.message };
            break;
          }
          this.stats.retries++;
          if (this.flaw === "steal-during-overflow" && !offered) {
            // The flaw: the job is also offered to an idle worker, to be
            // withdrawn once the retry here is done.
            yield* wk.deque.push(event);
            offered = true;
          }
        }
      }
    }
    for (const r of wk.registers) yield* r.write(NULL);
    // Withdraws the offer, assuming the take gives this job back: a thief may have stolen it.
    if (offered) yield* wk.deque.take();
    yield* this.outcomes.fetchAdd(1);
    this.hooks?.onOutcome?.(event, outcome, wk.index);
  }

  // Frees the whole arena: first the timers that hold its objects must fire.
  *#resetArena(wk: Worker): Action<void> {
    this.stats.resets++;
    if (wk.timers.some((f) => !f.done)) this.stats.resetsWaited++;
    if (this.flaw !== "reset-with-timer") {
      for (const f of wk.timers) yield* this.kernel.join(f);
    }
    wk.timers.length = 0;
    for (const r of wk.registers) yield* r.write(NULL);
    yield* wk.arena.reset();
  }

  #jobContext(wk: Worker, event: SystemEvent): SystemJob {
    return {
      heap: this.heap,
      worker: wk.index,
      event,
      arena: wk.arena,
      registers: wk.registers,
      regions: this.regions,
      global: (name) => {
        const c = this.#globals.get(name);
        if (c === undefined) throw new RangeError(`no global root ${name}`);
        return c;
      },
      send: (words) => this.#send(wk, words),
      after: (ticks, ref, callback) => this.#after(wk, event, ticks, ref, callback),
      publish: () => this.#publish(wk),
      call: (pid, input) => this.#call(wk, pid, input),
    };
  }

  *#send(wk: Worker, words: readonly number[]): Action<void> {
    const n = this.workerList.length;
    const to = (wk.index + 1) % n;
    const from = wk.context;
    const target = this.workerList[to].context;
    const bytes = MESSAGE_NODE_BYTES * words.length;
    // A collection comes early when the "collect" fault fires.
    if (bytes > from.arena.bytesFree || this.faults.fire("collect")) yield* this.#collect(from);
    for (;;) {
      try {
        yield* this.comms.send(from, target, words);
        break;
      } catch (e) {
        if (!(e instanceof HeapExhausted)) throw e;
        if (e.injected) {
          this.stats.injected++;
          continue;
        }
        // A collection keeps only what is rooted: the message's first part,
        // which the next try drops. Room for two messages always suffices.
        if (2 * bytes > from.arena.bytesMax) {
          throw new RangeError(
            `Cannot send ${bytes} bytes from ${from.name}: its heap is too small`,
          );
        }
        yield* this.#collect(from);
      }
    }
    this.stats.messages++;
    yield* this.doorbells[to].post(wk.index);
    // Compact now when the next message would not fit: the receiver may be
    // reading this one in place meanwhile.
    if (bytes > from.arena.bytesFree) yield* this.#collect(from);
  }

  *#call<O>(wk: Worker, pid: Pid, input: unknown): Action<O> {
    const reply = yield* this.net.send<O>(pid, `w${wk.index}`, input);
    return yield* reply.join();
  }

  /** @internal An idle worker asks the context before it for work, once. */
  *requestWork(wk: Worker): Action<void> {
    if (wk.requested || wk.index === 0) return;
    wk.requested = true;
    this.stats.workRequests++;
    yield* this.net.requestWork(wk.index, wk.index - 1);
  }

  *#collect(context: Context): Action<void> {
    yield* context.collect();
    this.stats.contextCollections++;
  }

  *#after(
    wk: Worker,
    event: SystemEvent,
    ticks: number,
    ref: Ref,
    callback: TimerCallback,
  ): Action<void> {
    const holds = this.heap.roots.locals(`timer.e${event.id}`, 1);
    holds.set(0, ref);
    const f = yield* this.kernel.start(
      `timer.e${event.id}`,
      timer,
      this,
      { holds, ticks, ref, callback, event },
    );
    wk.timers.push(f);
    this.stats.timers++;
  }

  *#publish(wk: Worker): Action<void> {
    const gc = this.gc;
    const [node, old] = wk.sharedRegs;
    yield* gc.alloc(node, 1, undefined);
    yield* gc.move(old, wk.latest);
    yield* gc.store(node, 0, old);
    yield* gc.move(wk.latest, node);
    // Keep the newest KEPT results reachable: cut the list behind them.
    for (let i = 1; i < KEPT; i++) yield* gc.load(old, old, 0);
    yield* gc.store(old, 0, null);
    yield* gc.move(node, null);
    yield* gc.move(old, null);
  }

  // ---- the judge's view: no scheduling points ----------------------------

  /**
   * Live-set accounting of the shared heap against a traversal: bytes the
   * collector still holds, and bytes reachable from the shared roots.
   */
  sharedLiveSet(): { readonly held: number; readonly reachable: number } {
    const roots = this.shared.roots.slots.map((c) => c.peek());
    return { held: this.gc.space.bytesLive, reachable: this.shared.reachableBytes(roots) };
  }
}

// ---- fibers -----------------------------------------------------------------

function* boot(sys: System, script: SystemScript): Action<void> {
  yield* script(sys.startupContext());
  yield* sys.afterStartup();
  const { receivers, collector } = sys.spawnServices();
  yield* sys.shutdown(receivers, collector);
}

/**
 * Delivers `events` on `inbox`, each 0..delayMax ticks after the one before
 * (drawn from the seed, stream "arrival"), then closes it.
 */
function* source(
  k: Kernel,
  inbox: Channel<SystemEvent>,
  events: readonly SystemEvent[],
  delayMax: number,
): Action<void> {
  const clock = Clock.of(k);
  for (const e of events) {
    const delay = k.choose(delayMax + 1, "arrival");
    if (delay > 0) yield* clock.sleep(delay);
    yield* inbox.post(e);
  }
  yield* inbox.close();
}

function* work(sys: System, wk: Worker): Action<void> {
  const all = sys.workerList;
  const n = all.length;
  const sp = sys.safepoints;
  const m = wk.mutator;
  yield* sp.enterSafe(m);
  yield* sys.started.park();
  yield* sp.leaveSafe(m);
  for (;;) {
    // The loop's back-edge: a safepoint, and a place a worker may stall.
    yield* sp.poll(m);
    yield* sys.faults.wait("stall");
    // Move what arrived into the deque, then take the newest job.
    for (;;) {
      const r = yield* wk.inbox.tryRetrieve();
      if (r.tag !== "ok") break;
      yield* wk.deque.push(r.value);
    }
    const t = yield* wk.deque.take();
    if (t.tag === "ok") {
      yield* sys.runJob(wk, t.value);
      continue;
    }
    let stolen: SystemEvent | null = null;
    for (let i = 1; i < n && stolen === null; i++) {
      const s = yield* all[(wk.index + i) % n].deque.steal();
      if (s.tag === "ok") {
        stolen = s.value;
        sys.stats.steals++;
      }
    }
    if (stolen !== null) {
      yield* sys.runJob(wk, stolen);
      continue;
    }
    if ((yield* sys.outcomes.read()) >= sys.eventCount) break;
    yield* sys.requestWork(wk);
    // Waiting is a safe region: a stop of the world does not wait for it.
    yield* sp.enterSafe(m);
    if (wk.inbox.peekLength() > 0) {
      // An event is on its way in (a source has claimed a slot and not yet
      // filled it): wait for it rather than spin on an empty tryRetrieve.
      const r = yield* wk.inbox.retrieve();
      yield* sp.leaveSafe(m);
      if (r.tag === "ok") yield* wk.deque.push(r.value);
      continue;
    }
    yield* (wk.idle as ParkingSpot).park();
    yield* sp.leaveSafe(m);
  }
  yield* sp.unregister(m);
}

function* receive(sys: System, at: number): Action<void> {
  const bell = sys.doorbells[at];
  const contexts = sys.comms.contexts;
  for (;;) {
    const r = yield* bell.retrieve();
    if (r.tag === "closed") return;
    const words = yield* sys.comms.receive(contexts[at], contexts[r.value]);
    sys.hooks?.onDelivered?.(r.value, at, words);
  }
}

function* collect(gc: MarkSweep, cycles: number): Action<void> {
  for (let c = 0; c < cycles; c++) yield* gc.cycle();
}

interface TimerArgs {
  readonly holds: LocalRefs;
  readonly ticks: number;
  readonly ref: Ref;
  readonly callback: TimerCallback;
  readonly event: SystemEvent;
}

function* timer(sys: System, a: TimerArgs): Action<void> {
  yield* sys.regions.realtime(wait, sys.regions, a.ticks);
  yield* a.callback(sys.heap, a.ref, a.event);
  a.holds.clear();
  sys.hooks?.onTimer?.(a.event);
}

// A real-time timer never fires early: rclock reads at least its delay.
function* wait(regions: Regions, ticks: number): Action<void> {
  yield* regions.rtimer(ticks);
  const now = regions.rclock();
  if (now < ticks) {
    throw new Violation("time-axioms", `a real-time timer of ${ticks} ticks fired at ${now}`);
  }
}
