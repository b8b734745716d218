import { assert, assertEquals, assertMatch } from "../deps.ts";
import { Clock } from "./clock.ts";
import { Kernel, type Mutex } from "./kernel.ts";
import { RandomStrategy } from "./random.ts";
import { ReplayStrategy } from "./replay.ts";
import type { Strategy } from "./strategy.ts";

function kernel(strategy: Strategy = new RandomStrategy(), seed = 1, stepsMax = 10_000) {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax }, strategy, seed);
  return k;
}

function* nap(clock: Clock, ticks: number, log: string[], name: string) {
  yield* clock.sleep(ticks);
  log.push(`${name}@${clock.now}`);
}

function* busy(clock: Clock, steps: number) {
  for (let i = 0; i < steps; i++) yield* clock.work(1);
}

Deno.test("timers fire in deadline order even when busy fibers carry time past both", () => {
  for (let seed = 0; seed < 200; seed++) {
    const k = kernel(new RandomStrategy(), seed);
    const clock = Clock.of(k);
    const log: string[] = [];
    k.spawn("late", nap, clock, 10, log, "late");
    k.spawn("early", nap, clock, 5, log, "early");
    k.spawn("busy", busy, clock, 30);
    assertEquals(k.execute().verdict, "pass");
    assertEquals(log.map((l) => l.split("@")[0]), ["early", "late"], `seed ${seed}`);
  }
});

Deno.test("with nothing to run, the clock jumps: a simulated hour takes a few steps", () => {
  const k = kernel();
  const clock = Clock.of(k);
  const log: string[] = [];
  k.spawn("sleeper", nap, clock, 3_600_000_000, log, "s");
  const o = k.execute();
  assertEquals([o.verdict, o.step, k.now], ["pass", 1, 3_600_000_000]);
  assertEquals(log, ["s@3600000000"]);
});

Deno.test("ties fire in the order set by default, and no choice is recorded for them", () => {
  for (let seed = 0; seed < 100; seed++) {
    const k = kernel(new RandomStrategy(), seed);
    const clock = Clock.of(k);
    const log: string[] = [];
    for (const name of ["a", "b", "c"]) k.spawn(name, nap, clock, 7, log, name);
    assertEquals(k.execute().verdict, "pass");
    assertEquals(log, ["a@7", "b@7", "c@7"]);
    assertEquals(k.decisionCount, 0);
  }
});

Deno.test("explored ties fire in every order, each a recorded choice that replays", () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 200; seed++) {
    const k = kernel(new RandomStrategy(), seed);
    const clock = Clock.of(k);
    clock.ties = "explore";
    const log: string[] = [];
    for (const name of ["a", "b", "c"]) k.spawn(name, nap, clock, 7, log, name);
    assertEquals(k.execute().verdict, "pass");
    seen.add(log.join(" "));
    const again = kernel(new ReplayStrategy(k.decisions()));
    const clock2 = Clock.of(again);
    clock2.ties = "explore";
    const log2: string[] = [];
    for (const name of ["a", "b", "c"]) again.spawn(name, nap, clock2, 7, log2, name);
    again.execute();
    assertEquals(log2, log);
  }
  assertEquals(seen.size, 6);
});

Deno.test("work costs its ticks; a timer's wake-up costs none", () => {
  const k = kernel();
  const clock = Clock.of(k);
  const log: string[] = [];
  k.spawn("w", busy, clock, 1);
  k.spawn("n", nap, clock, 0, log, "n");
  assertEquals(k.execute().verdict, "pass");
  assertEquals(k.now, 1);
});

function* sleepBad(clock: Clock) {
  yield* clock.sleep(-1);
}

Deno.test("a negative sleep is a crash of the scenario with a clear message", () => {
  const k = kernel();
  k.spawn("bad", sleepBad, Clock.of(k));
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["crash", "RangeError"]);
  assertMatch(o.message, /Cannot sleep -1 ticks/);
});

function* lockForever(m: Mutex) {
  yield* m.lock();
  yield* m.lock();
}

Deno.test("a deadlock is still found once every pending timer has fired", () => {
  const k = kernel();
  const clock = Clock.of(k);
  const log: string[] = [];
  k.spawn("stuck", lockForever, k.mutex("m"));
  k.spawn("sleeper", nap, clock, 1000, log, "s");
  const o = k.execute();
  assertEquals(o.verdict, "deadlock");
  assertEquals(log, ["s@1000"]);
  assertMatch(o.message, /stuck waits for lock m/);
});

Deno.test("a timer's wait reason names its deadline", () => {
  const k = kernel();
  const clock = Clock.of(k);
  k.spawn("s", nap, clock, 50, [], "s");
  const f = k.fiber(0)!;
  assert(!k.isReady(f));
  assertMatch(f.pending!.guard!.waitReason(f), /a timer at 50 \(now 0\)/);
  assertEquals(clock.pending, 1);
});

Deno.test("each run has its own clock", () => {
  const k = kernel();
  const a = Clock.of(k);
  k.reset({ cores: 0, stepsMax: 10 }, new RandomStrategy(), 2);
  assert(Clock.of(k) !== a);
  assertEquals(Clock.of(k), Clock.of(k));
});
