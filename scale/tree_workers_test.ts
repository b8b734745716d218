import { assert, assertEquals } from "../deps.ts";
import { DporStrategy } from "../sim/dpor.ts";
import { exploreExhaustive } from "../sim/exhaustive.ts";
import { litmus, lockOrder, lostUpdate } from "../scenarios/mod.ts";
import { makeTarget } from "../sim/explore.ts";
import { exploreSplit, type TreeSpec } from "../sim/split.ts";
import { WorkerPool } from "./workers.ts";

const cases: [string, ReturnType<typeof makeTarget>, TreeSpec, number, boolean][] = [
  [
    "locked dfs",
    makeTarget(lostUpdate, "locked", { params: { fibers: 3, localWork: 1 } }),
    {
      strategy: "dfs",
    },
    1e6,
    false,
  ],
  [
    "locked dpor",
    makeTarget(lostUpdate, "locked", { params: { fibers: 3, localWork: 1 } }),
    {
      strategy: "dpor",
    },
    1e6,
    false,
  ],
  [
    "racy dfs random",
    makeTarget(lostUpdate, "racy", { params: { fibers: 4 } }),
    {
      strategy: "dfs",
      order: "random",
    },
    1e6,
    false,
  ],
  [
    "racy dfs keep going",
    makeTarget(lostUpdate, "racy", { params: { fibers: 3 } }),
    {
      strategy: "dfs",
      preemptions: 1,
    },
    1e6,
    true,
  ],
  ["opposite dpor", makeTarget(lockOrder, "opposite"), { strategy: "dpor" }, 1e6, false],
  // --memory over a variant judged under sc: the subtrees must run under tso too (drains are steps).
  [
    "sb --memory tso dfs",
    makeTarget(litmus, "sb", { memory: "tso" }),
    { strategy: "dfs" },
    1e6,
    true,
  ],
  [
    "budget",
    makeTarget(lostUpdate, "locked", { params: { fibers: 4, localWork: 1 } }),
    {
      strategy: "dfs",
    },
    3000,
    false,
  ],
];

Deno.test("a split tree on 2 workers: the same schedules, failures and verdict as one thread", async () => {
  for (const workers of [2]) {
    const pool = new WorkerPool(workers);
    try {
      for (const [label, target, spec, runs, keepGoing] of cases) {
        const one = exploreSplit(target, spec, { runs, seed: 4, keepGoing });
        const many = await pool.explore(target, spec, { runs, seed: 4, keepGoing });
        const view = (r: typeof many) => ({
          schedules: r.schedules,
          exhausted: r.exhausted,
          bound: r.bound,
          failures: r.failures.map((f) => [f.schedule, f.outcome.check, f.decisions.join(",")]),
        });
        assertEquals(view(many), view(one), `${label} on ${workers} workers`);
        if (runs > 1e5) {
          assertEquals([many.complete, many.steps], [one.complete, one.steps], label);
        }
      }
    } finally {
      pool.close();
    }
  }
});

Deno.test("split DPOR on 1 and 3 workers: the same result, and one DPOR's complete schedules", async () => {
  const target = makeTarget(lostUpdate, "locked", { params: { fibers: 4, localWork: 1 } });
  const whole = exploreExhaustive(target, new DporStrategy(), { runs: 1e6 });
  const one = exploreSplit(target, { strategy: "dpor" }, { runs: 1e6, seed: 0 });
  // Subtrees that only reorder an earlier one's first steps stop at their prefix.
  assert(one.pruned > 0 && one.frontier.prefixes.length >= 32, `${one.pruned} pruned`);
  assertEquals([one.complete, one.exhausted], [whole.complete, true]);
  for (const workers of [1, 3]) {
    const pool = new WorkerPool(workers);
    try {
      const done: number[] = [];
      const r = await pool.explore(target, { strategy: "dpor" }, {
        runs: 1e6,
        seed: 0,
        onSubtree: (d) => done.push(d.index),
      });
      assertEquals(
        [r.schedules, r.complete, r.pruned, r.exhausted],
        [one.schedules, one.complete, one.pruned, true],
        `${workers} workers`,
      );
      assertEquals(done.sort((a, b) => a - b), one.frontier.prefixes.map((_, i) => i));
      // A shard on the workers explores exactly what it explores on one thread.
      for (let index = 0; index < 2; index++) {
        const shard = { index, of: 2 };
        const mine = await pool.explore(target, { strategy: "dpor" }, {
          runs: 1e6,
          seed: 0,
          shard,
        });
        const here = exploreSplit(target, { strategy: "dpor" }, { runs: 1e6, seed: 0, shard });
        assertEquals([mine.schedules, mine.complete, mine.exhausted], [
          here.schedules,
          here.complete,
          true,
        ]);
      }
    } finally {
      pool.close();
    }
  }
});
