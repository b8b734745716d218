import { assert, assertEquals, assertMatch } from "../deps.ts";
import type { Fiber } from "./fiber.ts";
import { type Cell, Kernel, type Mutex } from "./kernel.ts";
import type { Op } from "./op.ts";
import { RandomStrategy } from "./random.ts";
import { ReplayStrategy } from "./replay.ts";
import type { Strategy } from "./strategy.ts";

function kernel(cores = 0, stepsMax = 1000, strategy: Strategy = new RandomStrategy(), seed = 1) {
  const k = new Kernel();
  k.reset({ cores, stepsMax }, strategy, seed);
  return k;
}

function* writeOnce(c: Cell<number>, v: number) {
  yield* c.write(v);
}

function* lockTwice(a: Mutex, b: Mutex) {
  yield* a.lock();
  yield* b.lock();
  yield* b.unlock();
  yield* a.unlock();
}

Deno.test("a run where every fiber finishes passes, with every step counted", () => {
  const k = kernel();
  const c = k.cell("c", 0);
  k.spawn("a", writeOnce, c, 1);
  k.spawn("b", writeOnce, c, 2);
  const o = k.execute();
  assertEquals(o.verdict, "pass");
  assertEquals(o.step, 2);
  assert(c.peek() === 1 || c.peek() === 2);
});

Deno.test("opposite lock order with a forced interleaving is a deadlock naming both waits", () => {
  // Replay fiber 0, then fiber 1: both hold their first lock.
  const k = kernel(0, 1000, new ReplayStrategy([0, 1]));
  const a = k.mutex("A"), b = k.mutex("B");
  k.spawn("ab", lockTwice, a, b);
  k.spawn("ba", lockTwice, b, a);
  const o = k.execute();
  assertEquals(o.verdict, "deadlock");
  assertMatch(o.message, /ab waits for lock B \(held by ba\)/);
  assertMatch(o.message, /ba waits for lock A \(held by ab\)/);
});

function* spin(flag: Cell<boolean>) {
  while (!(yield* flag.read())) {
    // waits for a flag nobody sets
  }
}

Deno.test("a spin loop hits the step limit with a hint", () => {
  const k = kernel(0, 50);
  k.spawn("spinner", spin, k.cell("flag", false));
  const o = k.execute();
  assertEquals(o.verdict, "step-limit");
  assertEquals(o.step, 50);
  assertMatch(o.message, /spin loop or an unfair schedule/);
});

function* thrower(c: Cell<number>) {
  yield* c.read();
  throw new TypeError("boom");
}

Deno.test("an exception in scenario code is a crash outcome naming the fiber", () => {
  const k = kernel();
  k.spawn("t", thrower, k.cell("c", 0));
  const o = k.execute();
  assertEquals(o.verdict, "crash");
  assertEquals(o.check, "TypeError");
  assertEquals(o.fiber, "t");
  assertEquals(o.step, 1);
  assertMatch(o.message, /boom/);
});

function* asserter(k: Kernel, c: Cell<number>) {
  const v = yield* c.read();
  k.assert(v === 1, `expected 1, read ${v}`);
}

Deno.test("a failed assertion is a bug outcome with its message", () => {
  const k = kernel();
  k.spawn("t", asserter, k, k.cell("c", 0));
  const o = k.execute();
  assertEquals([o.verdict, o.check, o.message, o.fiber], [
    "bug",
    "assert",
    "expected 1, read 0",
    "t",
  ]);
});

Deno.test("an exception in setup is a crash at step 0", () => {
  const k = kernel();
  const o = k.failSetup(new Error("bad world"));
  assertEquals([o.verdict, o.step], ["crash", 0]);
  assertEquals(k.execute().message, "setup threw: bad world");
});

function* counter(c: Cell<number>, n: number) {
  for (let i = 0; i < n; i++) yield* c.fetchAdd(1);
}

Deno.test("step invariants are checked after every step, end invariants at the end", () => {
  const k = kernel();
  const c = k.cell("c", 0);
  k.spawn("t", counter, c, 5);
  const seen: number[] = [];
  k.invariant("below-3", () => {
    seen.push(c.peek());
    return c.peek() < 3 || `c reached ${c.peek()}`;
  }, "step");
  const o = k.execute();
  assertEquals([o.verdict, o.check, o.step, o.message], ["bug", "below-3", 3, "c reached 3"]);
  assertEquals(seen, [1, 2, 3]);
});

function* parent(k: Kernel, c: Cell<number>) {
  const child = k.spawn("child", writeOnce, c, 7);
  const result = yield* k.join(child);
  const v = yield* c.read();
  k.assert(v === 7 && result === undefined, `join returned before the child wrote: ${v}`);
  return v;
}

Deno.test("join waits for the child spawned from fiber code", () => {
  for (let seed = 0; seed < 50; seed++) {
    const k = kernel(0, 1000, new RandomStrategy(), seed);
    k.spawn("parent", parent, k, k.cell("c", 0));
    assertEquals(k.execute().verdict, "pass");
    assertEquals(k.fiber(0)?.result, 7);
    assertEquals(k.fiber(1)?.parent?.name, "parent");
  }
});

function* chooser(k: Kernel, out: Cell<number>) {
  yield* out.write(k.choose(5) * 10 + k.choose(3));
}

Deno.test("choose draws through the strategy, is recorded and replays", () => {
  const k = kernel(0, 1000, new RandomStrategy(), 9);
  const out = k.cell("out", -1);
  k.spawn("c", chooser, k, out);
  k.execute();
  const recorded = k.decisions();
  assertEquals(recorded.length, 2);
  const again = kernel(0, 1000, new ReplayStrategy(recorded));
  const out2 = again.cell("out", -1);
  again.spawn("c", chooser, again, out2);
  again.execute();
  assertEquals(out2.peek(), out.peek());
  assertEquals(out.peek(), recorded[0] * 10 + recorded[1]);
});

Deno.test("choose covers its range and chance respects its probability", () => {
  const k = kernel();
  const seen = new Set<number>();
  let heads = 0;
  for (let i = 0; i < 2000; i++) {
    seen.add(k.choose(4));
    if (k.chance(0.25)) heads++;
  }
  assertEquals([...seen].sort(), [0, 1, 2, 3]);
  assert(heads > 400 && heads < 600, `heads ${heads}`);
  assertEquals(k.choose(1), 0);
});

function* twoWrites(c: Cell<number>, v: number) {
  yield* c.write(v);
  yield* c.write(v);
}

class Recorder implements Strategy {
  readonly name = "recorder";
  readonly picks: number[][] = [];
  options(): Record<string, number> {
    return {};
  }
  begin(): void {}
  pickFiber(eligible: readonly Fiber[], count: number): number {
    this.picks.push(eligible.slice(0, count).map((f) => f.id));
    return 0;
  }
  pickValue(): number {
    return 0;
  }
}

Deno.test("fibers sharing a core do not preempt each other", () => {
  const rec = new Recorder();
  const k = kernel(1, 1000, rec);
  const c = k.cell("c", 0);
  k.spawn("a", twoWrites, c, 1);
  k.spawn("b", twoWrites, c, 2);
  assertEquals(k.execute().verdict, "pass");
  // Only the very first step is a choice; then each fiber keeps the core.
  assertEquals(rec.picks, [[0, 1]]);
});

Deno.test("fibers on their own cores may be preempted at every step", () => {
  const rec = new Recorder();
  const k = kernel(0, 1000, rec);
  const c = k.cell("c", 0);
  k.spawn("a", twoWrites, c, 1);
  k.spawn("b", twoWrites, c, 2);
  k.execute();
  assertEquals(rec.picks, [[0, 1], [0, 1]]);
});

function* pauser(k: Kernel, c: Cell<number>) {
  yield* c.write(1);
  yield* k.pause();
  yield* c.write(2);
}

Deno.test("a pause lets another fiber of the same core run", () => {
  const rec = new Recorder();
  const k = kernel(1, 1000, rec);
  const c = k.cell("c", 0);
  k.spawn("p", pauser, k, c);
  k.spawn("q", twoWrites, c, 5);
  k.execute();
  assertEquals(rec.picks.length, 2);
  assertEquals(rec.picks[1], [0, 1]);
});

function* badYield(): Generator<Op, void, void> {
  yield 42 as unknown as Op;
}

Deno.test("yielding something that is not an operation is a crash that says what to write", () => {
  const k = kernel();
  k.spawn("bad", badYield);
  const o = k.execute();
  assertEquals(o.verdict, "crash");
  assertMatch(o.message, /not an operation.*yield\*/);
});

function* unlocker(m: Mutex) {
  yield* m.unlock();
}

Deno.test("unlocking a mutex one does not hold is a bug", () => {
  const k = kernel();
  k.spawn("u", unlocker, k.mutex("m"));
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["bug", "mutex-owner"]);
});

function* forever(c: Cell<number>) {
  for (;;) yield* c.fetchAdd(1);
}

Deno.test("daemons do not keep a run alive", () => {
  const k = kernel();
  const c = k.cell("c", 0);
  k.spawn({ name: "daemon", daemon: true }, forever, c);
  k.spawn("worker", writeOnce, k.cell("d", 0), 1);
  assertEquals(k.execute().verdict, "pass");
});

function* spawner(k: Kernel) {
  for (;;) {
    k.spawn("child", spawner, k);
    yield* k.pause();
  }
}

Deno.test("runaway spawning hits the fiber limit as a crash, not a hang", () => {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax: 100_000, fibersMax: 50 }, new RandomStrategy(), 1);
  k.spawn("root", spawner, k);
  const o = k.execute();
  assertEquals(o.verdict, "crash");
  assertMatch(o.message, /50 live fibers is the limit/);
});

Deno.test("a kernel reused across runs starts each run clean", () => {
  const k = new Kernel();
  const strategy = new RandomStrategy();
  const finals: number[] = [];
  for (let run = 0; run < 3; run++) {
    k.reset({ cores: 0, stepsMax: 100 }, strategy, 4);
    const c = k.cell("c", 0);
    k.spawn("a", counter, c, 3);
    k.execute();
    finals.push(c.peek());
    assertEquals(k.fiberCount, 1);
    assertEquals(k.objectName(c.id), "c");
  }
  assertEquals(finals, [3, 3, 3]);
});

function* readAndAssert(this: Kernel, x: Cell<number>) {
  const v = yield* x.read();
  this.assert(v >= 0, "never negative");
  return v;
}

function* parentWithStart(this: Kernel, x: Cell<number>, log: number[]) {
  yield* x.write(1);
  const child = yield* this.start("child", readAndAssert, x);
  log.push(child.spawnStep);
  const v = yield* this.join(child);
  return v;
}

function* parentWithSpawn(this: Kernel, x: Cell<number>, log: number[]) {
  yield* x.write(1);
  const child = this.spawn("child", readAndAssert, x);
  log.push(child.spawnStep);
  return yield* this.join(child);
}

Deno.test("fiber bodies get the kernel as `this`: spawn, join and assert need no argument", () => {
  const k = kernel();
  const x = k.cell("x", 0);
  const log: number[] = [];
  const p = k.spawn("parent", parentWithStart, x, log);
  const o = k.execute();
  assertEquals(o.verdict, "pass");
  assertEquals(p.result, 1);
});

Deno.test("k.start is a scheduling point of its own; k.spawn runs inside the parent's step", () => {
  // Another fiber writes x at its only step. With start, that write can fall
  // between the parent's write and the spawn; with spawn it never can.
  const between = { start: 0, spawn: 0 };
  for (const [name, body] of [["start", parentWithStart], ["spawn", parentWithSpawn]] as const) {
    for (let seed = 1; seed <= 200; seed++) {
      const k = kernel(0, 1000, new RandomStrategy(), seed);
      const x = k.cell("x", 0);
      const log: number[] = [];
      let parentWrite = -1;
      let otherWrite = -1;
      k.observe({
        onStep(f: Fiber, op: Op, kk: Kernel) {
          if (op.kind !== "write") return;
          if (f.name === "parent") parentWrite = kk.step;
          else otherWrite = kk.step;
        },
      });
      k.spawn("parent", body, x, log);
      k.spawn("other", writeOnce, x, 2);
      assertEquals(k.execute().verdict, "pass");
      if (otherWrite > parentWrite && otherWrite <= log[0]) between[name]++;
      if (name === "spawn") assertEquals(log[0], parentWrite, "spawned in the write's step");
    }
  }
  assert(between.start > 0, "start never let another fiber in before the spawn");
  assertEquals(between.spawn, 0);
});

Deno.test("ghost data is no scheduling point and shows in the final state", () => {
  const k = kernel();
  const m = k.mutex("m");
  const total = k.ghost("total (under m)", 0);
  const steps: string[] = [];
  k.observe({ onStep: (f: Fiber, op: Op) => void steps.push(`${f.name}:${op.kind}`) });
  for (const name of ["a", "b", "c"]) k.spawn(name, addUnderLock, m, total);
  assertEquals(k.execute().verdict, "pass");
  assertEquals(k.snapshot()["total (under m)"], 3);
  assertEquals(steps.filter((s) => !/:(lock|unlock)$/.test(s)), []);
  k.reset({ cores: 0, stepsMax: 10 }, new RandomStrategy(), 1);
  assertEquals(k.snapshot(), {}, "reset drops the ghosts");
});

function* addUnderLock(m: Mutex, total: { value: number }) {
  yield* m.lock();
  total.value++;
  yield* m.unlock();
}
