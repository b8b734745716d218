import { assert, assertEquals, assertMatch } from "../deps.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import type { Outcome } from "../sim/outcome.ts";
import type { Heap } from "./heap.ts";
import {
  arrivals,
  type JobContext,
  type JobOutcome,
  Reactor,
  type ReactorEvent,
  type ReactorFlaw,
  type StartupContext,
} from "./reactor.ts";
import { world } from "./_testing.ts";

function* startup(ctx: StartupContext): Action<void> {
  yield* ctx.arena.alloc({ imms: [0] }); // garbage
  ctx.root("config", yield* ctx.arena.alloc({ kind: "binary", imms: [7], name: "config" }));
  ctx.bind("fill", fill);
  ctx.bind("poke", pokeGlobal);
  ctx.bind("leak", leak);
}

/** Allocates n one-word objects, holding the last in a register; answers config * n. */
function* fill(ctx: JobContext, n: number): Action<number> {
  for (let i = 0; i < n; i++) yield* ctx.registers[0].write(yield* ctx.arena.alloc({ imms: [i] }));
  return n * (yield* ctx.heap.readImm(yield* ctx.global("config").read(), 0));
}

/** Writes into the global heap, which must never change after start-up. */
function* pokeGlobal(ctx: JobContext, n: number): Action<number> {
  yield* ctx.heap.writeImm(yield* ctx.global("config").read(), 0, n);
  return n;
}

/** Leaves a global root pointing into its arena: partial state. */
function* leak(ctx: JobContext, _n: number): Action<number> {
  yield* ctx.global("config").write(yield* ctx.arena.alloc({ imms: [1] }));
  return 0;
}

function* runIt(r: Reactor): Action<void> {
  yield* r.run(startup);
}

interface Run {
  outcome: Outcome;
  reactor: Reactor;
  heap: Heap;
  log: [number, JobOutcome, number][];
}

function runReactor(
  events: [string, number][],
  options: { seed?: number; workers?: number; flaw?: ReactorFlaw } = {},
): Run {
  const { k, heap } = world(options.seed ?? 1);
  const log: [number, JobOutcome, number][] = [];
  const reactor = new Reactor(k, heap, {
    workers: options.workers ?? 2,
    startupBytes: 128, // 64 bytes a worker: four one-word objects (16 bytes each)
    globalBytes: 64,
    queue: 2,
    flaw: options.flaw,
    onOutcome: (e, o, w) => log.push([e.id, o, w]),
  });
  const list: ReactorEvent[] = events.map(([channel, payload], id) => ({ id, channel, payload }));
  spawnAll(k, reactor, list);
  return { outcome: k.execute(), reactor, heap, log };
}

function spawnAll(k: Kernel, r: Reactor, events: ReactorEvent[]): void {
  k.spawn("reactor", runIt, r);
  k.spawn("events", arrivals, r, events, { delayMax: 2 });
}

Deno.test("start-up is compacted into a sealed global heap, then jobs run; overflow is reported", () => {
  for (let seed = 0; seed < 100; seed++) {
    const { outcome, reactor, heap, log } = runReactor([["fill", 2], ["fill", 5], ["fill", 4]], {
      seed,
    });
    assertEquals(outcome.verdict, "pass", outcome.message);
    assertEquals(reactor.phase, "stopped");
    assert(reactor.global.space.sealed);
    // Only the live config was copied; the garbage stayed behind and was freed.
    assertEquals(reactor.global.space.objects.map((o) => heap.get(o.origin).name), ["config"]);
    assertEquals(reactor.workerArenas.map((a) => [a.name, a.bytesMax, a.bytesUsed]), [
      ["startup/0", 64, 0],
      ["startup/1", 64, 0],
    ]);
    const byEvent = log.sort((a, b) => a[0] - b[0]).map(([, o]) => o);
    assertEquals(byEvent[0], { tag: "done", value: 14 });
    assertEquals(byEvent[1].tag, "failed");
    assertMatch((byEvent[1] as { reason: string }).reason, /exhausted: 16 bytes wanted, 0 free/);
    assertEquals(byEvent[2], { tag: "done", value: 28 });
    assertEquals([reactor.handled.peek(), reactor.failed.peek()], [2, 1]);
  }
});

Deno.test("an event on a channel with no callback is reported failed, not lost", () => {
  const { outcome, log } = runReactor([["nobody", 1]]);
  assertEquals(outcome.verdict, "pass");
  assertEquals(log[0][1], { tag: "failed", reason: "no callback bound to nobody" });
});

Deno.test("a job that writes into the global heap breaks global-heap-fixed", () => {
  const { outcome } = runReactor([["poke", 9]]);
  assertEquals([outcome.verdict, outcome.check], ["bug", "global-heap-fixed"]);
});

Deno.test("a job that leaves a root pointing into its arena fails the reset's free-safety", () => {
  const { outcome } = runReactor([["leak", 1]]);
  assertEquals([outcome.verdict, outcome.check], ["bug", "free-safety"]);
  assertMatch(outcome.message, /still reachable: config/);
});

Deno.test("two workers on one arena slice are caught when their jobs overlap", () => {
  const checks = new Set<string>();
  for (let seed = 0; seed < 50; seed++) {
    const { outcome } = runReactor([["fill", 2], ["fill", 2], ["fill", 2]], {
      seed,
      flaw: "shared-arena",
    });
    if (outcome.verdict !== "pass") checks.add(`${outcome.verdict} ${outcome.check}`);
  }
  assertEquals([...checks], ["bug arena-private"]);
});

function* bindLate(r: Reactor): Action<void> {
  yield* r.run(startup);
  r.bind("late", fill);
}

Deno.test("binding after start-up is an error of the model", () => {
  const { k, heap } = world();
  const r = new Reactor(k, heap, { workers: 1, startupBytes: 128, globalBytes: 64, queue: 1 });
  k.spawn("reactor", bindLate, r);
  k.spawn("events", arrivals, r, [], { delayMax: 0 });
  const o = k.execute();
  assertEquals([o.verdict, o.message], ["crash", "Cannot bind late after start-up"]);
});
