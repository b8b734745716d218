/**
 * Regions from the seed note: real-time regions (`rclock`, `rtimer`) and
 * nestable logical-time regions (`sim`, `lclock`, `ltimer`), with the
 * note's axioms checked at every step.
 *
 * A region is a fiber's dynamic scope: entering one sets `fiber.scope`, and
 * fibers spawned inside start in it. Operations act on the innermost
 * enclosing region of the calling fiber. README.md, section "Time", states
 * the semantics, including what happens when operations cross regions.
 *
 * @module
 */
import type { StateSource, StateWriter } from "../sim/state.ts";
import { Clock } from "../sim/clock.ts";
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Op } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import { LogicalRegion, type RegionScope, ticker } from "./logical_region.ts";
import { atomicRegionOf, Stm, type TxBody } from "./atomic.ts";
import { Faults } from "./faults.ts";

export { type Hold, LogicalRegion, type RegionScope } from "./logical_region.ts";

/** The body of a region: a generator function declared once, with its data as arguments. */
export type RegionBody<A extends unknown[], T> = (...args: A) => Generator<Op, T, void>;

/** A real-time region: a new zero point for `rclock`. */
class RealTimeRegion implements RegionScope {
  readonly kind = "real";
  readonly name: string;
  readonly parent: RegionScope | null;
  readonly logical: LogicalRegion | null;
  readonly realStart: number;

  constructor(parent: RegionScope | null, name: string, start: number) {
    this.name = name;
    this.parent = parent;
    this.logical = parent?.logical ?? null;
    this.realStart = start;
  }
}

/** Steps a logical region may take at one instant unless the scenario says otherwise. */
export const INSTANT_STEPS_MAX_DEFAULT = 1_000;
/** Logical regions open at once; more is runaway nesting. */
const DEPTH_MAX = 64;

/**
 * The regions of one run: get them with `Regions.of(kernel)` (setup or fiber
 * code) and pass them to fiber bodies.
 *
 * Every step, a monitor checks the axioms of logical time: a region's clock
 * never decreases and moves only in its ticker's steps (immediate operations
 * never advance it), and a nested region ends at the same instant of its
 * parent it began at. It also counts the steps each region takes at one
 * logical instant, its nested regions' steps included: past
 * `instantStepsMax` the run ends with verdict `zeno`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * function* nap(r: Regions, t: number) {
 *   yield* r.ltimer(t);
 *   return r.lclock();
 * }
 * function* main(r: Regions, out: number[]) {
 *   out.push(yield* r.sim(nap, r, 5)); // 5 units of the region's logical time...
 *   out.push(r.rclock()); // ...take no virtual time
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 1);
 * const out: number[] = [];
 * k.spawn("main", main, Regions.of(k), out);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(out, [5, 0]);
 * ```
 */
export class Regions implements StateSource {
  /** The Zeno bound: steps a logical region may take at one logical instant. */
  instantStepsMax: number = INSTANT_STEPS_MAX_DEFAULT;
  readonly #kernel: Kernel;
  /** Logical regions open now, outermost first. */
  readonly #open: LogicalRegion[] = [];
  /** The ticker of each logical region, and its region. */
  readonly #tickers = new Map<Fiber, LogicalRegion>();
  /** The last step the monitor has charged to a region. */
  #stepSeen = -1;
  /** Fibers with an id below this have been looked at. */
  #discovered = 0;
  #made = 0;
  /** The axiom monitor is registered with the first logical region of the run. */
  #monitoring = false;
  readonly #discoverFn = (): void => this.#discover();

  /** The regions of the kernel's current run, made on first use. */
  static of(kernel: Kernel): Regions {
    return kernel.attached(Regions, (k) => new Regions(k));
  }

  private constructor(kernel: Kernel) {
    this.#kernel = kernel;
    kernel.describe(this);
  }

  /**
   * For reports: each open logical region's clock, the steps taken at its
   * current instant (what the Zeno bound counts) and its members.
   */
  describeState(out: StateWriter): void {
    for (const r of this.#open) {
      out.put("clock", r.name, {
        now: r.now,
        instantSteps: r.instantSteps,
        depth: r.depth,
        members: r.members.map((f) => f.name),
      });
    }
  }

  // ---- real time ---------------------------------------------------------

  /** Runs `body` in a real-time region: `rclock` reads time since it began. */
  *realtime<A extends unknown[], T>(
    body: RegionBody<A, T>,
    ...args: A
  ): Generator<Op, T, void> {
    const me = this.#me("realtime");
    this.#discover();
    const outer = me.scope as RegionScope | null;
    me.scope = new RealTimeRegion(outer, `rt${this.#made++}`, this.#kernel.now);
    const result = yield* body(...args);
    this.#discover();
    me.scope = outer;
    return result;
  }

  /** Virtual time since the innermost real-time region began (the run is one, from 0). */
  rclock(): number {
    const scope = this.#me("rclock").scope as RegionScope | null;
    return this.#kernel.now - (scope?.realStart ?? 0);
  }

  /**
   * Waits `ticks` of virtual time, which passes alike in every region. A
   * marked place: a `late` fault makes the timer fire a few ticks late (a
   * timer promises never to fire early, nothing more).
   */
  *rtimer(ticks: number): Generator<Op, void, void> {
    const faults = Faults.of(this.#kernel);
    const late = faults.on && faults.fire("late") ? faults.ticks() : 0;
    yield* Clock.of(this.#kernel).sleep(ticks + late);
  }

  // ---- atomic regions ----------------------------------------------------

  /**
   * Runs `body(tx, ...args)` as a transaction (`runtime/atomic.ts`) and
   * returns its result once it commits; nested in another atomic region of
   * the same fiber, it is a closed nested transaction. Configure the run's
   * transactions with `Stm.of(kernel).configure(...)` in setup.
   */
  *atomic<A extends unknown[], T>(body: TxBody<A, T>, ...args: A): Generator<Op, T, void> {
    return yield* Stm.of(this.#kernel).atomic(body, ...args);
  }

  // ---- logical time ------------------------------------------------------

  /**
   * Runs `body` in a new logical-time region and returns its result once the
   * body and every non-daemon fiber spawned in the region have finished. The
   * whole region takes zero logical time in the enclosing logical region.
   */
  *sim<A extends unknown[], T>(body: RegionBody<A, T>, ...args: A): Generator<Op, T, void> {
    const me = this.#me("sim");
    refuseInTransaction(me, "sim");
    this.#discover();
    const k = this.#kernel;
    const outer = me.scope as RegionScope | null;
    if (this.#open.length >= DEPTH_MAX) {
      throw new RangeError(
        `Cannot enter a logical region in ${me.name}: ${DEPTH_MAX} are open (runaway nesting?)`,
      );
    }
    if (!this.#monitoring) {
      // From the first logical region on: runs without one pay nothing.
      this.#monitoring = true;
      k.invariant("time-axioms", () => this.#monitor(), "step");
    }
    const region = new LogicalRegion(k, outer, `sim${this.#made++}`, this.#discoverFn);
    const tick = k.spawn(
      k.cores > 0
        ? { name: `${region.name}.tick`, daemon: true, core: me.core }
        : { name: `${region.name}.tick`, daemon: true },
      ticker,
      region,
    );
    tick.scope = null;
    region.ticker = tick;
    this.#tickers.set(tick, region);
    me.scope = region;
    region.members.push(me);
    this.#open.push(region);
    const result = yield* body(...args);
    yield region.leaveOp;
    this.#close(region, me, outer);
    return result;
  }

  /** Logical time since the innermost logical region of the caller began. */
  lclock(): number {
    return this.#region(this.#me("lclock"), "lclock").now;
  }

  /** Waits until the caller's innermost logical region's clock reaches now + `t`. */
  *ltimer(t: number): Generator<Op, void, void> {
    const me = this.#me("ltimer");
    refuseInTransaction(me, "ltimer");
    const region = this.#region(me, "ltimer");
    if (!(t >= 0) || !Number.isFinite(t)) {
      throw new RangeError(`Cannot wait ${t} units of logical time: need a finite number >= 0`);
    }
    region.setTimer(me, region.now + t);
    yield region.timerOp;
  }

  /** The innermost logical region `fiber` runs in, or null. */
  regionOf(fiber: Fiber): LogicalRegion | null {
    return (fiber.scope as RegionScope | null)?.logical ?? null;
  }

  /** The logical regions open now, outermost first (a fresh array). */
  get open(): LogicalRegion[] {
    return this.#open.slice();
  }

  // ---- bookkeeping -------------------------------------------------------

  #me(what: string): Fiber {
    const me = this.#kernel.current;
    if (me === null) {
      throw new Error(`Cannot call ${what} outside a fiber: call it from fiber code`);
    }
    return me;
  }

  #region(me: Fiber, what: string): LogicalRegion {
    const region = this.regionOf(me);
    if (region === null) {
      throw new Error(`${me.name} called ${what} outside any logical region: wrap it in sim(...)`);
    }
    if (region.closed) {
      throw new Error(
        `${me.name} called ${what} in ${region.name}, which has ended: a daemon outlived its region`,
      );
    }
    return region;
  }

  #close(region: LogicalRegion, me: Fiber, outer: RegionScope | null): void {
    this.#discover();
    const parent = region.outer;
    if (parent !== null && parent.now !== region.outerStart) {
      throw new Violation(
        "time-axiom",
        `nested region ${region.name} began at ${region.outerStart} of ${parent.name} and ` +
          `ended at ${parent.now}: a nested region must take zero time in its parent`,
      );
    }
    region.closed = true;
    me.scope = outer;
    this.#open.splice(this.#open.indexOf(region), 1);
  }

  // A fiber spawned in a region starts in its parent's scope. Scopes change
  // only in `sim` and `realtime`, which call this first, so every fiber is
  // seen here with the scope it was spawned in.
  #discover(): void {
    const k = this.#kernel;
    for (; this.#discovered < k.fiberCount; this.#discovered++) {
      const f = k.fiber(this.#discovered) as Fiber;
      const region = (f.scope as RegionScope | null)?.logical ?? null;
      if (region === null) continue;
      region.members.push(f);
    }
  }

  #monitor(): true {
    this.#discover();
    const k = this.#kernel;
    let stepped: Fiber | null = null;
    if (k.step !== this.#stepSeen) {
      this.#stepSeen = k.step;
      stepped = k.lastFiber;
      if (stepped !== null) this.#countStep(stepped);
    }
    this.#checkClocks(stepped);
    return true;
  }

  // Charges a step to the stepping fiber's innermost region and every
  // enclosing one: a nested region's steps happen at one instant of its
  // parent. A ticker's step is charged to the regions around its own.
  #countStep(f: Fiber): void {
    const ticked = this.#tickers.get(f);
    const region = ticked === undefined ? this.regionOf(f) : ticked.outer;
    if (region !== null) this.#charge(region, f);
    if (ticked !== undefined && f.done) this.#tickers.delete(f);
  }

  #charge(innermost: LogicalRegion, f: Fiber): void {
    const max = this.instantStepsMax;
    for (let r: LogicalRegion | null = innermost; r !== null; r = r.outer) {
      if (r.closed) continue;
      r.instantSteps++;
      r.instantByFiber.set(f, (r.instantByFiber.get(f) ?? 0) + 1);
      if (r.instantSteps > max) throw zeno(r, max);
    }
  }

  #checkClocks(stepped: Fiber | null): void {
    const open = this.#open;
    for (let i = 0; i < open.length; i++) {
      const r = open[i];
      if (r.now === r.seenNow) continue;
      if (r.now < r.seenNow) {
        throw new Violation(
          "time-axiom",
          `the clock of ${r.name} went back from ${r.seenNow} to ${r.now}`,
        );
      }
      if (stepped !== r.ticker) {
        throw new Violation(
          "time-axiom",
          `the clock of ${r.name} moved from ${r.seenNow} to ${r.now} in a step of ` +
            `${stepped?.name ?? "no fiber"}: only its ticker may move it`,
        );
      }
      r.seenNow = r.now;
    }
  }
}

// A transaction takes no logical time: it cannot wait for a logical timer
// (it would hold its snapshot while the clock moves) or open a logical region.
function refuseInTransaction(me: Fiber, what: string): void {
  if (atomicRegionOf(me) === null) return;
  throw new Error(
    `${me.name} called ${what} inside an atomic region: a transaction cannot wait for ` +
      "logical time; wait before or after it",
  );
}

function zeno(r: LogicalRegion, max: number): Violation {
  const busiest = [...r.instantByFiber]
    .sort((a, b) => b[1] - a[1] || a[0].id - b[0].id)
    .slice(0, 3)
    .map(([f, n]) => `${f.name} ${n}`)
    .join(", ");
  return new Violation(
    "zeno",
    `${r.name} took more than ${max} steps at logical time ${r.now} without its clock ` +
      `advancing: an unbounded computation in zero logical time? (steps by fiber: ${busiest})`,
    "zeno",
  );
}
