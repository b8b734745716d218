import { assert, assertEquals, assertMatch, assertThrows } from "../deps.ts";
import { createStrategy, makeTarget, sweep } from "../sim/explore.ts";
import { parseParams, UsageError } from "../sim/scenario.ts";
import { judgeVariant } from "./_judge.ts";
import { lastSystem, runtime } from "./runtime.ts";

/** Checks that judge the system end to end: ledgers here and the heaps' oracles. */
const END_TO_END = new Set([
  "one-outcome",
  "job-outcome",
  "delivered-once",
  "message-intact",
  "timer-once",
  "timer-object",
  "free-safety",
  "use-after-free",
  "double-free",
  "no-dangling",
  "live-set",
  "time-axioms",
]);

Deno.test("runtime/correct passes random and PCT runs, with two workers and with three", () => {
  for (const workers of [2, 3]) {
    for (const strategy of ["random", "pct"]) {
      const r = judgeVariant(runtime, "correct", { params: { workers }, strategy, runs: 40 });
      assert(r.ok, `${workers} workers, ${strategy}: ${r.outcome?.message}`);
    }
  }
});

Deno.test("runtime/correct exercises every part: stop-the-world start-up, retries, steals, moves", () => {
  const target = makeTarget(runtime, "correct");
  const total: Record<string, number> = {};
  const runs = 20;
  for (let seed = 1; seed <= runs; seed++) {
    const r = sweep(target, { strategy: createStrategy("random", target, {}), seed, runs: 1 });
    assertEquals(r.failures.length, 0);
    const stats = lastSystem()?.stats;
    assert(stats !== undefined);
    assertEquals(stats.startupCollections, 1, "the start-up script overflows once");
    for (const [k, v] of Object.entries(stats)) total[k] = (total[k] ?? 0) + v;
    const net = lastSystem()!.net;
    total.forwarded = (total.forwarded ?? 0) + net.marks.forward;
    total.moved = (total.moved ?? 0) + (net.peekWhere(0) !== 0 ? 1 : 0);
  }
  const parts = ["retries", "steals", "resets", "resetsWaited", "contextCollections", "moved"];
  for (const k of [...parts, "workRequests", "forwarded"]) {
    assert(total[k] > 0, `no ${k} in ${runs} runs: ${JSON.stringify(total)}`);
  }
  // Six events; one of them overflows a fresh arena (after the retry it fails).
  assertEquals(total.messages / runs, 6);
  assertEquals(total.timers / runs, 3);
});

Deno.test("runtime: each broken variant is found by random search and judged end to end", () => {
  const found: Record<string, RegExp> = {
    // The compaction frees the message under its reader's private reference.
    "gc-during-read": /freed o\d+, which is still reachable: c\d\.reading-c\d\.local0/,
    // The reset frees the list a pending timer still holds.
    "reset-with-timer": /freed o\d+, which is still reachable: timer\.e\d\.local0/,
    // A job offered back to the deque and retried too, after a thief took it.
    "steal-during-overflow": /(task|message of event) \d+ ran twice|ran twice/,
  };
  for (const [variant, message] of Object.entries(found)) {
    const r = judgeVariant(runtime, variant);
    assert(r.ok, `${variant} not found within its budget`);
    const outcome = r.failures[0].outcome;
    assertEquals(outcome.verdict, "bug", outcome.message);
    assert(END_TO_END.has(outcome.check), `${variant} found by ${outcome.check}`);
    assertMatch(outcome.message, message);
  }
});

Deno.test("runtime: the steal-during-overflow runs that fail do so by a job running twice", () => {
  const target = makeTarget(runtime, "steal-during-overflow");
  const r = sweep(target, {
    strategy: createStrategy("random", target, {}),
    seed: 1,
    runs: 60,
    keepGoing: true,
  });
  assert(r.failures.length > 0 && r.failures.length < 30, `${r.failures.length} of 60 failed`);
  for (const f of r.failures) {
    assert(
      ["one-outcome", "delivered-once", "timer-once"].includes(f.outcome.check),
      f.outcome.message,
    );
    assertMatch(f.outcome.message, /ran twice/);
  }
});

Deno.test("runtime/correct survives every fault, and passes swarm runs", () => {
  const faults = { alloc: 0.2, delay: 0.2, stall: 0.2, late: 0.2, collect: 0.2 };
  const r = judgeVariant(runtime, "correct", { params: { faults }, strategy: "random", runs: 30 });
  assert(r.ok, r.outcome?.message);
  const stats = lastSystem()?.stats;
  assert(stats !== undefined && stats.injected > 0, "no allocation fault was survived");
  for (const strategy of ["random", "pct"]) {
    const target = makeTarget(runtime, "correct", { swarm: true });
    const s = sweep(target, { strategy: createStrategy(strategy, target, {}), seed: 1, runs: 40 });
    assertEquals(s.failures.map((f) => f.outcome.message), []);
  }
});

Deno.test("runtime/correct passes with every real-time timer late (the late fault, at rtimer)", () => {
  // Regions.rtimer is the marked place; the composed runtime's timers wait on it.
  let late = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const r = judgeVariant(runtime, "correct", {
      params: { faults: { late: 1, delayTicksMax: 16 } },
      strategy: "random",
      runs: 1,
      seed,
    });
    assert(r.ok, r.outcome?.message);
    const sys = lastSystem()!;
    // Every timer that was set fired late, and still ran its callback.
    assertEquals(sys.faults.fired.late, sys.stats.timers, `seed ${seed}`);
    late += sys.faults.fired.late;
  }
  assert(late > 0, "no timer was set");
});

Deno.test("runtime: swarm runs find each broken variant", () => {
  for (const variant of ["gc-during-read", "reset-with-timer", "steal-during-overflow"]) {
    const target = makeTarget(runtime, variant, { swarm: true });
    const r = sweep(target, {
      strategy: createStrategy("random", target, {}),
      seed: 1,
      runs: 1_000,
    });
    assertEquals(r.failures.length, 1, `${variant} not found in 1,000 swarm runs`);
    assertEquals(r.failures[0].outcome.verdict, "bug");
  }
});

Deno.test("runtime: bad parameters get a one-line zod message", () => {
  assertThrows(() => parseParams(runtime, { workers: 1 }), UsageError, "workers");
  assertThrows(() => parseParams(runtime, { events: 0 }), UsageError, "events");
  assertThrows(() => parseParams(runtime, { timerTicks: "x" }), UsageError, "timerTicks");
  assertThrows(() => parseParams(runtime, { faults: { alloc: 2 } }), UsageError, "faults.alloc");
  assertThrows(() => parseParams(runtime, { faults: { often: 1 } }), UsageError, "faults");
  assertEquals(parseParams(runtime, {}).workers, 2);
});
