/**
 * Clock synchronisation between cores with drifting clocks over a network
 * with delays drawn from the seed: Cristian's algorithm and the Berkeley
 * algorithm, each with a broken variant that ignores the round trip.
 *
 * One tick is one microsecond. Every step costs `stepTicks`, messages take
 * between `minDelay` and `maxDelay` ticks, and cores' clocks drift by up to
 * `driftPpmMax` parts per million from offsets of up to `offsetMax` ticks.
 *
 * The check (`sync-error`) allows each clock the error the correct algorithm
 * guarantees plus `slackTicks`: the application tolerates that much more. The
 * correct variants never need the slack. Ignoring the round trip costs about
 * the reply's delay, so with the default slack of 900 ticks a broken variant
 * fails only when some reply is slow and its poll fast: in 10.7% (`no-rtt`)
 * and 10.6% (`berkeley-no-rtt`) of 1,000 random runs. Set `slackTicks=0` to
 * judge against the bound itself: then nearly every run fails.
 *
 * @module
 */
import { z } from "zod";
import { Clock } from "../sim/clock.ts";
import { CoreClocks } from "../sim/core_clocks.ts";
import type { Kernel } from "../sim/kernel.ts";
import { type Guard, Op } from "../sim/op.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

/** A message between cores, with what the oracle needs to judge the result. */
interface Message {
  readonly kind: "poll" | "time" | "adjust" | "ack";
  readonly from: number;
  readonly value: number;
}

interface InFlight {
  readonly deliverAt: number;
  readonly seq: number;
  readonly msg: Message;
}

/**
 * One core's inbox. A message sent now arrives after a delay drawn from the
 * seed; a receive waits until the earliest message has arrived, and its
 * deadline lets the kernel jump the clock straight to that arrival.
 */
class Inbox implements Guard {
  readonly name: string;
  readonly id: number;
  readonly #k: Kernel;
  readonly #inFlight: InFlight[] = [];
  readonly sendOp: Op;
  readonly recvOp: Op;

  constructor(k: Kernel, name: string) {
    this.#k = k;
    this.name = name;
    this.id = k.newObject(name);
    this.sendOp = new Op("send", this.id, true, null, k.costOf("send"));
    this.recvOp = new Op("recv", this.id, true, this, k.costOf("recv"));
  }

  ready(): boolean {
    return this.#inFlight.length > 0 && this.#inFlight[0].deliverAt <= this.#k.now;
  }

  waitReason(): string {
    const first = this.#inFlight[0];
    return first === undefined
      ? `a message to ${this.name}`
      : `a message arriving at ${first.deliverAt}`;
  }

  put(msg: Message, deliverAt: number, seq: number): void {
    const q = this.#inFlight;
    let i = q.length;
    while (i > 0 && q[i - 1].deliverAt > deliverAt) i--;
    q.splice(i, 0, { deliverAt, seq, msg });
    this.recvOp.deadline = q[0].deliverAt;
  }

  take(): Message {
    const first = this.#inFlight.shift() as InFlight;
    this.recvOp.deadline = this.#inFlight.length === 0 ? -1 : this.#inFlight[0].deliverAt;
    return first.msg;
  }
}

/** The network: one inbox per core, delays drawn on the "delay" stream. */
class Network {
  readonly #k: Kernel;
  readonly #inboxes: Inbox[];
  readonly #minDelay: number;
  readonly #spread: number;
  #seq = 0;

  constructor(k: Kernel, cores: number, minDelay: number, maxDelay: number) {
    this.#k = k;
    this.#inboxes = Array.from({ length: cores }, (_, c) => new Inbox(k, `inbox${c}`));
    this.#minDelay = minDelay;
    this.#spread = maxDelay - minDelay + 1;
  }

  *send(to: number, msg: Message): Generator<Op, void, void> {
    const inbox = this.#inboxes[to];
    yield inbox.sendOp;
    const delay = this.#minDelay + this.#k.choose(this.#spread, "delay");
    inbox.put(msg, this.#k.now + delay, this.#seq++);
  }

  *recv(core: number): Generator<Op, Message, void> {
    const inbox = this.#inboxes[core];
    yield inbox.recvOp;
    return inbox.take();
  }
}

interface World {
  readonly k: Kernel;
  readonly clock: Clock;
  readonly clocks: CoreClocks;
  readonly net: Network;
  readonly variant: string;
  readonly clients: number;
  readonly rounds: number;
  readonly periodTicks: number;
  readonly minDelay: number;
  readonly slackTicks: number;
}

const SERVER = 0;
/**
 * Rounding of integer clock readings: the measured round trip (two
 * readings), its halving, and the server's reading may each be off by less
 * than a tick.
 */
const ROUNDING_TICKS = 2;

/**
 * The error Cristian's algorithm guarantees after a round trip of `rttTicks`
 * (true time) between cores `a` and `b`: half the round trip less the
 * minimum delay, plus what the two clocks can drift apart over the round
 * trip, plus rounding.
 */
function errorBound(w: World, a: number, b: number, rttTicks: number, driftTicks: number): number {
  const ppm = Math.abs(w.clocks.driftPpm(a)) + Math.abs(w.clocks.driftPpm(b));
  return rttTicks / 2 - w.minDelay + Math.ceil((ppm * driftTicks) / 1e6) + ROUNDING_TICKS;
}

function role(w: World): string {
  return w.variant.startsWith("berkeley") ? "master" : "server";
}

function checkError(w: World, core: number, bound: number, what: string): void {
  const error = w.clocks.read(core) - w.clocks.read(SERVER);
  w.k.assert(
    Math.abs(error) <= bound + w.slackTicks,
    `${what}: core ${core} is ${error} ticks off core ${SERVER}'s clock (the ${role(w)}'s), ` +
      `more than the bound ${bound.toFixed(1)} (round trip / 2 - min delay + drift + rounding)` +
      (w.slackTicks > 0 ? ` plus the slack of ${w.slackTicks}` : ""),
    "sync-error",
  );
}

/** Answers every request for the time with its own clock's reading. */
function* timeServer(w: World) {
  for (;;) {
    const m = yield* w.net.recv(SERVER);
    yield* w.net.send(m.from, { kind: "time", from: SERVER, value: w.clocks.read() });
  }
}

/** Cristian's client: asks the server, sets its clock to the reply plus half the round trip. */
function* cristianClient(w: World, me: number) {
  for (let round = 0; round < w.rounds; round++) {
    const t0 = w.clocks.read();
    const start = w.k.now; // the oracle's true time, for the bound only
    yield* w.net.send(SERVER, { kind: "poll", from: me, value: 0 });
    const reply = yield* w.net.recv(me);
    const rtt = w.clocks.read() - t0;
    const set = w.variant === "no-rtt" ? reply.value : reply.value + Math.floor(rtt / 2);
    w.clocks.set(me, set);
    const trueRtt = w.k.now - start;
    checkError(w, me, errorBound(w, me, SERVER, trueRtt, trueRtt), `round ${round}`);
    yield* w.clock.sleep(w.periodTicks);
  }
}

/** A Berkeley slave: reports its clock when polled, applies the adjustments it is sent. */
function* berkeleySlave(w: World, me: number) {
  for (;;) {
    const m = yield* w.net.recv(me);
    if (m.kind === "poll") {
      yield* w.net.send(SERVER, { kind: "time", from: me, value: w.clocks.read() });
    } else {
      w.clocks.adjust(me, m.value);
      yield* w.net.send(SERVER, { kind: "ack", from: me, value: 0 });
    }
  }
}

/**
 * The Berkeley master: polls every slave, estimates each one's offset from
 * its reply and the round trip, moves every clock (its own too) to the
 * average, and checks the result once every slave has acknowledged.
 */
function* berkeleyMaster(w: World) {
  const n = w.clients;
  const sentAt = new Array<number>(n + 1).fill(0);
  const startTrue = new Array<number>(n + 1).fill(0);
  const offset = new Array<number>(n + 1).fill(0);
  const rttTrue = new Array<number>(n + 1).fill(0);
  const replyTrue = new Array<number>(n + 1).fill(0);
  for (let round = 0; round < w.rounds; round++) {
    for (let s = 1; s <= n; s++) {
      sentAt[s] = w.clocks.read();
      startTrue[s] = w.k.now;
      yield* w.net.send(s, { kind: "poll", from: SERVER, value: 0 });
    }
    for (let got = 0; got < n; got++) {
      const m = yield* w.net.recv(SERVER);
      const now = w.clocks.read();
      const rtt = now - sentAt[m.from];
      offset[m.from] = w.variant === "berkeley-no-rtt"
        ? m.value - now
        : m.value + Math.floor(rtt / 2) - now;
      rttTrue[m.from] = w.k.now - startTrue[m.from];
      replyTrue[m.from] = w.k.now;
    }
    let sum = 0;
    for (let s = 1; s <= n; s++) sum += offset[s];
    const average = Math.floor(sum / (n + 1));
    w.clocks.adjust(SERVER, average);
    for (let s = 1; s <= n; s++) {
      yield* w.net.send(s, { kind: "adjust", from: SERVER, value: average - offset[s] });
    }
    for (let got = 0; got < n; got++) yield* w.net.recv(SERVER);
    for (let s = 1; s <= n; s++) {
      // The estimate's error, plus the drift since it was taken, plus the
      // rounding of the average and of the adjustment.
      const drifted = rttTrue[s] + (w.k.now - replyTrue[s]);
      const bound = errorBound(w, s, SERVER, rttTrue[s], drifted) + 2;
      checkError(w, s, bound, `round ${round}`);
    }
    yield* w.clock.sleep(w.periodTicks);
  }
}

/** A size DPOR exhausts: one client, one round, delays of 0 or 1 tick, no drift or offset. */
const TINY = { clients: 1, rounds: 1, minDelay: 0, maxDelay: 1, driftPpmMax: 0, offsetMax: 0 };

/** The parameters of `clockSync` (see its `params` schema for ranges and defaults). */
export type ClockSyncParams = {
  /** Client cores synchronising with the server. */
  readonly clients: number;
  /** Synchronisation rounds each client (or the Berkeley master) runs. */
  readonly rounds: number;
  /** Ticks between rounds. */
  readonly periodTicks: number;
  /** The shortest message delay, in ticks. */
  readonly minDelay: number;
  /** The longest message delay, in ticks. */
  readonly maxDelay: number;
  /** The largest clock drift, in parts per million. */
  readonly driftPpmMax: number;
  /** The largest initial clock offset, in ticks. */
  readonly offsetMax: number;
  /** Ticks every step costs. */
  readonly stepTicks: number;
  /** Error the check allows beyond what the correct algorithm guarantees. */
  readonly slackTicks: number;
};

/** `cristian` and `berkeley` pass; `no-rtt` and `berkeley-no-rtt` ignore the round trip. */
export const clockSync: Scenario<ClockSyncParams> = defineScenario({
  name: "clock-sync",
  description: "clients synchronise drifting core clocks with a time server over a slow network",
  params: z.object({
    clients: z.number().int().min(1).max(32).default(3),
    rounds: z.number().int().min(1).max(100_000).default(3),
    periodTicks: z.number().int().min(0).default(1_000_000),
    minDelay: z.number().int().min(0).default(100),
    maxDelay: z.number().int().min(0).default(2_000),
    driftPpmMax: z.number().int().min(0).max(100_000).default(100),
    offsetMax: z.number().int().min(0).max(1_000_000_000).default(10_000_000),
    stepTicks: z.number().int().min(0).max(1_000_000).default(1),
    /** Error tolerated beyond the algorithm's bound. */
    slackTicks: z.number().int().min(0).max(1_000_000_000).default(900),
  }).refine((p) => p.minDelay <= p.maxDelay, "minDelay must not exceed maxDelay"),
  variants: {
    cristian: {
      description: "Cristian's algorithm: the server's reading plus half the round trip",
      expect: {
        verdict: "pass",
        budget: { strategy: "random", runs: 1_000 },
        verify: { runs: 3_000, params: { ...TINY, maxDelay: 3, driftPpmMax: 1, offsetMax: 2 } },
      },
    },
    "no-rtt": {
      description: "the client takes the server's reading as it is, ignoring the round trip",
      expect: { verdict: "bug", check: "sync-error", budget: { strategy: "random", runs: 200 } },
    },
    berkeley: {
      description: "the Berkeley algorithm: the master averages round-trip-corrected offsets",
      expect: {
        verdict: "pass",
        budget: { strategy: "random", runs: 1_000 },
        verify: { runs: 100, params: TINY },
      },
    },
    "berkeley-no-rtt": {
      description: "the Berkeley master takes each slave's reading as it is",
      expect: { verdict: "bug", check: "sync-error", budget: { strategy: "random", runs: 200 } },
    },
  },
  cores: ({ clients }) => clients + 1,
  stepsMax: ({ clients, rounds }) => 1_000 + 20 * clients * rounds,
  setup(k, p, variant) {
    k.setCost("send", p.stepTicks);
    k.setCost("recv", p.stepTicks);
    const cores = p.clients + 1;
    const w: World = {
      k,
      clock: Clock.of(k),
      clocks: new CoreClocks(k, { cores, driftPpmMax: p.driftPpmMax, offsetMax: p.offsetMax }),
      net: new Network(k, cores, p.minDelay, p.maxDelay),
      variant,
      clients: p.clients,
      rounds: p.rounds,
      periodTicks: p.periodTicks,
      minDelay: p.minDelay,
      slackTicks: p.slackTicks,
    };
    if (variant === "cristian" || variant === "no-rtt") {
      k.spawn({ name: "server", daemon: true }, timeServer, w);
      for (let c = 1; c <= p.clients; c++) k.spawn(`client${c}`, cristianClient, w, c);
    } else {
      k.spawn("master", berkeleyMaster, w);
      for (let c = 1; c <= p.clients; c++) {
        k.spawn({ name: `slave${c}`, daemon: true }, berkeleySlave, w, c);
      }
    }
  },
});
