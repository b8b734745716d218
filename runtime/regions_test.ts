import fc from "fast-check";
import { assert, assertEquals, assertMatch } from "../deps.ts";
import type { Cell } from "../sim/cell.ts";
import { Kernel } from "../sim/kernel.ts";
import { type Guard, Op } from "../sim/op.ts";
import type { Outcome } from "../sim/outcome.ts";
import { RandomStrategy } from "../sim/random.ts";
import { ReplayStrategy } from "../sim/replay.ts";
import type { Strategy } from "../sim/strategy.ts";
import { z } from "zod";
import { DfsStrategy } from "../sim/dfs.ts";
import { DporStrategy } from "../sim/dpor.ts";
import { exploreExhaustive } from "../sim/exhaustive.ts";
import { makeTarget } from "../sim/explore.ts";
import { defineScenario } from "../sim/scenario.ts";
import { Regions } from "./regions.ts";

function kernel(strategy: Strategy = new RandomStrategy(), seed = 1, stepsMax = 10_000) {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax }, strategy, seed);
  return k;
}

/** A test-only unbounded FIFO: one object, sends never wait, receives wait for an item. */
class Queue<T> implements Guard {
  /** `ready` reads the items, which only sends and receives (writes of its object) change. */
  readonly footprintOnly = true;
  readonly #items: T[] = [];
  readonly #send: Op;
  readonly #recv: Op;
  constructor(k: Kernel, name: string) {
    const id = k.newObject(name);
    this.#send = new Op("send", id, true);
    this.#recv = new Op("recv", id, true, this);
  }
  ready(): boolean {
    return this.#items.length > 0;
  }
  waitReason(): string {
    return "a message";
  }
  *send(v: T): Generator<Op, void, void> {
    yield this.#send;
    this.#items.push(v);
  }
  *recv(): Generator<Op, T, void> {
    yield this.#recv;
    return this.#items.shift() as T;
  }
}

/** Runs `build` under `seed` and gives the outcome. */
function run(seed: number, build: (k: Kernel, r: Regions) => void, strategy?: Strategy): Outcome {
  const k = kernel(strategy ?? new RandomStrategy(), seed);
  build(k, Regions.of(k));
  return k.execute();
}

// ---- one region -----------------------------------------------------------

function* timed(r: Regions, k: Kernel, waits: number[], log: string[]) {
  const me = k.current!.name;
  for (const t of waits) {
    const before = r.lclock();
    yield* r.ltimer(t);
    k.assert(r.lclock() === before + t, `${me}: ltimer(${t}) at ${before} woke at ${r.lclock()}`);
    log.push(`${me}@${r.lclock()}`);
  }
}

function* spawnAll(r: Regions, k: Kernel, plans: number[][], log: string[]) {
  for (let i = 0; i < plans.length; i++) k.spawn(`f${i}`, timed, r, k, plans[i], log);
  yield* r.ltimer(0);
  return r.lclock();
}

function* inRegion(r: Regions, k: Kernel, plans: number[][], log: string[], out: number[]) {
  out.push(yield* r.sim(spawnAll, r, k, plans, log));
  out.push(r.rclock());
}

Deno.test("a logical timer wakes exactly at now + t, and the region waits for its fibers", () => {
  for (let seed = 0; seed < 100; seed++) {
    const log: string[] = [];
    const out: number[] = [];
    const o = run(
      seed,
      (k, r) => k.spawn("main", inRegion, r, k, [[3, 4], [7], [1, 1, 1]], log, out),
    );
    assertEquals(o.verdict, "pass", o.message);
    assertEquals(log.length, 6);
    // Every timer fired at its own deadline, in deadline order across fibers.
    const times = log.map((l) => Number(l.split("@")[1]));
    assertEquals(times, [...times].sort((a, b) => a - b));
    assertEquals(new Set(log), new Set(["f0@3", "f0@7", "f1@7", "f2@1", "f2@2", "f2@3"]));
    // The body returned at logical time 0; the region's 7 units took no virtual time.
    assertEquals(out, [0, 0]);
  }
});

function* releaseOrder(r: Regions, k: Kernel, log: string[]) {
  for (const name of ["a", "b", "c"]) k.spawn(name, timed, r, k, [5], log);
  yield* r.ltimer(0);
}

function* enter<A extends unknown[]>(
  r: Regions,
  body: (...args: A) => Generator<Op, unknown, void>,
  ...args: A
) {
  yield* r.sim(body, ...args);
}

Deno.test("fibers released at one logical instant run in every order across seeds", () => {
  const orders = new Set<string>();
  for (let seed = 0; seed < 300; seed++) {
    const log: string[] = [];
    const k = kernel(new RandomStrategy(), seed);
    const r = Regions.of(k);
    k.spawn("main", enter, r, releaseOrder, r, k, log);
    assertEquals(k.execute().verdict, "pass");
    orders.add(log.join(" "));
    // The order is a recorded scheduling choice: the trace replays it.
    const again = kernel(new ReplayStrategy(k.decisions()));
    const r2 = Regions.of(again);
    const log2: string[] = [];
    again.spawn("main", enter, r2, releaseOrder, r2, again, log2);
    assertEquals(again.execute().verdict, "pass");
    assertEquals(log2, log);
  }
  assertEquals(orders.size, 6, [...orders].join(" | "));
});

// ---- nesting --------------------------------------------------------------

function* level(
  r: Regions,
  k: Kernel,
  depth: number,
  trail: string[],
): Generator<Op, number, void> {
  k.spawn(`t${depth}`, timed, r, k, [2, 3], trail);
  yield* r.ltimer(1);
  if (depth > 1) {
    const before = r.lclock();
    const inner = yield* r.sim(level, r, k, depth - 1, trail);
    k.assert(r.lclock() === before, `nested region moved its parent from ${before}`);
    trail.push(`d${depth} inner ended at ${inner}, parent still ${r.lclock()}`);
  }
  yield* r.ltimer(10);
  return r.lclock();
}

Deno.test("nested regions take zero time in their parents, three deep", () => {
  for (let seed = 0; seed < 100; seed++) {
    const trail: string[] = [];
    const o = run(seed, (k, r) => k.spawn("main", enter, r, level, r, k, 3, trail));
    assertEquals(o.verdict, "pass", o.message);
    assert(trail.includes("d3 inner ended at 11, parent still 1"), trail.join("\n"));
    assert(trail.includes("d2 inner ended at 11, parent still 1"), trail.join("\n"));
  }
});

function* waitOuterThenWrite(r: Regions, flag: Cell<number>) {
  yield* r.ltimer(1);
  yield* flag.write(1);
}

function* readLate(r: Regions, flag: Cell<number>, seen: number[]) {
  yield* r.ltimer(100);
  seen.push(yield* flag.read());
}

function* outerWithFrozenTimer(r: Regions, k: Kernel, flag: Cell<number>, seen: number[]) {
  k.spawn("outer-timer", waitOuterThenWrite, r, flag);
  yield* r.sim(readLate, r, flag, seen);
}

Deno.test("an outer timer cannot fire while a nested region runs, however long it runs", () => {
  for (let seed = 0; seed < 50; seed++) {
    const seen: number[] = [];
    const o = run(seed, (k, r) => {
      const flag = k.cell("flag", 0);
      k.spawn("main", enter, r, outerWithFrozenTimer, r, k, flag, seen);
    });
    assertEquals([o.verdict, seen], ["pass", [0]]);
  }
});

// ---- crossing regions -----------------------------------------------------

function* feed(q: Queue<number>, r: Regions, afterTimer: boolean) {
  if (afterTimer) yield* r.ltimer(5);
  yield* q.send(r.lclock());
}

function* consume(r: Regions, k: Kernel, q: Queue<number>, got: string[]) {
  k.spawn("inner-timer", timed, r, k, [3], []);
  const v = yield* q.recv();
  got.push(`sent at outer ${v}, received at inner ${r.lclock()}`);
}

function* crossFeed(r: Regions, k: Kernel, q: Queue<number>, after: boolean, got: string[]) {
  k.spawn("feeder", feed, q, r, after);
  yield* r.sim(consume, r, k, q, got);
}

Deno.test("an inner fiber receiving from the outer region: the arrival instant is explored", () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 200; seed++) {
    const got: string[] = [];
    const o = run(seed, (k, r) => {
      const q = new Queue<number>(k, "q");
      k.spawn("main", enter, r, crossFeed, r, k, q, false, got);
    });
    assertEquals(o.verdict, "pass", o.message);
    seen.add(got[0]);
  }
  // The inner region may advance to 3 while its receiver waits on the outer
  // region: a receive takes an unknown amount of logical time.
  assertEquals([...seen].sort(), [
    "sent at outer 0, received at inner 0",
    "sent at outer 0, received at inner 3",
  ]);
});

Deno.test("an inner fiber waiting for the outer region's future deadlocks, and says why", () => {
  const o = run(1, (k, r) => {
    const q = new Queue<number>(k, "q");
    k.spawn("main", enter, r, crossFeed, r, k, q, true, []);
  });
  assertEquals(o.verdict, "deadlock");
  assertMatch(o.message, /feeder waits for logical timer of sim0 at 5/);
  assertMatch(o.message, /sim0 is at 0, held while main runs nested region sim1/);
});

function* measure(r: Regions, q: Queue<number>) {
  yield* r.ltimer(7);
  yield* q.send(r.lclock());
}

function* useMeasured(r: Regions, q: Queue<number>, out: number[]) {
  yield* r.ltimer(2);
  const t = yield* q.recv();
  const before = r.lclock();
  yield* r.ltimer(t);
  out.push(before, r.lclock());
}

function* valueAcross(r: Regions, k: Kernel, q: Queue<number>, out: number[]) {
  yield* r.sim(measure, r, q);
  k.spawn("user", useMeasured, r, q, out);
}

Deno.test("a time measured in one region sets a timer in another as a plain duration", () => {
  const out: number[] = [];
  const o = run(3, (k, r) => {
    const q = new Queue<number>(k, "q");
    k.spawn("main", enter, r, valueAcross, r, k, q, out);
  });
  assertEquals(o.verdict, "pass", o.message);
  // 7 units of the inner region become 7 units of the outer one, from its own now.
  assertEquals(out, [2, 9]);
});

// ---- failures -------------------------------------------------------------

function* spin(flag: Cell<number>) {
  while ((yield* flag.read()) === 0) {
    // waits for logical time to pass, which it never can while this spins
  }
}

function* spinner(r: Regions, k: Kernel, flag: Cell<number>) {
  k.spawn("setter", waitOuterThenWrite, r, flag);
  yield* spin(flag);
}

Deno.test("a busy wait in a logical region is a zeno outcome whose trace replays", () => {
  const build = (k: Kernel, r: Regions) => {
    r.instantStepsMax = 50;
    k.spawn("main", enter, r, spinner, r, k, k.cell("flag", 0));
  };
  const k = kernel(new RandomStrategy(), 4);
  build(k, Regions.of(k));
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["zeno", "zeno"]);
  assertMatch(o.message, /sim0 took more than 50 steps at logical time 0/);
  assertMatch(o.message, /main 5\d/);
  const again = run(0, build, new ReplayStrategy(k.decisions()));
  assertEquals(again, o);
});

function* forever(r: Regions) {
  for (;;) yield* r.ltimer(1);
}

function* nestForever(r: Regions) {
  yield* r.sim(forever, r);
}

Deno.test("a nested region that never ends is zeno in its parent", () => {
  const o = run(1, (k, r) => {
    r.instantStepsMax = 100;
    k.spawn("main", enter, r, nestForever, r);
  });
  assertEquals([o.verdict, o.check], ["zeno", "zeno"]);
  assertMatch(o.message, /^sim0 took more than 100 steps at logical time 0/);
});

function* ltimerOutside(r: Regions) {
  yield* r.ltimer(1);
}

Deno.test("a logical timer outside any logical region is a crash naming the fiber", () => {
  const o = run(1, (k, r) => k.spawn("lost", ltimerOutside, r));
  assertEquals([o.verdict, o.fiber], ["crash", "lost"]);
  assertMatch(o.message, /lost called ltimer outside any logical region/);
});

function* lingering(r: Regions, gate: Cell<number>) {
  while ((yield* gate.read()) === 0) {
    // outlives the region that spawned it
  }
  yield* r.ltimer(1);
}

function* leaveDaemon(r: Regions, k: Kernel, gate: Cell<number>) {
  k.spawn({ name: "daemon", daemon: true }, lingering, r, gate);
  yield* k.pause();
}

function* outlive(r: Regions, k: Kernel, gate: Cell<number>) {
  yield* r.sim(leaveDaemon, r, k, gate); // does not wait for the daemon
  yield* gate.write(1);
  yield* r.rtimer(10);
}

Deno.test("a daemon that outlives its region cannot use its clock, and says so", () => {
  for (let seed = 0; seed < 20; seed++) {
    const o = run(seed, (k, r) => k.spawn("main", outlive, r, k, k.cell("gate", 0)));
    assertEquals([o.verdict, o.fiber], ["crash", "daemon"]);
    assertMatch(o.message, /daemon called ltimer in sim0, which has ended/);
  }
});

function* cheat(r: Regions, k: Kernel, to: number) {
  yield* r.ltimer(1);
  r.regionOf(k.current!)!.now = to;
  yield* k.pause();
}

Deno.test("the axiom monitor catches a clock moved outside a tick, or moved back", () => {
  const moved = run(1, (k, r) => k.spawn("main", enter, r, cheat, r, k, 50));
  assertEquals([moved.verdict, moved.check], ["bug", "time-axiom"]);
  assertMatch(moved.message, /moved from 1 to 50 in a step of main: only its ticker may move it/);
  const back = run(1, (k, r) => k.spawn("main", enter, r, cheat, r, k, 0));
  assertEquals([back.verdict, back.check], ["bug", "time-axiom"]);
  assertMatch(back.message, /went back from 1 to 0/);
});

function* realtimeBody(r: Regions, out: number[]) {
  yield* r.rtimer(40);
  out.push(r.rclock());
}

function* realtimeMain(r: Regions, out: number[]) {
  yield* r.rtimer(100);
  yield* r.realtime(realtimeBody, r, out);
  out.push(r.rclock());
}

Deno.test("a real-time region reads virtual time from its own start", () => {
  const out: number[] = [];
  const o = run(1, (k, r) => k.spawn("main", realtimeMain, r, out));
  assertEquals(o.verdict, "pass");
  assertEquals(out, [40, 140]);
});

// ---- exhaustive exploration shows exactly the orderings the semantics allows

/** Takes the next position from a shared counter: the order is observable state. */
function* released(r: Regions, seq: Cell<number>, order: string[], name: string) {
  yield* r.ltimer(5);
  order[yield* seq.fetchAdd(1)] = name;
}

function* releaseThree(r: Regions, k: Kernel, seq: Cell<number>, order: string[]) {
  for (const name of ["a", "b", "c"]) k.spawn(name, released, r, seq, order, name);
  yield* r.ltimer(0);
}

function* crossFeedCell(r: Regions, k: Kernel, q: Queue<number>, got: Cell<string>) {
  k.spawn("feeder", feed, q, r, false);
  yield* r.sim(consumeCell, r, k, q, got);
}

function* consumeCell(r: Regions, k: Kernel, q: Queue<number>, got: Cell<string>) {
  k.spawn("inner-timer", timed, r, k, [3], []);
  const v = yield* q.recv();
  yield* got.write(`sent at outer ${v}, received at inner ${r.lclock()}`);
}

/** Every final value of `observe()` over every schedule `strategy` explores. */
function outcomes(
  strategy: DfsStrategy | DporStrategy,
  build: (k: Kernel, r: Regions) => () => string,
): { seen: string[]; exhausted: boolean } {
  const seen = new Set<string>();
  const scenario = defineScenario({
    name: "explore-regions",
    description: "",
    params: z.object({}),
    variants: {
      v: { description: "", expect: { verdict: "pass", budget: { strategy: "dfs", runs: 1 } } },
    },
    setup(k) {
      const observe = build(k, Regions.of(k));
      k.invariant("record", () => {
        seen.add(observe());
        return true;
      });
    },
  });
  const result = exploreExhaustive(makeTarget(scenario, "v"), strategy, { runs: 10_000 });
  assertEquals(result.failures, []);
  return { seen: [...seen].sort(), exhausted: result.exhausted };
}

Deno.test("DFS and DPOR both show every order of fibers released at one instant", () => {
  const build = (k: Kernel, r: Regions) => {
    const order: string[] = [];
    k.spawn("main", enter, r, releaseThree, r, k, k.cell("seq", 0), order);
    return () => order.join("");
  };
  for (const strategy of [new DfsStrategy(), new DporStrategy()]) {
    const { seen, exhausted } = outcomes(strategy, build);
    assert(exhausted);
    assertEquals(seen, ["abc", "acb", "bac", "bca", "cab", "cba"], strategy.name);
  }
});

// The tick and the outer send do not commute although no footprint says so:
// the send makes the receiver runnable, which disables the tick. DPOR must
// treat the ticker's guard, which reads region state, as dependent with
// every step (a guard without footprintOnly), or it prunes the schedule
// where the tick comes first.
Deno.test("DFS and DPOR show exactly the inner instants a cross-region message can arrive at", () => {
  const build = (k: Kernel, r: Regions) => {
    const got = k.cell("got", "");
    k.spawn("main", enter, r, crossFeedCell, r, k, new Queue<number>(k, "q"), got);
    return () => got.peek();
  };
  for (const strategy of [new DfsStrategy(), new DporStrategy()]) {
    const { seen, exhausted } = outcomes(strategy, build);
    assert(exhausted);
    assertEquals(seen, [
      "sent at outer 0, received at inner 0",
      "sent at outer 0, received at inner 3",
    ], strategy.name);
  }
});

/** One step of a generated region program: a write, a read into the fiber's log, or a timer. */
type RegionStep =
  | { readonly op: "write"; readonly cell: number }
  | { readonly op: "read"; readonly cell: number }
  | { readonly op: "timer"; readonly t: number }
  | { readonly op: "send" }
  | { readonly op: "recv" };

function* regionFiber(
  me: number,
  r: Regions,
  cells: Cell<number>[],
  q: Queue<number>,
  steps: readonly RegionStep[],
  logs: string[][],
) {
  // Each fiber its own log: the order of independent steps is no outcome.
  const log: string[] = logs[me] = [];
  for (const s of steps) {
    if (s.op === "write") yield* cells[s.cell].write(me * 10 + r.lclock());
    else if (s.op === "read") log.push(`${me}:${yield* cells[s.cell].read()}@${r.lclock()}`);
    else if (s.op === "timer") yield* r.ltimer(s.t);
    else if (s.op === "send") yield* q.send(r.lclock());
    else log.push(`${me}<${yield* q.recv()}@${r.lclock()}`);
  }
}

function* regionProgram(
  r: Regions,
  k: Kernel,
  cells: Cell<number>[],
  q: Queue<number>,
  fibers: readonly (readonly RegionStep[])[],
  logs: string[][],
) {
  for (let i = 0; i < fibers.length; i++) {
    k.spawn(`f${i}`, regionFiber, i + 1, r, cells, q, fibers[i], logs);
  }
  yield* r.ltimer(1);
}

// Timers trust their footprint (the region's clock): on generated programs of
// writes, reads, timers and a mailbox in a logical region, DPOR must still
// reach exactly the final logs DFS reaches.
Deno.test("DPOR reaches exactly DFS's outcomes on generated logical-region programs", () => {
  const step: fc.Arbitrary<RegionStep> = fc.oneof(
    fc.record({ op: fc.constant("write" as const), cell: fc.integer({ min: 0, max: 1 }) }),
    fc.record({ op: fc.constant("read" as const), cell: fc.integer({ min: 0, max: 1 }) }),
    fc.record({ op: fc.constant("timer" as const), t: fc.integer({ min: 0, max: 2 }) }),
  );
  const program = fc.array(fc.array(step, { minLength: 1, maxLength: 3 }), {
    minLength: 1,
    maxLength: 3,
  });
  fc.assert(
    fc.property(program, fc.boolean(), (fibers, mail) => {
      // With `mail`, the first fiber ends with a send and the last with a receive.
      const plan: RegionStep[][] = fibers.map((f) => [...f]);
      if (mail) {
        plan[0].push({ op: "send" });
        plan[plan.length - 1].push({ op: "recv" });
      }
      const build = (k: Kernel, r: Regions) => {
        const cells = [k.cell("x", 0), k.cell("y", 0)];
        const logs: string[][] = [];
        k.spawn(
          "main",
          enter,
          r,
          regionProgram,
          r,
          k,
          cells,
          new Queue<number>(k, "q"),
          plan,
          logs,
        );
        return () => `${logs.map((l) => l.join(" ")).join(" / ")} | ${cells.map((c) => c.peek())}`;
      };
      const dfs = outcomes(new DfsStrategy(), build);
      const dpor = outcomes(new DporStrategy(), build);
      assert(dfs.exhausted && dpor.exhausted);
      assertEquals(dpor.seen, dfs.seen);
    }),
    { numRuns: 150, seed: 7 },
  );
});
