/**
 * The reactor (the first seed note): a start-up script on one core, a
 * compaction into a fixed global heap, then short-lived jobs on worker cores,
 * each allocating from its worker's arena, reset after every job.
 *
 * @module
 */
import type { Cell } from "../sim/cell.ts";
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import { type Action, type Guard, Op } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import { Arena } from "./arena.ts";
import { Channel } from "./channel.ts";
import { Compaction } from "./compaction.ts";
import { valueGraph } from "./copying.ts";
import { Faults } from "./faults.ts";
import { type Heap, HeapExhausted, NULL, type Ref } from "./heap.ts";

/**
 * A deliberate bug: `shared-arena` gives workers 0 and 1 the same slice of
 * the start-up arena, so one worker's reset frees the other's objects.
 */
export type ReactorFlaw = "shared-arena";

/** How a reactor is built. */
export interface ReactorOptions {
  /** How many worker fibers. */
  readonly workers: number;
  /** The start-up arena; after compaction it is split evenly among the workers. */
  readonly startupBytes: number;
  /** The fixed global heap the start-up heap is compacted into. */
  readonly globalBytes: number;
  /** Jobs queued before an arriving event waits (pushback on the event source). */
  readonly queue: number;
  /** Stack slots each worker has for the pointers its job holds; 4 by default. */
  readonly registers?: number;
  /** A deliberate bug for a broken variant, or null for the correct reactor. */
  readonly flaw?: ReactorFlaw | null;
  /**
   * Whether the reactor asserts its own promises (default true):
   * `arena-private`, `no-partial-state` and `global-heap-fixed`. Turn them
   * off to judge a flawed reactor by end-to-end checks alone (the heap's
   * `free-safety` and `use-after-free`, and the scenario's own ledger).
   */
  readonly selfChecks?: boolean;
  /** Sees every job's outcome, in the step the worker records it (ghost, for checks). */
  readonly onOutcome?: (event: ReactorEvent, outcome: JobOutcome, worker: number) => void;
}

/** An event: which channel it arrived on, a payload, and its number. */
export interface ReactorEvent {
  /** The event's number. */
  readonly id: number;
  /** The channel it arrived on. */
  readonly channel: string;
  /** Its payload. */
  readonly payload: number;
}

/** How a job ended: its callback's answer, or the failure the reactor reported. */
export type JobOutcome =
  | { readonly tag: "done"; readonly value: number }
  | { readonly tag: "failed"; readonly reason: string };

/** What a callback works with while it runs as a job. */
export interface JobContext {
  /** The heap the job allocates in. */
  readonly heap: Heap;
  /** The worker's arena: everything the job allocates, freed when the job ends. */
  readonly arena: Arena;
  /** The worker's stack slots (roots): the job keeps its pointers here. */
  readonly registers: readonly Cell<number>[];
  /** The worker running the job. */
  readonly worker: number;
  /** The global root `name` bound by the start-up script. */
  global(name: string): Cell<number>;
}

/**
 * A callback bound to a channel: a generator function declared once, run as
 * a job for every event on that channel. It may raise `HeapExhausted`
 * (through `arena.alloc`): the reactor reports the job failed and goes on.
 */
export type Callback = (ctx: JobContext, payload: number) => Action<number>;

/** What the start-up script works with. */
export interface StartupContext {
  /** The heap the script allocates in. */
  readonly heap: Heap;
  /** The large start-up arena. */
  readonly arena: Arena;
  /** Binds `callback` to the events of `channel`. */
  bind(channel: string, callback: Callback): void;
  /** A global root: what it points to survives compaction into the global heap. */
  root(name: string, ref: Ref): Cell<number>;
}

/** The start-up script: a generator function declared once, run on the reactor's core. */
export type StartupScript<A extends unknown[]> = (
  ctx: StartupContext,
  ...args: A
) => Action<void>;

/** The reactor's phases, in order. */
export type ReactorPhase = "startup" | "running" | "stopped";

/**
 * A reactor. `run` (in the reactor's fiber) runs the start-up script,
 * compacts its heap into the global heap and seals it, splits the start-up
 * arena among the workers and starts them. Events `post`ed before that wait
 * in the job queue. Each worker takes a job, runs the callback bound to the
 * event's channel, reports the outcome, and resets its arena.
 *
 * The reactor checks its own promises as it goes: an arena serves one job
 * at a time (`arena-private`), the global heap never changes after start-up
 * (`global-heap-fixed`), and a job leaves nothing behind (`no-partial-state`:
 * its arena resets to empty; the reset itself fails `free-safety` when a root
 * still points into it).
 */
export class Reactor implements StartupContext {
  /** The kernel of the run. */
  readonly kernel: Kernel;
  /** The heap of the reactor. */
  readonly heap: Heap;
  readonly arena: Arena;
  /** The fixed global heap the start-up arena is compacted into. */
  readonly global: Arena;
  /** The queue of events waiting for a worker. */
  readonly jobs: Channel<ReactorEvent>;
  /** Each worker's arena, split from the start-up arena. */
  readonly workerArenas: Arena[] = [];
  /** The worker fibers. */
  readonly workers: Fiber[] = [];
  /** The deliberate bug this reactor has, or null. */
  readonly flaw: ReactorFlaw | null;
  /** Whether the reactor runs its own checks (the oracle does not rely on them). */
  readonly selfChecks: boolean;
  /** Jobs that ran to the end, and jobs whose failure was reported. */
  readonly handled: Cell<number>;
  /** Jobs that ended in an error. */
  readonly failed: Cell<number>;
  #phase: ReactorPhase = "startup";
  readonly #options: ReactorOptions;
  readonly #callbacks = new Map<string, Callback>();
  readonly #globals = new Map<string, Cell<number>>();
  readonly #registers: Cell<number>[][] = [];
  /** Ghost: the job each arena is serving now. */
  readonly #arenaUser = new Map<Arena, string>();
  #globalPrint = "";
  readonly #running: Op;
  readonly #start: Op;

  /** Makes the reactor's arenas, queue and cells (in setup). */
  constructor(kernel: Kernel, heap: Heap, options: ReactorOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`Cannot run a reactor with ${options.workers} workers`);
    }
    if (options.flaw === "shared-arena" && options.workers < 2) {
      throw new RangeError("The shared-arena flaw needs at least 2 workers");
    }
    this.kernel = kernel;
    this.heap = heap;
    this.#options = options;
    this.flaw = options.flaw ?? null;
    this.selfChecks = options.selfChecks ?? true;
    // A start-up script that overflows is not resumed (the seed note stops
    // the world instead), so faults fail allocations of jobs only.
    this.arena = new Arena(heap, "startup", options.startupBytes, { faultable: false });
    this.global = new Arena(heap, "global", options.globalBytes);
    this.jobs = new Channel(kernel, "jobs", { capacity: options.queue });
    this.handled = kernel.cell("handled", 0);
    this.failed = kernel.cell("failed", 0);
    // The phase changes only in the reactor's `start` step, which writes the
    // phase object the wait reads: DPOR may trust the wait's footprint.
    const started: Guard = {
      footprintOnly: true,
      ready: () => this.#phase !== "startup",
      waitReason: () => "the reactor's start-up",
    };
    const phase = kernel.newObject("reactor.phase");
    this.#running = new Op("wait-startup", phase, false, started);
    this.#start = new Op("start", phase, true);
  }

  /** Where the reactor is. */
  get phase(): ReactorPhase {
    return this.#phase;
  }

  bind(channel: string, callback: Callback): void {
    if (this.#phase !== "startup") {
      throw new RangeError(`Cannot bind ${channel} after start-up`);
    }
    this.#callbacks.set(channel, callback);
  }

  root(name: string, ref: Ref): Cell<number> {
    if (this.#phase !== "startup") throw new RangeError(`Cannot add root ${name} after start-up`);
    const c = this.heap.roots.global(name, ref);
    this.#globals.set(name, c);
    return c;
  }

  /**
   * The reactor's own fiber: start-up script, compaction, arenas, workers.
   * Returns once the workers are running.
   */
  *run<A extends unknown[]>(script: StartupScript<A>, ...args: A): Action<void> {
    yield* script(this, ...args);
    const compaction = new Compaction(this.heap, { name: "startup-gc" });
    const roots = [...this.#globals.values()];
    yield* compaction.compact(this.arena, this.global, { roots, seal: true });
    this.#globalPrint = this.#fingerprint();
    const n = this.#options.workers;
    const parts = this.arena.subdivide(n);
    for (let w = 0; w < n; w++) {
      // The flaw: worker 1 is handed worker 0's slice.
      this.workerArenas.push(this.flaw === "shared-arena" && w === 1 ? parts[0] : parts[w]);
      this.#registers.push(this.heap.roots.stack(`w${w}`, this.#options.registers ?? 4));
    }
    yield this.#start;
    this.#phase = "running";
    for (let w = 0; w < n; w++) this.workers.push(this.kernel.spawn(`w${w}`, work, this, w));
  }

  /** Waits until start-up is over (for fibers that must not run before it). */
  *started(): Action<void> {
    yield this.#running;
  }

  /** An event arrives: it is queued as a job, waiting while the queue is full. */
  *post(event: ReactorEvent): Action<void> {
    const r = yield* this.jobs.post(event);
    if (r.tag === "closed") throw new RangeError(`event ${event.id} arrived after stop`);
  }

  /** No more events: the workers finish the queued jobs and end; waits for them. */
  *stop(): Action<void> {
    yield* this.jobs.close();
    yield* this.started();
    for (const f of this.workers) yield* this.kernel.join(f);
    this.#phase = "stopped";
  }

  /** @internal Runs one job on worker `w`. */
  *runJob(w: number, event: ReactorEvent): Action<void> {
    const arena = this.workerArenas[w];
    const registers = this.#registers[w];
    if (this.selfChecks) this.#claim(arena, `w${w}'s job on event ${event.id}`);
    const callback = this.#callbacks.get(event.channel);
    let outcome: JobOutcome;
    if (callback === undefined) {
      outcome = { tag: "failed", reason: `no callback bound to ${event.channel}` };
    } else {
      const ctx: JobContext = {
        heap: this.heap,
        arena,
        registers,
        worker: w,
        global: (name) => this.#global(name),
      };
      try {
        outcome = { tag: "done", value: yield* callback(ctx, event.payload) };
      } catch (e) {
        // The long jump out of a job: the allocation failed having written
        // nothing, and the job only ever wrote into its own arena and
        // registers, which are dropped below.
        if (!(e instanceof HeapExhausted)) throw e;
        outcome = { tag: "failed", reason: e.message };
      }
    }
    for (const r of registers) yield* r.write(NULL);
    yield* arena.reset();
    if (this.selfChecks) this.#checkClean(w, arena, event);
    this.#arenaUser.delete(arena);
    yield* (outcome.tag === "done" ? this.handled : this.failed).fetchAdd(1);
    this.#options.onOutcome?.(event, outcome, w);
    if (this.selfChecks) this.#checkGlobal(event);
  }

  // An arena serves one job at a time: its bump pointer and its reset belong
  // to that job alone.
  #claim(arena: Arena, job: string): void {
    const user = this.#arenaUser.get(arena);
    if (user !== undefined) {
      throw new Violation(
        "arena-private",
        `${job} starts in ${arena.name}, which ${user} is still using: its allocations and ` +
          "its reset would hit the other job's objects",
      );
    }
    this.#arenaUser.set(arena, job);
  }

  #global(name: string): Cell<number> {
    const c = this.#globals.get(name);
    if (c === undefined) throw new RangeError(`no global root ${name}`);
    return c;
  }

  // After the reset nothing of the job may remain: an empty arena that no
  // root or live object points into.
  #checkClean(w: number, arena: Arena, event: ReactorEvent): void {
    if (arena.space.objects.length > 0 || arena.bytesUsed > 0) {
      throw new Violation(
        "no-partial-state",
        `w${w} reset ${arena.name} after event ${event.id}, yet it holds ` +
          `${arena.space.objects.length} objects (${arena.bytesUsed} bytes)`,
      );
    }
  }

  #checkGlobal(event: ReactorEvent): void {
    const now = this.#fingerprint();
    if (now !== this.#globalPrint) {
      throw new Violation(
        "global-heap-fixed",
        `the global heap changed by the end of event ${event.id}: was ${this.#globalPrint}, ` +
          `is ${now}`,
      );
    }
  }

  // The global roots and every value they reach, canonically numbered.
  #fingerprint(): string {
    const roots = [...this.#globals.values()].map((c) => c.peek());
    return JSON.stringify(valueGraph(this.heap, roots));
  }
}

/** Options of an event source. */
export interface ArrivalOptions {
  /** Each event arrives 0..delayMax ticks after the one before (drawn from the seed). */
  readonly delayMax: number;
}

/**
 * An event source, as a fiber body: delivers `events` in an order and at
 * times drawn from the seed (stream "arrival"), then stops the reactor.
 */
export function* arrivals(
  reactor: Reactor,
  events: readonly ReactorEvent[],
  options: ArrivalOptions,
): Action<void> {
  const k = reactor.kernel;
  const pending = events.slice();
  while (pending.length > 0) {
    const next = pending.splice(k.choose(pending.length, "arrival"), 1)[0];
    yield* sleep(k, k.choose(options.delayMax + 1, "arrival"));
    yield* reactor.post(next);
  }
  yield* reactor.stop();
}

// A timed wait. Its descriptor is made per call because its deadline differs
// each time; an event source sleeps once per event, far off the hot path.
function* sleep(k: Kernel, ticks: number): Action<void> {
  if (ticks <= 0) return;
  const until = k.now + ticks;
  const guard: Guard = { ready: () => k.now >= until, waitReason: () => `time ${until}` };
  yield new Op("sleep", -1, false, guard, 1, until);
}

// A marked place: a `stall` fault holds the worker back before its next job.
function* work(reactor: Reactor, w: number): Action<void> {
  const faults = Faults.of(reactor.kernel);
  for (;;) {
    if (faults.on) yield* faults.wait("stall");
    const r = yield* reactor.jobs.retrieve();
    if (r.tag === "closed") return;
    yield* reactor.runJob(w, r.value);
  }
}
