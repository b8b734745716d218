import { assert, assertEquals, assertMatch } from "../deps.ts";
import { arenaOverflow } from "./arena_overflow.ts";
import { judgeVariant } from "./_judge.ts";
import { createStrategy, makeTarget, Runner, sweep } from "../sim/explore.ts";
import { Faults } from "../runtime/faults.ts";

Deno.test("arena-overflow: DPOR exhausts two workers on four jobs, with a job too big", () => {
  const r = judgeVariant(arenaOverflow, "drop-and-reset", {
    params: { workers: 2, jobs: 4, oversized: true },
    runs: 10_000,
  });
  assert(r.ok && r.exploration?.exhausted, `${r.runs} schedules: ${r.outcome?.message}`);
});

Deno.test("arena-overflow: many jobs on small arenas pass random runs", () => {
  for (const oversized of [false, true]) {
    const r = judgeVariant(arenaOverflow, "drop-and-reset", {
      params: { workers: 4, jobs: 12, arenaCells: 3, oversized },
      strategy: "random",
      runs: 200,
    });
    assert(r.ok, r.outcome?.message);
  }
});

Deno.test("arena-overflow: publishing eagerly leaves a part when a job overflows a used arena", () => {
  const r = judgeVariant(arenaOverflow, "eager-publish");
  assertEquals(r.outcome?.check, "no-partial-state");
  // The retried job's list runs on into the part its first attempt left.
  assertMatch(
    r.outcome?.message ?? "",
    /job \d left \[0, 1, 1\] in the context, expected \[0, 1\]/,
  );
  // One worker takes every job in turn: its arena fills at job 1's second cell.
  const alone = judgeVariant(arenaOverflow, "eager-publish", { params: { workers: 1 } });
  assertEquals([alone.outcome?.check, alone.runs], ["no-partial-state", 1]);
  // A job too big for any arena always leaves its part.
  const big = judgeVariant(arenaOverflow, "eager-publish", { params: { oversized: true } });
  assertEquals([big.outcome?.check, big.runs], ["no-partial-state", 1]);
});

Deno.test("arena-overflow: drop-and-reset survives injected allocation faults (retried, else reported)", () => {
  const target = makeTarget(arenaOverflow, "drop-and-reset", {
    params: { oversized: true, faults: { alloc: 0.3 } },
  });
  const runner = new Runner(target);
  const strategy = createStrategy("random", target);
  let fired = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const o = runner.run(strategy, seed);
    assertEquals(o.verdict, "pass", `seed ${seed}: ${o.message}`);
    if (Faults.of(runner.kernel).fired.alloc > 0) fired++;
  }
  // Many runs failed a fitting allocation, on fresh arenas too, and still passed.
  assert(fired > 150, `faults fired in ${fired} of 200 runs`);
  // Always failing: every job is given up after its retries and leaves nothing behind.
  const always = judgeVariant(arenaOverflow, "drop-and-reset", {
    params: { faults: { alloc: 1 } },
    strategy: "random",
    runs: 20,
  });
  assert(always.ok, always.outcome?.message);
});

Deno.test("arena-overflow: under --swarm drop-and-reset passes and eager-publish is found", () => {
  const target = makeTarget(arenaOverflow, "drop-and-reset", { swarm: true });
  const r = sweep(target, { strategy: createStrategy("random", target, {}), seed: 1, runs: 300 });
  assertEquals(r.failures.map((f) => f.outcome.message), []);
  const broken = makeTarget(arenaOverflow, "eager-publish", { swarm: true });
  const b = sweep(broken, { strategy: createStrategy("random", broken, {}), seed: 1, runs: 300 });
  assertEquals(b.failures[0]?.outcome.check, "no-partial-state");
});
