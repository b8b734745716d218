/**
 * A logical-time region (`sim e` in the seed note): a logical clock of its
 * own, advanced by a ticker fiber when the region is quiescent.
 *
 * @module
 */
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import { type Guard, Op } from "../sim/op.ts";

/**
 * What a fiber's dynamic scope (`fiber.scope`) holds when it runs in a
 * region: the innermost region, which knows its enclosing ones.
 */
export interface RegionScope {
  /** What kind of region this is. */
  readonly kind: "real" | "logical" | "atomic";
  /** The region's name. */
  readonly name: string;
  /** The enclosing region, or null at the top. */
  readonly parent: RegionScope | null;
  /** The innermost logical region enclosing this scope (itself, if logical). */
  readonly logical: LogicalRegion | null;
  /** The virtual time the innermost real-time region began (0 at the top). */
  readonly realStart: number;
}

/** Why a region's clock cannot advance now; null when it can. */
export type Hold =
  | { readonly why: "running"; readonly fiber: Fiber }
  | { readonly why: "nested"; readonly fiber: Fiber }
  | { readonly why: "due"; readonly fiber: Fiber }
  | { readonly why: "no-timer" };

/**
 * A logical-time region. Its clock starts at 0 and moves only in a step of
 * its ticker, a daemon fiber that is enabled when the region is quiescent:
 * no member can step, no member is inside a nested logical region (a nested
 * region is busy until it ends), and some member waits on a logical timer.
 * The tick moves the clock to the earliest pending deadline, releasing every
 * timer due then; the scheduler orders the released fibers, so each order
 * is a recorded choice the explorer can take.
 */
export class LogicalRegion implements RegionScope, Guard {
  /** What kind of region this is. */
  readonly kind = "logical";
  /** The kernel object id of this region's clock: ticks write it, timers read it. */
  readonly id: number;
  /** The region's name. */
  readonly name: string;
  readonly parent: RegionScope | null;
  /** The enclosing logical region, or null. */
  readonly outer: LogicalRegion | null;
  /** Logical nesting depth: 1 for a region outside any other. */
  readonly depth: number;
  readonly realStart: number;
  /** The outer region's clock when this region began (it must read the same at the end). */
  readonly outerStart: number;
  /** Logical time since the region began. */
  now = 0;
  /** Once closed, no fiber runs in it and its ticker ends. */
  closed = false;
  /** The ticker fiber; set right after the region is made. */
  ticker: Fiber | null = null;
  /** Fibers that run (or ran) in the region: spawned in it, or the one that entered it. */
  readonly members: Fiber[] = [];
  /** Steps taken in this region and its nested regions at the current instant. */
  instantSteps = 0;
  /** The same, by fiber, for the Zeno report. */
  readonly instantByFiber: Map<Fiber, number> = new Map();
  /** The clock the last time the monitor looked. */
  seenNow = 0;
  /** The op every logical timer of this region yields. */
  readonly timerOp: Op;
  /** The op the ticker yields. */
  readonly tickOp: Op;
  /** The op the fiber that entered the region yields to wait for its members. */
  readonly leaveOp: Op;
  readonly #kernel: Kernel;
  readonly #deadline: number[] = [];
  readonly #discover: () => void;

  /**
   * `discover` brings `members` up to date with fibers spawned since it was
   * last called; the region calls it before it looks at its members.
   */
  constructor(kernel: Kernel, parent: RegionScope | null, name: string, discover: () => void) {
    this.#kernel = kernel;
    this.#discover = discover;
    this.id = kernel.newObject(name);
    this.name = name;
    this.parent = parent;
    this.outer = parent?.logical ?? null;
    this.depth = (this.outer?.depth ?? 0) + 1;
    this.realStart = parent?.realStart ?? 0;
    this.outerStart = this.outer?.now ?? 0;
    this.timerOp = new Op("ltimer", this.id, false, this, 0);
    this.tickOp = new Op("tick", this.id, true, {
      ready: () => this.closed || this.hold() === null,
      waitReason: () => this.describeHold(),
    }, 0);
    this.leaveOp = new Op("leave", this.id, true, {
      ready: (f) => this.#othersDone(f),
      waitReason: (f) => `the fibers of ${this.name} to finish (${this.#running(f)})`,
    }, 0);
  }

  /** This region is its own innermost logical region. */
  get logical(): LogicalRegion {
    return this;
  }

  /** Starts a logical timer of `fiber` due at `deadline` on this region's clock. */
  setTimer(fiber: Fiber, deadline: number): void {
    this.#deadline[fiber.id] = deadline;
  }

  /** The deadline of `fiber`'s pending logical timer. */
  deadlineOf(fiber: Fiber): number {
    return this.#deadline[fiber.id];
  }

  /**
   * A timer's guard reads the clock, which only ticks (writes of `id`) move,
   * and the fiber's own deadline: DPOR may trust the timer's footprint.
   */
  readonly footprintOnly = true;

  /** Guard of a logical timer: the region's clock has reached its deadline. */
  ready(fiber: Fiber): boolean {
    return this.now >= this.#deadline[fiber.id];
  }

  waitReason(fiber: Fiber): string {
    return `logical timer of ${this.name} at ${this.#deadline[fiber.id]} (${this.describeHold()})`;
  }

  /** The ticker's step: the clock moves to the earliest pending deadline. */
  advance(): void {
    let next = Infinity;
    const members = this.members;
    let kept = 0;
    for (let i = 0; i < members.length; i++) {
      const m = members[i];
      if (m.done) continue; // dropped here, so regions that spawn many fibers stay cheap
      members[kept++] = m;
      if (m.pending === this.timerOp) next = Math.min(next, this.#deadline[m.id]);
    }
    members.length = kept;
    if (next === Infinity) throw new Error(`${this.name} ticked with no timer pending`);
    this.now = next;
    this.instantSteps = 0;
    this.instantByFiber.clear();
  }

  /** Why the clock cannot advance now, or null when the ticker may step. */
  hold(): Hold | null {
    this.#discover();
    let timers = false;
    const members = this.members;
    const k = this.#kernel;
    for (let i = 0; i < members.length; i++) {
      const m = members[i];
      if (m.done) continue;
      if ((m.scope as RegionScope).logical !== this) return { why: "nested", fiber: m };
      if (m.pending === this.timerOp) {
        if (this.#deadline[m.id] <= this.now) return { why: "due", fiber: m };
        timers = true;
      } else if (k.isReady(m)) {
        return { why: "running", fiber: m };
      }
    }
    return timers ? null : { why: "no-timer" };
  }

  /** `hold()` in words, for deadlock reports. */
  describeHold(): string {
    const h = this.hold();
    const at = `${this.name} is at ${this.now}`;
    if (h === null) return `${at} and can advance`;
    switch (h.why) {
      case "running":
        return `${at} and cannot advance while ${h.fiber.name} can step`;
      case "due":
        return `${at}; ${h.fiber.name}'s timer is due first`;
      case "nested": {
        const inner = (h.fiber.scope as RegionScope).logical?.name;
        return `${at}, held while ${h.fiber.name} runs nested region ${inner}`;
      }
      case "no-timer":
        return `${at}; none of its fibers waits on a logical timer`;
    }
  }

  #othersDone(me: Fiber): boolean {
    this.#discover();
    const members = this.members;
    for (let i = 0; i < members.length; i++) {
      const m = members[i];
      if (m !== me && !m.done && !m.daemon) return false;
    }
    return true;
  }

  #running(me: Fiber): string {
    return this.members.filter((m) => m !== me && !m.done && !m.daemon).map((m) => m.name)
      .join(", ");
  }
}

/** The ticker of a logical region: one step per clock advance, then one to end. */
export function* ticker(region: LogicalRegion): Generator<Op, void, void> {
  for (;;) {
    yield region.tickOp;
    if (region.closed) return;
    region.advance();
  }
}
