/**
 * Logical-time regions nested three deep, with timers in each and messages
 * crossing the region boundaries in both directions.
 *
 * @module
 */
import { z } from "zod";
import type { Kernel } from "../sim/kernel.ts";
import { type Guard, Op } from "../sim/op.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";
import { Regions } from "../runtime/regions.ts";

/**
 * The scenario's cross-region channel: an unbounded FIFO that is one kernel
 * object, so a send and a receive are dependent steps. A receive blocks
 * while it is empty.
 */
class Mailbox<T> implements Guard {
  readonly name: string;
  /** A receive waits for items, which only sends and receives (writes of its object) change. */
  readonly footprintOnly = true;
  readonly #items: T[] = [];
  readonly #sendOp: Op;
  readonly #recvOp: Op;
  #received = 0;

  constructor(k: Kernel, name: string) {
    this.name = name;
    const id = k.newObject(name);
    this.#sendOp = new Op("send", id, true);
    this.#recvOp = new Op("recv", id, true, this);
  }

  get received(): number {
    return this.#received;
  }

  ready(): boolean {
    return this.#items.length > 0;
  }

  waitReason(): string {
    return `a message on ${this.name}`;
  }

  *send(v: T): Generator<Op, void, void> {
    yield this.#sendOp;
    this.#items.push(v);
  }

  *recv(): Generator<Op, T, void> {
    yield this.#recvOp;
    this.#received++;
    return this.#items.shift() as T;
  }
}

interface World {
  readonly k: Kernel;
  readonly r: Regions;
  readonly fibers: number;
  readonly messages: number;
  /** Down: from the outer region to the innermost one. */
  readonly down: Mailbox<number>;
  /** Up: from the innermost region to the outer one. */
  readonly up: Mailbox<number>;
  /** The outer feeder waits for its region's clock before sending (a causality loop). */
  readonly late: boolean;
}

/** Waits each of `waits` in turn; each wake-up must come exactly when due. */
function* timed(w: World, waits: readonly number[]) {
  const name = w.k.current?.name;
  for (const t of waits) {
    const before = w.r.lclock();
    yield* w.r.ltimer(t);
    const now = w.r.lclock();
    w.k.assert(now === before + t, `${name}: ltimer(${t}) from ${before} woke at ${now}`, "timer");
  }
}

/** Enters a nested region; the parent's clock must read the same when it returns. */
function* nest(w: World, body: (w: World) => Generator<Op, void, void>) {
  const before = w.r.lclock();
  yield* w.r.sim(body, w);
  const after = w.r.lclock();
  w.k.assert(
    after === before,
    `a nested region moved its parent from ${before} to ${after}`,
    "nest",
  );
}

function* feedDown(w: World) {
  if (w.late) yield* w.r.ltimer(1);
  for (let i = 0; i < w.messages; i++) yield* w.down.send(i);
}

/** Every message from the innermost region arrives at the same outer instant: 0. */
function* collectUp(w: World) {
  for (let i = 0; i < w.messages; i++) {
    const sentAt = yield* w.up.recv();
    const now = w.r.lclock();
    w.k.assert(now === 0, `a message sent at inner time ${sentAt} arrived at outer ${now}`, "nest");
  }
  yield* w.r.ltimer(4);
}

function* receiveDown(w: World) {
  let last = -1;
  for (let i = 0; i < w.messages; i++) {
    const v = yield* w.down.recv();
    w.k.assert(v === last + 1, `message ${v} arrived after ${last}`, "fifo");
    last = v;
    yield* w.r.ltimer(1);
  }
}

function* reportUp(w: World) {
  for (let i = 0; i < w.messages; i++) {
    yield* w.up.send(w.r.lclock());
    yield* w.r.ltimer(2);
  }
}

function* inner(w: World) {
  w.k.spawn("i-recv", receiveDown, w);
  w.k.spawn("i-report", reportUp, w);
  // Released together at instant 3: the scheduler orders them.
  for (let i = 0; i < w.fibers; i++) w.k.spawn(`i-t${i}`, timed, w, [3, 1]);
  yield* w.r.ltimer(2);
}

function* middle(w: World) {
  for (let i = 0; i < w.fibers; i++) w.k.spawn(`m-t${i}`, timed, w, [i + 1, 2]);
  yield* w.r.ltimer(1);
  yield* nest(w, inner);
  yield* w.r.ltimer(1);
}

function* outer(w: World) {
  w.k.spawn("o-feed", feedDown, w);
  w.k.spawn("o-collect", collectUp, w);
  for (let i = 0; i < w.fibers; i++) w.k.spawn(`o-t${i}`, timed, w, [2, i + 1]);
  yield* nest(w, middle);
  yield* w.r.ltimer(3);
}

function* main(w: World) {
  yield* w.r.sim(outer, w);
}

/** The parameters of `logicalTimers` (see its `params` schema for ranges and defaults). */
export type LogicalTimersParams = {
  /** Timer fibers in each region. */
  readonly fibers: number;
  /** Messages sent down through the nested regions. */
  readonly messages: number;
};

/** `nested` passes; `parent-future` has an inner fiber wait for the outer region's future. */
export const logicalTimers: Scenario<LogicalTimersParams> = defineScenario({
  name: "logical-timers",
  description: "logical-time regions three deep: timers in each, messages across the boundaries",
  params: z.object({
    fibers: z.number().int().min(0).max(16).default(2),
    messages: z.number().int().min(0).max(64).default(3),
  }),
  variants: {
    nested: {
      description: "the outer region feeds the innermost one at its current instant",
      // Verified with no timer fibers and one message each way: 780 DPOR schedules (the
      // tickers' guards read every member, so each tick is dependent with every step).
      // `parent-future` deadlocks there in its first schedule.
      expect: {
        verdict: "pass",
        budget: { strategy: "random", runs: 500 },
        verify: { runs: 2_000, params: { fibers: 0, messages: 1 } },
      },
    },
    "parent-future": {
      description: "the outer feeder waits one outer tick first: the innermost region waits for " +
        "a time that cannot come before it ends",
      expect: { verdict: "deadlock", check: "deadlock", budget: { strategy: "random", runs: 5 } },
    },
  },
  stepsMax: ({ fibers, messages }) => 2_000 + 200 * (fibers + messages),
  setup(k, { fibers, messages }, variant) {
    const r = Regions.of(k);
    const w: World = {
      k,
      r,
      fibers,
      messages,
      down: new Mailbox<number>(k, "down"),
      up: new Mailbox<number>(k, "up"),
      late: variant === "parent-future",
    };
    k.spawn("main", main, w);
    k.invariant("delivered", () => {
      const got = [w.down.received, w.up.received];
      return (got[0] === messages && got[1] === messages) ||
        `received ${got[0]} of ${messages} down and ${got[1]} of ${messages} up`;
    });
  },
});
