import { assert, assertEquals, assertMatch, assertThrows } from "../deps.ts";
import { Kernel } from "../sim/kernel.ts";
import { type Outcome, PrunedRun } from "../sim/outcome.ts";
import { z } from "zod";
import { DfsStrategy } from "../sim/dfs.ts";
import { DporStrategy } from "../sim/dpor.ts";
import type { ExhaustiveStrategy } from "../sim/exhaustive.ts";
import { makeTarget, Runner } from "../sim/explore.ts";
import { defineScenario } from "../sim/scenario.ts";
import { PctStrategy } from "../sim/pct.ts";
import { RandomStrategy } from "../sim/random.ts";
import type { Strategy } from "../sim/strategy.ts";
import { Channel, type ChannelFlaw, type TryPosted, type TryRetrieved } from "./channel.ts";

function kernel(stepsMax = 10_000, strategy: Strategy = new RandomStrategy(), seed = 1): Kernel {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax }, strategy, seed);
  return k;
}

function* script(ch: Channel<string>, log: unknown[]) {
  log.push(yield* ch.tryRetrieve());
  log.push(yield* ch.tryPost("a"));
  log.push(yield* ch.tryPost("b"));
  log.push(yield* ch.tryPost("c"));
  log.push(yield* ch.tryRetrieve());
  yield* ch.close();
  log.push(yield* ch.tryPost("d"));
  log.push(yield* ch.tryRetrieve());
  log.push(yield* ch.tryRetrieve());
  log.push(yield* ch.retrieve());
}

Deno.test("try forms give tagged results: empty, full, closed, and a drain after close", () => {
  const k = kernel();
  const ch = new Channel<string>(k, "ch", { capacity: 2 });
  const log: (TryPosted | TryRetrieved<string>)[] = [];
  k.spawn("t", script, ch, log);
  assertEquals(k.execute().verdict, "pass");
  assertEquals(log, [
    { tag: "empty" },
    { tag: "ok" },
    { tag: "ok" },
    { tag: "full" },
    { tag: "ok", value: "a" },
    { tag: "closed" },
    { tag: "ok", value: "b" },
    { tag: "closed" },
    { tag: "closed" },
  ]);
});

function* postAll(ch: Channel<number>, from: number, n: number) {
  for (let i = 0; i < n; i++) yield* ch.post(from + i);
}

function* takeN(ch: Channel<number>, n: number, got: number[]) {
  for (let i = 0; i < n; i++) {
    const r = yield* ch.retrieve();
    if (r.tag === "ok") got.push(r.value);
  }
}

Deno.test("a one-slot channel keeps FIFO order under every random schedule", () => {
  for (let seed = 0; seed < 300; seed++) {
    const k = kernel(10_000, new RandomStrategy(), seed);
    const ch = new Channel<number>(k, "ch", { capacity: 1 });
    const got: number[] = [];
    k.spawn("p", postAll, ch, 0, 5);
    k.spawn("c", takeN, ch, 5, got);
    assertEquals(k.execute().verdict, "pass");
    assertEquals(got, [0, 1, 2, 3, 4]);
  }
});

Deno.test("a full channel makes post wait (pushback) and a deadlock names the wait", () => {
  const k = kernel();
  const ch = new Channel<number>(k, "ch", { capacity: 2 });
  k.spawn("p", postAll, ch, 0, 3);
  const o = k.execute();
  assertEquals(o.verdict, "deadlock");
  assertMatch(o.message, /p waits for space in channel ch/);
  assertEquals(ch.peekLength(), 2);
});

Deno.test("retrieve on an open empty channel waits, and close wakes it with closed", () => {
  const k = kernel();
  const ch = new Channel<number>(k, "ch", { capacity: 2 });
  const got: number[] = [];
  k.spawn("c", takeN, ch, 1, got);
  const o = k.execute();
  assertEquals(o.verdict, "deadlock");
  assertMatch(o.message, /c waits for a message in channel ch \(empty\)/);
});

function* closeIt(ch: Channel<number>) {
  yield* ch.close();
  yield* ch.close();
}

function* retrieveOne(ch: Channel<number>, out: unknown[]) {
  out.push(yield* ch.retrieve());
}

Deno.test("close wakes every waiting consumer with closed, and closing twice is harmless", () => {
  for (let seed = 0; seed < 50; seed++) {
    const k = kernel(10_000, new RandomStrategy(), seed);
    const ch = new Channel<number>(k, "ch", { capacity: 1 });
    const out: unknown[] = [];
    k.spawn("c1", retrieveOne, ch, out);
    k.spawn("c2", retrieveOne, ch, out);
    k.spawn("x", closeIt, ch);
    assertEquals(k.execute().verdict, "pass");
    assertEquals(out, [{ tag: "closed" }, { tag: "closed" }]);
    assert(ch.peekClosed());
  }
});

Deno.test("an unbounded channel never waits, and fails clearly past its lengthMax", () => {
  const k = kernel();
  const ch = new Channel<number>(k, "ch", { capacity: "unbounded", lengthMax: 8 });
  k.spawn("p", postAll, ch, 0, 8);
  assertEquals(k.execute().verdict, "pass");
  assertEquals(ch.peekLength(), 8);

  const k2 = kernel();
  const ch2 = new Channel<number>(k2, "ch", { capacity: "unbounded", lengthMax: 8 });
  k2.spawn("p", postAll, ch2, 0, 9);
  const o = k2.execute();
  assertEquals([o.verdict, o.check], ["crash", "RangeError"]);
  assertMatch(o.message, /holds 8 messages, its lengthMax/);
});

Deno.test("bad capacities are refused with a clear error", () => {
  const k = kernel();
  assertThrows(() => new Channel(k, "ch", { capacity: 0 }), /capacity 0/);
  assertThrows(() => new Channel(k, "ch", { capacity: 1.5 }), /capacity 1.5/);
  assertThrows(() => new Channel(k, "ch", { capacity: "unbounded", lengthMax: 0 }), /lengthMax/);
});

/** Two producers post 2 each into a 2-slot channel; one consumer takes all 4. */
function race(flaw: ChannelFlaw | null, seed: number, strategy: Strategy): Outcome {
  const k = kernel(10_000, strategy, seed);
  const ch = new Channel<number>(k, "ch", { capacity: 2, flaw });
  const got: number[] = [];
  k.spawn("p0", postAll, ch, 0, 2);
  k.spawn("p1", postAll, ch, 10, 2);
  k.spawn("c", takeN, ch, 4, got);
  return k.execute();
}

Deno.test("racy-enqueue is caught as a lost message; the correct channel is not", () => {
  const pct = new PctStrategy({ depth: 3, steps: 40 });
  let found = -1;
  for (let seed = 0; seed < 500 && found < 0; seed++) {
    const o = race("racy-enqueue", seed, pct);
    if (o.verdict !== "pass") {
      assertEquals([o.verdict, o.check], ["bug", "no-lost-message"]);
      found = seed;
    }
  }
  assert(found >= 0, "racy-enqueue not found in 500 PCT runs");
  for (let seed = 0; seed < 500; seed++) assertEquals(race(null, seed, pct).verdict, "pass");
});

// ---- DPOR on channels -----------------------------------------------------------------

const channelProgram = defineScenario({
  name: "channel-program",
  description: "one producer, one consumer on a channel (tests only)",
  params: z.object({ capacity: z.number().int(), posts: z.number().int() }),
  variants: {
    only: { description: "-", expect: { verdict: "pass", budget: { strategy: "dfs", runs: 1 } } },
  },
  setup(k, { capacity, posts }) {
    const ch = new Channel<number>(k, "ch", { capacity });
    const got = k.cell("got", -1);
    k.spawn("p", function* () {
      for (let i = 0; i < posts; i++) yield* ch.post(i);
    });
    k.spawn("c", function* () {
      const r = yield* ch.retrieve();
      if (r.tag === "ok") yield* got.write(r.value);
    });
  },
});

/** The final states (cells and verdict) of every schedule, and how many schedules ran. */
function finals(params: { capacity: number; posts: number }, strategy: ExhaustiveStrategy) {
  const runner = new Runner(makeTarget(channelProgram, "only", { params }));
  const seen = new Set<string>();
  let schedules = 0;
  do {
    schedules++;
    try {
      const o = runner.run(strategy, 0);
      seen.add(`${o.verdict} ${JSON.stringify(runner.kernel.snapshot())}`);
    } catch (e) {
      if (!(e instanceof PrunedRun)) throw e;
    }
  } while (strategy.advance());
  return { states: [...seen].sort(), schedules };
}

Deno.test("DPOR reaches every final state of DFS on a channel, in far fewer schedules", () => {
  // A post and a retrieve touch different cells (tail and head, and the
  // stamps of different slots) except where one waits for the other.
  for (const params of [{ capacity: 2, posts: 1 }, { capacity: 1, posts: 2 }]) {
    const dfs = finals(params, new DfsStrategy());
    const dpor = finals(params, new DporStrategy());
    assertEquals(dpor.states, dfs.states);
    assert(dpor.schedules * 10 < dfs.schedules, `${dpor.schedules} vs ${dfs.schedules}`);
  }
});
