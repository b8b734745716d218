import { assert, assertEquals, assertMatch } from "../deps.ts";
import type { Cell } from "./cell.ts";
import { Kernel } from "./kernel.ts";
import { RandomStrategy } from "./random.ts";
import type { CondVar, Mutex, RwLock, Semaphore } from "./sync.ts";

function runs(n: number, build: (k: Kernel) => void) {
  const k = new Kernel();
  const s = new RandomStrategy();
  const outcomes = [];
  for (let seed = 0; seed < n; seed++) {
    k.reset({ cores: 0, stepsMax: 10_000 }, s, seed);
    build(k);
    outcomes.push(k.execute());
  }
  return outcomes;
}

function* reader(k: Kernel, l: RwLock, inside: Cell<number>, writing: Cell<boolean>) {
  yield* l.readLock();
  k.assert(!(yield* writing.read()), "a reader entered while a writer was inside");
  yield* inside.fetchAdd(1);
  yield* inside.fetchAdd(-1);
  yield* l.readUnlock();
}

function* writer(k: Kernel, l: RwLock, inside: Cell<number>, writing: Cell<boolean>) {
  yield* l.writeLock();
  k.assert((yield* inside.read()) === 0, "a writer entered while readers were inside");
  yield* writing.write(true);
  yield* writing.write(false);
  yield* l.writeUnlock();
}

Deno.test("a reader-writer lock keeps writers apart from readers and each other", () => {
  const outcomes = runs(500, (k) => {
    const l = k.rwlock("l");
    const inside = k.cell("inside", 0), writing = k.cell("writing", false);
    k.spawn("r1", reader, k, l, inside, writing);
    k.spawn("r2", reader, k, l, inside, writing);
    k.spawn("w1", writer, k, l, inside, writing);
    k.spawn("w2", writer, k, l, inside, writing);
  });
  for (const o of outcomes) assertEquals(o.verdict, "pass", o.message);
});

function* producer(m: Mutex, cv: CondVar, items: Cell<number>, n: number, signal: boolean) {
  for (let i = 0; i < n; i++) {
    yield* m.lock();
    yield* items.fetchAdd(1);
    if (signal) yield* cv.signal();
    yield* m.unlock();
  }
}

function* consumer(m: Mutex, cv: CondVar, items: Cell<number>, n: number) {
  for (let i = 0; i < n; i++) {
    yield* m.lock();
    while ((yield* items.read()) === 0) yield* cv.wait(m);
    yield* items.fetchAdd(-1);
    yield* m.unlock();
  }
}

Deno.test("condition variables hand items over; a missing signal deadlocks", () => {
  const build = (signal: boolean) => (k: Kernel) => {
    const m = k.mutex("m"), cv = k.condvar("cv"), items = k.cell("items", 0);
    k.spawn("c1", consumer, m, cv, items, 2);
    k.spawn("c2", consumer, m, cv, items, 1);
    k.spawn("p", producer, m, cv, items, 3, signal);
  };
  for (const o of runs(500, build(true))) assertEquals(o.verdict, "pass", o.message);
  const broken = runs(200, build(false)).filter((o) => o.verdict !== "pass");
  assert(broken.length > 0, "the missing signal was never found");
  assertEquals(broken[0].verdict, "deadlock");
  assertMatch(broken[0].message, /a signal on cv/);
});

function* limited(k: Kernel, s: Semaphore, inside: Cell<number>) {
  yield* s.acquire();
  const n = (yield* inside.fetchAdd(1)) + 1;
  k.assert(n <= 2, `${n} fibers inside a 2-permit section`);
  yield* inside.fetchAdd(-1);
  yield* s.release();
}

Deno.test("a semaphore admits at most its permits", () => {
  const outcomes = runs(500, (k) => {
    const s = k.semaphore("s", 2), inside = k.cell("inside", 0);
    for (let i = 0; i < 4; i++) k.spawn(`f${i}`, limited, k, s, inside);
  });
  for (const o of outcomes) assertEquals(o.verdict, "pass", o.message);
  const loose = runs(300, (k) => {
    const s = k.semaphore("s", 3), inside = k.cell("inside", 0);
    for (let i = 0; i < 4; i++) k.spawn(`f${i}`, limited, k, s, inside);
  }).filter((o) => o.verdict === "bug");
  assert(loose.length > 0, "three permits never let three fibers in");
});
