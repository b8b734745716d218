/**
 * A tiny language of concurrent programs over a few cells and locks, for the
 * DPOR property tests and the exploration bench: programs are data, so
 * fast-check can generate and shrink them, and one scenario runs any of them.
 */
import fc from "fast-check";
import { z } from "zod";
import type { Cell } from "./cell.ts";
import type { ExhaustiveStrategy } from "./exhaustive.ts";
import { Runner, type Target } from "./explore.ts";
import type { Kernel } from "./kernel.ts";
import { type Outcome, PrunedRun } from "./outcome.ts";
import { defineScenario } from "./scenario.ts";
import type { CondVar, Mutex, RwLock, Semaphore } from "./sync.ts";

/** One access to a cell. */
export type Access =
  | { op: "read"; cell: number }
  | { op: "write"; cell: number; value: number }
  | { op: "cas"; cell: number; expect: number; value: number }
  | { op: "assert-not"; cell: number; value: number };

/**
 * One item of a fiber: an access, accesses under one or two locks, under a
 * reader-writer lock or a semaphore permit, in a child fiber that is then
 * joined, or a condition-variable handshake on a flag (the signal inside
 * the lock or after it, or a bare broadcast, which often wakes nobody).
 */
export type Item =
  | Access
  | { op: "locked"; lock: number; body: Access[] }
  | { op: "nested"; outer: number; inner: number; body: Access }
  | AtomicItem
  | { op: "rlocked" | "wlocked" | "permit" | "fork"; body: Access[] }
  | { op: "notify" | "notify-after" | "await" | "broadcast" };

/**
 * One `k.atomic` step: reads `reads` and `writes`, then writes each cell of
 * `writes` with (the sum read + `value`) mod 3.
 */
export type AtomicItem = { op: "atomic"; reads: number[]; writes: number[]; value: number };

/** A program: one list of items per fiber. */
export type Program = Item[][];

/** The steps an item takes. */
export function itemSteps(item: Item): number {
  switch (item.op) {
    case "locked":
    case "rlocked":
    case "wlocked":
    case "permit":
      return 2 + item.body.length;
    case "fork":
      return 1 + item.body.length;
    case "nested":
      return 5;
    case "notify":
    case "notify-after":
      return 4;
    case "broadcast":
      return 1;
    case "await":
      return 3;
    default:
      return 1;
  }
}

/** The shared objects a program works on. */
interface World {
  readonly k: Kernel;
  readonly cells: Cell<number>[];
  readonly locks: Mutex[];
  readonly rw: RwLock;
  readonly permits: Semaphore;
  readonly flag: Cell<number>;
  readonly m: Mutex;
  readonly cv: CondVar;
}

function* child(w: World, body: Access[], reads: number[], me: number) {
  for (const a of body) yield* access(w.k, a, w.cells, reads, me);
}

function* access(k: Kernel, a: Access, cells: Cell<number>[], reads: number[], me: number) {
  const c = cells[a.cell];
  if (a.op === "read") reads.push(yield* c.read());
  else if (a.op === "write") yield* c.write(a.value);
  else if (a.op === "cas") reads.push((yield* c.cas(a.expect, a.value)) ? 1 : 0);
  else {
    const v = yield* c.read();
    reads.push(v);
    k.assert(v !== a.value, `fiber ${me} read ${v} from c${a.cell} after [${reads}]`);
  }
}

function* interpret(w: World, items: Item[], reads: number[], me: number) {
  const { k, cells, locks } = w;
  for (const item of items) {
    if (item.op === "rlocked" || item.op === "wlocked") {
      yield* item.op === "rlocked" ? w.rw.readLock() : w.rw.writeLock();
      for (const a of item.body) yield* access(k, a, cells, reads, me);
      yield* item.op === "rlocked" ? w.rw.readUnlock() : w.rw.writeUnlock();
    } else if (item.op === "permit") {
      yield* w.permits.acquire();
      for (const a of item.body) yield* access(k, a, cells, reads, me);
      yield* w.permits.release();
    } else if (item.op === "fork") {
      const c = k.spawn(`f${me}.child`, child, w, item.body, reads, me);
      yield* k.join(c);
    } else if (item.op === "notify") {
      yield* w.m.lock();
      yield* w.flag.write(1);
      yield* w.cv.signal();
      yield* w.m.unlock();
    } else if (item.op === "notify-after") {
      yield* w.m.lock();
      yield* w.flag.write(1);
      yield* w.m.unlock();
      yield* w.cv.signal();
    } else if (item.op === "broadcast") {
      yield* w.cv.broadcast();
    } else if (item.op === "await") {
      yield* w.m.lock();
      while ((yield* w.flag.read()) === 0) yield* w.cv.wait(w.m);
      reads.push(1);
      yield* w.m.unlock();
    } else if (item.op === "locked") {
      yield* locks[item.lock].lock();
      for (const a of item.body) yield* access(k, a, cells, reads, me);
      yield* locks[item.lock].unlock();
    } else if (item.op === "atomic") {
      const rs = item.reads.map((i) => cells[i]);
      const ws = item.writes.map((i) => cells[i]);
      reads.push(yield* k.atomic({ reads: rs, writes: ws }, () => atomically(rs, ws, item.value)));
    } else if (item.op === "nested") {
      yield* locks[item.outer].lock();
      yield* locks[item.inner].lock();
      yield* access(k, item.body, cells, reads, me);
      yield* locks[item.inner].unlock();
      yield* locks[item.outer].unlock();
    } else {
      yield* access(k, item as Access, cells, reads, me);
    }
  }
}

function atomically(reads: Cell<number>[], writes: Cell<number>[], value: number): number {
  let sum = value;
  for (const c of reads) sum += c.peek();
  for (const c of writes) sum += c.peek();
  for (const c of writes) c.poke(sum % 3);
  return sum;
}

/** The final states a program reaches: registers and cells. */
export const registers: number[][] = [];

/** Runs the program given as its parameter. */
export const programScenario = defineScenario({
  name: "generated-program",
  description: "a generated program (tests only)",
  params: z.object({ program: z.array(z.array(z.any())) }),
  variants: {
    only: {
      description: "-",
      expect: { verdict: "pass", budget: { strategy: "dfs", runs: 1 } },
    },
  },
  setup(k, { program }) {
    const world: World = {
      k,
      cells: [k.cell("c0", 0), k.cell("c1", 0), k.cell("c2", 0)],
      locks: [k.mutex("L0"), k.mutex("L1")],
      rw: k.rwlock("RW"),
      permits: k.semaphore("S", 1),
      flag: k.cell("flag", 0),
      m: k.mutex("M"),
      cv: k.condvar("CV"),
    };
    registers.length = 0;
    program.forEach((items, i) => {
      const reads: number[] = [];
      registers.push(reads);
      k.spawn(`f${i}`, interpret, world, items as Item[], reads, i);
    });
  },
});

const cell = fc.nat({ max: 2 });
const value = fc.nat({ max: 2 });
const accessArb: fc.Arbitrary<Access> = fc.oneof(
  fc.record({ op: fc.constant("read" as const), cell }),
  fc.record({ op: fc.constant("write" as const), cell, value }),
  fc.record({ op: fc.constant("cas" as const), cell, expect: value, value }),
  fc.record({ op: fc.constant("assert-not" as const), cell, value }),
);
const lock = fc.nat({ max: 1 });

/** A `k.atomic` step over one to three distinct cells, some read, some written. */
export const atomicItemArb: fc.Arbitrary<AtomicItem> = fc.record({
  cells: fc.uniqueArray(cell, { minLength: 1, maxLength: 3 }),
  written: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  value,
}).map(({ cells, written, value }) => {
  const writes = cells.filter((_, i) => written[i]);
  const reads = cells.filter((_, i) => !written[i]);
  return { op: "atomic", reads, writes, value };
});
const itemArb: fc.Arbitrary<Item> = fc.oneof(
  { weight: 4, arbitrary: accessArb },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("locked" as const),
      lock,
      body: fc.array(accessArb, { minLength: 1, maxLength: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("nested" as const),
      outer: lock,
      inner: lock,
      body: accessArb,
    }).filter((n) => n.outer !== n.inner),
  },
);

const syncItemArb: fc.Arbitrary<Item> = fc.oneof(
  { weight: 3, arbitrary: itemArb },
  ...(["rlocked", "wlocked", "permit", "fork"] as const).map((op) => ({
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant(op),
      body: fc.array(accessArb, { minLength: 1, maxLength: 2 }),
    }),
  })),
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ...(["notify", "notify-after", "await", "broadcast"] as const).map((op) => ({ op })),
    ),
  },
);

function programsOf(items: fc.Arbitrary<Item>, size: number): fc.Arbitrary<Program> {
  return fc.integer({ min: 2, max: 4 }).chain((fibers) => {
    const stepsMax = (fibers === 2 ? 6 : fibers === 3 ? 3 : 2) + size;
    const fiber = fc.array(items, { minLength: 1, maxLength: stepsMax })
      .map((items) => {
        const kept: Item[] = [];
        let steps = 0;
        for (const item of items) {
          if (steps + itemSteps(item) > stepsMax) continue;
          kept.push(item);
          steps += itemSteps(item);
        }
        return kept.length > 0
          ? kept
          : [items[0].op === "read" ? items[0] : { op: "read", cell: 0 }];
      });
    return fc.array(fiber, { minLength: fibers, maxLength: fibers }) as fc.Arbitrary<Program>;
  });
}

/** 2-4 fibers, each up to 6 steps, fewer when there are more fibers (so full DFS stays small). */
export const programArb: fc.Arbitrary<Program> = programsOf(itemArb, 0);

/**
 * Programs that also use a reader-writer lock, a semaphore, child fibers
 * that are joined, and a condition variable (whose signal is a value choice).
 */
export const syncProgramArb: fc.Arbitrary<Program> = programsOf(syncItemArb, 0);

/** Programs without assertions: every run ends with every fiber done or blocked. */
export const maximalProgramArb: fc.Arbitrary<Program> = programArb.map((p) =>
  p.map((items) => items.map(withoutAssert))
);

/** The same, with the synchronization primitives. */
export const maximalSyncProgramArb: fc.Arbitrary<Program> = syncProgramArb.map((p) =>
  p.map((items) => items.map(withoutAssert))
);

/**
 * A large program drawn from `seed`: `fibers` fibers of `stepsPerFiber`
 * steps each, from the same items but without assertions, so that runs go to
 * their end (for benchmarks at runtime sizes).
 */
export function largeProgram(fibers: number, stepsPerFiber: number, seed: number): Program {
  const fiber = fc.array(itemArb, { minLength: stepsPerFiber, maxLength: stepsPerFiber })
    .map((items) => {
      const kept: Item[] = [];
      let steps = 0;
      for (const item of items) {
        if (steps + itemSteps(item) > stepsPerFiber) continue;
        kept.push(withoutAssert(item));
        steps += itemSteps(item);
      }
      while (steps++ < stepsPerFiber) kept.push({ op: "read", cell: 0 });
      return kept;
    });
  const arb = fc.array(fiber, { minLength: fibers, maxLength: fibers });
  return fc.sample(arb, { seed, numRuns: 1 })[0];
}

function withoutAssert<T extends Item>(item: T): T {
  if (item.op === "assert-not") return { op: "read", cell: item.cell } as T;
  if (item.op === "nested") return { ...item, body: withoutAssert(item.body) };
  if ("body" in item && Array.isArray(item.body)) {
    return { ...item, body: item.body.map(withoutAssert) };
  }
  return item;
}

/**
 * Everything observable about the runs of an exploration of a generated
 * program: its final states (cells and registers), its failures, and how
 * many schedules it ran. For the DPOR property tests.
 */
export function observeExploration(
  target: Target,
  strategy: ExhaustiveStrategy,
  seed = 0,
): { finals: string[]; failures: string[]; schedules: number } {
  const finals = new Set<string>();
  const failures = new Set<string>();
  const runner = new Runner(target);
  let schedules = 0;
  for (;;) {
    let o: Outcome | null = null;
    try {
      o = runner.run(strategy, seed);
    } catch (e) {
      if (!(e instanceof PrunedRun)) throw e;
    }
    schedules++;
    if (o !== null) {
      const state = JSON.stringify({ cells: runner.kernel.snapshot(), registers });
      // A failure stops the run where it happens, so what else ran by then
      // depends on the interleaving: compare failures by what failed.
      if (o.verdict === "bug" || o.verdict === "crash") {
        failures.add(`${o.verdict} ${o.check}: ${o.message}`);
      } else {
        finals.add(`${o.verdict} ${state}`);
      }
    }
    if (!strategy.advance()) break;
    if (schedules > 50_000) throw new Error("exploration too large for this test");
  }
  return { finals: [...finals].sort(), failures: [...failures].sort(), schedules };
}

function* bufferSide(
  m: Mutex,
  cv: CondVar,
  count: Cell<number>,
  side: { readonly put: boolean; readonly items: number; readonly wake: Wake },
) {
  // A producer waits while the one slot is full, a consumer while it is empty.
  const blocked = side.put ? 1 : 0;
  for (let i = 0; i < side.items; i++) {
    yield* m.lock();
    while ((yield* count.read()) === blocked) yield* cv.wait(m);
    yield* count.write(side.put ? 1 : 0);
    if (side.wake === "signal-inside") yield* cv.signal();
    if (side.wake === "broadcast-inside") yield* cv.broadcast();
    yield* m.unlock();
    if (side.wake === "signal-after") yield* cv.signal();
    if (side.wake === "broadcast-after") yield* cv.broadcast();
  }
}

/** Where a bounded buffer's producers and consumers wake each other. */
export type Wake = "signal-inside" | "signal-after" | "broadcast-inside" | "broadcast-after";

/**
 * A bounded buffer of capacity 1 with one mutex and one condition variable,
 * shared by producers and consumers. With `signal`, a producer may wake the
 * other producer and the consumers then wait for ever (a known deadlock);
 * with `broadcast` it is correct. For the DPOR tests and bench.
 */
export const boundedBufferScenario = defineScenario({
  name: "bounded-buffer",
  description: "a one-slot buffer under one mutex and one condition variable (tests only)",
  params: z.object({
    producers: z.number().int().min(1).default(2),
    consumers: z.number().int().min(1).default(2),
    items: z.number().int().min(1).default(1),
    wake: z.enum(["signal-inside", "signal-after", "broadcast-inside", "broadcast-after"])
      .default("signal-after"),
  }),
  variants: {
    only: {
      description: "-",
      expect: { verdict: "pass", budget: { strategy: "dfs", runs: 1 } },
    },
  },
  setup(k, { producers, consumers, items, wake }) {
    const m = k.mutex("m");
    const cv = k.condvar("cv");
    const count = k.cell("count", 0);
    for (let i = 0; i < producers; i++) {
      k.spawn(`p${i}`, bufferSide, m, cv, count, { put: true, items, wake });
    }
    for (let i = 0; i < consumers; i++) {
      k.spawn(`c${i}`, bufferSide, m, cv, count, { put: false, items, wake });
    }
  },
});
