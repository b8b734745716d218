import { assert, assertEquals, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
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
