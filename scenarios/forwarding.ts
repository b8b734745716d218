/**
 * A process moves between contexts while messages to it are in flight.
 *
 * @module
 */
import { z } from "zod";
import { drawFaults, type FaultConfig, Faults, FaultsSchema } from "../runtime/faults.ts";
import {
  type ForwardingFlaw,
  ForwardingNet,
  type LocatedFuture,
  type Pid,
  type Reading,
} from "../runtime/forwarding.ts";
import type { Future } from "../runtime/future.ts";
import type { Stepped } from "../runtime/process.ts";
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

/** What a sender sends: who it is and the message's number in its stream. */
interface Input {
  readonly sender: number;
  readonly seq: number;
}

/**
 * Ghost bookkeeping of the scenario, independent of the forwarding net: which
 * message the process served, in what order, and the output it gave. Recording
 * is not a scheduling point.
 */
class DeliveryLedger {
  /** Per sender, per message: the output it was served with. */
  readonly #out: (number | undefined)[][];
  /** Per sender: the highest message number served so far. */
  readonly #last: number[];

  constructor(senders: number, messages: number) {
    this.#out = Array.from({ length: senders }, () => new Array(messages).fill(undefined));
    this.#last = new Array(senders).fill(-1);
  }

  /** The process serves `input` with `output`: a second serving, or one out of order, fails. */
  serve(input: Input, output: number): void {
    const { sender, seq } = input;
    if (this.#out[sender][seq] !== undefined) {
      throw new Violation("delivered-once", `message s${sender}#${seq} was served twice`);
    }
    if (seq < this.#last[sender]) {
      throw new Violation(
        "in-order",
        `message s${sender}#${seq} was served after s${sender}#${this.#last[sender]}`,
      );
    }
    this.#last[sender] = seq;
    this.#out[sender][seq] = output;
  }

  /** The output message `seq` of `sender` was served with, or undefined. */
  output(sender: number, seq: number): number | undefined {
    return this.#out[sender][seq];
  }

  /** True when every message was served, else the first that was not. */
  missing(): true | string {
    for (let s = 0; s < this.#out.length; s++) {
      const i = this.#out[s].indexOf(undefined);
      if (i >= 0) return `message s${s}#${i} was never served`;
    }
    return true;
  }
}

/**
 * Ghost bookkeeping for the located futures, independent of the net: the
 * value each was resolved with, and every value each reader took from its
 * mailbox. Recording is not a scheduling point.
 */
class ReadLedger {
  readonly #resolved: (number | undefined)[];
  readonly #names: string[] = [];
  /** Per reader, per future: the values it saw. */
  readonly #seen: number[][][] = [];

  constructor(futures: number) {
    this.#resolved = new Array(futures).fill(undefined);
  }

  /** Adds a reader of every future; gives its number. */
  reader(name: string): number {
    this.#names.push(name);
    this.#seen.push(Array.from({ length: this.#resolved.length }, () => []));
    return this.#seen.length - 1;
  }

  /** Future `f` is resolved with `value`, by the scenario's resolver. */
  resolve(f: number, value: number): void {
    this.#resolved[f] = value;
  }

  /** Reader `reader` took `value` for future `f`: a second value, or a wrong one, fails. */
  see(reader: number, f: number, value: number): void {
    const seen = this.#seen[reader][f];
    const who = this.#names[reader];
    seen.push(value);
    if (seen.length > 1) throw new Violation("future-value", `${who} saw F${f}'s value twice`);
    if (value !== this.#resolved[f]) {
      throw new Violation(
        "future-value",
        `${who} saw ${value} for F${f}, which was resolved as ${this.#resolved[f]}`,
      );
    }
  }

  /** True when every reader saw every future's value, else the first that did not. */
  missing(): true | string {
    for (let r = 0; r < this.#seen.length; r++) {
      const f = this.#seen[r].findIndex((v) => v.length === 0);
      if (f >= 0) return `${this.#names[r]} never saw F${f}'s value`;
    }
    return true;
  }
}

/** The process's state: how many messages it has served, and a ledger to record them. */
interface Served {
  readonly ledger: DeliveryLedger;
  readonly count: number;
}

/** Answers each message with a number that says which message it was and when it was served. */
// deno-lint-ignore require-yield
function* serveOne(s: Served, input: Input): Action<Stepped<number, Served>> {
  const output = 1_000 * (input.sender + 1) + 10 * input.seq + s.count;
  s.ledger.serve(input, output);
  return { output, state: { ledger: s.ledger, count: s.count + 1 } };
}

/** Reads one future as `reader` and checks what it sees against the ledger. */
function* read(
  reader: string,
  ledger: DeliveryLedger,
  f: Future<number>,
  sender: number,
  seq: number,
): Action<void> {
  const served = ledger.output(sender, seq);
  if (served === undefined) {
    throw new Violation("delivered-once", `message s${sender}#${seq} was never served`);
  }
  const seen = yield* f.join();
  if (seen !== served) {
    throw new Violation(
      "future-value",
      `${reader} read ${seen} from the future of s${sender}#${seq}, which was served as ${served}`,
    );
  }
}

interface World {
  readonly k: Kernel;
  readonly net: ForwardingNet;
  /** The processes; sender s sends to pids[s % pids.length]. */
  readonly pids: readonly Pid[];
  readonly ledger: DeliveryLedger;
  /** Per sender, per message: the future its send gave. */
  readonly futures: Future<number>[][];
  /** Futures that live with the first process, wherever it is. */
  readonly located: readonly LocatedFuture[];
  readonly reads: ReadLedger;
  /** The fibers that resolve the located futures. */
  readonly resolvers: Fiber[];
}

/** Asks for every located future's value, to be sent to context `at`. */
function* askAll(w: World, at: number): Action<Reading<number>[]> {
  const out: Reading<number>[] = [];
  for (const f of w.located) out.push(yield* w.net.read<number>(f, at));
  return out;
}

/** Once every resolve is done and nothing is in flight, takes what came back, as reader `reader`. */
function* takeAll(w: World, reader: number, readings: readonly Reading<number>[]): Action<void> {
  for (const r of w.resolvers) yield* w.k.join(r);
  yield* w.net.quiesce();
  for (let f = 0; f < readings.length; f++) {
    for (const v of yield* readings[f].drain()) w.reads.see(reader, f, v);
  }
}

/** Resolves located future `f` after `pauses` pauses, from some context. */
function* resolveOne(w: World, f: number, pauses: number): Action<void> {
  for (let t = 0; t < pauses; t++) yield* w.k.pause();
  const value = 7_000 + f;
  w.reads.resolve(f, value);
  yield* w.net.resolve(w.located[f], value);
}

function* send(w: World, sender: number, messages: number): Action<void> {
  for (let seq = 0; seq < messages; seq++) {
    const input: Input = { sender, seq };
    w.futures[sender][seq] = yield* w.net.send<number>(
      w.pids[sender % w.pids.length],
      `s${sender}`,
      input,
    );
  }
  // Everything this sender sent is done once nothing is in flight.
  yield* w.net.quiesce();
  for (let seq = 0; seq < messages; seq++) {
    yield* read(`s${sender}`, w.ledger, w.futures[sender][seq], sender, seq);
  }
}

function* requestWork(w: World, from: number, to: number, patience: number): Action<void> {
  // It asks for the located futures' values first: the answers may come
  // from wherever their owner is by then.
  const reader = w.reads.reader(`the reader at ctx${from}`);
  const readings = yield* askAll(w, from);
  // An idle context looks for work of its own a while before it asks.
  for (let t = 0; t < patience; t++) yield* w.k.pause();
  yield* w.net.requestWork(from, to);
  yield* takeAll(w, reader, readings);
}

/** A second reader of every future, once every sender is done; reads the located ones from ctx0. */
function* observe(k: Kernel, w: World, senders: Fiber[]): Action<void> {
  const reader = w.reads.reader("the observer at ctx0");
  const readings = yield* askAll(w, 0);
  yield* takeAll(w, reader, readings);
  for (const f of senders) yield* k.join(f);
  yield* w.net.quiesce();
  for (let s = 0; s < w.futures.length; s++) {
    for (let seq = 0; seq < w.futures[s].length; seq++) {
      yield* read("observer", w.ledger, w.futures[s][seq], s, seq);
    }
  }
}

/** The parameters of `forwarding` (see its `params` schema for ranges and defaults). */
export interface ForwardingParams {
  /** Contexts in the line ctx0 -> ctx1 -> ...; the process starts at ctx0. */
  readonly contexts: number;
  /** Senders; each sends its messages to one process. */
  readonly senders: number;
  /** Processes, all starting at ctx0; sender s sends to process s mod processes. */
  readonly processes: number;
  /** Messages each sender sends. */
  readonly messages: number;
  /** Pauses context c waits, times c, before it asks the one before it for work. */
  readonly patience: number;
  /** When true, ctx0 also asks the last context for work, so the process may come back home. */
  readonly back: boolean;
  /** Futures that live with the first process; each is resolved, by a message, after `patience` pauses. */
  readonly futures: number;
  /** Faults (runtime/faults.ts): channel delays and worker stalls. Off when absent. */
  readonly faults?: FaultConfig;
}

/**
 * `forwarding`: one process starts at ctx0; each context asks the one before
 * it for work, so the process may move down the line ctx0 -> ctx1 -> ...
 * while senders keep sending to it through its home. Each message is served
 * by the process wherever it is, and its future read by its sender and by an
 * observer. Checks, kept in a ledger beside the net: every message served
 * exactly once, in order per sender, and every reader of a future sees the
 * value it was served with.
 */
export const forwarding: Scenario<ForwardingParams> = defineScenario({
  name: "forwarding",
  description: "a process moves between contexts while messages to it are in flight",
  params: z.object({
    contexts: z.number().int().min(2).max(4).default(3),
    senders: z.number().int().min(1).max(3).default(2),
    processes: z.number().int().min(1).max(3).default(1),
    messages: z.number().int().min(1).max(6).default(2),
    patience: z.number().int().min(0).max(16).default(8),
    futures: z.number().int().min(0).max(3).default(1),
    back: z.boolean().default(false),
    faults: FaultsSchema.optional(),
  }),
  variants: {
    correct: {
      description: "messages that arrive during a move are held and forwarded; an old entry " +
        "is retired only after the home has stopped routing through it",
      expect: {
        verdict: "pass",
        // Sampled: DPOR does not exhaust even one message on two contexts in 20,000 schedules.
        budget: { strategy: "pct", runs: 1_000 },
      },
    },
    "drop-on-forward": {
      description: "a message that arrives while its process is handed over is deleted",
      expect: {
        verdict: "bug",
        // A lost message, or a lost resolve or read of a located future.
        checks: ["delivered-once", "future-value"],
        budget: { strategy: "pct", runs: 2_000 },
      },
    },
    "lost-resolve": {
      description: "a resolve that reaches a context its future's owner has left is deleted",
      expect: {
        verdict: "bug",
        check: "future-value",
        budget: { strategy: "pct", runs: 2_000 },
      },
    },
    "stale-forward": {
      description: "a context drops its forwarding entry as soon as it has told the home, " +
        "while messages forwarded to it may still be on the way",
      expect: {
        verdict: "bug",
        // A lost message, or a lost resolve or read of a located future.
        checks: ["delivered-once", "future-value"],
        budget: { strategy: "pct", runs: 2_000 },
      },
    },
  },
  stepsMax: (p) => 3_000 + 300 * p.contexts * p.senders * p.messages,
  // Swarm: sizes around the defaults; channel delays and worker stalls on or off.
  swarm: (draw) => ({
    contexts: draw.int("contexts", 2, 4),
    senders: draw.int("senders", 1, 3),
    processes: draw.int("processes", 1, 2),
    messages: draw.int("messages", 1, 3),
    patience: draw.int("patience", 0, 8),
    futures: draw.int("futures", 0, 2),
    back: draw.int("back", 0, 1) === 1,
    faults: drawFaults(draw, ["delay", "stall"]),
  }),
  setup(k, p, variant) {
    const { contexts, senders, processes, messages, patience, futures: nf, faults } = p;
    Faults.enable(k, faults);
    const flaw = variant === "correct" ? null : variant as ForwardingFlaw;
    const net = new ForwardingNet(k, { contexts, flaw });
    const ledger = new DeliveryLedger(senders, messages);
    const pids: Pid[] = [];
    for (let p = 0; p < processes; p++) {
      pids.push(net.host("PQR"[p], serveOne, { ledger, count: 0 }, { home: 0 }));
    }
    const located: LocatedFuture[] = [];
    for (let f = 0; f < nf; f++) located.push(net.locate(`F${f}`, pids[0]));
    net.start();
    const futures = Array.from({ length: senders }, () => new Array<Future<number>>(messages));
    const reads = new ReadLedger(nf);
    const resolvers: Fiber[] = [];
    const w: World = { k, net, pids, ledger, futures, located, reads, resolvers };
    for (let f = 0; f < nf; f++) resolvers.push(k.spawn(`resolve${f}`, resolveOne, w, f, patience));
    const fibers: Fiber[] = [];
    for (let s = 0; s < senders; s++) fibers.push(k.spawn(`s${s}`, send, w, s, messages));
    for (let c = 1; c < contexts; c++) {
      k.spawn(`ctx${c}.idle`, requestWork, w, c, c - 1, patience * c);
    }
    if (p.back) k.spawn("ctx0.idle", requestWork, w, 0, contexts - 1, patience * contexts);
    k.spawn("observer", observe, k, w, fibers);
    k.invariant("delivered-once", () => ledger.missing());
    k.invariant("future-value", () => reads.missing());
  },
});
