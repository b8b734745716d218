/**
 * Safepoints and stop-the-world (seed note "GC := Reactor": when an arena
 * overflows, a stop-the-world collection runs). Mutator fibers register and
 * poll a safepoint at allocation and at loop back-edges; a collector requests
 * a stop, waits until every other registered mutator is parked at a
 * safepoint (or in a safe region, or gone), collects, and resumes them.
 *
 * Every wait is a guarded kernel operation, never a spin: a parked mutator
 * is simply not enabled until it is resumed, so DPOR and DFS see the
 * blocking and a lost resume is reported as a deadlock.
 *
 * @module
 */
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import { type Action, type Footprint, type Guard, Op } from "../sim/op.ts";
import type { StateSource, StateWriter } from "../sim/state.ts";
import { Faults } from "./faults.ts";
import { type Allocator, HeapExhausted, type Ref, type Shape } from "./heap.ts";

/**
 * Where a mutator is. `running`: it may touch the heap. `parked`: stopped at
 * a safepoint until resumed. `safe`: in a safe region, blocked outside the
 * heap (waiting for an event); a stop does not wait for it. `done`:
 * unregistered.
 */
export type MutatorState = "running" | "parked" | "safe" | "done";

/**
 * What a mutator leaving a safe region does while a stop is on. `wait`
 * (correct): it parks until the stop ends. `no-wait` (broken, the missing
 * safepoint): it goes straight back to the heap, under the collector.
 */
export type RegionExit = "wait" | "no-wait";

/**
 * Whom a collector resumes. `all` (correct): every parked mutator.
 * `granted-only` (broken, the lost resume): only those that were parked when
 * the stop was granted, so a mutator that parked later (leaving a safe
 * region during the collection) is never resumed.
 */
export type ResumePolicy = "all" | "granted-only";

/** How a set of safepoints behaves. */
export interface SafepointOptions {
  /** The name in reports and object names; `safepoints` by default. */
  readonly name?: string;
  /** `wait` by default. */
  readonly regionExit?: RegionExit;
  /** `all` by default. */
  readonly resume?: ResumePolicy;
}

/** The heap a mutator allocates from and a collector collects (see `Safepoints.allocate`). */
export interface Collectable {
  /** Where objects are allocated now (a collection may change it). */
  allocator(): Allocator;
  /** Collects, with the world stopped: afterwards `allocator()` has more room. */
  collect(): Action<unknown>;
}

const RUNNING = 0;
const PARKED = 1;
const SAFE = 2;
const DONE = 3;
const STATES: readonly MutatorState[] = ["running", "parked", "safe", "done"];

/** A registered mutator fiber: the handle it passes to every safepoint operation. */
export class Mutator {
  /** The mutator's name, for reports. */
  readonly name: string;
  /** Its index among the mutators of its `Safepoints`. */
  readonly index: number;
  /** The kernel object of its state: parking, leaving and resuming write it. */
  readonly id: number;
  /** The fiber that last used this handle, for wait-for reports. */
  fiber: Fiber | null = null;
  readonly #states: Uint8Array[];

  /** @internal Created by `Safepoints.register` and `attach`. */
  constructor(init: { name: string; index: number; id: number; states: Uint8Array[] }) {
    this.name = init.name;
    this.index = init.index;
    this.id = init.id;
    this.#states = init.states;
  }

  /** Where it is now. */
  get state(): MutatorState {
    return STATES[this.#states[0][this.index]];
  }

  /** The mutator's name. */
  toString(): string {
    return this.name;
  }
}

/**
 * The read (await) or write (resume) footprint over every mutator's state
 * object plus one fixed object. The set grows as mutators attach, so it is
 * recomputed while the operation waits and fixed when it runs: the step's
 * record keeps what it did touch.
 */
class MutatorObjects implements Footprint {
  readonly #sp: Safepoints;
  readonly #write: boolean;
  #objs: number[] = [];
  #writes: boolean[] = [];
  #count = -1;
  #fixed = false;

  constructor(sp: Safepoints, write: boolean) {
    this.#sp = sp;
    this.#write = write;
  }

  get objs(): readonly number[] {
    this.#refresh();
    return this.#objs;
  }

  get writes(): readonly boolean[] {
    this.#refresh();
    return this.#writes;
  }

  fix(): void {
    this.#refresh();
    this.#fixed = true;
  }

  #refresh(): void {
    const all = this.#sp.mutators;
    if (this.#fixed || all.length === this.#count) return;
    this.#count = all.length;
    this.#objs = all.map((m) => m.id);
    this.#writes = all.map(() => this.#write);
  }
}

/**
 * The safepoints of one heap: registration, polling, safe regions and the
 * stop-the-world protocol.
 *
 * A mutator holds heap references only in root slots (stack or global
 * roots, which a moving collector rewrites) whenever it is at a safepoint,
 * and reloads them afterwards: a reference kept in a local across a
 * safepoint may point at an object the collection moved.
 *
 * Two collectors may ask at once: the stop is granted to one; a mutator that
 * asks while another holds the stop parks (it counts as stopped) and asks
 * again once resumed. A stop asked for by the fiber already holding it just
 * runs its body.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 7);
 * const sp = new Safepoints(k);
 * const a = sp.register("a"), b = sp.register("b");
 * const seen: string[] = [];
 * k.spawn("a", function* () {
 *   yield* sp.stopTheWorld(a, function* () {
 *     seen.push(`b is ${b.state}`);
 *   });
 *   yield* sp.unregister(a);
 * });
 * k.spawn("b", function* () {
 *   for (let i = 0; i < 3; i++) yield* sp.poll(b);
 *   yield* sp.unregister(b);
 * });
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(seen[0] === "b is parked" || seen[0] === "b is done", true);
 * assertEquals(sp.epoch, 1);
 * ```
 */
export class Safepoints implements StateSource {
  /** The name, which prefixes its objects' names. */
  readonly name: string;
  /** The kernel of the run. */
  readonly kernel: Kernel;
  /** How leaving a safe region treats a stop in progress. */
  readonly regionExit: RegionExit;
  /** Which mutators a stop's end resumes. */
  readonly resume: ResumePolicy;
  /** The kernel object of the stop flag: requests and resumes write it, polls read it. */
  readonly id: number;
  /** The kernel object of the set of mutators: attaching writes it, a stop's wait reads it. */
  readonly registryId: number;
  readonly #mutators: Mutator[] = [];
  /** One array (boxed, so every `Mutator` sees it grow): each mutator's state by index. */
  readonly #states: Uint8Array[] = [new Uint8Array(8)];
  #stopper: Mutator | null = null;
  /** Who held the last stop, for the report of a mutator never resumed. */
  #lastStop = "nobody";
  #stopperFiber: Fiber | null = null;
  #epoch = 0;
  /** The mutators parked when the current stop was granted (for `granted-only`). */
  #granted: boolean[] = [];
  readonly #attachOp: Op;
  readonly #freeGuard: Guard;
  readonly #requestFree: Op;
  readonly #ops: { poll: Op; park: Op; leave: Op; enter: Op; done: Op; request: Op }[] = [];
  readonly #faults: Faults;

  /** Makes the safepoint state of a run (in setup); mutators then `register`. */
  constructor(kernel: Kernel, options: SafepointOptions = {}) {
    this.kernel = kernel;
    this.name = options.name ?? "safepoints";
    this.regionExit = options.regionExit ?? "wait";
    this.resume = options.resume ?? "all";
    this.id = kernel.newObject(`${this.name}.stop`);
    this.registryId = kernel.newObject(`${this.name}.mutators`);
    this.#attachOp = new Op("attach", this.registryId, true);
    // A collector that is no mutator waits for a running stop to end.
    this.#freeGuard = {
      footprintOnly: true,
      anyFiber: true,
      ready: () => this.#stopper === null,
      waitReason: () => `the end of ${this.#stopper?.name}'s stop of the world`,
      blockers: () => this.#stopperFiber === null ? [] : [this.#stopperFiber],
    };
    this.#requestFree = new Op("stop", this.id, true, this.#freeGuard);
    this.#faults = Faults.of(kernel);
    kernel.describe(this);
  }

  /** For reports: who holds the stop, how many were granted, and where each mutator is. */
  describeState(out: StateWriter): void {
    const mutators: Record<string, MutatorState> = {};
    for (const m of this.#mutators) mutators[m.name] = m.state;
    out.put("lock", this.name, {
      kind: "safepoints",
      stopper: this.#stopperFiber === null ? null : this.#stopName(),
      epoch: this.#epoch,
      mutators,
    });
  }

  /** Every mutator ever registered, by index. */
  get mutators(): readonly Mutator[] {
    return this.#mutators;
  }

  /** The mutator holding the world stopped, or null (also null for a non-mutator collector). */
  get stopper(): Mutator | null {
    return this.#stopper;
  }

  /** True while a stop is requested or granted. */
  get stopping(): boolean {
    return this.#stopperFiber !== null;
  }

  /** Stops granted so far: compare before and after to see whether someone collected. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Registers a mutator at setup (no scheduling point); it starts running. */
  register(name: string): Mutator {
    if (this.kernel.current !== null) {
      throw new RangeError(
        `Cannot register mutator ${name} from inside fiber ${this.kernel.current.name}: use attach`,
      );
    }
    return this.#add(name);
  }

  /**
   * Registers a mutator from a running fiber, in one scheduling point. It
   * starts running: call it from a fiber that is itself running (a stop
   * cannot be granted meanwhile), or from the stopper.
   */
  *attach(name: string): Action<Mutator> {
    yield this.#attachOp;
    const m = this.#add(name);
    m.fiber = this.kernel.current;
    return m;
  }

  #add(name: string): Mutator {
    const index = this.#mutators.length;
    const states = this.#states;
    if (index >= states[0].length) {
      const grown = new Uint8Array(states[0].length * 2);
      grown.set(states[0]);
      states[0] = grown;
    }
    const id = this.kernel.newObject(`${this.name}.${name}`);
    const m = new Mutator({ name, index, id, states });
    this.#mutators.push(m);
    this.#granted.push(false);
    const parked: Guard = {
      footprintOnly: true,
      ready: () => this.#state(m) !== PARKED,
      waitReason: () =>
        this.#stopperFiber === null
          ? `a resume, but ${this.#lastStop}'s stop of the world has ended`
          : `a resume after ${this.#stopName()}'s stop of the world`,
      blockers: () => this.#stopperFiber === null ? [] : [this.#stopperFiber],
    };
    const touch = { objs: [id], writes: [true] };
    this.#ops.push({
      poll: new Op("safepoint", this.id, false, null, 1, -1, -1, touch),
      park: new Op("parked", id, false, parked),
      leave: new Op("leave-safe", this.id, false, null, 1, -1, -1, touch),
      enter: new Op("enter-safe", id, true),
      done: new Op("unregister", id, true),
      request: new Op("stop", this.id, true, null, 1, -1, -1, touch),
    });
    return m;
  }

  #state(m: Mutator): number {
    return this.#states[0][m.index];
  }

  #set(m: Mutator, state: number): void {
    this.#states[0][m.index] = state;
  }

  #stopName(): string {
    return this.#stopper?.name ?? this.#stopperFiber?.name ?? "nobody";
  }

  #check(m: Mutator, what: string, want?: number): void {
    if (this.#mutators[m.index] !== m) {
      throw new RangeError(`Cannot ${what}: ${m.name} is not a mutator of ${this.name}`);
    }
    const s = this.#state(m);
    if (s === DONE) throw new RangeError(`Cannot ${what}: ${m.name} was unregistered`);
    if (want !== undefined && s !== want) {
      throw new RangeError(`Cannot ${what}: ${m.name} is ${STATES[s]}, not ${STATES[want]}`);
    }
    m.fiber = this.kernel.current;
  }

  /** True when a stop is on that `m` must yield to. */
  #mustStop(m: Mutator): boolean {
    return this.#stopperFiber !== null && this.#stopper !== m;
  }

  /**
   * A safepoint: call it at allocation and at loop back-edges. One read of
   * the stop flag when no stop is on; otherwise the mutator parks until the
   * collector resumes it.
   */
  *poll(m: Mutator): Action<void> {
    this.#check(m, "poll", RUNNING);
    const ops = this.#ops[m.index];
    yield ops.poll;
    if (!this.#mustStop(m)) return;
    this.#set(m, PARKED);
    yield ops.park;
  }

  /**
   * Polls, then allocates `shape` from `allocator` (a `HeapExhausted`
   * propagates unchanged). Only for an allocator a collection does not
   * replace; otherwise use `allocate`, which asks where to allocate after
   * the poll.
   */
  *alloc(m: Mutator, allocator: Allocator, shape: Shape): Action<Ref> {
    yield* this.poll(m);
    return yield* allocator.alloc(shape);
  }

  /**
   * Polls and allocates from `heap.allocator()`; when that overflows, stops
   * the world and, unless a collection that ran meanwhile made room,
   * collects, then allocates with the world still stopped. Raises
   * `HeapExhausted` only when even a collected heap has no room (or an
   * injected `alloc` fault fails that allocation too). A marked place: a
   * `collect` fault stops the world and collects before the heap is full.
   */
  *allocate(m: Mutator, shape: Shape, heap: Collectable): Action<Ref> {
    yield* this.poll(m);
    const early = this.#faults.on && this.#faults.fire("collect");
    if (!early) {
      try {
        return yield* heap.allocator().alloc(shape); // where it is after the poll
      } catch (e) {
        if (!(e instanceof HeapExhausted)) throw e;
      }
    }
    const got = yield* this.stopTheWorld(m, function* () {
      if (!early) {
        try {
          return yield* heap.allocator().alloc(shape);
        } catch (e) {
          if (!(e instanceof HeapExhausted)) throw e;
        }
      }
      yield* heap.collect();
      try {
        return yield* heap.allocator().alloc(shape);
      } catch (e) {
        if (!(e instanceof HeapExhausted)) throw e;
        return e; // raised once the world runs again
      }
    });
    if (got instanceof HeapExhausted) throw got;
    return got;
  }

  /**
   * Enters a safe region: the mutator blocks outside the heap (waits for an
   * event) holding no heap reference but in its roots, and a stop does not
   * wait for it.
   */
  *enterSafe(m: Mutator): Action<void> {
    this.#check(m, "enter a safe region", RUNNING);
    yield this.#ops[m.index].enter;
    this.#set(m, SAFE);
  }

  /** Leaves a safe region; while a stop is on, parks until it ends. */
  *leaveSafe(m: Mutator): Action<void> {
    this.#check(m, "leave a safe region", SAFE);
    const ops = this.#ops[m.index];
    yield ops.leave;
    if (this.regionExit === "no-wait" || !this.#mustStop(m)) {
      this.#set(m, RUNNING);
      return;
    }
    this.#set(m, PARKED);
    yield ops.park;
  }

  /** Unregisters `m`: it touches the heap no more, and no stop waits for it. */
  *unregister(m: Mutator): Action<void> {
    this.#check(m, "unregister", RUNNING);
    yield this.#ops[m.index].done;
    this.#set(m, DONE);
  }

  /**
   * Stops the world, runs `body`, and resumes everyone. `m` is the
   * requesting mutator, or null for a collector that is no mutator. Waits
   * until every other registered mutator is parked, in a safe region or
   * gone; a mutator requester that finds another stop on parks meanwhile.
   * When `body` throws, the world stays stopped (the run is failing): return
   * a resumable error instead, as `allocate` does.
   */
  *stopTheWorld<T>(m: Mutator | null, body: () => Action<T>): Action<T> {
    const k = this.kernel;
    const me = k.current;
    if (me === null) throw new RangeError("Cannot stop the world outside a fiber");
    if (m !== null) this.#check(m, "stop the world", RUNNING);
    if (this.#stopperFiber === me) return yield* body(); // nested: the world is stopped
    for (;;) {
      yield m === null ? this.#requestFree : this.#ops[m.index].request;
      if (this.#stopperFiber === null) break;
      const mm = m as Mutator;
      this.#set(mm, PARKED);
      yield this.#ops[mm.index].park;
    }
    this.#stopper = m;
    this.#stopperFiber = me;
    this.#lastStop = m?.name ?? me.name;
    this.#epoch++;
    yield* this.#awaitStopped();
    const out = yield* body();
    yield* this.#resumeAll();
    return out;
  }

  *#awaitStopped(): Action<void> {
    const reads = new MutatorObjects(this, false);
    const guard: Guard = {
      footprintOnly: true,
      anyFiber: true,
      ready: () => this.#running() === null,
      waitReason: () => `every mutator at a safepoint (${this.#running()?.name} runs)`,
      blockers: () => {
        const out: Fiber[] = [];
        for (const x of this.#mutators) {
          if (x !== this.#stopper && this.#state(x) === RUNNING && x.fiber !== null) {
            out.push(x.fiber);
          }
        }
        return out;
      },
    };
    yield new Op("await-stop", this.registryId, false, guard, 1, -1, -1, reads);
    reads.fix();
    for (const x of this.#mutators) this.#granted[x.index] = this.#state(x) === PARKED;
  }

  /** The first mutator other than the stopper still running, or null. */
  #running(): Mutator | null {
    for (const x of this.#mutators) {
      if (x !== this.#stopper && this.#state(x) === RUNNING) return x;
    }
    return null;
  }

  *#resumeAll(): Action<void> {
    const writes = new MutatorObjects(this, true);
    yield new Op("resume", this.id, true, null, 1, -1, -1, writes);
    writes.fix();
    for (const x of this.#mutators) {
      if (this.#state(x) !== PARKED) continue;
      if (this.resume === "granted-only" && !this.#granted[x.index]) continue;
      this.#set(x, RUNNING);
    }
    this.#stopper = null;
    this.#stopperFiber = null;
  }
}
