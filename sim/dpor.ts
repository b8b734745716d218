/**
 * Dynamic partial-order reduction: source-DPOR with sleep sets (Abdulla,
 * Aronis, Jonsson and Sagonas, POPL 2014), stateless.
 *
 * Flanagan and Godefroid's classic DPOR (2005) reverses only each fiber's
 * latest race; combined with sleep sets that misses states when the racing
 * fiber is asleep where the reversal must start (the property test in
 * `dpor_test.ts` found such a program). Source-DPOR reverses every immediate
 * race through the initials of the steps in between, which is sound with
 * sleep sets.
 *
 * @module
 */
import type { ExhaustiveStrategy } from "./exhaustive.ts";
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import { dependent, type Op } from "./op.ts";
import { Nondeterminism, type Outcome, PrunedRun } from "./outcome.ts";
import { ChoicePath } from "./_tree.ts";

/** A state of the current execution, before the step taken from it. */
interface StateNode {
  readonly kind: "state";
  /** Fiber ids that could step here, ascending. */
  readonly eligible: readonly number[];
  /** Fibers still to explore from here. */
  readonly backtrack: Set<number>;
  /** Fibers already explored from here. */
  readonly done: Set<number>;
  /** Fibers whose step from here is known to repeat explored schedules. */
  readonly sleep: Set<number>;
  chosen: number;
}

/** One step of the current execution (or, at the end, a step a fiber could still take). */
interface Event {
  readonly fiber: number;
  readonly op: Op;
  /** The fiber's own object, when this step ended the fiber (a write of it); else -1. */
  readonly completed: number;
  /** Indices of earlier steps that changed whether this step's fiber could go on. */
  readonly changers: readonly number[];
  /** Vector clock: per fiber, how many of its steps happen before or are this one. */
  readonly clock: number[];
  /** The state node this step was taken from. */
  readonly state: StateNode;
}

type Clock = number[];

function join(into: Clock, other: Clock | undefined): void {
  if (other === undefined) return;
  for (let i = 0; i < other.length; i++) {
    if ((other[i] ?? 0) > (into[i] ?? 0)) into[i] = other[i];
  }
}

/**
 * Source-DPOR with sleep sets: explores at least one schedule per class of
 * equivalent interleavings, where two steps commute unless dependent: they touch the same object and one writes
 * (`dependent`), one changes whether the other's fiber can step (seen
 * dynamically: a guard may read state no footprint names), one ends a fiber
 * the other joins, or one ends the run while the other's fiber could go on.
 * A blocked fiber's pending operation still takes part in race detection.
 * Value choices (`choose`, `chance`) are explored exhaustively.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * assertEquals(new DporStrategy().bound, "none");
 * ```
 */
export class DporStrategy implements ExhaustiveStrategy {
  readonly name = "dpor";
  readonly pickAlways = true;
  readonly bound = "none";
  readonly boundHit = false;
  readonly #path = new ChoicePath<StateNode>();
  #events: Event[] = [];
  /** Per fiber id: its vector clock after its last step. */
  #fiberClock: Clock[] = [];
  /** Per fiber id: steps that changed its enabledness while its current op was pending. */
  #changers: number[][] = [];
  #lastWrite = new Map<number, Clock>();
  #lastAccess = new Map<number, Clock>();
  /** The state node of the step in progress, and the fibers alive before it. */
  #current: StateNode | null = null;
  #fibersBefore = 0;
  #lastOp: Op | null = null;

  options(): Record<string, number> {
    return {};
  }

  begin(): void {
    this.#path.begin();
    this.#events = [];
    this.#fiberClock = [];
    this.#changers = [];
    this.#lastWrite.clear();
    this.#lastAccess.clear();
    this.#current = null;
    this.#fibersBefore = 0;
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(eligible[i].id);
    if (this.#current !== null) this.#afterStep(kernel, ids);
    let node: StateNode;
    const n = this.#path.replayed();
    if (n !== undefined) {
      if (n.kind !== "state" || n.eligible.join(",") !== ids.join(",")) {
        throw new Nondeterminism(
          `at step ${kernel.step + 1} the eligible fibers are [${ids}], but an earlier run ` +
            `of the same schedule had ${n.kind === "state" ? `[${n.eligible}]` : "a value choice"}`,
        );
      }
      node = n;
    } else {
      node = this.#newState(ids, kernel);
      this.#path.push(node);
    }
    this.#current = node;
    this.#fibersBefore = kernel.fiberCount;
    return ids.indexOf(node.chosen);
  }

  #newState(ids: number[], kernel: Kernel): StateNode {
    const sleep = new Set<number>();
    const prev = this.#events.at(-1);
    if (prev !== undefined) {
      const before = prev.state;
      const candidates = [...before.sleep, ...before.done];
      for (const r of candidates) {
        if (r === prev.fiber || sleep.has(r)) continue;
        const f = kernel.fiber(r);
        if (f === undefined || f.done || f.pending === null) continue;
        const changed = before.eligible.includes(r) !== ids.includes(r);
        if (!changed && !this.#dependentPending(prev, f)) sleep.add(r);
      }
    }
    const awake = ids.filter((id) => !sleep.has(id));
    // Every fiber that could step is asleep: whatever happens next was
    // already explored from an equivalent state.
    if (awake.length === 0) throw new PrunedRun();
    const last = kernel.lastFiber?.id;
    const chosen = last !== undefined && awake.includes(last) ? last : awake[0];
    return {
      kind: "state",
      eligible: ids,
      backtrack: new Set([chosen]),
      done: new Set([chosen]),
      sleep,
      chosen,
    };
  }

  /** True when step `e` and the later step `f` do not commute. */
  #dependent(e: Event, eIndex: number, f: Event): boolean {
    if (e.fiber === f.fiber) return false;
    if (dependent(e.op, f.op) || f.changers.includes(eIndex)) return true;
    // Ending a fiber writes its object, which joins read.
    return (e.completed >= 0 && (f.op.obj === e.completed || f.op.obj2 === e.completed)) ||
      (f.completed >= 0 && (e.op.obj === f.completed || e.op.obj2 === f.completed));
  }

  /** Same as `#dependent`, for a fiber `r` that has not stepped: its pending op. */
  #dependentPending(e: Event, r: Fiber): boolean {
    const op = r.pending as Op;
    if (dependent(e.op, op)) return true;
    return e.completed >= 0 && (op.obj === e.completed || op.obj2 === e.completed);
  }

  /** True when step `e` happens before step `f` (or is it). */
  #before(e: Event, f: Event): boolean {
    return (f.clock[e.fiber] ?? 0) >= e.clock[e.fiber];
  }

  /** Records the step just taken from `#current` and reverses its races. */
  #afterStep(kernel: Kernel, ids: readonly number[]): void {
    const state = this.#current as StateNode;
    this.#current = null;
    const q = state.chosen;
    const fq = kernel.fiber(q) as Fiber;
    const op = this.#lastOp as Op;
    const completed = fq.done ? fq.obj : -1;
    const changers = this.#changers[q] ?? [];
    this.#changers[q] = [];
    const clock = this.#clockFor(q, op, completed, changers);
    const event: Event = { fiber: q, op, completed, changers, clock, state };
    this.#events.push(event);
    const n = this.#events.length - 1;
    for (let c = this.#fibersBefore; c < kernel.fiberCount; c++) this.#fiberClock[c] = [...clock];
    this.#reverseRaces(event, n);
    for (let i = 0; i < kernel.liveCount; i++) {
      const p = kernel.liveAt(i);
      if (p.id === q || p.id >= this.#fibersBefore) {
        this.#pendingRace(p);
        continue;
      }
      const changed = state.eligible.includes(p.id) !== ids.includes(p.id);
      if (changed) (this.#changers[p.id] ??= []).push(n);
      // A pending operation is a race candidate too, blocked or not: a fiber
      // that could have stepped before this step, and whose next step does
      // not commute with it, must also be tried first (a lock taken here
      // blocks the other taker, who may never race with it again).
      if ((changed || this.#dependentPending(event, p)) && state.eligible.includes(p.id)) {
        state.backtrack.add(p.id);
      }
    }
    if (ids.length > 0 || kernel.liveCount === 0) return;
    // The run has ended with fibers left (a failure, a deadlock, daemons cut
    // off): the step each could still take races with what came before.
    for (let i = 0; i < kernel.liveCount; i++) {
      const p = kernel.liveAt(i);
      const pending: Event = {
        fiber: p.id,
        op: p.pending as Op,
        completed: -1,
        changers: this.#changers[p.id] ?? [],
        clock: this.#virtualClock(p.id, p.pending as Op, this.#changers[p.id] ?? []),
        state,
      };
      this.#reverseRaces(pending, this.#events.length);
    }
  }

  /**
   * Source-DPOR's race reversal (Abdulla, Aronis, Jonsson and Sagonas, POPL
   * 2014): for every step e in an immediate race with `f` (dependent, no step
   * between them in happens-before), the state before e must explore some
   * initial fiber of notdep(e).f, the steps after e that do not depend on it,
   * then f. That is what makes the reversal reachable even when f's own fiber
   * is asleep there.
   */
  #reverseRaces(f: Event, n: number): void {
    const events = this.#events;
    for (let j = n - 1; j >= 0; j--) {
      const e = events[j];
      if (!this.#dependent(e, j, f) || !this.#before(e, f)) continue;
      let immediate = true;
      for (let k = j + 1; k < n && immediate; k++) {
        const g = events[k];
        if (this.#before(e, g) && this.#before(g, f)) immediate = false;
      }
      if (!immediate) continue;
      const v: Event[] = [];
      for (let k = j + 1; k < n; k++) if (!this.#before(e, events[k])) v.push(events[k]);
      v.push(f);
      this.#addInitial(e.state, v);
    }
  }

  /**
   * Flanagan and Godefroid's rule for a new pending operation, blocked or
   * not: the latest step it does not commute with, and that it does not
   * already know of, must also be tried after it. Source-DPOR only reverses
   * races of steps taken; this catches a lock a fiber waits for behind an
   * acquisition it may never race with again.
   */
  #pendingRace(p: Fiber): void {
    // What p knows before it steps: its own past and what changed its enabledness.
    const clock: Clock = [...(this.#fiberClock[p.id] ?? [])];
    for (const c of this.#changers[p.id] ?? []) join(clock, this.#events[c].clock);
    for (let j = this.#events.length - 1; j >= 0; j--) {
      const e = this.#events[j];
      if (e.fiber === p.id || !this.#dependentPending(e, p)) continue;
      if ((clock[e.fiber] ?? 0) >= e.clock[e.fiber]) continue;
      const state = e.state;
      if (state.eligible.includes(p.id)) {
        state.backtrack.add(p.id);
        return;
      }
      // p could not step there: try a fiber that steps later and leads to p.
      for (let k = j + 1; k < this.#events.length; k++) {
        const g = this.#events[k];
        if (state.eligible.includes(g.fiber) && (clock[g.fiber] ?? 0) >= g.clock[g.fiber]) {
          if (!state.backtrack.has(g.fiber)) state.backtrack.add(g.fiber);
          return;
        }
      }
      for (const r of state.eligible) state.backtrack.add(r);
      return;
    }
  }

  /** Adds an initial fiber of `v` to `state`'s backtrack set unless one is there. */
  #addInitial(state: StateNode, v: readonly Event[]): void {
    const initials: number[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (seen.has(x.fiber)) continue;
      seen.add(x.fiber);
      let first = true;
      for (let h = 0; h < i && first; h++) if (this.#before(v[h], x)) first = false;
      if (first) initials.push(x.fiber);
    }
    if (initials.some((p) => state.backtrack.has(p))) return;
    const enabled = initials.filter((p) => state.eligible.includes(p));
    if (enabled.length > 0) {
      state.backtrack.add(enabled.find((p) => !state.sleep.has(p)) ?? enabled[0]);
      return;
    }
    // No initial could step there (it waits for something in v): fall back to
    // every fiber that could.
    for (const p of state.eligible) state.backtrack.add(p);
  }

  onStep(_fiber: Fiber, op: Op): void {
    this.#lastOp = op;
  }

  end(_outcome: Outcome, kernel: Kernel): void {
    // However the run stopped (a failure, a step limit, the last non-daemon
    // finishing, a deadlock), no fiber can step any more: a fiber that could
    // before the last step was disabled by it, which makes them dependent.
    if (this.#current !== null) this.#afterStep(kernel, []);
  }

  #clockFor(q: number, op: Op, completed: number, changers: readonly number[]): Clock {
    const clock = this.#virtualClock(q, op, changers, completed);
    for (let i = 0; i < clock.length; i++) clock[i] ??= 0;
    for (const o of [op.obj, op.obj2]) {
      if (o < 0) continue;
      if (op.write) {
        this.#lastWrite.set(o, clock);
        this.#lastAccess.set(o, clock);
      } else {
        const acc = [...(this.#lastAccess.get(o) ?? [])];
        join(acc, clock);
        this.#lastAccess.set(o, acc);
      }
    }
    if (completed >= 0) {
      this.#lastWrite.set(completed, clock);
      this.#lastAccess.set(completed, clock);
    }
    this.#fiberClock[q] = clock;
    return clock;
  }

  /** The clock a step of `q` doing `op` would get now, without recording it. */
  #virtualClock(q: number, op: Op, changers: readonly number[], completed = -1): Clock {
    const clock: Clock = [...(this.#fiberClock[q] ?? [])];
    for (const c of changers) join(clock, this.#events[c].clock);
    for (const o of [op.obj, op.obj2]) {
      if (o < 0) continue;
      join(clock, op.write ? this.#lastAccess.get(o) : this.#lastWrite.get(o));
    }
    if (completed >= 0) join(clock, this.#lastAccess.get(completed));
    clock[q] = (clock[q] ?? 0) + 1;
    return clock;
  }

  pickValue(n: number, stream: string, kernel: Kernel): number {
    return this.#path.pickValue(n, stream, kernel);
  }

  advance(): boolean {
    return this.#path.advance((node) => {
      for (const p of [...node.backtrack].sort((a, b) => a - b)) {
        if (node.done.has(p) || node.sleep.has(p)) continue;
        node.done.add(p);
        node.chosen = p;
        return true;
      }
      return false;
    });
  }
}
