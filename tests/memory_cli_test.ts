import { assertEquals, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
import { captured, type Ran } from "./_io.ts";

const run = (args: string[]): Promise<Ran> => captured(main, args);
const tmp = await Deno.makeTempDir({ prefix: "sim-memory-test-" });

Deno.test("--memory with an unknown model is a one-line usage error, exit 2", async () => {
  const r = await run(["--scenario", "litmus", "--memory", "arm", "--out", tmp]);
  assertEquals(r.code, 2);
  assertEquals(r.err, ['error: bad --memory "arm": known: sc, tso, pso']);
});

Deno.test("an ordering a primitive does not take is bad input: one line, exit 2", async () => {
  const r = await run(["--scenario", "tests/fixtures/bad_ordering_scenario.ts", "--out", tmp]);
  assertEquals(r.code, 2);
  assertEquals(r.err.length, 1);
  assertMatch(r.err[0], /^error: Cannot use ordering "release" on a load/);
});

Deno.test("--memory overrides a variant's model", async () => {
  // sb declares sc; under tso DFS explores the drains too (80 schedules, not
  // 6), and the allowed set follows the run's model, so it passes.
  const ok = await run([
    "--scenario",
    "litmus",
    "--variant",
    "sb",
    "--memory",
    "tso",
    "--out",
    tmp,
  ]);
  assertEquals(ok.code, 0, ok.out.join("\n"));
  assertMatch(ok.out.join("\n"), /litmus\s+sb\s+pass\s+pass\s+80\b/);
});
