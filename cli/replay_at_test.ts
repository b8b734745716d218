import { assert, assertEquals, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
import { lostUpdate } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
import { serializeTrace } from "../sim/trace.ts";
import { captured, type Ran } from "../tests/_io.ts";

const run = (args: string[]): Promise<Ran> => captured(main, args);
const tmp = await Deno.makeTempDir({ prefix: "sim-replay-at-test-" });

async function gcTrace(): Promise<string> {
  const r = await run(["--scenario", "gc-mark-sweep", "--variant", "no-barrier", "--out", tmp]);
  const line = r.out.find((l) => l.includes("replay shrunk: deno task sim --replay"))!;
  return line.split("--replay ")[1];
}

Deno.test("--replay F --at N prints steps with source lines and the state after step N", async () => {
  const file = await gcTrace();
  const whole = await run(["--replay", file]);
  const steps = Number(/at step (\d+)/.exec(whole.out.at(-1)!)![1]);
  // The plain listing names the source line of each step too.
  assert(whole.out.some((l) => /^\s+\d+ .*scenarios\/gc_mark_sweep\.ts:\d+$/.test(l)));
  const r = await run(["--replay", file, "--at", String(steps)]);
  assertEquals(r.code, 0, r.err.join("\n"));
  const text = r.out.join("\n");
  // Each step line ends with where the operation was yielded.
  const stepLines = r.out.filter((l) => /^\s+\d+ {2}core /.test(l));
  assertEquals(stepLines.length, steps);
  assert(stepLines.every((l) => /\.ts:\d+/.test(l)), stepLines.find((l) => !/\.ts:\d+/.test(l)));
  assertMatch(text, /scenarios\/gc_mark_sweep\.ts:\d+/);
  assertMatch(text, new RegExp(`state after step ${steps} of ${steps}`));
  // The failing step poisons C while a register still holds it.
  assertMatch(text, /\n {4}(\* )?C\s+nodes\s+\[white\]\s+p0 → NaN/);
  assertMatch(text, /m0\.r2 → C/);
  assertMatch(text, /heap:\n[\s\S]*roots:\n[\s\S]*locks:\n[\s\S]*cells:\n/);
  const zero = await run(["--replay", file, "--at", "0"]);
  assertEquals(zero.code, 0);
  assertMatch(zero.out.join("\n"), /state after setup \(step 0\)/);
  assertMatch(zero.out.join("\n"), /A\s+nodes\s+\[white\]\s+p0 → B/);
});

Deno.test("bad --at values get a one-line error and exit 2", async () => {
  const file = await gcTrace();
  for (const args of [["--at", "100000"], ["--at=-1"], ["--at", "x"], ["--at", "1.5"]]) {
    const r = await run(["--replay", file, ...args]);
    assertEquals(r.code, 2, args.join(" "));
    assertEquals(r.err.length, 1, r.err.join("\n"));
    assertMatch(r.err[0], /^error: bad --at/);
  }
  const alone = await run(["--at", "3"]);
  assertEquals([alone.code, alone.err], [2, ["error: --at needs --replay"]]);
});

Deno.test("--at and --replay name the source line of step 1 of a 5,000-step run", async () => {
  const target = makeTarget(lostUpdate, "racy", { params: { fibers: 10, increments: 250 } });
  const j = judge(target, { ...planFor(target, { strategy: "random" }), seed: 1 });
  const file = `${tmp}/long.json`;
  await Deno.writeTextFile(file, serializeTrace(makeTrace(target, j.strategy, j.failures[0])));
  const source = /scenarios\/lost_update\.ts:\d+$/;
  const at = await run(["--replay", file, "--at", "5000"]);
  assertEquals(at.code, 0, at.err.join("\n"));
  const stepLines = at.out.filter((l) => /^\s+\d+ {2}core /.test(l));
  assertEquals(stepLines.length, 5_000);
  // A window of the last 1,000 steps left steps 1 to 4,000 without one.
  assertMatch(stepLines[0], /^\s+1 {2}core .*read/);
  assert(stepLines.every((l) => source.test(l)), stepLines.find((l) => !source.test(l)));
  // The plain listing shows the first 200 and the last 50 steps, each with its line.
  const whole = await run(["--replay", file]);
  const listed = whole.out.filter((l) => /^\s+\d+ {2}core /.test(l));
  assertEquals(listed.length, 250);
  assertMatch(listed[0], /^\s+1 {2}core /);
  assert(listed.every((l) => source.test(l)), listed.find((l) => !source.test(l)));
});
