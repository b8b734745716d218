/**
 * Dynamic partial-order reduction, stateless: optimal DPOR with wakeup trees
 * (the default) and source-DPOR with sleep sets (`{ variant: "source" }`),
 * both from Abdulla, Aronis, Jonsson and Sagonas (POPL 2014, JACM 2017).
 *
 * Flanagan and Godefroid's classic DPOR (2005) reverses only each fiber's
 * latest race; combined with sleep sets that misses states when the racing
 * fiber is asleep where the reversal must start (the property test in
 * `dpor_test.ts` found such a program). Source-DPOR reverses every immediate
 * race through the initials of the steps in between, which is sound with
 * sleep sets, but may still run schedules that sleep sets then cut short.
 * Optimal DPOR instead remembers the whole reversing sequence in a wakeup
 * tree and follows it, so it runs one schedule per class of equivalent
 * interleavings and none is cut short.
 *
 * Race detection is incremental. Happens-before is kept with vector clocks,
 * and each step remembers its direct predecessors: its fiber's previous step,
 * the last write of each object it touches (and the reads since, when it
 * writes), and the steps that changed whether its fiber could go on. Every
 * immediate race of a step is with one of those that happens before no
 * other (the frontier, found while merging their clocks latest first), so
 * finding a step's races costs about predecessors x fibers, never a scan of
 * the whole execution.
 * And a replayed prefix is not analysed again: its races were found when it
 * first ran.
 *
 * @module
 */
import type { ExhaustiveStrategy } from "./exhaustive.ts";
import type { Fiber } from "./fiber.ts";
import type { Kernel } from "./kernel.ts";
import {
  accessCount,
  accessObj,
  accessWrites,
  dependent,
  type Guard,
  type Op,
  touches,
} from "./op.ts";
import { UsageError } from "./scenario.ts";
import { Nondeterminism, type Outcome, PrunedRun } from "./outcome.ts";
import { ChoicePath, type Order, ORDERS, PathOrder } from "./_tree.ts";

/** A node of a wakeup tree: a step to take, then the sequences below it. */
interface WakeupNode {
  /** The step (from the run that found the sequence), for independence checks. */
  ev: Event;
  /** `NO_CHILDREN` until a child is added (see `addChild`). */
  children: WakeupNode[];
  /** True when it came from a run cut short (see `#ensureInitial`). */
  readonly cut: boolean;
  /**
   * Sequences taken as covered because this step commutes with them; if
   * this step turns out to end the run, they are inserted again.
   */
  covered: { state: StateNode; v: Event[] }[] | undefined;
}

/** A wakeup node with no children yet; every node has all fields, so one shape. */
function wakeupNode(ev: Event, cut: boolean): WakeupNode {
  return { ev, children: NO_CHILDREN, cut, covered: undefined };
}

/** A state of the current execution, before the step taken from it. */
interface StateNode {
  readonly kind: "state";
  /** The index of the step taken from here. */
  readonly index: number;
  /** Fiber ids that could step here, ascending. */
  readonly eligible: readonly number[];
  /** Bit p set when fiber p could step here (32 fibers a word). */
  readonly on: readonly number[];
  /** Source-DPOR: fibers still to explore from here. */
  readonly backtrack: Set<number>;
  /** Fibers already explored from here (optimal: not counting the current one). */
  done: Set<number>;
  /** Fibers whose step from here is known to repeat explored schedules. */
  readonly sleep: Set<number>;
  /** Optimal: the step each sleeping or done fiber takes from here. */
  sleepEv: Map<number, Event>;
  /** Optimal: the wakeup tree; its children are the sequences still to explore. */
  readonly root: WakeupNode;
  /** Optimal: the child of `root` being explored. */
  current: WakeupNode | null;
  /** Optimal: sleeping or done fibers whose exploration met runs cut short. */
  tainted: Set<number>;
  /** Optimal: a run under the current child was cut short. */
  cutBelow: boolean;
  chosen: number;
  /** Under a seeded order: the node's key, from which the next fiber to try is drawn. */
  readonly key: number;
  /** The fiber that took the step before this state; -1 at the start. */
  readonly last: number;
  /** Preemptions taken by the steps before this state. */
  readonly spent: number;
  /** False while `sleepEv` is the map of the state before, shared. */
  ownEv: boolean;
}

/** One step of the current execution (or, at the end, a step a fiber could still take). */
interface Event {
  /** Its index in the run; -1 for a step not taken. */
  readonly index: number;
  readonly fiber: number;
  readonly op: Op;
  /** The fiber's own object, when this step ended (or may end) the fiber; else -1. */
  readonly completed: number;
  /** Indices of earlier steps that changed whether this step's fiber could go on. */
  readonly changers: readonly number[];
  /** Those of `changers` that let it go on (it could not step before them). */
  readonly enablers: readonly number[];
  /**
   * Indices of the latest steps this one directly depends on (among its
   * fiber's previous step or its spawn, the last accesses of its objects,
   * its changers, those that happen before no other), latest first: every
   * step that happens before this one happens before one of them or is one.
   */
  readonly preds: readonly number[];
  /** Vector clock: per fiber, how many of its steps happen before or are this one. */
  readonly clock: readonly number[];
  /** The state node this step was taken from. */
  readonly state: StateNode;
  /** Optimal: the readiness record of this step's guard, when it has one. */
  readonly watch: Watch | null;
  /** True for the last step of a run that ended with fibers left: it stopped them all. */
  ends: boolean;
  /**
   * Delay-bounded: the step spawned fibers. Spawns then do not commute: the
   * order of spawns numbers the new fibers, and round robin ranks by number.
   * Always present (false elsewhere): events keep one shape.
   */
  readonly spawned: boolean;
}

/**
 * Whether a fiber's guarded operation could run just before each write of
 * the objects its guard reads: what tells a race that can be reversed (a lock
 * taken before the other taker's) from one that cannot (an unlock, which the
 * waiting lock needs).
 */
interface Watch {
  readonly guard: Guard;
  readonly fiber: Fiber;
  readonly op: Op;
  /** True for a guard whose readiness does not depend on the fiber: one record for all. */
  readonly shared: boolean;
  /** Accesses before this step index were not watched. */
  readonly since: number;
  /**
   * The accesses seen, ascending, one number each (see `seen`): the step
   * index times 4, plus READY when the guard was ready just before it, plus
   * HELD when it was not ready and waited for the fiber taking it (see
   * `Guard.blockers`): the step released what the guard waited for, so no
   * step of the guard's fiber can go before it. `NOTHING` until the first.
   */
  accesses: number[];
}

const READY = 1;
const HELD = 2;

/** The step index of an entry of `Watch.accesses`. */
function stepOf(access: number): number {
  return access >>> 2;
}

/** The entry of `w.accesses` for step `j`, or -1 when j was not watched. */
function seen(w: Watch, j: number): number {
  const list = w.accesses;
  let lo = 0, hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = stepOf(list[mid]);
    if (k === j) return list[mid];
    if (k < j) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Empty sets and maps shared by every state until something is added (a new
 * state is made at every new step; most stay empty). Never add to these.
 */
const NO_FIBERS = new Set<number>();
const NO_EVENTS = new Map<number, Event>();
const NOTHING: readonly number[] = [];
/**
 * The signal that ends a sleep-set-blocked run, made once: an error records
 * the stack where it is made, which cost more than the rest of a short run
 * (it carries nothing else; catchers ask only `instanceof PrunedRun`).
 */
const PRUNED = new PrunedRun();
/** The children of a wakeup node that has none yet; never add to it. */
const NO_CHILDREN: WakeupNode[] = [];

function addChild(node: WakeupNode, child: WakeupNode): void {
  if (node.children === NO_CHILDREN) node.children = [child];
  else node.children.push(child);
}

/**
 * Removes child `i` of `node`. The last one goes by sharing `NO_CHILDREN`
 * again: emptying an array by `shift` trims its store, which costs more.
 */
function dropChild(node: WakeupNode, i: number): void {
  if (node.children.length === 1) node.children = NO_CHILDREN;
  else node.children.splice(i, 1);
}

/** Zeros, copied for a new vector clock; grown as needed. */
let ZEROS: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

/** A new list of `n` zeros. */
function zeros(n: number): number[] {
  while (ZEROS.length < n) ZEROS = ZEROS.concat(ZEROS);
  return ZEROS.slice(0, n);
}

function withFiber(set: Set<number>, p: number): Set<number> {
  if (set === NO_FIBERS) set = new Set();
  set.add(p);
  return set;
}

/** Appends `n` to `lists[i]`, replacing a missing or shared empty list with a new one. */
function pushTo(lists: number[][], i: number, n: number): void {
  const list = lists[i];
  if (list === undefined || list === NOTHING) lists[i] = [n];
  else list.push(n);
}

/** Scratch for `sortDescending`: a typed array sorts numbers natively, without a comparator. */
let SORTING = new Int32Array(64);

/** Sorts the first `n` numbers of a list, largest first (an insertion sort when few). */
function sortDescending(list: number[], n: number): void {
  if (n > 16) {
    if (SORTING.length < n) SORTING = new Int32Array(2 * n);
    const sorted = SORTING.subarray(0, n);
    for (let i = 0; i < n; i++) sorted[i] = list[i];
    sorted.sort();
    for (let i = 0; i < n; i++) list[i] = sorted[n - 1 - i];
    return;
  }
  for (let i = 1; i < n; i++) {
    const x = list[i];
    let k = i - 1;
    while (k >= 0 && list[k] < x) {
      list[k + 1] = list[k];
      k--;
    }
    list[k + 1] = x;
  }
}

/** True when `x` is among the first `n` entries of `list`. */
function inFirst(list: readonly number[], n: number, x: number): boolean {
  for (let i = 0; i < n; i++) if (list[i] === x) return true;
  return false;
}

/** 1 when bit `p` of `bits` is set. */
function bit(bits: readonly number[], p: number): number {
  return ((bits[p >>> 5] ?? 0) >>> (p & 31)) & 1;
}

/** True when step `e` happens before step `f` (or is it). */
function before(e: Event, f: Event): boolean {
  return (f.clock[e.fiber] ?? 0) >= e.clock[e.fiber];
}

/** Which DPOR: optimal (wakeup trees) or source (sleep sets only). */
export type DporVariant = "optimal" | "source";

/** The DPOR variants, for `--dpor`. */
export const DPOR_VARIANTS: readonly DporVariant[] = ["optimal", "source"];

/** Options of a DPOR strategy. */
export interface DporOptions {
  /** "optimal" (the default) or "source". */
  readonly variant?: DporVariant;
  /** "random" tries the fibers of each state in an order drawn from the run's seed. */
  readonly order?: Order;
  /**
   * Explore only the states below these first decisions, as from a new
   * initial state (see `sim/split.ts`).
   */
  readonly prefix?: readonly number[];
  /**
   * Per decision of `prefix`: the fibers a split search explores before the
   * prefix's own at that state, in the subtrees before this one. They start
   * out done there, so their steps go to sleep below as a whole search's
   * would, and a subtree that starts by reordering independent steps of an
   * earlier one is cut short at once (unbounded search only).
   */
  readonly siblings?: readonly (readonly number[])[];
  /**
   * At most this many preemptions per schedule: bounded partial-order
   * reduction (Coons, Musuvathi and McKinley, OOPSLA 2013). It runs
   * source-DPOR's backtrack sets without sleep sets.
   */
  readonly preemptions?: number;
  /**
   * At most this many delays per schedule (Emmi, Qadeer and Rakamaric, POPL
   * 2011; see `DfsStrategy`): running the fiber ranked i in round robin from
   * the fiber that stepped last costs i. Bounded like `preemptions`; not with it.
   */
  readonly delays?: number;
}

/**
 * Dynamic partial-order reduction: explores one schedule per class of
 * equivalent interleavings (optimal) or at least one (source), where two steps commute unless dependent: they touch the same object and one writes
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
 * assertEquals(new DporStrategy({ variant: "source" }).variant, "source");
 * ```
 */
export class DporStrategy implements ExhaustiveStrategy {
  readonly name = "dpor";
  readonly pickAlways = true;
  readonly variant: DporVariant;
  /** The bound (preemptions or delays); Infinity when unbounded. */
  readonly #preemptions: number;
  /** What the bound counts. */
  readonly #kind: "preemptions" | "delays";
  #boundHit = false;
  readonly #optimal: boolean;
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
  /** Per fiber id: those of its changers that enabled it. */
  #enablers: number[][] = [];
  /** Per object id: the index of its last write, or -1. */
  #lastWrite: number[] = [];
  /** Per object id: the indices of its reads since its last write. */
  #reads: number[][] = [];
  /** Per object id: how many entries of `#reads` are current. */
  #readCount: number[] = [];
  /** Steps whose operation has a guard reading state outside its footprint. */
  #opaque: number[] = [];
  /** Optimal: per object id, the watched guards that read it. */
  #watchers: (Watch[] | undefined)[] = [];
  /** Optimal: the watch of each guard that is the same for every fiber. */
  readonly #shared = new Map<Guard, Watch>();
  /** Sets of eligible fibers 0-31 met so far, by bit set (see `#eligibleSet`). */
  readonly #sets = new Map<number, [readonly number[], readonly number[]]>();
  /** Optimal: how many of the kernel's offered guards are watched. */
  #offered = 0;
  /** Optimal: per fiber id, the watch of its pending operation. */
  #watchOf: (Watch | null)[] = [];
  /** Scratch for `#predsOf`: a step's direct predecessors, and how many. */
  readonly #cands: number[] = [];
  #candCount = 0;
  /** Per step index j: the list `[j]`, shared (see `#single`). */
  readonly #singles: (readonly number[] | undefined)[] = [];
  /** What `#clockOf` leaves: the predecessors that happen before no other. */
  #frontier: readonly number[] = NOTHING;
  /** Scratch lists for `#newState`: the fibers that stay asleep, and their steps. */
  readonly #keep: number[] = [];
  readonly #keepEv: Event[] = [];
  /** Optimal: per fiber id, its last step-to-be made by `#pseudoOf`. */
  #pseudos: (Event | undefined)[] = [];
  /** Optimal: per fiber id, the event `#placeholder` gives. */
  #placeholders: (Event | undefined)[] = [];
  /** Optimal: the wakeup subtree the next new state starts from. */
  #handDown: WakeupNode | null = null;
  /** Per fiber id, 1 when it can step now (set while `pickFiber` runs). */
  // A plain array: a typed array costs more to make than small runs use it.
  readonly #now: number[] = [];
  /** The state node of the step in progress, and the fibers alive before it. */
  #current: StateNode | null = null;
  #fibersBefore = 0;
  #lastOp: Op | null = null;
  #kernel: Kernel | null = null;
  /** See `DporOptions.siblings`. */
  readonly #siblings: readonly (readonly number[])[];
  /** The run being ended was cut short with fibers that could go on. */
  #cut = false;
  /** Per fiber id: the index of the step that spawned it; -1 for one there from the start. */
  #spawnedAt: number[] = [];
  /** Delay-bounded: the index of the last step that spawned fibers, or -1. */
  #lastSpawn = -1;

  constructor(options: DporOptions = {}) {
    if (options.preemptions !== undefined && options.delays !== undefined) {
      throw new RangeError("Cannot bound both preemptions and delays: pick one");
    }
    this.#kind = options.delays !== undefined ? "delays" : "preemptions";
    const k = options.delays ?? options.preemptions ?? Infinity;
    if (k !== Infinity && (!Number.isInteger(k) || k < 0)) {
      throw new RangeError(`Cannot bound ${this.#kind} by ${k}: need an integer >= 0`);
    }
    this.#preemptions = k;
    if (k !== Infinity && options.variant === "optimal") {
      throw new RangeError("Cannot bound optimal DPOR: bounded DPOR runs source-DPOR");
    }
    const variant = options.variant ?? (k !== Infinity ? "source" : "optimal");
    if (!DPOR_VARIANTS.includes(variant)) {
      throw new RangeError(
        `Cannot run DPOR variant "${variant}": known: ${DPOR_VARIANTS.join(", ")}`,
      );
    }
    this.variant = variant;
    this.#optimal = variant === "optimal";
    const order = options.order ?? "default";
    if (!ORDERS.includes(order)) {
      throw new RangeError(`Cannot explore in order "${order}": known: ${ORDERS.join(", ")}`);
    }
    this.#order = order === "random" ? new PathOrder() : null;
    this.#path.order = this.#order;
    this.#path.prefix = options.prefix ?? [];
    this.#siblings = options.siblings ?? [];
  }

  get bound(): string {
    const k = this.#preemptions;
    if (k === Infinity) return "none";
    if (this.#kind === "preemptions") return `${k} preemptions`;
    return k === 1 ? "1 delay" : `${k} delays`;
  }

  /** True once the bound kept a backtrack point from being explored. */
  get boundHit(): boolean {
    return this.#boundHit;
  }

  options(): Record<string, string | number> {
    const out: Record<string, string | number> = {};
    if (this.#order !== null) out.order = "random";
    if (!this.#optimal) out.dpor = "source";
    if (this.#preemptions !== Infinity) out[this.#kind] = this.#preemptions;
    return out;
  }

  begin(seed: number, kernel: Kernel): void {
    this.#path.begin();
    this.#order?.begin(seed);
    this.#kernel = kernel;
    this.#steps = 0;
    // Cleared in place: truncating and growing them again every run costs
    // more than the run's analysis on small runs.
    this.#fiberLast.fill(-1);
    this.#spawnedAt.fill(-1);
    this.#changers.fill(NOTHING as number[]);
    this.#enablers.fill(NOTHING as number[]);
    this.#lastWrite.fill(-1);
    this.#readCount.fill(0);
    if (this.#opaque.length > 0) this.#opaque.length = 0;
    this.#lastSpawn = -1;
    this.#watchers.fill(undefined);
    this.#watchOf.fill(null);
    if (this.#shared.size > 0) this.#shared.clear();
    this.#offered = 0;
    this.#handDown = null;
    this.#cut = false;
    this.#current = null;
    this.#fibersBefore = 0;
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    if (kernel.coresShared) {
      // A fiber keeps its core until it blocks, pauses or ends, so a race can
      // need reversing at a point where the other fiber was not eligible: the
      // analysis would miss schedules. Refuse rather than pass wrongly.
      throw new UsageError(
        "DPOR cannot yet explore fibers that share a core (more fibers than --cores): it could " +
          "miss schedules; use --strategy dfs, or give every fiber its own core (--cores 0)",
      );
    }
    const now = this.#now;
    while (now.length < kernel.fiberCount) now.push(0);
    for (let i = 0; i < count; i++) now[eligible[i].id] = 1;
    if (this.#current !== null) this.#afterStep(kernel, count);
    else if (this.#optimal) {
      for (let i = 0; i < kernel.liveCount; i++) this.#watch(kernel.liveAt(i));
    }
    if (this.#optimal && kernel.guardedOps.length > this.#offered) this.#watchOffered(kernel);
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
      try {
        const earlier = forced === undefined ? undefined : this.#siblings[this.#path.decided - 1];
        node = this.#newState(eligible, count, kernel, forced, earlier);
      } catch (e) {
        for (let i = 0; i < count; i++) now[eligible[i].id] = 0;
        if (e instanceof PrunedRun && this.#optimal) this.#analyse(kernel, true);
        throw e;
      }
      this.#path.push(node);
    }
    for (let i = 0; i < count; i++) now[eligible[i].id] = 0;
    this.#current = node;
    this.#handDown = node.current;
    this.#fibersBefore = kernel.fiberCount;
    this.#order?.step(node.chosen);
    if (this.#optimal) this.#beforeAccess(kernel.fiber(node.chosen) as Fiber);
    for (let i = 0; i < count; i++) if (eligible[i].id === node.chosen) return i;
    throw new Error(`DPOR chose fiber ${node.chosen}, which cannot step`);
  }

  #newState(
    eligible: readonly Fiber[],
    count: number,
    kernel: Kernel,
    forced: number | undefined,
    earlier: readonly number[] | undefined,
  ): StateNode {
    const prev = this.#steps > 0 ? this.#events[this.#steps - 1] : undefined;
    let ids: readonly number[];
    let on: readonly number[];
    if (prev !== undefined && sameIds(prev.state.eligible, eligible, count)) {
      // Most often the same fibers as before: share the lists.
      ids = prev.state.eligible;
      on = prev.state.on;
    } else {
      [ids, on] = this.#eligibleSet(eligible, count);
    }
    let sleep = NO_FIBERS;
    let sleepEv = NO_EVENTS;
    let tainted = NO_FIBERS;
    let ownEv = true;
    const spent = prev === undefined ? 0 : prev.state.spent + this.#cost(prev.state, prev.fiber);
    // Bounded search keeps no sleep sets: a step asleep here may be the only
    // way to reach, within the bound, what its equivalent schedule reached.
    if (prev !== undefined && this.#preemptions === Infinity) {
      const before = prev.state;
      // The fibers that stay asleep, and their steps, gathered first: most
      // often they are exactly the sleep set before, which is then shared.
      const keep = this.#keep;
      const keepEv = this.#keepEv;
      // Counted, not truncated: `length = 0` drops the backing store, and
      // every state would grow it again.
      let kept = 0;
      let fromDone = false;
      for (let s = 0; s < 2; s++) {
        const set = s === 0 ? before.sleep : before.done;
        if (set.size === 0) continue;
        for (const r of set) {
          if (r === prev.fiber || inFirst(keep, kept, r)) continue;
          const f = kernel.fiber(r);
          if (f === undefined || f.done || f.pending === null) continue;
          const changed = bit(before.on, r) !== bit(on, r);
          if (changed || dependentPending(prev, f.pending)) continue;
          if (this.#optimal) {
            // A step that ended the run does not commute with any other.
            const se = before.sleepEv.get(r) ?? this.#pseudo(f, before);
            if (se.ends) continue;
            keepEv[kept] = se;
          }
          keep[kept++] = r;
          if (s === 1) fromDone = true;
        }
      }
      if (kept > 0 && !fromDone && kept === before.sleep.size) {
        // Never changed in place while shared: see `#nextBranch`.
        sleep = before.sleep;
        sleepEv = before.sleepEv;
        ownEv = false;
        if (before.tainted.size > 0) {
          for (let i = 0; i < kept; i++) {
            if (before.tainted.has(keep[i])) tainted = withFiber(tainted, keep[i]);
          }
        }
      } else {
        for (let i = 0; i < kept; i++) {
          const r = keep[i];
          if (this.#optimal) {
            if (sleepEv === NO_EVENTS) sleepEv = new Map();
            sleepEv.set(r, keepEv[i]);
            if (before.tainted.has(r)) tainted = withFiber(tainted, r);
          }
          sleep = withFiber(sleep, r);
        }
      }
    }
    let done = NO_FIBERS;
    if (earlier !== undefined && earlier.length > 0 && this.#preemptions === Infinity) {
      // The subtrees before this one explored these fibers' steps from here.
      // Whether runs were cut short below them is not known here, so they
      // count as tainted: a reversal they cover is still started (see
      // `#insertAt`).
      if (sleep.has(forced as number)) throw PRUNED;
      done = new Set(earlier);
      tainted = new Set([...tainted, ...earlier]);
    }
    const optimal = this.#optimal;
    const root: WakeupNode = this.#handDown ??
      wakeupNode(undefined as unknown as Event, false);
    let current: WakeupNode | null = null;
    let chosen = -1;
    const last = kernel.lastFiber?.id;
    const key = this.#order?.key ?? 0;
    if (forced !== undefined && optimal) {
      // A decision of the prefix this search was given (a subtree of a split one).
      current = root.children.find((c) => c.ev.fiber === forced) ?? null;
      if (current === null) {
        current = wakeupNode(this.#pseudoOf(kernel.fiber(forced) as Fiber), false);
        addChild(root, current);
      }
    } else if (optimal) {
      // Follow the wakeup tree when it says where to go; a sequence whose
      // next fiber cannot step here (a value chosen differently) is dropped.
      while (root.children.length > 0 && current === null) {
        const c = root.children[0];
        if (bit(on, c.ev.fiber) === 1 && !sleep.has(c.ev.fiber)) current = c;
        else dropChild(root, 0);
      }
    }
    if (current === null) {
      const awake = sleep.size === 0 ? ids : ids.filter((id) => !sleep.has(id));
      // Every fiber that could step is asleep: whatever happens next was
      // already explored from an equivalent state.
      if (awake.length === 0) throw PRUNED;
      chosen = forced !== undefined
        ? forced
        : this.#preemptions !== Infinity
        ? this.#cheapest(awake, last ?? -1, spent, key)
        : this.#order !== null
        ? awake[PathOrder.pick(key, 0, awake.length)]
        : last !== undefined && awake.includes(last)
        ? last
        : awake[0];
      if (optimal) {
        current = wakeupNode(this.#placeholder(kernel.fiber(chosen) as Fiber), false);
        addChild(root, current);
      }
    } else {
      chosen = current.ev.fiber;
    }
    return {
      kind: "state",
      index: this.#steps,
      eligible: ids,
      on,
      backtrack: optimal ? NO_FIBERS : this.#firstTried(ids, chosen, last ?? -1),
      done: optimal ? done : done === NO_FIBERS ? new Set([chosen]) : new Set([...done, chosen]),
      sleep,
      sleepEv,
      root,
      current,
      tainted,
      cutBelow: false,
      chosen,
      key,
      last: last ?? -1,
      spent,
      ownEv,
    };
  }

  /**
   * The ids of the first `count` fibers of `eligible` and their bit set.
   * Never changed once made, so a set of fibers 0-31 seen before in this
   * exploration is shared: runs come back to the same few sets.
   */
  #eligibleSet(eligible: readonly Fiber[], count: number): [readonly number[], readonly number[]] {
    let word = 0;
    let small = true;
    for (let i = 0; i < count; i++) {
      const id = eligible[i].id;
      if (id > 31) small = false;
      else word |= 1 << id;
    }
    const known = small ? this.#sets.get(word) : undefined;
    if (known !== undefined) return known;
    const list: number[] = new Array(count);
    const bits: number[] = [0];
    for (let i = 0; i < count; i++) {
      const id = eligible[i].id;
      list[i] = id;
      bits[id >>> 5] = (bits[id >>> 5] ?? 0) | (1 << (id & 31));
    }
    const made: [readonly number[], readonly number[]] = [list, bits];
    if (small) this.#sets.set(word, made);
    return made;
  }

  /**
   * Adds fiber `p` to `state`'s backtrack set. Under a delay bound, also
   * every fiber ranked before it there: p may cost more delays than the
   * bound leaves, while a cheaper fiber's steps lead round robin to p for
   * free (a fiber that blocks or ends passes the turn on).
   */
  #addBacktrack(state: StateNode, p: number): void {
    state.backtrack.add(p);
    if (this.#kind !== "delays" || this.#preemptions === Infinity) return;
    const rank = delay(state, p);
    for (const r of state.eligible) if (delay(state, r) < rank) state.backtrack.add(r);
  }

  /**
   * The backtrack set a new state starts with: the fiber it runs first and,
   * bounded under a seeded order, also the fibers the default order would
   * run first at no cost (every fiber ranked before it, under a delay
   * bound). Bounded DPOR adds backtrack points only for races it sees, and a
   * costly first choice may spend the bound a race reversal needs later.
   */
  #firstTried(ids: readonly number[], chosen: number, last: number): Set<number> {
    const set = new Set([chosen]);
    if (this.#order === null || this.#preemptions === Infinity) return set;
    const lastOn = ids.includes(last);
    if (this.#kind === "preemptions") set.add(lastOn ? last : ids[0]);
    else {
      const rank = roundRobinRank(ids, last, lastOn, chosen);
      for (const r of ids) if (roundRobinRank(ids, last, lastOn, r) < rank) set.add(r);
    }
    return set;
  }

  /** What taking fiber `p`'s step from `state` costs against the bound. */
  #cost(state: StateNode, p: number): number {
    return this.#kind === "delays" ? delay(state, p) : preemption(state, p);
  }

  /**
   * Bounded: the fiber a new state first runs, one that costs nothing (the
   * fiber that stepped last, or the next in round robin); under a seeded
   * order, one drawn from those still within the bound.
   */
  #cheapest(ids: readonly number[], last: number, spent: number, key: number): number {
    const lastOn = ids.includes(last);
    const cost = (p: number) =>
      this.#kind === "delays" ? roundRobinRank(ids, last, lastOn, p) : lastOn && p !== last ? 1 : 0;
    if (this.#order === null) return ids.find((p) => cost(p) === 0) as number;
    const within = ids.filter((p) => spent + cost(p) <= this.#preemptions);
    return within[PathOrder.pick(key, 0, within.length)];
  }

  /**
   * A step fiber `f` could take now, before it is taken: it may end the
   * fiber. Kept per fiber while its pending operation stays the same
   * (events are never changed once made), so a new state allocates less.
   */
  #pseudoOf(f: Fiber): Event {
    const had = this.#pseudos[f.id];
    if (had !== undefined && had.op === f.pending && had.completed === f.obj) return had;
    const e = this.#pseudo(f, null);
    this.#pseudos[f.id] = e;
    return e;
  }

  /**
   * Stands for the step fiber `f` is about to take from a new state, in the
   * wakeup node made for it: `#afterStep` replaces it with the step before
   * anything reads more than its fiber. One per fiber, made once: a new
   * event per state was a visible part of a step's cost.
   */
  #placeholder(f: Fiber): Event {
    return this.#placeholders[f.id] ??= this.#pseudo(f, null);
  }

  #pseudo(f: Fiber, state: StateNode | null): Event {
    return {
      index: -1,
      fiber: f.id,
      op: f.pending as Op,
      completed: f.obj,
      changers: NOTHING,
      enablers: NOTHING,
      preds: NOTHING,
      clock: NOTHING,
      state: state as StateNode,
      watch: null,
      ends: false,
      spawned: false,
    };
  }

  /** True when step `e` (index `eIndex`) and the later step `f` do not commute. */
  #dependent(e: Event, eIndex: number, f: Event): boolean {
    if (e.fiber === f.fiber) return false;
    if (dependent(e.op, f.op) || f.changers.includes(eIndex)) return true;
    if (e.spawned && f.spawned) return true;
    // Ending a fiber writes its object, which joins read.
    return (e.completed >= 0 && touches(f.op, e.completed)) ||
      (f.completed >= 0 && touches(e.op, f.completed));
  }

  /**
   * Gathers the direct predecessors of a step of fiber `q` doing `op` now
   * into `#cands` (in no order, maybe twice).
   */
  #predsOf(q: number, op: Op, completed: number, changers: readonly number[]): void {
    this.#candCount = 0;
    const own = this.#fiberLast[q] ?? -1;
    if (own >= 0) this.#cand(own);
    for (let i = 0, n = accessCount(op); i < n; i++) {
      this.#objectPreds(accessObj(op, i), accessWrites(op, i));
    }
    if (completed >= 0) this.#objectPreds(completed, true);
    for (let i = 0; i < changers.length; i++) this.#cand(changers[i]);
    if (this.#optimal) {
      // An opaque guard makes its step dependent with every other step.
      if (this.#opaque.length > 0) this.#cand(this.#opaque[this.#opaque.length - 1]);
      if (op.guard !== null && op.guard.footprintOnly !== true) {
        const last = this.#fiberLast;
        for (let i = 0; i < last.length; i++) if (last[i] >= 0) this.#cand(last[i]);
      }
    }
  }

  /** `[j]`, made once per index: most steps have one direct predecessor. */
  #single(j: number): readonly number[] {
    return this.#singles[j] ??= [j];
  }

  #cand(n: number): void {
    this.#cands[this.#candCount++] = n;
  }

  /** Adds the accesses of `obj` an access (a write when `write`) now depends on. */
  #objectPreds(obj: number, write: boolean): void {
    if (obj < 0) return;
    const w = this.#lastWrite[obj] ?? -1;
    if (w >= 0) this.#cand(w);
    if (!write) return;
    const reads = this.#reads[obj];
    for (let i = 0, n = this.#readCount[obj] ?? 0; i < n; i++) this.#cand(reads[i]);
  }

  /**
   * The vector clock of a step of fiber `q` whose direct predecessors are
   * in `#cands`; leaves in `#frontier` those that happen before no other,
   * latest first. The rest add nothing to the clock, and cannot be in an
   * immediate race with the step. Costs O(predecessors x fibers), and so
   * does `#racesOf` after it.
   */
  #clockOf(q: number, fibers: number): number[] {
    const events = this.#events;
    const cands = this.#cands;
    const n = this.#candCount;
    let clock: number[];
    if (n === 0) {
      clock = zeros(fibers);
      this.#frontier = NOTHING;
    } else {
      sortDescending(cands, n);
      // The latest predecessor happens before no other; start from its clock.
      // The frontier is gathered at the front of `cands` (never past the
      // candidate being read), then copied at its exact size: a list grown
      // by push reserves room for 16 more.
      let size = 1;
      let previous = cands[0];
      clock = events[previous].clock.slice();
      for (let i = clock.length; i < fibers; i++) clock.push(0);
      for (let k = 1; k < n; k++) {
        const j = cands[k];
        if (j === previous) continue;
        previous = j;
        const c = events[j].clock;
        const p = events[j].fiber;
        // Known to a later predecessor already (the clock so far is theirs).
        if (clock[p] >= c[p]) continue;
        for (let i = 0; i < c.length; i++) if (c[i] > clock[i]) clock[i] = c[i];
        cands[size++] = j;
      }
      this.#frontier = size === 1 ? this.#single(cands[0]) : cands.slice(0, size);
    }
    clock[q]++;
    return clock;
  }

  /** Updates the per-fiber and per-object state with step `n`. */
  #record(e: Event, n: number): void {
    this.#fiberLast[e.fiber] = n;
    if (e.spawned) this.#lastSpawn = n;
    const op = e.op;
    for (let i = 0, count = accessCount(op); i < count; i++) {
      const o = accessObj(op, i);
      if (o >= 0) this.#access(o, accessWrites(op, i), n);
    }
    if (e.completed >= 0) this.#wrote(e.completed, n);
    if (op.guard !== null && op.guard.footprintOnly !== true) this.#opaque.push(n);
  }

  #access(obj: number, write: boolean, n: number): void {
    if (write) this.#wrote(obj, n);
    else {
      const count = this.#readCount[obj] ?? 0;
      (this.#reads[obj] ??= [])[count] = n;
      this.#readCount[obj] = count + 1;
    }
  }

  #wrote(obj: number, n: number): void {
    this.#lastWrite[obj] = n;
    this.#readCount[obj] = 0;
  }

  /** Optimal: starts watching the guard of `f`'s pending operation, if it has one. */
  #watch(f: Fiber): void {
    const op = f.pending;
    if (op === null || op.guard === null || op.guard.footprintOnly !== true) {
      this.#watchOf[f.id] = null;
      return;
    }
    const shared = op.guard.anyFiber === true;
    const known = shared ? this.#shared.get(op.guard) : undefined;
    this.#watchOf[f.id] = known ?? this.#newWatch(op, op.guard, f, shared);
  }

  #newWatch(op: Op, guard: Guard, fiber: Fiber, shared: boolean): Watch {
    const w: Watch = {
      guard,
      fiber,
      op,
      shared,
      since: this.#steps,
      accesses: NOTHING as number[],
    };
    if (shared) this.#shared.set(guard, w);
    for (let i = 0, n = accessCount(op); i < n; i++) {
      const o = accessObj(op, i);
      if (o >= 0) (this.#watchers[o] ??= []).push(w);
    }
    return w;
  }

  /**
   * Optimal: watches the guards the kernel offers (locks' acquisitions) from
   * their object's creation, so a race of an unlock with a lock whose fiber
   * came to it later still tells whether the unlock let it go on.
   */
  #watchOffered(kernel: Kernel): void {
    const ops = kernel.guardedOps;
    for (let i = this.#offered; i < ops.length; i++) {
      const g = ops[i].guard;
      if (g === null || g.footprintOnly !== true || g.anyFiber !== true) continue;
      if (!this.#shared.has(g)) this.#newWatch(ops[i], g, kernel.liveAt(0), true);
    }
    this.#offered = ops.length;
  }

  /**
   * Optimal: notes, for the step `f` is about to take, which watched guards
   * on its objects were ready. Reads count too: taking a read lock reads the
   * lock's footprint but stops a writer.
   */
  #beforeAccess(f: Fiber): void {
    const op = f.pending as Op;
    for (let i = 0, n = accessCount(op); i < n; i++) {
      const o = accessObj(op, i);
      if (o >= 0) this.#noteReady(o, f);
    }
  }

  #noteReady(obj: number, stepping: Fiber): void {
    const list = this.#watchers[obj];
    if (list === undefined) return;
    const n = this.#steps;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      // A fiber's watch is read only for accesses before its step: once the
      // fiber has taken it, the watch leaves the list (a loop of guarded
      // steps on one object made this quadratic).
      if (!w.shared && this.#watchOf[w.fiber.id] !== w) continue;
      list[kept++] = w;
      const got = w.accesses;
      if (
        (got.length > 0 && stepOf(got[got.length - 1]) === n) ||
        (!w.shared && w.fiber.pending !== w.op)
      ) {
        continue;
      }
      const ready = w.guard.ready(w.fiber);
      const held = !ready && w.guard.blockers?.(w.fiber).includes(stepping) === true;
      const access = n * 4 + (ready ? READY : 0) + (held ? HELD : 0);
      if (got === NOTHING) w.accesses = [access];
      else got.push(access);
    }
    while (list.length > kept) list.pop();
  }

  /** Records the step just taken from `#current` and, when new, reverses its races. */
  #afterStep(kernel: Kernel, count: number): void {
    const state = this.#current as StateNode;
    this.#current = null;
    const q = state.chosen;
    const n = this.#steps++;
    const fresh = n >= this.#fresh;
    const changers = this.#changers[q] ?? NOTHING;
    const enablers = this.#enablers[q] ?? NOTHING;
    // Most steps have no changers: share one empty list until one is added.
    this.#changers[q] = NOTHING as number[];
    this.#enablers[q] = NOTHING as number[];
    let event: Event;
    if (fresh) {
      const fq = kernel.fiber(q) as Fiber;
      const op = this.#lastOp as Op;
      const completed = fq.done ? fq.obj : -1;
      this.#predsOf(q, op, completed, changers);
      const spawned = this.#kind === "delays" && kernel.fiberCount > this.#fibersBefore;
      if (spawned && this.#lastSpawn >= 0) this.#cand(this.#lastSpawn);
      const clock = this.#clockOf(q, kernel.fiberCount);
      const preds = this.#frontier;
      const watch = this.#watchOf[q] ?? null;
      const ends = count === 0 && kernel.liveCount > 0;
      event = {
        index: n,
        fiber: q,
        op,
        completed,
        changers,
        enablers,
        preds,
        clock,
        state,
        watch,
        ends,
        spawned,
      };
      // Entries past this run's last step are stale, never read (`#steps`
      // bounds every walk); truncating here cost a copy of the array per step.
      this.#events[n] = event;
      if (this.#optimal) {
        const cur = state.current as WakeupNode;
        cur.ev = event;
        if (ends && cur.covered !== undefined) {
          const covered = cur.covered;
          cur.covered = undefined;
          for (const c of covered) this.#insertAt(c.state, c.v);
        }
      } else this.#reverseRaces(event, n);
    } else {
      event = this.#events[n];
    }
    this.#record(event, n);
    for (let c = this.#fibersBefore; c < kernel.fiberCount; c++) {
      this.#fiberLast[c] = n;
      this.#spawnedAt[c] = n;
    }
    const now = this.#now;
    for (let i = 0; i < kernel.liveCount; i++) {
      const p = kernel.liveAt(i);
      if (p.id === q || p.id >= this.#fibersBefore) {
        if (this.#optimal) this.#watch(p);
        else if (fresh) this.#pendingRace(p);
        continue;
      }
      const changed = bit(state.on, p.id) !== now[p.id];
      if (changed) {
        pushTo(this.#changers, p.id, n);
        if (now[p.id] === 1) pushTo(this.#enablers, p.id, n);
      }
      // A pending operation is a race candidate too, blocked or not: a fiber
      // that could have stepped before this step, and whose next step does
      // not commute with it, must also be tried first (a lock taken here
      // blocks the other taker, who may never race with it again).
      if (
        fresh && !this.#optimal && bit(state.on, p.id) === 1 &&
        (changed || dependentPending(event, p.pending as Op))
      ) {
        this.#addBacktrack(state, p.id);
        this.#alsoAtBlockStart(n, p.id);
      }
    }
    if (count > 0 || kernel.liveCount === 0) {
      if (count === 0 && this.#optimal) this.#analyse(kernel, false);
      return;
    }
    if (this.#optimal) {
      this.#analyse(kernel, false);
      return;
    }
    // The run has ended with fibers left (a failure, a deadlock, daemons cut
    // off): the step each could still take races with what came before.
    for (const pending of this.#pendingEvents(kernel, state)) {
      this.#reverseRaces(pending, this.#steps);
    }
  }

  /**
   * The steps the live fibers could still take, as events after the last
   * one. With `cut`, the run was cut short by its last step (a failure, a
   * step limit), and they are the steps a longer run would take: that step
   * stopping them is not counted as changing them.
   */
  #pendingEvents(kernel: Kernel, state: StateNode, cut = false): Event[] {
    const out: Event[] = [];
    const last = this.#steps - 1;
    for (let i = 0; i < kernel.liveCount; i++) {
      const p = kernel.liveAt(i);
      const op = p.pending as Op;
      let changers = this.#changers[p.id] ?? [];
      const enablers = this.#enablers[p.id] ?? [];
      if (cut && changers.at(-1) === last) changers = changers.slice(0, -1);
      this.#predsOf(p.id, op, -1, changers);
      const clock = this.#clockOf(p.id, kernel.fiberCount);
      const preds = this.#frontier;
      const watch = this.#optimal ? this.#watchOf[p.id] ?? null : null;
      out.push({
        index: -1,
        fiber: p.id,
        op,
        completed: -1,
        changers,
        enablers,
        preds,
        clock,
        state,
        watch,
        ends: false,
        spawned: false,
      });
    }
    return out;
  }

  /**
   * The immediate races of `f`, latest first: its dependent direct
   * predecessors, all of which precede no other (see `#clockOf`).
   */
  #racesOf(f: Event): number[] {
    const events = this.#events;
    const preds = f.preds;
    let races: number[] = NOTHING as number[];
    // The step that spawned f's fiber comes before all of it in every run:
    // like its own fiber's steps, it is no race to reverse.
    const spawn = this.#spawnedAt[f.fiber] ?? -1;
    for (let a = 0; a < preds.length; a++) {
      const j = preds[a];
      if (j === spawn || !this.#dependent(events[j], j, f)) continue;
      if (races === NOTHING) races = [j];
      else races.push(j);
    }
    // Latest race first (the order of `preds`): which initial a reversal
    // adds depends on what is in the backtrack set already.
    return races;
  }

  /** notdep(e).f: the steps after `e` (index j) that do not depend on it, then `f`. */
  #notdep(j: number, f: Event, end: number): Event[] {
    const e = this.#events[j];
    const v: Event[] = [];
    for (let k = j + 1; k < end; k++) if (!before(e, this.#events[k])) v.push(this.#events[k]);
    v.push(f);
    return v;
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
    for (const j of this.#racesOf(f)) {
      this.#addInitial(this.#events[j].state, this.#notdep(j, f, n));
      this.#alsoAtBlockStart(j, f.fiber);
    }
  }

  /**
   * Bounded DPOR's extra backtrack point (Coons, Musuvathi and McKinley):
   * reversing a race at step `j` may cost a preemption the bound forbids,
   * so fiber `p` is also tried where the run of steps of j's fiber that
   * ends at j began, where switching costs what the schedule already paid
   * (every fiber there, when p could not step).
   */
  #alsoAtBlockStart(j: number, p: number): void {
    if (this.#preemptions === Infinity) return;
    const events = this.#events;
    const q = events[j].fiber;
    let k = j;
    while (k > 0 && events[k - 1].fiber === q) k--;
    if (k === j) return;
    const state = events[k].state;
    if (bit(state.on, p) === 1) this.#addBacktrack(state, p);
    else for (const r of state.eligible) state.backtrack.add(r);
  }

  /**
   * Optimal DPOR's race analysis, once a run has ended: for every race of a
   * new step (and of the step each live fiber could still take), the
   * sequence that reverses it, notdep(e).f over the whole run, goes into the
   * wakeup tree of the state before e, unless a sleeping fiber there is a
   * weak initial of it (the reversal was explored) or the tree already
   * holds an equivalent start.
   */
  #analyse(kernel: Kernel, pruned: boolean): void {
    const end = this.#steps;
    if (this.#cut) {
      for (const n of this.#path.nodes) if (n.kind === "state") (n as StateNode).cutBelow = true;
    }
    const targets: Event[] = [];
    for (let i = Math.min(this.#fresh, end); i < end; i++) targets.push(this.#events[i]);
    const last = end > 0 ? this.#events[end - 1].state : null;
    if (!pruned && last !== null && kernel.liveCount > 0) {
      for (const p of this.#pendingEvents(kernel, last, this.#cut)) {
        targets.push(p);
        // The step each live fiber could take before the one that cut the
        // run short.
        if (this.#cut && bit(last.on, p.fiber) === 1 && p.fiber !== last.chosen) {
          this.#insert(end - 1, [p]);
        }
      }
    }
    for (const f of targets) {
      for (const j of this.#racesOf(f)) {
        for (const w of this.#reversible(j, f)) this.#insert(w, this.#notdep(w, f, end));
      }
    }
  }

  /**
   * The steps whose order with `f` can be reversed, for its race with step
   * `j`: j itself, unless j is what let f's fiber go on (an unlock before a
   * waiting lock), in which case the step that had stopped it (the lock
   * taken before) is reversed instead.
   */
  #reversible(j: number, f: Event): number[] {
    const events = this.#events;
    if (f.enablers.includes(j)) {
      // f's fiber could not step before j: reverse the latest step that
      // disabled it instead.
      for (let k = f.changers.length - 1; k >= 0; k--) {
        const c = f.changers[k];
        if (c < j && !f.enablers.includes(c)) return events[c].fiber === f.fiber ? [] : [c];
      }
      return this.#disabler(j, f);
    }
    const w = f.watch;
    const e = events[j];
    // A guard on a fiber's own object waits for its end (a join).
    if (e.completed >= 0 && f.op.guard !== null && touches(f.op, e.completed)) return [];
    if (w === null) return [j];
    if (j < w.since) {
      // The guard was first seen after j: whether it was ready before j is
      // unknown. Reverse j, and also the access before it, in case that was
      // what stopped f (a write lock taken before the unlock).
      const k = this.#accessBefore(j, f);
      return k >= 0 ? [j, k] : [j];
    }
    const access = seen(w, j);
    if (access < 0 || (access & READY) !== 0) return [j];
    // The guard was not ready before j: j helped enable f. With a second
    // object the guard may have been made ready between, so keep j too.
    const out = this.#disabler(j, f);
    if ((f.op.obj2 >= 0 || f.op.more !== null) && !out.includes(j) && (access & HELD) === 0) {
      out.push(j);
    }
    return out;
  }

  /** The latest step of another fiber before `j` that touches one of f's objects; -1 for none. */
  #accessBefore(j: number, f: Event): number {
    const fo = f.op;
    for (let k = j - 1; k >= 0; k--) {
      const e = this.#events[k];
      if (e.fiber === f.fiber) continue;
      for (let i = 0, n = accessCount(fo); i < n; i++) {
        const o = accessObj(fo, i);
        if (o >= 0 && touches(e.op, o)) return k;
      }
    }
    return -1;
  }

  /** The latest watched access before `j` that found f's guard ready (and so disabled it). */
  #disabler(j: number, f: Event): number[] {
    const w = f.watch;
    if (w === null) return [];
    for (let i = w.accesses.length - 1; i >= 0; i--) {
      const access = w.accesses[i];
      const k = stepOf(access);
      if (k >= j || (access & READY) === 0) continue;
      return this.#events[k].fiber === f.fiber ? [] : [k];
    }
    return [];
  }

  /** True when `a`, a step from some run, and `b` surely commute. */
  #independent(a: Event, b: Event): boolean {
    if (a.fiber === b.fiber || a.ends || b.ends || dependent(a.op, b.op)) return false;
    if (a.completed >= 0 && touches(b.op, a.completed)) return false;
    if (b.completed >= 0 && touches(a.op, b.completed)) return false;
    // With fewer cores than fibers, fibers of one core take turns.
    const k = this.#kernel as Kernel;
    return k.cores === 0 || k.fiber(a.fiber)?.core !== k.fiber(b.fiber)?.core;
  }

  /**
   * True when step `v[i]` has no predecessor among `v[0..i)` in the execution
   * that runs v on its own: none of them is of its fiber or fails to commute
   * with it. (Happens-before in the run v came from may also go through
   * steps v leaves out.)
   */
  #initialAt(v: readonly Event[], i: number): boolean {
    const y = v[i];
    for (let h = 0; h < i; h++) {
      const x = v[h];
      if (!this.#independent(x, y) || (x.index >= 0 && y.changers.includes(x.index))) {
        return false;
      }
    }
    return true;
  }

  /** True when fiber `p`, whose step here is `pe`, is a weak initial of `v`. */
  #weakInitial(p: number, pe: Event | undefined, v: readonly Event[]): boolean {
    for (let i = 0; i < v.length; i++) if (v[i].fiber === p) return this.#initialAt(v, i);
    if (pe === undefined) return false;
    for (const x of v) if (!this.#independent(pe, x)) return false;
    return true;
  }

  /** Inserts `v` into the wakeup tree of the state before step `j`. */
  #insert(j: number, v: Event[]): void {
    this.#insertAt(this.#events[j].state, v);
  }

  #insertAt(state: StateNode, v: Event[]): void {
    let tainted = false;
    for (let s = 0; s < 2; s++) {
      const set = s === 0 ? state.sleep : state.done;
      for (const p of set) {
        if (!this.#weakInitial(p, state.sleepEv.get(p), v)) continue;
        if (!state.tainted.has(p)) return;
        tainted = true;
      }
    }
    if (tainted || this.#insertWakeup(state, v)) this.#ensureInitial(state, v);
  }

  /**
   * Source-DPOR's guarantee, kept under the wakeup tree: some initial of `v`
   * is explored from `state`. Optimal DPOR's own checks imply it on runs
   * that end with every fiber done or blocked; a run cut short by a failure
   * hides the steps after the failure, and there a sleeping fiber's weak
   * initial does not always stand for the reversal.
   */
  #ensureInitial(state: StateNode, v: readonly Event[]): void {
    const root = state.root;
    let pick = -1;
    const seen = new Set<number>();
    for (let i = 0; i < v.length; i++) {
      const p = v[i].fiber;
      if (seen.has(p)) continue;
      seen.add(p);
      if (!this.#initialAt(v, i)) continue;
      if (state.done.has(p) || root.children.some((c) => c.ev.fiber === p)) return;
      if (pick < 0 && bit(state.on, p) === 1 && !state.sleep.has(p)) pick = i;
    }
    if (pick >= 0) addChild(root, wakeupNode(v[pick], this.#cut));
  }

  /**
   * Inserts `v` into `state`'s wakeup tree unless a branch already starts
   * the same way. True when the branch taken as covering it came from a run
   * cut short.
   */
  #insertWakeup(state: StateNode, v: Event[]): boolean {
    let node = state.root;
    let rest = v;
    let cut = false;
    for (;;) {
      if (node !== state.root && node.children.length === 0) return cut;
      if (rest.length === 0) return cut;
      let next: WakeupNode | null = null;
      for (const c of node.children) {
        const p = c.ev.fiber;
        const i = rest.findIndex((x) => x.fiber === p);
        if (i >= 0) {
          if (!this.#initialAt(rest, i)) continue;
          next = c;
          rest = rest.slice(0, i).concat(rest.slice(i + 1));
          break;
        }
        if (rest.every((x) => this.#independent(c.ev, x))) {
          (c.covered ??= []).push({ state, v });
          next = c;
          break;
        }
      }
      if (next === null) {
        let at = node;
        for (const x of rest) {
          const child = wakeupNode(x, this.#cut);
          addChild(at, child);
          at = child;
        }
        return false;
      }
      node = next;
      if (node.cut === true) cut = true;
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
    this.#alsoAtBlockStart(j, p.id);
    if (bit(state.on, p.id) === 1) {
      this.#addBacktrack(state, p.id);
      return;
    }
    // p could not step there: try a fiber that steps later and leads to p.
    for (let k = j + 1; k < this.#steps; k++) {
      const g = this.#events[k];
      if (bit(state.on, g.fiber) === 1 && this.#knows(p.id, g)) {
        this.#addBacktrack(state, g.fiber);
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
      if (accessWrites(op, i)) {
        const reads = this.#reads[o];
        for (let k = 0, n = this.#readCount[o] ?? 0; k < n; k++) consider(reads[k]);
      }
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
    const enabled = initials.filter((p) => bit(state.on, p) === 1);
    if (enabled.length > 0) {
      this.#addBacktrack(state, enabled.find((p) => !state.sleep.has(p)) ?? enabled[0]);
      return;
    }
    // No initial could step there (it waits for something in v): fall back to
    // every fiber that could.
    for (const p of state.eligible) state.backtrack.add(p);
  }

  onStep(_fiber: Fiber, op: Op): void {
    this.#lastOp = op;
  }

  end(outcome: Outcome, kernel: Kernel): void {
    this.#cut = kernel.liveCount > 0 && outcome.verdict !== "deadlock";
    // However the run stopped (a failure, a step limit, the last non-daemon
    // finishing, a deadlock), no fiber can step any more: a fiber that could
    // before the last step was disabled by it, which makes them dependent.
    if (this.#current !== null) this.#afterStep(kernel, 0);
    else if (this.#optimal) this.#analyse(kernel, false);
  }

  pickValue(n: number, stream: string, kernel: Kernel): number {
    return this.#path.pickValue(n, stream, kernel);
  }

  advance(): boolean {
    const events = this.#events;
    const more = this.#path.advance((node) => {
      if (this.#optimal) return this.#nextBranch(node, events[node.index]);
      let next = -1;
      const within = (p: number) => {
        if (node.spent + this.#cost(node, p) <= this.#preemptions) return true;
        this.#boundHit = true;
        return false;
      };
      if (this.#order !== null) {
        const todo = [...node.backtrack].filter((p) =>
          !node.done.has(p) && !node.sleep.has(p) && within(p)
        );
        if (todo.length > 0) {
          todo.sort((a, b) => a - b);
          next = todo[PathOrder.pick(node.key, node.done.size, todo.length)];
        }
      } else {
        for (const p of node.backtrack) {
          if (node.done.has(p) || node.sleep.has(p) || (next >= 0 && p > next)) continue;
          if (within(p)) next = p;
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

  /** Optimal: the current branch of `node` is explored; moves to its next wakeup sequence. */
  #nextBranch(node: StateNode, taken: Event | undefined): boolean {
    const cur = node.current as WakeupNode;
    const root = node.root;
    const i = root.children.indexOf(cur);
    if (i >= 0) dropChild(root, i);
    const q = cur.ev.fiber;
    while (root.children.length > 0) {
      const p = root.children[0].ev.fiber;
      if (p !== q && bit(node.on, p) === 1 && !node.sleep.has(p) && !node.done.has(p)) break;
      dropChild(root, 0);
    }
    const children = root.children;
    // A node with no branch left is dropped: what it explored need not be noted.
    if (children.length === 0) {
      node.current = null;
      return false;
    }
    node.done = withFiber(node.done, q);
    if (node.cutBelow) node.tainted = withFiber(node.tainted, q);
    node.cutBelow = false;
    if (node.sleepEv === NO_EVENTS) node.sleepEv = new Map();
    else if (!node.ownEv) node.sleepEv = new Map(node.sleepEv);
    node.ownEv = true;
    node.sleepEv.set(q, taken?.state === node ? taken : cur.ev);
    node.current = children[0];
    node.chosen = children[0].ev.fiber;
    return true;
  }
}

/** 1 when taking fiber `p`'s step from `state` preempts the fiber that stepped before; else 0. */
function preemption(state: StateNode, p: number): number {
  return state.last >= 0 && p !== state.last && bit(state.on, state.last) === 1 ? 1 : 0;
}

/**
 * The delays taking fiber `p`'s step from `state` costs: its rank in round
 * robin from the fiber that stepped last (that one first while it can step,
 * then the next ids, wrapping around), as `DfsStrategy` ranks them.
 */
function delay(state: StateNode, p: number): number {
  return roundRobinRank(state.eligible, state.last, bit(state.on, state.last) === 1, p);
}

function roundRobinRank(ids: readonly number[], last: number, lastOn: boolean, p: number): number {
  const from = lastOn ? last : last + 1;
  let rank = 0;
  for (const id of ids) {
    if (p >= from ? id >= from && id < p : id >= from || id < p) rank++;
  }
  return rank;
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

/** Options of iterative bounded DPOR. */
export interface IterativeDporOptions {
  /** What the bound counts; preemptions unless said. */
  readonly kind?: "preemptions" | "delays";
  /** The first bound; 0 unless said. */
  readonly from?: number;
  /** The order each round tries fibers in. */
  readonly order?: Order;
}

/**
 * Iterative bounded DPOR: bounded DPOR at 0 preemptions (or delays), then
 * 1, 2, ... until the budget runs out or a bound cuts nothing off. Bugs
 * that need few preemptions come first, as with iterative DFS, at bounded
 * DPOR's smaller cost per bound.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const s = new IterativeDporStrategy();
 * assertEquals(s.options(), { dpor: "source", preemptions: 0, iterative: true });
 * assertEquals(s.bound, "0 preemptions");
 * assertEquals(new IterativeDporStrategy({ kind: "delays", from: 1 }).bound, "1 delay");
 * ```
 */
export class IterativeDporStrategy implements ExhaustiveStrategy {
  readonly name = "dpor";
  readonly pickAlways = true;
  readonly #kind: "preemptions" | "delays";
  readonly #order: Order;
  #k: number;
  #inner: DporStrategy;

  constructor(options: IterativeDporOptions = {}) {
    this.#kind = options.kind ?? "preemptions";
    this.#order = options.order ?? "default";
    this.#k = options.from ?? 0;
    this.#inner = this.#make();
  }

  #make(): DporStrategy {
    return new DporStrategy({ [this.#kind]: this.#k, order: this.#order });
  }

  get bound(): string {
    return this.#inner.bound;
  }

  get boundHit(): boolean {
    return this.#inner.boundHit;
  }

  options(): Record<string, number | string | boolean> {
    return { ...this.#inner.options(), iterative: true };
  }

  begin(seed: number, kernel: Kernel): void {
    this.#inner.begin(seed, kernel);
  }

  pickFiber(eligible: readonly Fiber[], count: number, kernel: Kernel): number {
    return this.#inner.pickFiber(eligible, count, kernel);
  }

  pickValue(n: number, stream: string, kernel: Kernel): number {
    return this.#inner.pickValue(n, stream, kernel);
  }

  onStep(fiber: Fiber, op: Op): void {
    this.#inner.onStep(fiber, op);
  }

  end(outcome: Outcome, kernel: Kernel): void {
    this.#inner.end(outcome, kernel);
  }

  advance(): boolean {
    if (this.#inner.advance()) return true;
    if (!this.#inner.boundHit) return false;
    this.#k++;
    this.#inner = this.#make();
    return true;
  }
}
