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
import type { StateSource, StateWriter } from "../sim/state.ts";
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
  /** The message's number in its sender's stream to this process: the process serves them in this order. */
  readonly seq: number;
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

/** A process on its way to another context, with everything it owns. */
interface SendWork {
  readonly kind: "send-work";
  readonly pid: Pid;
  readonly state: unknown;
  readonly queued: readonly Message[];
  readonly cells: Map<number, FutureCell>;
  readonly next: Map<string, number>;
  readonly parked: Set<Message>;
  /** The move's number: the process's first move is 1. */
  readonly epoch: number;
}

type Envelope =
  | Routed
  | { readonly kind: "request-work"; readonly from: number }
  | SendWork
  | { readonly kind: "value"; readonly box: number; readonly value: unknown }
  | {
    readonly kind: "moved";
    readonly pid: Pid;
    readonly from: number;
    readonly to: number;
    readonly epoch: number;
  }
  | { readonly kind: "retire"; readonly pid: Pid; readonly epoch: number }
  | { readonly kind: "retired"; readonly pid: Pid; readonly epoch: number };

type Job = { readonly kind: "input"; readonly pid: Pid } | {
  readonly kind: "give";
  readonly to: number;
};

/** Entry values; a value >= 0 is "forwarded to that context". */
const NONE = -1;
const HERE = -2;
const MOVING = -3;
const DRAINING = -4;

/** An entry as a report shows it. */
function entryText(e: number): string {
  return e >= 0 ? `→ ctx${e}` : e === HERE ? "here" : e === MOVING ? "moving" : "draining";
}

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
  /** Inputs arrived and not yet served, in arrival order (not always sender order). */
  readonly queue: Message[];
  readonly cells: Map<number, FutureCell>;
  /** Per sender: the number of the next message to serve. */
  readonly next: Map<string, number>;
  /** Inputs in `queue` waiting for an earlier one of their sender: not counted as in flight. */
  readonly parked: Set<Message>;
  /** How many times the process has moved. */
  readonly epoch: number;
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

/**
 * What the home keeps per process to retire old entries: the process's moves
 * are retired one at a time, in the order they happened.
 */
interface HomeRoute {
  /** Moves up to this one have had their old entry retired. */
  done: number;
  /** A retire is on its way (the next move waits for it). */
  busy: boolean;
  /** Where the process went, while the home's entry is DRAINING; and that move's number. */
  drainTo: number;
  drainEpoch: number;
  /** `moved` notices not yet taken, in any order. */
  readonly deferred: { from: number; to: number; epoch: number }[];
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
  /** Per process: the move its entry belongs to (HERE: the move that brought it; a forward: the move it went by). */
  readonly epochs: number[] = [];
  readonly hosted: (Hosted | undefined)[] = [];
  readonly held: Routed[][] = [];
  /** A process that came back while this context was still handing it over: installed once that is done. */
  readonly returned: (SendWork | undefined)[] = [];
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
 * and from there along the forwarding entries. A process may move to any
 * context, back to one it left too, so messages can overtake each other on
 * different paths: each carries its number in its sender's stream, and the
 * process serves them in that order.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import type { Action } from "../sim/op.ts";
import type { StateSource, StateWriter } from "../sim/state.ts";
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
export class ForwardingNet implements StateSource {
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
  /** Per process and sender: the next message number. */
  readonly #seqs = new Map<string, number>();
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
    kernel.describe(this);
  }

  /**
   * For reports: per context, where its entry sends each process ("here",
   * "→ ctx1", "moving", "draining"; absent when none); each process it hosts
   * with its moves so far, the inputs queued for it and those parked behind
   * an earlier one of their sender (by their reply's name), and the futures
   * it owns; the messages it holds during a hand-over ("resolve/read future
   * N" for those); and the counts of how messages were marked done.
   */
  describeState(out: StateWriter): void {
    const names = (ms: Iterable<Routed>) =>
      [...ms].map((m) => m.kind === "message" ? m.reply.name : `${m.kind} future ${m.fid}`);
    for (const s of this.#sites) {
      const entries: Record<string, string> = {};
      const hosted: Record<string, unknown> = {};
      const held: Record<string, string[]> = {};
      this.#procs.forEach((p, pid) => {
        const e = s.entries[pid].peek();
        if (e !== NONE) entries[p.name] = entryText(e);
        const h = s.hosted[pid];
        if (h !== undefined) {
          const futures: Record<string, unknown> = {};
          for (const [fid, c] of h.cells) {
            futures[`future ${fid}`] = c.resolved
              ? c.value
              : `unresolved, ${c.waiting.length} waiting`;
          }
          hosted[p.name] = {
            moves: h.epoch,
            queued: names(h.queue),
            ...(h.parked.size > 0 ? { parked: names(h.parked) } : {}),
            ...(h.cells.size > 0 ? { futures } : {}),
          };
        }
        if (s.held[pid].length > 0) held[p.name] = names(s.held[pid]);
      });
      out.put("forwarding", s.name, { entries, hosted, held });
    }
    out.put("forwarding", "marks", { ...this.marks, outstanding: this.#outstanding.peek() });
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
      s.epochs.push(0);
      s.hosted.push(
        here
          ? { state, queue: [], cells: new Map(), next: new Map(), parked: new Set(), epoch: 0 }
          : undefined,
      );
      s.held.push([]);
      s.returned.push(undefined);
      s.routes.push({ done: 0, busy: false, drainTo: NONE, drainEpoch: 0, deferred: [] });
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
    const key = `${pid}/${sender}`;
    const seq = this.#seqs.get(key) ?? 0;
    this.#seqs.set(key, seq + 1);
    const m: Message = {
      kind: "message",
      pid,
      sender,
      seq,
      input,
      reply: reply as Future<unknown>,
    };
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

  /**
   * Envelopes, queued inputs and moves not yet done (an input parked behind a
   * missing earlier one of its sender does not count): for checks.
   */
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
        s.routes[e.pid].deferred.push({ from: e.from, to: e.to, epoch: e.epoch });
        yield* this.#redirect(s, e.pid);
        return yield* this.#done();
      case "retire": {
        yield* s.lock.lock();
        // Every message the home, or an earlier context on the path, forwarded
        // here for that move came before this notice. An entry of a later
        // move (the process came back) stays.
        const entry = s.entries[e.pid];
        if (s.epochs[e.pid] === e.epoch && (yield* entry.read()) >= 0) yield* entry.write(NONE);
        yield* s.lock.unlock();
        yield* this.#outstanding.fetchAdd(1);
        yield* this.#post(this.#procs[e.pid].home, {
          kind: "retired",
          pid: e.pid,
          epoch: e.epoch,
        });
        return yield* this.#done();
      }
      case "retired":
        yield* this.#retired(s, e.pid, e.epoch);
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

  *#install(s: Site, e: SendWork): Action<void> {
    yield* s.lock.lock();
    const before = yield* s.entries[e.pid].read();
    if (before === MOVING && s.returned[e.pid] === undefined) {
      // Back before this context's worker has finished sending it away: the
      // worker installs it when it has.
      s.returned[e.pid] = e;
      return yield* s.lock.unlock();
    }
    if (before === HERE || before === MOVING) {
      yield* s.lock.unlock();
      throw new Error(`Cannot install ${this.#procs[e.pid].name} at ${s.name}: it is here already`);
    }
    // An entry from an earlier visit (or the home's, draining) gives way:
    // what reaches it from now on is served here.
    s.hosted[e.pid] = {
      state: e.state,
      queue: [...e.queued],
      cells: e.cells,
      next: e.next,
      parked: e.parked,
      epoch: e.epoch,
    };
    yield* s.entries[e.pid].write(HERE);
    s.epochs[e.pid] = e.epoch;
    const held = s.held[e.pid].splice(0);
    yield* s.lock.unlock();
    for (let i = 0; i < e.queued.length; i++) yield* s.jobs.post({ kind: "input", pid: e.pid });
    for (const m of held) yield* this.#route(s, m);
    yield* this.#done();
  }

  /**
   * At the home: takes the notice of the process's next move, in order, and
   * asks the context it left to retire its entry. While the home still
   * routes to that context, it holds new messages until the entry is gone.
   */
  *#redirect(home: Site, pid: Pid): Action<void> {
    const route = home.routes[pid];
    for (;;) {
      if (route.busy) return;
      const i = route.deferred.findIndex((d) => d.epoch === route.done + 1);
      if (i < 0) return;
      const { from, to, epoch } = route.deferred.splice(i, 1)[0];
      // The home's own entry is never retired: it is where every sender starts.
      if (from === home.index) {
        route.done = epoch;
        continue;
      }
      const entry = home.entries[pid];
      yield* home.lock.lock();
      const e = yield* entry.read();
      if (e >= 0 && home.epochs[pid] === epoch - 1) {
        // The home routes to `from` still: hold until `from` has retired.
        yield* entry.write(DRAINING);
        route.drainTo = to;
        route.drainEpoch = epoch;
      }
      yield* home.lock.unlock();
      route.busy = true;
      yield* this.#outstanding.fetchAdd(1);
      yield* this.#post(from, { kind: "retire", pid, epoch });
      return;
    }
  }

  /** At the home: the old context has retired its entry; send what was held on, then route to the new one. */
  *#retired(home: Site, pid: Pid, epoch: number): Action<void> {
    const route = home.routes[pid];
    yield* home.lock.lock();
    const entry = home.entries[pid];
    // Unless the process has come home meanwhile (its install took what was held).
    if ((yield* entry.read()) === DRAINING && route.drainEpoch === epoch) {
      const held = home.held[pid].splice(0);
      for (const m of held) yield* this.#forward(route.drainTo, m);
      yield* entry.write(route.drainTo);
      home.epochs[pid] = epoch;
    }
    yield* home.lock.unlock();
    route.drainTo = NONE;
    route.done = epoch;
    route.busy = false;
    yield* this.#redirect(home, pid);
  }

  *#workOne(s: Site, job: Job): Action<void> {
    if (job.kind === "input") return yield* this.#serve(s, job.pid);
    yield* this.#give(s, job.to);
    yield* this.#done(); // the request-work envelope
  }

  /**
   * Serves every input of `pid` that is next in its sender's stream. An
   * input that overtook an earlier one of its sender waits for it, parked:
   * it stops counting as in flight (a lost predecessor must not keep
   * `quiesce` waiting forever) until it is next again.
   */
  *#serve(s: Site, pid: Pid): Action<void> {
    let served = false;
    for (;;) {
      yield* s.lock.lock();
      const h = s.hosted[pid];
      // The input went along with the process if it moved meanwhile.
      const i = h === undefined
        ? -1
        : h.queue.findIndex((m) => m.seq === (h.next.get(m.sender) ?? 0));
      const m = i < 0 ? undefined : h!.queue.splice(i, 1)[0];
      if (m !== undefined) h!.next.set(m.sender, m.seq + 1);
      const unpark = m !== undefined && h!.parked.delete(m);
      let parking = 0;
      if (h !== undefined && m === undefined) {
        for (const q of h.queue) {
          if (!h.parked.has(q)) {
            h.parked.add(q);
            parking++;
          }
        }
      }
      yield* s.lock.unlock();
      // Counted again before the one served last is marked done.
      if (unpark) yield* this.#outstanding.fetchAdd(1);
      if (served) yield* this.#done();
      if (parking > 0) yield* this.#outstanding.fetchAdd(-parking);
      if (h === undefined || m === undefined) return;
      const r = yield* this.#procs[pid].fn(h.state, m.input);
      h.state = r.state;
      yield* m.reply.resolve(r.output);
      this.marks.delete++;
      served = true;
    }
  }

  /** Hands the lowest-numbered process hosted here over to `to`. */
  *#give(s: Site, to: number): Action<void> {
    if (to === s.index) return;
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
    const epoch = h.epoch + 1;
    yield* this.#post(to, {
      kind: "send-work",
      pid,
      state: h.state,
      queued: h.queue.slice(),
      cells: h.cells,
      next: h.next,
      parked: h.parked,
      epoch,
    });
    yield* s.lock.lock();
    yield* entry.write(to);
    s.epochs[pid] = epoch;
    for (const m of s.held[pid].splice(0)) yield* this.#forward(to, m);
    const back = s.returned[pid];
    s.returned[pid] = undefined;
    yield* s.lock.unlock();
    // The home hears of every move, its own too: it retires old entries in move order.
    const home = this.#procs[pid].home;
    yield* this.#outstanding.fetchAdd(1);
    yield* this.#post(home, { kind: "moved", pid, from: s.index, to, epoch });
    if (this.flaw === "stale-forward" && home !== s.index) {
      // The flaw: the home will route to `to` now, so the entry looks unneeded.
      yield* s.lock.lock();
      yield* entry.write(NONE);
      yield* s.lock.unlock();
    }
    if (back !== undefined) yield* this.#install(s, back);
  }
}
