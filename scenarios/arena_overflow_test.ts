import { assert, assertEquals, assertMatch } from "../deps.ts";
import { arenaOverflow } from "./arena_overflow.ts";
import { judgeVariant } from "./_judge.ts";

Deno.test("arena-overflow: DPOR exhausts three workers on four jobs", () => {
  const r = judgeVariant(arenaOverflow, "drop-and-reset", {
    params: { workers: 3, jobs: 4 },
    runs: 10_000,
  });
  assert(r.ok && r.exploration?.exhausted, `${r.runs} schedules: ${r.outcome?.message}`);
});

Deno.test("arena-overflow: many jobs on small arenas pass random runs", () => {
  const r = judgeVariant(arenaOverflow, "drop-and-reset", {
    params: { workers: 4, jobs: 12, arenaCells: 2 },
    strategy: "random",
    runs: 200,
  });
  assert(r.ok, r.outcome?.message);
});

Deno.test("arena-overflow: publishing eagerly leaves the overflowing job's part in the context", () => {
  const r = judgeVariant(arenaOverflow, "eager-publish");
  assertEquals(r.outcome?.check, "no-partial-state");
  assertMatch(r.outcome?.message ?? "", /job 1 left \[1, 2, 3\] in the context, expected \[\]/);
});
