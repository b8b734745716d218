import { assertEquals } from "../deps.ts";
import { lockOrder, lostUpdate } from "../scenarios/mod.ts";
import { makeTarget, makeTrace, planFor, sweep, type SweepResult } from "../sim/explore.ts";
import type { AnyScenario } from "../sim/scenario.ts";
import { serializeTrace } from "../sim/trace.ts";
import { sweepOnWorkers } from "./workers.ts";

interface Case {
  scenario: AnyScenario;
  variant: string;
  params: Record<string, unknown>;
  strategy: "random" | "pct";
  runs: number;
  keepGoing: boolean;
  shard?: { index: number; of: number };
}

function traces(c: Case, r: SweepResult, strategy: ReturnType<typeof planFor>["strategy"]) {
  const target = makeTarget(c.scenario, c.variant, { params: c.params });
  return r.failures.map((f) => serializeTrace(makeTrace(target, strategy, f)));
}

async function compare(c: Case, workers: number): Promise<void> {
  const target = makeTarget(c.scenario, c.variant, { params: c.params });
  const { strategy } = planFor(target, { strategy: c.strategy, runs: c.runs });
  const base = { strategy, seed: 5, runs: c.runs, keepGoing: c.keepGoing, shard: c.shard };
  const seen: number[] = [];
  const one = sweep(target, base);
  const many = await sweepOnWorkers(target, {
    ...base,
    workers,
    chunkRunsMax: 256,
    onRun: (info) => seen.push(info.seed),
  });
  const label = `${c.scenario.name}/${c.variant} ${c.strategy} on ${workers} workers`;
  assertEquals([many.runs, many.steps], [one.runs, one.steps], label);
  assertEquals(many.failures.map((f) => f.seed), one.failures.map((f) => f.seed), label);
  assertEquals(traces(c, many, strategy), traces(c, one, strategy), label);
  assertEquals(seen, [...seen].sort((a, b) => a - b), `${label}: runs seen in seed order`);
}

Deno.test("workers find the same failing seeds and byte-identical traces as one thread", async () => {
  const cases: Case[] = [
    {
      scenario: lostUpdate,
      variant: "racy",
      params: { fibers: 3 },
      strategy: "random",
      runs: 3000,
      keepGoing: true,
    },
    {
      scenario: lostUpdate,
      variant: "racy",
      params: { fibers: 2, increments: 2 },
      strategy: "pct",
      runs: 2000,
      keepGoing: true,
      shard: { index: 1, of: 3 },
    },
    {
      scenario: lockOrder,
      variant: "opposite",
      params: {},
      strategy: "pct",
      runs: 500,
      keepGoing: false,
    },
    {
      scenario: lostUpdate,
      variant: "locked",
      params: {},
      strategy: "random",
      runs: 4000,
      keepGoing: false,
    },
  ];
  for (const c of cases) await compare(c, 2);
  await compare(cases[0], 3);
});

Deno.test("one pool runs sweep after sweep; a sweep stopped early leaves nothing for the next", async () => {
  const { WorkerPool } = await import("./workers.ts");
  const pool = new WorkerPool(2);
  try {
    for (
      const [scenario, variant, runs] of [
        [lostUpdate, "racy", 50_000], // stops at its first failure, chunks still in flight
        [lostUpdate, "locked", 3000],
        [lockOrder, "opposite", 500],
        [lostUpdate, "racy", 2000],
      ] as const
    ) {
      const target = makeTarget(scenario, variant);
      const { strategy } = planFor(target, { strategy: "random" });
      const options = { strategy, seed: 3, runs, keepGoing: variant === "racy" && runs < 5000 };
      const one = sweep(target, options);
      const many = await pool.sweep(target, { ...options, chunkRunsMax: 128 });
      assertEquals(
        [many.runs, many.steps, many.failures.map((f) => f.seed)],
        [one.runs, one.steps, one.failures.map((f) => f.seed)],
        `${scenario.name}/${variant}`,
      );
    }
  } finally {
    pool.close();
  }
});
