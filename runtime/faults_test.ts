import { assert, assertEquals, assertThrows } from "../deps.ts";
import { Kernel } from "../sim/kernel.ts";
import { RandomStrategy } from "../sim/random.ts";
import { createStrategy, makeTarget, makeTrace, replay, Runner } from "../sim/explore.ts";
import { UsageError } from "../sim/scenario.ts";
import { channelMpmc } from "../scenarios/channel_mpmc.ts";
import { reactor } from "../scenarios/reactor.ts";
import { judgeVariant } from "../scenarios/_judge.ts";
import { Arena } from "./arena.ts";
import { Faults, NO_FAULTS } from "./faults.ts";
import { Heap, HeapExhausted } from "./heap.ts";
import { Regions } from "./regions.ts";

function kernel(seed = 1): Kernel {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), seed);
  return k;
}

Deno.test("faults: an injected allocation failure is resumable and leaves the arena as it was", () => {
  const k = kernel();
  Faults.enable(k, { ...NO_FAULTS, alloc: 1 });
  const heap = new Heap(k);
  const arena = new Arena(heap, "w0", 64);
  const startup = new Arena(heap, "startup", 64, { faultable: false });
  const caught: HeapExhausted[] = [];
  k.spawn("job", function* () {
    try {
      yield* arena.alloc({ imms: [1] });
    } catch (e) {
      if (e instanceof HeapExhausted) caught.push(e);
    }
    yield* startup.alloc({ imms: [2] }); // never faulted
  });
  assertEquals(k.execute().verdict, "pass");
  assertEquals(caught.length, 1);
  assert(caught[0].injected, "the failure says it was injected");
  assertEquals([arena.bytesUsed, arena.space.objects.length], [0, 0]);
  assertEquals(startup.space.objects.length, 1);
  assertEquals(Faults.of(k).fired.alloc, 1);
});

Deno.test("faults: off by default, a fault point draws nothing, so traces stay as they were", () => {
  const plain = makeTarget(channelMpmc, "correct");
  const zero = makeTarget(channelMpmc, "correct", { params: { faults: {} } });
  assertEquals(plain.params.faults, undefined, "an absent faults parameter stays absent");
  for (let seed = 1; seed <= 20; seed++) {
    const a = new Runner(plain);
    const b = new Runner(zero);
    const s = new RandomStrategy();
    a.run(s, seed);
    b.run(s, seed);
    assertEquals(a.kernel.decisions(), b.kernel.decisions(), `seed ${seed}`);
  }
});

Deno.test("faults: a bad fault configuration is a one-line zod error", () => {
  assertThrows(
    () => makeTarget(channelMpmc, "correct", { params: { faults: { delay: 2 } } }),
    UsageError,
    "bad parameters for channel-mpmc: faults.delay:",
  );
  assertThrows(
    () => makeTarget(reactor, "correct", { params: { faults: { delya: 0.1 } } }),
    UsageError,
    "delya",
  );
  assertThrows(
    () => makeTarget(reactor, "correct", { params: { faults: { delayTicksMax: 0 } } }),
    UsageError,
    "faults.delayTicksMax",
  );
});

Deno.test("faults: a late timer fires after its deadline, never before", () => {
  const woke: number[] = [];
  const k = kernel(5);
  Faults.enable(k, { ...NO_FAULTS, late: 1, delayTicksMax: 4 });
  k.spawn("t", function* () {
    yield* Regions.of(k).rtimer(10);
    woke.push(k.now);
  });
  assertEquals(k.execute().verdict, "pass");
  assert(woke[0] >= 11 && woke[0] <= 14, `woke at ${woke[0]}`);
  assertEquals(Faults.of(k).fired.late, 1);
});

/** Runs `runs` seeds of a target, counting runs in which each kind of fault fired. */
function sweepWithFaults(
  target: ReturnType<typeof makeTarget>,
  strategy: string,
  runs: number,
): { failed: string | null; alloc: number; delay: number; stall: number } {
  const runner = new Runner(target);
  const s = createStrategy(strategy, target);
  const seen = { alloc: 0, delay: 0, stall: 0 };
  for (let seed = 1; seed <= runs; seed++) {
    const o = runner.run(s, seed);
    if (o.verdict !== "pass") return { failed: `seed ${seed}: ${o.message}`, ...seen };
    const fired = Faults.of(runner.kernel).fired;
    for (const kind of ["alloc", "delay", "stall"] as const) if (fired[kind] > 0) seen[kind]++;
  }
  return { failed: null, ...seen };
}

Deno.test("faults: the correct channel survives delayed posts and retrieves", () => {
  const target = makeTarget(channelMpmc, "correct", { params: { faults: { delay: 0.3 } } });
  const r = sweepWithFaults(target, "pct", 300);
  assertEquals(r.failed, null);
  assert(r.delay > 100, `delays fired in ${r.delay} of 300 runs`);
});

Deno.test("faults: the correct reactor survives failed allocations, delays and stalls", () => {
  const faults = { alloc: 0.2, delay: 0.2, stall: 0.2 };
  const target = makeTarget(reactor, "correct", { params: { faults } });
  const r = sweepWithFaults(target, "pct", 200);
  assertEquals(r.failed, null);
  assert(r.alloc > 20 && r.delay > 20 && r.stall > 20, JSON.stringify(r));
});

Deno.test("faults: broken variants are still found with faults on, and their traces replay", () => {
  for (
    const [scenario, variant, faults] of [
      [channelMpmc, "racy-close", { delay: 0.2 }],
      [reactor, "shared-arena", { alloc: 0.1, delay: 0.1, stall: 0.1 }],
    ] as const
  ) {
    const r = judgeVariant(scenario, variant, { params: { faults } });
    assert(r.ok, `${scenario.name}/${variant}: ${r.outcome?.message ?? "not found"}`);
    const target = makeTarget(scenario, variant, { params: { faults } });
    const trace = makeTrace(target, r.strategy, r.failures[0]);
    assertEquals(replay(trace, scenario).reproduced, true);
  }
});
