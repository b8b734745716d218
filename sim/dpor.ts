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
 * Race detection is incremental. Happens-before is kept with vector clocks,
 * and each step remembers its direct predecessors: its fiber's previous step,
 * the last write of each object it touches (and the reads since, when it
 * writes), and the steps that changed whether its fiber could go on. Every
 * immediate race of a step is with one of those, so finding a step's races
 * costs about (predecessors² + fibers), never a scan of the whole execution.
 * And a replayed prefix is not analysed again: its races were found when it
 * first ran, and backtrack sets only grow.
 *
 * @module
 */
import type { ExhaustiveStrategy } from "./exhaustive.ts";
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import { accessCount, accessObj, accessWrites, dependent, type Op, touches } from "./op.ts";
import { Nondeterminism, type Outcome, PrunedRun } from "./outcome.ts";
import { ChoicePath, type Order, ORDERS, PathOrder } from "./_tree.ts";

/** A state of the current execution, before the step taken from it. */
interface StateNode {
  readonly kind: "state";
  /** Fiber ids that could step here, ascending. */
  readonly eligible: readonly number[];
  /** Per fiber id, 1 when it could step here. */
  readonly on: Uint8Array;
  /** Fibers still to explore from here. */
  readonly backtrack: Set<number>;
  /** Fibers already explored from here. */
  readonly done: Set<number>;
  /** Fibers whose step from here is known to repeat explored schedules. */
  readonly sleep: Set<number>;
  chosen: number;
  /** Under a seeded order: the node's key, from which the next fiber to try is drawn. */
  readonly key: number;
}

/** One step of the current execution (or, at the end, a step a fiber could still take). */
interface Event {
  readonly fiber: number;
  readonly op: Op;
  /** The fiber's own object, when this step ended the fiber (a write of it); else -1. */
  readonly completed: number;
  /** Indices of earlier steps that changed whether this step's fiber could go on. */
  readonly changers: readonly number[];
  /**
   * Indices of the steps this one directly depends on (its fiber's previous
   * step or its spawn, the last accesses of its objects, its changers): every
   * step that happens before this one happens before one of them or is one.
   */
  readonly preds: readonly number[];
  /** Vector clock: per fiber, how many of its steps happen before or are this one. */
  readonly clock: readonly number[];
  /** The state node this step was taken from. */
  readonly state: StateNode;
}

/** True when step `e` happens before step `f` (or is it). */
function before(e: Event, f: Event): boolean {
  return (f.clock[e.fiber] ?? 0) >= e.clock[e.fiber];
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
  /** The steps of the current run; entries below `#fresh` are kept from the last run. */
  readonly #events: Event[] = [];
  /** Steps recorded in this run so far. */
  #steps = 0;
  /** The first step of this run that may differ from the last run's. */
  #fresh = 0;
  /** Per fiber id: the index of its last step, or of the step that spawned it; -1 for none. */
  #fiberLast: number[] = [];
  /** The seeded order of fibers tried from each state, or null for ascending ids. */
  readonly #order: PathOrder | null;
  /** Per fiber id: steps that changed its enabledness while its current op was pending. */
  #changers: number[][] = [];
  /** Per object id: the index of its last write, or -1. */
  #lastWrite: number[] = [];
  /** Per object id: the indices of its reads since its last write. */
  #reads: number[][] = [];
  /** Steps whose operation has a guard reading state outside its footprint. */
  #opaque: number[] = [];
  /** Per fiber id, 1 when it can step now (set while `pickFiber` runs). */
  #now = new Uint8Array(16);
  /** The state node of the step in progress, and the fibers alive before it. */
  #current: StateNode | null = null;
  #fibersBefore = 0;
  #lastOp: Op | null = null;

  /**
   * `order: "random"` tries the fibers of each state in an order drawn from
   * the run's seed. `prefix`: explore only the states below these first
   * decisions, as from a new initial state (see `sim/split.ts`).
   */
  constructor(options: { readonly order?: Order; readonly prefix?: readonly number[] } = {}) {
    const order = options.order ?? "default";
    if (!ORDERS.includes(order)) {
      throw new RangeError(`Cannot explore in order "${order}": known: ${ORDERS.join(", ")}`);
    }
    this.#order = order === "random" ? new PathOrder() : null;
    this.#path.order = this.#order;
    this.#path.prefix = options.prefix ?? [];
  }

  options(): Record<string, string> {
    return this.#order === null ? {} : { order: "random" };
  }

  begin(seed: number): void {
    this.#path.begin();
    this.#order?.begin(seed);
    this.#steps = 0;
    this.#fiberLast.length = 0;
    this.#changers.length = 0;
    this.#lastWrite.length = 0;
    for (const r of this.#reads) if (r !== undefined) r.length = 0;
    this.#opaque.length = 0;
    this.#current = null;
    this.#fibersBefore = 0;
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    if (this.#now.length < kernel.fiberCount) this.#now = new Uint8Array(kernel.fiberCount * 2);
    const now = this.#now;
    for (let i = 0; i < count; i++) now[eligible[i].id] = 1;
    if (this.#current !== null) this.#afterStep(kernel, count);
    const forced = count > 1 ? this.#path.decide() : undefined;
    let node: StateNode;
    const n = this.#path.replayed();
    if (n !== undefined) {
      if (n.kind !== "state" || !sameIds(n.eligible, eligible, count)) {
        const ids = eligible.slice(0, count).map((f) => f.id);
        throw new Nondeterminism(
          `at step ${kernel.step + 1} the eligible fibers are [${ids}], but an earlier run ` +
            `of the same schedule had ${n.kind === "state" ? `[${n.eligible}]` : "a value choice"}`,
        );
      }
      node = n;
    } else {
      node = this.#newState(eligible, count, kernel, forced);
      this.#path.push(node);
    }
    for (let i = 0; i < count; i++) now[eligible[i].id] = 0;
    this.#current = node;
    this.#fibersBefore = kernel.fiberCount;
    this.#order?.step(node.chosen);
    for (let i = 0; i < count; i++) if (eligible[i].id === node.chosen) return i;
    throw new Error(`DPOR chose fiber ${node.chosen}, which cannot step`);
  }

  #newState(
    eligible: readonly Fiber[],
    count: number,
    kernel: Kernel,
    forced: number | undefined,
  ): StateNode {
    const ids: number[] = [];
    const on = new Uint8Array(kernel.fiberCount);
    for (let i = 0; i < count; i++) {
      ids.push(eligible[i].id);
      on[eligible[i].id] = 1;
    }
    const sleep = new Set<number>();
    const prev = this.#steps > 0 ? this.#events[this.#steps - 1] : undefined;
    if (prev !== undefined) {
      const before = prev.state;
      for (const set of [before.sleep, before.done]) {
        for (const r of set) {
          if (r === prev.fiber || sleep.has(r)) continue;
          const f = kernel.fiber(r);
          if (f === undefined || f.done || f.pending === null) continue;
          const changed = before.on[r] !== on[r];
          if (!changed && !dependentPending(prev, f.pending)) sleep.add(r);
        }
      }
    }
    const awake = ids.filter((id) => !sleep.has(id));
    // Every fiber that could step is asleep: whatever happens next was
    // already explored from an equivalent state.
    if (awake.length === 0) throw new PrunedRun();
    const last = kernel.lastFiber?.id;
    const key = this.#order?.key ?? 0;
    const chosen = forced !== undefined
      ? forced
      : this.#order !== null
      ? awake[PathOrder.pick(key, 0, awake.length)]
      : last !== undefined && awake.includes(last)
      ? last
      : awake[0];
    return {
      kind: "state",
      eligible: ids,
      on,
      backtrack: new Set([chosen]),
      done: new Set([chosen]),
      sleep,
      chosen,
      key,
    };
  }

  /** True when step `e` (index `eIndex`) and the later step `f` do not commute. */
  #dependent(e: Event, eIndex: number, f: Event): boolean {
    if (e.fiber === f.fiber) return false;
    if (dependent(e.op, f.op) || f.changers.includes(eIndex)) return true;
    // Ending a fiber writes its object, which joins read.
    return (e.completed >= 0 && touches(f.op, e.completed)) ||
      (f.completed >= 0 && touches(e.op, f.completed));
  }

  /** The direct predecessors of a step of fiber `q` doing `op` now. */
  #predsOf(q: number, op: Op, completed: number, changers: readonly number[]): number[] {
    const preds: number[] = [];
    const own = this.#fiberLast[q] ?? -1;
    if (own >= 0) preds.push(own);
    for (let i = 0, n = accessCount(op); i < n; i++) {
      this.#objectPreds(preds, accessObj(op, i), accessWrites(op, i));
    }
    if (completed >= 0) this.#objectPreds(preds, completed, true);
    for (const c of changers) preds.push(c);
    return preds;
  }

  /** Adds the accesses of `obj` an access (a write when `write`) now depends on. */
  #objectPreds(preds: number[], obj: number, write: boolean): void {
    if (obj < 0) return;
    const w = this.#lastWrite[obj] ?? -1;
    if (w >= 0) preds.push(w);
    if (!write) return;
    const reads = this.#reads[obj];
    if (reads !== undefined) { for (const r of reads) preds.push(r); }
  }

  /** The vector clock of a step of fiber `q` with direct predecessors `preds`. */
  #clockOf(q: number, preds: readonly number[], fibers: number): number[] {
    const clock = new Array<number>(fibers).fill(0);
    for (const p of preds) {
      const c = this.#events[p].clock;
      for (let i = 0; i < c.length; i++) if (c[i] > clock[i]) clock[i] = c[i];
    }
    clock[q]++;
    return clock;
  }

  /** Updates the per-fiber and per-object state with step `n`. */
  #record(e: Event, n: number): void {
    this.#fiberLast[e.fiber] = n;
    const op = e.op;
    for (let i = 0, count = accessCount(op); i < count; i++) {
      const o = accessObj(op, i);
      if (o < 0) continue;
      if (accessWrites(op, i)) this.#wrote(o, n);
      else (this.#reads[o] ??= []).push(n);
    }
    if (e.completed >= 0) this.#wrote(e.completed, n);
    if (op.guard !== null && op.guard.footprintOnly !== true) this.#opaque.push(n);
  }

  #wrote(obj: number, n: number): void {
    this.#lastWrite[obj] = n;
    const reads = this.#reads[obj];
    if (reads !== undefined) reads.length = 0;
  }

  /** Records the step just taken from `#current` and, when new, reverses its races. */
  #afterStep(kernel: Kernel, count: number): void {
    const state = this.#current as StateNode;
    this.#current = null;
    const q = state.chosen;
    const n = this.#steps++;
    const fresh = n >= this.#fresh;
    const changers = this.#changers[q] ?? [];
    this.#changers[q] = [];
    let event: Event;
    if (fresh) {
      const fq = kernel.fiber(q) as Fiber;
      const op = this.#lastOp as Op;
      const completed = fq.done ? fq.obj : -1;
      const preds = this.#predsOf(q, op, completed, changers);
      const clock = this.#clockOf(q, preds, kernel.fiberCount);
      event = { fiber: q, op, completed, changers, preds, clock, state };
      this.#events[n] = event;
      this.#events.length = n + 1;
      this.#reverseRaces(event, n);
    } else {
      event = this.#events[n];
    }
    this.#record(event, n);
    for (let c = this.#fibersBefore; c < kernel.fiberCount; c++) this.#fiberLast[c] = n;
    const now = this.#now;
    for (let i = 0; i < kernel.liveCount; i++) {
      const p = kernel.liveAt(i);
      if (p.id === q || p.id >= this.#fibersBefore) {
        if (fresh) this.#pendingRace(p);
        continue;
      }
      const changed = state.on[p.id] !== now[p.id];
      if (changed) (this.#changers[p.id] ??= []).push(n);
      // A pending operation is a race candidate too, blocked or not: a fiber
      // that could have stepped before this step, and whose next step does
      // not commute with it, must also be tried first (a lock taken here
      // blocks the other taker, who may never race with it again).
      if (
        fresh && state.on[p.id] === 1 &&
        (changed || dependentPending(event, p.pending as Op))
      ) {
        state.backtrack.add(p.id);
      }
    }
    if (count > 0 || kernel.liveCount === 0) return;
    // The run has ended with fibers left (a failure, a deadlock, daemons cut
    // off): the step each could still take races with what came before.
    for (let i = 0; i < kernel.liveCount; i++) {
      const p = kernel.liveAt(i);
      const op = p.pending as Op;
      const pc = this.#changers[p.id] ?? [];
      const preds = this.#predsOf(p.id, op, -1, pc);
      const clock = this.#clockOf(p.id, preds, kernel.fiberCount);
      const pending: Event = { fiber: p.id, op, completed: -1, changers: pc, preds, clock, state };
      this.#reverseRaces(pending, this.#steps);
    }
  }

  /**
   * Source-DPOR's race reversal (Abdulla, Aronis, Jonsson and Sagonas, POPL
   * 2014): for every step e in an immediate race with `f` (dependent, no step
   * between them in happens-before), the state before e must explore some
   * initial fiber of notdep(e).f, the steps after e that do not depend on it,
   * then f. That is what makes the reversal reachable even when f's own fiber
   * is asleep there.
   *
   * An immediate race of f is with a direct predecessor of f that happens
   * before no other direct predecessor: any other step that happens before f
   * does so through one of them.
   */
  #reverseRaces(f: Event, n: number): void {
    const events = this.#events;
    const preds = f.preds;
    const races: number[] = [];
    for (let a = 0; a < preds.length; a++) {
      const j = preds[a];
      if (preds.indexOf(j) < a) continue;
      const e = events[j];
      if (!this.#dependent(e, j, f)) continue;
      let immediate = true;
      for (let b = 0; b < preds.length && immediate; b++) {
        if (preds[b] !== j && before(e, events[preds[b]])) immediate = false;
      }
      if (immediate) races.push(j);
    }
    // Latest race first: which initial a reversal adds depends on what is
    // in the backtrack set already.
    races.sort((a, b) => b - a);
    for (const j of races) {
      const e = events[j];
      const v: Event[] = [];
      for (let k = j + 1; k < n; k++) if (!before(e, events[k])) v.push(events[k]);
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
    const op = p.pending;
    if (op === null) return;
    const j = this.#latestUnknown(p.id, op);
    if (j < 0) return;
    const state = this.#events[j].state;
    if (state.on[p.id] === 1) {
      state.backtrack.add(p.id);
      return;
    }
    // p could not step there: try a fiber that steps later and leads to p.
    for (let k = j + 1; k < this.#steps; k++) {
      const g = this.#events[k];
      if (state.on[g.fiber] === 1 && this.#knows(p.id, g)) {
        state.backtrack.add(g.fiber);
        return;
      }
    }
    for (const r of state.eligible) state.backtrack.add(r);
  }

  /**
   * The latest step of another fiber that `op`, pending in fiber `p`, does not
   * commute with and that p does not know of; -1 for none. Among the steps it
   * does not commute with, the latest unknown one is a last access of one of
   * its objects or a step with an opaque guard (an earlier access happens
   * before the last ones).
   */
  #latestUnknown(p: number, op: Op): number {
    const events = this.#events;
    if (op.guard !== null && op.guard.footprintOnly !== true) {
      for (let j = this.#steps - 1; j >= 0; j--) {
        if (events[j].fiber !== p && !this.#knows(p, events[j])) return j;
      }
      return -1;
    }
    let best = -1;
    const consider = (j: number) => {
      if (j > best && events[j].fiber !== p && !this.#knows(p, events[j])) best = j;
    };
    for (let i = 0, n = accessCount(op); i < n; i++) {
      const o = accessObj(op, i);
      if (o < 0) continue;
      const w = this.#lastWrite[o] ?? -1;
      if (w >= 0) consider(w);
      if (accessWrites(op, i)) { for (const r of this.#reads[o] ?? []) consider(r); }
    }
    const opaque = this.#opaque;
    for (let i = opaque.length - 1; i >= 0 && opaque[i] > best; i--) {
      const j = opaque[i];
      if (events[j].fiber !== p && !this.#knows(p, events[j])) {
        best = j;
        break;
      }
    }
    return best;
  }

  /** True when fiber `p`, before its next step, knows of step `e`: its past or its changers'. */
  #knows(p: number, e: Event): boolean {
    const own = this.#fiberLast[p] ?? -1;
    if (own >= 0 && before(e, this.#events[own])) return true;
    for (const c of this.#changers[p] ?? []) if (before(e, this.#events[c])) return true;
    return false;
  }

  /** Adds an initial fiber of `v` to `state`'s backtrack set unless one is there. */
  #addInitial(state: StateNode, v: readonly Event[]): void {
    // Only a fiber's first step in v can be an initial, and a step has a
    // predecessor in v exactly when it knows of some fiber's first step there.
    const firsts: Event[] = [];
    const seen = new Set<number>();
    for (const x of v) {
      if (seen.has(x.fiber)) continue;
      seen.add(x.fiber);
      firsts.push(x);
    }
    const initials: number[] = [];
    for (const x of firsts) {
      let first = true;
      for (const h of firsts) {
        if (h !== x && before(h, x)) {
          first = false;
          break;
        }
      }
      if (first) initials.push(x.fiber);
    }
    if (initials.some((p) => state.backtrack.has(p))) return;
    const enabled = initials.filter((p) => state.on[p] === 1);
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
    if (this.#current !== null) this.#afterStep(kernel, 0);
  }

  pickValue(n: number, stream: string, kernel: Kernel): number {
    return this.#path.pickValue(n, stream, kernel);
  }

  advance(): boolean {
    const more = this.#path.advance((node) => {
      let next = -1;
      if (this.#order !== null) {
        const todo = [...node.backtrack].filter((p) => !node.done.has(p) && !node.sleep.has(p));
        if (todo.length > 0) {
          todo.sort((a, b) => a - b);
          next = todo[PathOrder.pick(node.key, node.done.size, todo.length)];
        }
      } else {
        for (const p of node.backtrack) {
          if (node.done.has(p) || node.sleep.has(p)) continue;
          if (next < 0 || p < next) next = p;
        }
      }
      if (next < 0) return false;
      node.done.add(next);
      node.chosen = next;
      return true;
    });
    this.#fresh = more ? firstChangedStep(this.#path.nodes) : 0;
    return more;
  }
}

/** Same as `#dependent`, for a step `e` and a fiber that has not stepped: its pending op. */
function dependentPending(e: Event, op: Op): boolean {
  if (dependent(e.op, op)) return true;
  return e.completed >= 0 && touches(op, e.completed);
}

function sameIds(ids: readonly number[], eligible: readonly Fiber[], count: number): boolean {
  if (ids.length !== count) return false;
  for (let i = 0; i < count; i++) if (ids[i] !== eligible[i].id) return false;
  return true;
}

/**
 * The first step of the next run that may differ from the last one's: the
 * step from the last node of the path, which has just changed (for a value
 * node, the step during which the value is chosen).
 */
function firstChangedStep(nodes: readonly { readonly kind: string }[]): number {
  let states = 0;
  for (let i = 0; i < nodes.length - 1; i++) if (nodes[i].kind === "state") states++;
  if (nodes.at(-1)?.kind === "state") return states;
  return Math.max(0, states - 1);
}
