/**
 * Forwarding between contexts (the seed note on the parallel runtime's message
 * set): processes move from context to context while messages to them are in
 * flight. Contexts ask each other for work (`request-work`) and hand a process
 * over (`send-work`); the context a process left keeps a forwarding entry and
 * passes on what still arrives for it; the process's home learns where it went
 * (`moved`) and retires the old entry only once nothing can still name it
 * (`retire`, `retired`). Every message is marked done as deleted (served) or
 * forwarded.
 *
 * Futures can live in a context too (`locate`): a located future's cell
 * belongs to a process and travels with it. Resolving one (`resolve`) and
 * asking for its value (`read`) are messages to the owning process, routed
 * like any other; the value comes back to the reader's context as a message.
 *
 * @module
 */
import type { Cell } from "../sim/cell.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import type { Mutex } from "../sim/sync.ts";
import { Channel } from "./channel.ts";
import { Faults } from "./faults.ts";
import { Future } from "./future.ts";
import { ParkingSpot } from "./park.ts";
import { Violation } from "../sim/outcome.ts";
import type { ProcessFn } from "./process.ts";

/**
 * A deliberate bug.
 *
 * - `drop-on-forward`: a message that arrives while its process is being
 *   handed over is marked deleted instead of held and forwarded.
 * - `stale-forward`: a context drops its forwarding entry as soon as it has
 *   told the home where the process went, while messages the home forwarded
 *   before it learned may still name that entry.
 * - `lost-resolve`: a resolve that reaches a context its future's owner has
 *   left (or is leaving) is deleted, as if the future still lived there.
 */
export type ForwardingFlaw = "drop-on-forward" | "stale-forward" | "lost-resolve";

/** A process's number in its net: the order `host` was called in. */
export type Pid = number;

/** How a net of contexts is built. */
export interface ForwardingOptions {
  /** Contexts, named ctx0, ctx1, ...: 1 to 16. */
  readonly contexts: number;
  /** A deliberate bug to build in; none when absent or null. */
  readonly flaw?: ForwardingFlaw | null;
  /** Envelopes an inbox holds at most; 1024 unless given. */
  readonly inboxMax?: number;
}

/** How a message was marked done: counts, for reports and tests (not a scheduling point). */
export interface Marks {
  /** Served by the process (or, when dropped by a flaw or a missing entry, deleted unserved). */
  delete: number;
  /** Passed on to another context. */
  forward: number;
  /** Held while the process was being handed over, then forwarded. */
  held: number;
  /** Arrived where no entry names the process, and were deleted unserved. */
  deadLetters: number;
}

interface Message {
  readonly kind: "message";
  readonly pid: Pid;
  readonly sender: string;
  readonly input: unknown;
  readonly reply: Future<unknown>;
}

/** Assigns a located future's value, at the context its owner lives in. */
interface Resolve {
  readonly kind: "resolve";
  readonly pid: Pid;
  readonly fid: number;
  readonly value: unknown;
}

/** Asks for a located future's value, to be sent back to mailbox `box`. */
interface Read {
  readonly kind: "read";
  readonly pid: Pid;
  readonly fid: number;
  readonly box: number;
}

/** What is addressed to a process, and routed along its forwarding entries. */
type Routed = Message | Resolve | Read;

type Envelope =
  | Routed
  | { readonly kind: "request-work"; readonly from: number }
  | {
    readonly kind: "send-work";
    readonly pid: Pid;
    readonly state: unknown;
    readonly queued: readonly Message[];
    readonly cells: Map<number, FutureCell>;
  }
  | { readonly kind: "value"; readonly box: number; readonly value: unknown }
  | { readonly kind: "moved"; readonly pid: Pid; readonly from: number; readonly to: number }
  | { readonly kind: "retire"; readonly pid: Pid }
  | { readonly kind: "retired"; readonly pid: Pid; readonly from: number };

type Job = { readonly kind: "input"; readonly pid: Pid } | {
  readonly kind: "give";
  readonly to: number;
};

/** Entry values; a value >= 0 is "forwarded to that context". */
const NONE = -1;
const HERE = -2;
const MOVING = -3;
const DRAINING = -4;

interface ProcessInfo {
  readonly name: string;
  // Processes of one net have different input, output and state types.
  // deno-lint-ignore no-explicit-any
  readonly fn: ProcessFn<any, any, any>;
  readonly home: number;
}

/** A located future's cell: where its value lives, and who still waits for it. */
interface FutureCell {
  resolved: boolean;
  value: unknown;
  /** Mailboxes to send the value to once it is resolved. */
  readonly waiting: number[];
}

/** A process while a context hosts it: its state, the inputs queued for it, the futures it owns. */
interface Hosted {
  state: unknown;
  readonly queue: Message[];
  readonly cells: Map<number, FutureCell>;
}

/**
 * A future that lives in a context: its cell belongs to process `owner` and
 * moves with it. Made by `ForwardingNet.locate`.
 */
export interface LocatedFuture {
  /** The future's number in its net. */
  readonly fid: number;
  /** The process whose context holds the cell. */
  readonly owner: Pid;
  /** The future's name, for reports. */
  readonly name: string;
}

/**
 * Where a located future's value comes back to: a mailbox in the reader's
 * context, filled by that context's dispatcher. Made by `ForwardingNet.read`.
 */
export class Reading<T> {
  readonly #box: Channel<unknown>;

  /** Wraps a mailbox; `ForwardingNet.read` makes these. */
  constructor(box: Channel<unknown>) {
    this.#box = box;
  }

  /** Waits until the value arrives and gives it. */
  *take(): Action<T> {
    const r = yield* this.#box.retrieve();
    if (r.tag === "closed") throw new Error("Cannot take a future's value: its mailbox is closed");
    return r.value as T;
  }

  /** Every value that has arrived so far and not been taken (one, when all is well): never waits. */
  *drain(): Action<T[]> {
    const out: T[] = [];
    for (;;) {
      const r = yield* this.#box.tryRetrieve();
      if (r.tag !== "ok") return out;
      out.push(r.value as T);
    }
  }
}

/** What the home keeps per process while it redirects its entry. */
interface HomeRoute {
  /** Where the process is going, while the entry is DRAINING. */
  drainTo: number;
  /** `moved` notices that came before the notice they follow. */
  readonly deferred: { from: number; to: number }[];
}

/** One context: an inbox, a table of entries, a lock, and what it hosts. */
class Site {
  readonly index: number;
  readonly name: string;
  readonly inbox: Channel<Envelope>;
  readonly jobs: Channel<Job>;
  /** Guards `entries`, `hosted` and `held` between the dispatcher and the worker. */
  readonly lock: Mutex;
  readonly entries: Cell<number>[] = [];
  readonly hosted: (Hosted | undefined)[] = [];
  readonly held: Routed[][] = [];
  /** Only at a process's home, only touched by the home's dispatcher. */
  readonly routes: HomeRoute[] = [];

  constructor(k: Kernel, index: number, inboxMax: number) {
    this.index = index;
    this.name = `ctx${index}`;
    this.inbox = new Channel(k, `${this.name}.inbox`, {
      capacity: "unbounded",
      lengthMax: inboxMax,
    });
    this.jobs = new Channel(k, `${this.name}.jobs`, {
      capacity: "unbounded",
      lengthMax: inboxMax,
    });
    this.lock = k.mutex(`${this.name}.table`);
  }
}

/**
 * Contexts that host process functions and move them between each other.
 * Each context runs two daemon fibers: a dispatcher that takes envelopes off
 * its inbox in order (delivers, forwards, holds, installs, redirects) and a
 * worker that serves the processes it hosts and hands one over when asked.
 * A sender names only the process; its message goes to the process's home
 * and from there along the forwarding entries. Moves go to higher-numbered
 * contexts only, so a process never comes back to a context that may still
 * route for it: that keeps every sender's messages in order without
 * sequence numbers.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import type { Action } from "../sim/op.ts";
 * import type { Stepped } from "./process.ts";
 * // deno-lint-ignore require-yield
 * function* add(total: number, x: number): Action<Stepped<number, number>> {
 *   return { output: total + x, state: total + x };
 * }
 * function* client(net: ForwardingNet, out: number[]) {
 *   const a = yield* net.send<number>(0, "c", 1);
 *   yield* net.requestWork(1, 0); // ctx1 takes the process while `a` may be in flight
 *   const b = yield* net.send<number>(0, "c", 2);
 *   yield* net.quiesce();
 *   out.push(yield* a.join(), yield* b.join());
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 2_000 }, new RandomStrategy(), 5);
 * const net = new ForwardingNet(k, { contexts: 2 });
 * net.host("sum", add, 0, { home: 0 });
 * net.start();
 * const out: number[] = [];
 * k.spawn("client", client, net, out);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(out, [1, 3]);
 * assertEquals(net.peekWhere(0), 1);
 * ```
 */
export class ForwardingNet {
  /** The deliberate bug built in, or null. */
  readonly flaw: ForwardingFlaw | null;
  /** How many messages were marked done, and how: ghost counts, not scheduling points. */
  readonly marks: Marks = { delete: 0, forward: 0, held: 0, deadLetters: 0 };
  readonly #k: Kernel;
  readonly #sites: Site[] = [];
  readonly #procs: ProcessInfo[] = [];
  /** Located futures, by fid. */
  readonly #futures: LocatedFuture[] = [];
  /** Readers' mailboxes, by number, and the context each is in. */
  readonly #boxes: { readonly at: number; readonly box: Channel<unknown> }[] = [];
  /** Envelopes and queued inputs not yet marked done, and moves not yet finished. */
  readonly #outstanding: Cell<number>;
  readonly #quiet: ParkingSpot;
  #sent = 0;
  #started = false;

  /** Builds the contexts; `host` processes on them, then `start` them. */
  constructor(kernel: Kernel, options: ForwardingOptions) {
    const n = options.contexts;
    if (!Number.isInteger(n) || n < 1 || n > 16) {
      throw new RangeError(`Cannot build a forwarding net of ${n} contexts: give 1 to 16`);
    }
    this.#k = kernel;
    this.flaw = options.flaw ?? null;
    for (let i = 0; i < n; i++) this.#sites.push(new Site(kernel, i, options.inboxMax ?? 1024));
    const outstanding = kernel.cell("forwarding.outstanding", 0);
    this.#outstanding = outstanding;
    this.#quiet = new ParkingSpot("forwarding.quiet", {
      watches: outstanding.id,
      watchesAll: true,
      ready: () => outstanding.peek() === 0,
      reason: "every message, move and notice between contexts to be done",
    });
  }

  /** Contexts in the net. */
  get contexts(): number {
    return this.#sites.length;
  }

  /**
   * Places a process function at `home`, from `state`. Setup time only,
   * before `start`. Gives its pid.
   */
  host<I, O, S>(name: string, fn: ProcessFn<I, O, S>, state: S, at: { home: number }): Pid {
    if (this.#started) throw new Error(`Cannot host ${name}: the net has started`);
    const home = this.#site(at.home, `host ${name}`).index;
    const pid = this.#procs.length;
    this.#procs.push({ name, fn, home });
    for (const s of this.#sites) {
      const here = s.index === home;
      s.entries.push(this.#k.cell(`${s.name}.entry[${name}]`, here ? HERE : NONE));
      s.hosted.push(here ? { state, queue: [], cells: new Map() } : undefined);
      s.held.push([]);
      s.routes.push({ drainTo: NONE, deferred: [] });
    }
    return pid;
  }

  /**
   * Makes a future whose cell lives with process `owner` (at its home until
   * it moves). Setup time only, before `start`.
   */
  locate(name: string, owner: Pid): LocatedFuture {
    if (this.#started) throw new Error(`Cannot locate future ${name}: the net has started`);
    const home = this.#proc(owner).home;
    const f: LocatedFuture = { fid: this.#futures.length, owner, name };
    this.#futures.push(f);
    this.#sites[home].hosted[owner]!.cells.set(f.fid, {
      resolved: false,
      value: undefined,
      waiting: [],
    });
    return f;
  }

  /** Spawns each context's dispatcher and worker, as daemons. Once, after `host`. */
  start(): void {
    if (this.#started) throw new Error("Cannot start a forwarding net twice");
    this.#started = true;
    for (const s of this.#sites) {
      this.#k.spawn({ name: `${s.name}.dispatch`, daemon: true }, ForwardingNet.#dispatch, this, s);
      this.#k.spawn({ name: `${s.name}.work`, daemon: true }, ForwardingNet.#work, this, s);
    }
  }

  /**
   * Sends `input` to process `pid`, from the stream `sender` (messages of one
   * sender are served in the order sent). Gives the future of the output.
   */
  *send<O = unknown>(pid: Pid, sender: string, input: unknown): Action<Future<O>> {
    const p = this.#proc(pid);
    const reply = new Future<O>(this.#k, `${p.name}#${this.#sent++}`);
    yield* this.#outstanding.fetchAdd(1);
    const m: Message = { kind: "message", pid, sender, input, reply: reply as Future<unknown> };
    yield* this.#post(p.home, m);
    return reply;
  }

  /**
   * Resolves located future `f` with `value`: a message to its owner, sent to
   * the owner's home and forwarded from there to wherever the owner lives.
   */
  *resolve(f: LocatedFuture, value: unknown): Action<void> {
    const p = this.#proc(this.#future(f).owner);
    yield* this.#outstanding.fetchAdd(1);
    yield* this.#post(p.home, { kind: "resolve", pid: f.owner, fid: f.fid, value });
  }

  /**
   * Asks for located future `f`'s value, for a reader in context `at`: the
   * owner's context sends the value back once it is resolved.
   */
  *read<T = unknown>(f: LocatedFuture, at: number): Action<Reading<T>> {
    const p = this.#proc(this.#future(f).owner);
    const site = this.#site(at, `read ${f.name}`);
    const box = new Channel<unknown>(this.#k, `${site.name}.box${this.#boxes.length}`, {
      capacity: "unbounded",
      lengthMax: 16,
    });
    const n = this.#boxes.length;
    this.#boxes.push({ at, box });
    yield* this.#outstanding.fetchAdd(1);
    yield* this.#post(p.home, { kind: "read", pid: f.owner, fid: f.fid, box: n });
    return new Reading<T>(box);
  }

  /** Context `from` asks context `to` for work; `to` hands over a process if it can. */
  *requestWork(from: number, to: number): Action<void> {
    this.#site(from, "request work");
    this.#site(to, "request work");
    yield* this.#outstanding.fetchAdd(1);
    yield* this.#post(to, { kind: "request-work", from });
  }

  /** Waits until no message, move or notice is in flight between the contexts. */
  *quiesce(): Action<void> {
    yield* this.#quiet.park();
  }

  /** The context hosting `pid` now, or -1 while it is being handed over: for checks. */
  peekWhere(pid: Pid): number {
    this.#proc(pid);
    const s = this.#sites.find((s) => s.entries[pid].peek() === HERE);
    return s === undefined ? -1 : s.index;
  }

  /** The forwarding entry `at` keeps for `pid`, for checks and reports. */
  peekEntry(at: number, pid: Pid): "none" | "here" | "moving" | "draining" | number {
    this.#proc(pid);
    const e = this.#site(at, "peek an entry").entries[pid].peek();
    return e >= 0
      ? e
      : e === NONE
      ? "none"
      : e === HERE
      ? "here"
      : e === MOVING
      ? "moving"
      : "draining";
  }

  /** Envelopes, queued inputs and moves not yet done: for checks. */
  peekOutstanding(): number {
    return this.#outstanding.peek();
  }

  #site(i: number, what: string): Site {
    const s = this.#sites[i];
    if (!Number.isInteger(i) || s === undefined) {
      throw new RangeError(
        `Cannot ${what} at context ${i}: contexts are 0..${this.#sites.length - 1}`,
      );
    }
    return s;
  }

  #future(f: LocatedFuture): LocatedFuture {
    const g = this.#futures[f.fid];
    if (g !== f) throw new RangeError(`No future ${f.name} in the forwarding net`);
    return g;
  }

  #proc(pid: Pid): ProcessInfo {
    const p = this.#procs[pid];
    if (p === undefined) throw new RangeError(`No process ${pid} in the forwarding net`);
    return p;
  }

  *#post(to: number, e: Envelope): Action<void> {
    const r = yield* this.#sites[to].inbox.post(e);
    if (r.tag === "closed") throw new Error(`Cannot post to ctx${to}: its inbox is closed`);
  }

  /** Marks one envelope (or a served input) done. */
  *#done(): Action<void> {
    yield* this.#outstanding.fetchAdd(-1);
  }

  *#forward(to: number, m: Routed): Action<void> {
    this.marks.forward++;
    yield* this.#post(to, m);
  }

  /** A context's dispatcher: takes envelopes off its inbox, in order. */
  static *#dispatch(net: ForwardingNet, s: Site): Action<void> {
    for (;;) {
      const r = yield* s.inbox.retrieve();
      if (r.tag === "closed") return;
      yield* net.#dispatchOne(s, r.value);
    }
  }

  /** A context's worker: serves the processes it hosts and hands them over. */
  static *#work(net: ForwardingNet, s: Site): Action<void> {
    const faults = Faults.of(net.#k);
    for (;;) {
      const r = yield* s.jobs.retrieve();
      if (r.tag === "closed") return;
      // Fault point: the worker stalls before a job (a move or a serving runs late).
      yield* faults.wait("stall");
      yield* net.#workOne(s, r.value);
    }
  }

  *#dispatchOne(s: Site, e: Envelope): Action<void> {
    switch (e.kind) {
      case "message":
      case "resolve":
      case "read":
        return yield* this.#route(s, e);
      case "value": {
        // The mailbox lives in this context: the reader takes the value from it.
        const r = yield* this.#boxes[e.box].box.post(e.value);
        if (r.tag === "closed") {
          throw new Error(`Cannot deliver a value: mailbox ${e.box} is closed`);
        }
        return yield* this.#done();
      }
      case "request-work": {
        // Marked done by the worker once the move is over (or refused).
        const r = yield* s.jobs.post({ kind: "give", to: e.from });
        if (r.tag === "closed") yield* this.#done();
        return;
      }
      case "send-work":
        return yield* this.#install(s, e);
      case "moved":
        s.routes[e.pid].deferred.push({ from: e.from, to: e.to });
        yield* this.#redirect(s, e.pid);
        return yield* this.#done();
      case "retire": {
        yield* s.lock.lock();
        // Every message the home forwarded here came before this notice.
        yield* s.entries[e.pid].write(NONE);
        yield* s.lock.unlock();
        yield* this.#outstanding.fetchAdd(1);
        yield* this.#post(this.#procs[e.pid].home, { kind: "retired", pid: e.pid, from: s.index });
        return yield* this.#done();
      }
      case "retired":
        yield* this.#retired(s, e.pid);
        return yield* this.#done();
    }
  }

  *#route(s: Site, m: Routed): Action<void> {
    // A notice that had to wait for the home's own hand-over takes effect first.
    yield* this.#redirect(s, m.pid);
    yield* s.lock.lock();
    const e = yield* s.entries[m.pid].read();
    if (e === HERE) {
      if (m.kind !== "message") return yield* this.#atCell(s, m);
      s.hosted[m.pid]!.queue.push(m);
      yield* s.lock.unlock();
      yield* s.jobs.post({ kind: "input", pid: m.pid });
      return;
    }
    if (m.kind === "resolve" && this.flaw === "lost-resolve") {
      // The flaw: "the future is not here any more", so its resolve is deleted.
      yield* s.lock.unlock();
      this.marks.delete++;
      return yield* this.#done();
    }
    if (e === MOVING || e === DRAINING) {
      if (e === MOVING && this.flaw === "drop-on-forward") {
        // The flaw: "the process is not here", so the message is deleted.
        yield* s.lock.unlock();
        this.marks.delete++;
        return yield* this.#done();
      }
      this.marks.held++;
      s.held[m.pid].push(m);
      yield* s.lock.unlock();
      return;
    }
    yield* s.lock.unlock();
    if (e >= 0) return yield* this.#forward(e, m);
    // Nothing here names the process: the message is lost.
    this.marks.deadLetters++;
    this.marks.delete++;
    yield* this.#done();
  }

  /**
   * A resolve or read where the future's cell lives; called with the table
   * locked, unlocks it. Values go back to readers as messages.
   */
  *#atCell(s: Site, m: Resolve | Read): Action<void> {
    const cell = s.hosted[m.pid]!.cells.get(m.fid)!;
    let to: readonly number[] = [];
    if (m.kind === "read") {
      if (cell.resolved) to = [m.box];
      else cell.waiting.push(m.box);
    } else {
      if (cell.resolved) {
        yield* s.lock.unlock();
        throw new Violation(
          "future-single-assignment",
          `located future ${this.#futures[m.fid].name} resolved twice`,
        );
      }
      cell.resolved = true;
      cell.value = m.value;
      to = cell.waiting.splice(0);
    }
    yield* s.lock.unlock();
    for (const box of to) {
      yield* this.#outstanding.fetchAdd(1);
      yield* this.#post(this.#boxes[box].at, { kind: "value", box, value: cell.value });
    }
    this.marks.delete++;
    yield* this.#done();
  }

  *#install(s: Site, e: Extract<Envelope, { kind: "send-work" }>): Action<void> {
    yield* s.lock.lock();
    const before = yield* s.entries[e.pid].read();
    if (before !== NONE) {
      throw new Error(
        `Cannot install ${this.#procs[e.pid].name} at ${s.name}: it still has an entry (${before})`,
      );
    }
    s.hosted[e.pid] = { state: e.state, queue: [...e.queued], cells: e.cells };
    yield* s.entries[e.pid].write(HERE);
    yield* s.lock.unlock();
    for (let i = 0; i < e.queued.length; i++) yield* s.jobs.post({ kind: "input", pid: e.pid });
    yield* this.#done();
  }

  /**
   * At the home: takes the next `moved` notice that follows the entry (the
   * process left the context the entry points at), holds new messages, and
   * asks that context to retire its entry.
   */
  *#redirect(home: Site, pid: Pid): Action<void> {
    const route = home.routes[pid];
    if (route.deferred.length === 0) return;
    const entry = home.entries[pid];
    yield* home.lock.lock();
    const e = yield* entry.read();
    // A notice waits while the home still hands the process over, or still
    // routes through a context earlier on the process's path.
    const i = e < 0 ? -1 : route.deferred.findIndex((d) => d.from === e);
    if (i < 0) return yield* home.lock.unlock();
    const { from, to } = route.deferred.splice(i, 1)[0];
    yield* entry.write(DRAINING);
    yield* home.lock.unlock();
    route.drainTo = to;
    yield* this.#outstanding.fetchAdd(1);
    yield* this.#post(from, { kind: "retire", pid });
  }

  /** At the home: the old context has retired its entry; send what was held on, then route to the new one. */
  *#retired(home: Site, pid: Pid): Action<void> {
    const route = home.routes[pid];
    yield* home.lock.lock();
    const held = home.held[pid].splice(0);
    for (const m of held) yield* this.#forward(route.drainTo, m);
    yield* home.entries[pid].write(route.drainTo);
    yield* home.lock.unlock();
    route.drainTo = NONE;
    yield* this.#redirect(home, pid);
  }

  *#workOne(s: Site, job: Job): Action<void> {
    if (job.kind === "input") return yield* this.#serve(s, job.pid);
    yield* this.#give(s, job.to);
    yield* this.#done(); // the request-work envelope
  }

  *#serve(s: Site, pid: Pid): Action<void> {
    yield* s.lock.lock();
    const h = s.hosted[pid];
    // The input went along with the process if it moved meanwhile.
    const m = h === undefined ? undefined : h.queue.shift();
    yield* s.lock.unlock();
    if (h === undefined || m === undefined) return;
    const r = yield* this.#procs[pid].fn(h.state, m.input);
    h.state = r.state;
    yield* m.reply.resolve(r.output);
    this.marks.delete++;
    yield* this.#done();
  }

  /** Hands the lowest-numbered process hosted here over to `to`, if `to` is further down the line. */
  *#give(s: Site, to: number): Action<void> {
    if (to <= s.index) return;
    yield* s.lock.lock();
    let pid = -1;
    for (let p = 0; p < this.#procs.length && pid < 0; p++) {
      if ((yield* s.entries[p].read()) === HERE) pid = p;
    }
    if (pid < 0) return yield* s.lock.unlock();
    yield* this.#outstanding.fetchAdd(1); // the send-work envelope
    const entry = s.entries[pid];
    yield* entry.write(MOVING);
    const h = s.hosted[pid]!;
    s.hosted[pid] = undefined;
    yield* s.lock.unlock();
    // The process travels as a message of its own; the table is not locked meanwhile.
    yield* this.#post(to, {
      kind: "send-work",
      pid,
      state: h.state,
      queued: h.queue.slice(),
      cells: h.cells,
    });
    yield* s.lock.lock();
    yield* entry.write(to);
    for (const m of s.held[pid].splice(0)) yield* this.#forward(to, m);
    yield* s.lock.unlock();
    const home = this.#procs[pid].home;
    if (home === s.index) return;
    yield* this.#outstanding.fetchAdd(1);
    yield* this.#post(home, { kind: "moved", pid, from: s.index, to });
    if (this.flaw === "stale-forward") {
      // The flaw: the home will route to `to` now, so the entry looks unneeded.
      yield* s.lock.lock();
      yield* entry.write(NONE);
      yield* s.lock.unlock();
    }
  }
}
