import { z } from "zod";
import { assert, assertEquals, assertNotEquals, assertThrows } from "../deps.ts";
import { lostUpdate } from "../scenarios/mod.ts";
import type { Cell } from "./cell.ts";
import { DfsStrategy, IterativeDfsStrategy } from "./dfs.ts";
import { DporStrategy } from "./dpor.ts";
import { type ExhaustiveStrategy, exploreExhaustive } from "./exhaustive.ts";
import { createStrategy, makeTarget, type Target } from "./explore.ts";
import type { Kernel } from "./kernel.ts";
import { defineScenario, UsageError } from "./scenario.ts";
import type { Mutex } from "./sync.ts";

// A small program with races, a lock and a value choice: every final state
// is recorded by an end invariant, so two explorations can be compared.
const finals: string[] = [];

function* racer(x: Cell<number>, k: Kernel) {
  const v = yield* x.read();
  yield* x.write(v + 1 + k.choose(2));
}

function* locker(x: Cell<number>, m: Mutex) {
  yield* m.lock();
  const v = yield* x.read();
  yield* x.write(v * 2);
  yield* m.unlock();
}

const mixed = defineScenario({
  name: "order-mixed",
  description: "races, a lock and a choice (tests only)",
  params: z.object({ racers: z.number().int().default(2), lockers: z.number().int().default(1) }),
  variants: {
    v: { description: "-", expect: { verdict: "pass", budget: { strategy: "dfs", runs: 1 } } },
  },
  setup(k, { racers, lockers }) {
    const x = k.cell("x", 1);
    const m = k.mutex("m");
    for (let i = 0; i < racers; i++) k.spawn(`r${i}`, racer, x, k);
    for (let i = 0; i < lockers; i++) k.spawn(`l${i}`, locker, x, m);
    k.invariant("record", () => {
      finals.push(String(x.peek()));
      return true;
    });
  },
});

function explore(target: Target, s: ExhaustiveStrategy, seed = 0) {
  finals.length = 0;
  const r = exploreExhaustive(target, s, { runs: 1_000_000, seed, keepGoing: true });
  assert(r.exhausted);
  return { r, all: [...finals], set: [...new Set(finals)].sort() };
}

Deno.test("dfs --order random walks the same tree in another order: same schedules, same finals", () => {
  const target = makeTarget(mixed, "v");
  const dfs = explore(target, new DfsStrategy());
  for (const seed of [1, 2, 3]) {
    const rnd = explore(target, new DfsStrategy({ order: "random" }), seed);
    assertEquals(rnd.r.schedules, dfs.r.schedules);
    assertEquals([...rnd.all].sort(), [...dfs.all].sort());
    assertNotEquals(rnd.all, dfs.all, "the order should differ");
  }
});

Deno.test("the random order is drawn from the seed: same seed, same order; other seed, other order", () => {
  const target = makeTarget(mixed, "v");
  const a = explore(target, new DfsStrategy({ order: "random" }), 7).all;
  const b = explore(target, new DfsStrategy({ order: "random" }), 7).all;
  const c = explore(target, new DfsStrategy({ order: "random" }), 8).all;
  assertEquals(a, b);
  assertNotEquals(a, c);
});

Deno.test("dpor --order random reaches exactly the final states of full DFS", () => {
  for (const params of [{ racers: 2, lockers: 1 }, { racers: 3, lockers: 0 }]) {
    const target = makeTarget(mixed, "v", { params });
    const dfs = explore(target, new DfsStrategy());
    const dpor = explore(target, new DporStrategy());
    assertEquals(dpor.set, dfs.set);
    for (const seed of [1, 2, 3, 4]) {
      const rnd = explore(target, new DporStrategy({ order: "random" }), seed);
      assertEquals(rnd.set, dfs.set, `seed ${seed}`);
      assert(rnd.r.schedules <= dfs.r.schedules);
    }
  }
});

Deno.test("delay bounding: 0 delays is one schedule however many fibers", () => {
  for (const fibers of [2, 5, 12]) {
    const target = makeTarget(lostUpdate, "locked", { params: { fibers } });
    const r = exploreExhaustive(target, new DfsStrategy({ delays: 0 }), { runs: 10 });
    assertEquals([r.schedules, r.exhausted, r.bound], [1, true, "0 delays"]);
  }
});

Deno.test("delay bounding: each bound explores more, and a high bound is the whole tree", () => {
  const target = makeTarget(mixed, "v");
  const full = explore(target, new DfsStrategy());
  let last = 0;
  for (let k = 0; k <= 20; k++) {
    const r = exploreExhaustive(target, new DfsStrategy({ delays: k }), {
      runs: 1e6,
      keepGoing: true,
    });
    assert(r.schedules >= last, `bound ${k}`);
    last = r.schedules;
    if (r.bound === "none") {
      assertEquals(r.schedules, full.r.schedules);
      return;
    }
  }
  throw new Error("20 delays did not cover the tree");
});

Deno.test("delay bounding finds the 8-fiber lost update with one delay, in a few schedules", () => {
  const target = makeTarget(lostUpdate, "racy", { params: { fibers: 8 } });
  const r = exploreExhaustive(target, new IterativeDfsStrategy({ kind: "delays" }), { runs: 100 });
  assertEquals(r.failures[0]?.outcome.check, "no-lost-update");
  assertEquals(r.bound, "1 delay");
  assert(r.schedules <= 10, `${r.schedules} schedules`);
});

Deno.test("iterative delay bounding ends with the whole tree, in any order", () => {
  const target = makeTarget(mixed, "v");
  const full = explore(target, new DfsStrategy());
  for (const order of ["default", "random"] as const) {
    const it = explore(target, new IterativeDfsStrategy({ kind: "delays", order }), 3);
    assertEquals(it.set, full.set);
    assertEquals(it.r.bound, "none");
  }
});

Deno.test("bad bounds and orders are usage errors", () => {
  const target = makeTarget(mixed, "v");
  assertThrows(() => createStrategy("dfs", target, { order: "nope" }), UsageError, "--order");
  assertThrows(() => createStrategy("random", target, { order: "random" }), UsageError, "--order");
  assertThrows(
    () => createStrategy("dpor", target, { delays: 1, dpor: "optimal" }),
    UsageError,
    "drop --dpor optimal",
  );
  assertThrows(
    () => createStrategy("dpor", target, { delays: 1, preemptions: 1 }),
    UsageError,
    "give one",
  );
  assertThrows(() => createStrategy("pct", target, { delays: 1 }), UsageError, "dfs or dpor");
  assertThrows(
    () => createStrategy("dfs", target, { delays: 1, preemptions: 1 }),
    UsageError,
    "give one",
  );
  assertThrows(() => new DfsStrategy({ delays: -1 }), RangeError);
});
