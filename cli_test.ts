import { assert, assertEquals, assertMatch } from "./deps.ts";
import { main } from "./cli.ts";
import { captured, type Ran } from "./tests/_io.ts";

const run = (args: string[]): Promise<Ran> => captured(main, args);

const tmp = await Deno.makeTempDir({ prefix: "sim-cli-test-" });

Deno.test("the main job runs every variant, all as expected, and exits 0", async () => {
  const r = await run(["--seed", "42", "--out", tmp]);
  assertEquals(r.code, 0);
  const text = r.out.join("\n");
  assertMatch(text, /lost-update\s+racy\s+bug\s+bug/);
  assertMatch(text, /lock-order\s+opposite\s+deadlock\s+deadlock/);
  assertMatch(text, /replay: deno task sim --replay /);
  assertMatch(text, /all \d+ verdicts as expected/);
});

Deno.test("--json prints a line per run with the documented fields and a summary", async () => {
  const r = await run([
    "--scenario",
    "lost-update",
    "--variant",
    "racy",
    "--strategy",
    "random",
    "--runs",
    "50",
    "--json",
    "--out",
    tmp,
  ]);
  assertEquals(r.code, 0);
  const lines = r.out.map((l) => JSON.parse(l));
  const runs = lines.filter((l) => !l.summary && !l.target);
  assertEquals(lines.filter((l) => l.target).length, 1);
  for (const key of ["scenario", "variant", "strategy", "seed", "expected", "verdict"]) {
    assert(key in runs[0], key);
  }
  for (const key of ["schedules", "steps", "elapsedMs"]) assert(key in runs[0], key);
  const failing = runs.at(-1);
  assertEquals(failing.verdict, "bug");
  assertMatch(failing.message, /lost update/);
  assert((await Deno.stat(failing.trace)).isFile);
  assertEquals(lines.at(-1).summary, true);
  assertEquals(lines.at(-1).exitCode, 0);
});

Deno.test("a failure's printed replay command reproduces it, exit 0", async () => {
  const r = await run(["--scenario", "lock-order", "--variant", "opposite", "--out", tmp]);
  const line = r.out.find((l) => l.includes("replay: deno task sim --replay"))!;
  const file = line.split("--replay ")[1];
  const again = await run(["--replay", file]);
  assertEquals(again.code, 0);
  assertMatch(again.out.at(-1)!, /^reproduced: deadlock/);
});

Deno.test("a verdict not as expected exits 1", async () => {
  // Too few runs to find the race: the expected bug is not found.
  const r = await run(["--scenario", "lost-update", "--variant", "racy", "--depth", "1"]);
  assertEquals(r.code, 1);
  assertMatch(r.out.join("\n"), /NOT as expected/);
});

Deno.test("bad usage and bad input exit 2 with a one-line error", async () => {
  const cases: [string[], RegExp][] = [
    [["--scenario", "nope"], /unknown scenario "nope"/],
    [["--scenario", "lost-update", "--variant", "nope"], /unknown variant "nope"/],
    [["--scenario", "lost-update", "--param", "fibers=0"], /fibers: Too small/],
    [["--scenario", "lost-update", "--param", "fiber=3"], /unknown parameter "fiber"/],
    [["--scenario", "lost-update", "--param", "fibers"], /write KEY=VALUE/],
    [["--frobnicate"], /Unknown option '--frobnicate'/],
    [["--runs", "many"], /bad --runs/],
    [["--strategy", "magic", "--scenario", "lost-update"], /unknown strategy "magic"/],
    [["--replay", "/nonexistent/trace.json"], /cannot read trace/],
    [["--scenario", "tests/fixtures/not_a_scenario.ts"], /not a valid scenario: name/],
    [["--scenario", "tests/fixtures/missing.ts"], /cannot load scenario file/],
  ];
  for (const [args, pattern] of cases) {
    const r = await run(args);
    assertEquals(r.code, 2, args.join(" "));
    assertEquals(r.err.length, 1, args.join(" "));
    assertMatch(r.err[0], pattern);
    assert(!r.err[0].includes("\n") && !r.err[0].includes("    at "), r.err[0]);
  }
});

Deno.test("a malformed or mismatched trace exits 2 naming what is wrong", async () => {
  const good = await run(["--scenario", "lost-update", "--variant", "racy", "--out", tmp]);
  const file = good.out.find((l) => l.includes("--replay"))!.split("--replay ")[1];
  const text = await Deno.readTextFile(file);
  const bad = `${tmp}/bad.json`;
  await Deno.writeTextFile(bad, text.replace(/"decisions": "[^"]*"/, '"decisions": "0,9"'));
  const r = await run(["--replay", bad]);
  assertEquals(r.code, 2);
  assertMatch(r.err[0], /Cannot replay trace: step \d+ expects fiber 9, which does not exist/);
  await Deno.writeTextFile(bad, text.replace('"seed"', '"sead"'));
  const r2 = await run(["--replay", bad]);
  assertEquals(r2.code, 2);
  assertMatch(r2.err[0], /not a valid trace/);
});

Deno.test("a user's scenario file runs by path and its traces replay", async () => {
  const r = await run(["--scenario", "tests/fixtures/my_scenario.ts", "--out", tmp]);
  assertEquals(r.code, 0);
  assertMatch(r.out.join("\n"), /my-counter\s+atomic\s+pass\s+pass\s+50/);
});

Deno.test("--list shows every scenario with its variants and defaults", async () => {
  const r = await run(["--list"]);
  assertEquals(r.code, 0);
  const text = r.out.join("\n");
  assertMatch(text, /lost-update: /);
  assertMatch(text, /racy\s+expect bug \(pct, 500 runs\)/);
  assertMatch(text, /"fibers":2/);
});

Deno.test("--strategy dpor prints one JSON line per exploration with its statistics", async () => {
  const r = await run([
    "--scenario",
    "lost-update",
    "--variant",
    "locked",
    "--strategy",
    "dpor",
    "--param",
    "fibers=3",
    "--json",
  ]);
  assertEquals(r.code, 0);
  const line = JSON.parse(r.out[0]);
  assertEquals([line.strategy, line.verdict, line.result], ["dpor", "pass", "exhausted"]);
  assertEquals([line.exhausted, line.bound, line.schedules], [true, "none", 6]);
  for (const key of ["complete", "pruned", "maxDepth", "steps", "schedulesPerSec", "elapsedMs"]) {
    assert(key in line, key);
  }
  assertEquals(JSON.parse(r.out[1]).summary, true);
});

Deno.test("a preemption bound too small for the bug exhausts within the bound and exits 1", async () => {
  const r = await run([
    "--scenario",
    "lost-update",
    "--variant",
    "racy",
    "--strategy",
    "dfs",
    "--preemptions",
    "0",
  ]);
  assertEquals(r.code, 1);
  assertMatch(r.out[0], /dfs ran 2 schedules .*: exhausted \(bound: 0 preemptions\)/);
});

Deno.test("iterative DFS finds the lost update and its trace replays", async () => {
  const r = await run([
    "--scenario",
    "lost-update",
    "--variant",
    "racy",
    "--strategy",
    "dfs",
    "--iterative",
    "--out",
    tmp,
  ]);
  assertEquals(r.code, 0);
  assertMatch(r.out.join("\n"), /strategy dfs \(preemptions 1, iterative true\)/);
  const file = r.out.find((l) => l.includes("--replay"))!.split("--replay ")[1];
  assertEquals((await run(["--replay", file])).code, 0);
});

Deno.test("bounded DPOR: --strategy dpor --preemptions K names the bound, and its trace replays", async () => {
  const base = ["--scenario", "lost-update", "--variant", "racy", "--strategy", "dpor"];
  const none = await run([...base, "--preemptions", "0", "--out", tmp]);
  assertMatch(none.out[0], /dpor ran 2 schedules .*: exhausted \(bound: 0 preemptions\)/);
  const r = await run([...base, "--preemptions", "1", "--out", tmp]);
  assertEquals(r.code, 0);
  assertMatch(r.out.join("\n"), /strategy dpor \(dpor source, preemptions 1\)/);
  const file = r.out.find((l) => l.includes("--replay"))!.split("--replay ")[1];
  assertEquals((await run(["--replay", file])).code, 0);
  const split = await run([...base, "--preemptions", "1", "--workers", "2"]);
  assertEquals(split.code, 0);
  assertMatch(split.out.join("\n"), /strategy dpor \(dpor source, preemptions 1\)/);
});

Deno.test("exhaustive-only flags without --strategy dfs are usage errors", async () => {
  const r = await run(["--scenario", "lost-update", "--preemptions", "2"]);
  assertEquals(r.code, 2);
  assertMatch(r.err[0], /--preemptions, --delays and --iterative go with --strategy dfs or dpor/);
});

Deno.test("--json=summary prints a line per variant and the summary, no run lines", async () => {
  const r = await run([
    "--scenario",
    "lost-update",
    "--strategy",
    "portfolio",
    "--runs",
    "300",
    "--json=summary",
    "--out",
    tmp,
  ]);
  assertEquals(r.code, 0);
  const lines = r.out.map((l) => JSON.parse(l));
  assertEquals(lines.map((l) => l.variant ?? "summary"), ["racy", "locked", "summary"]);
  assert(lines.slice(0, 2).every((l) => l.target === true));
  assertEquals(lines[0].got, "bug");
  assertMatch(lines[0].foundBy, /^(random|pct-d[1-5])$/);
  assertEquals(lines[1].runs, 300);
  assertEquals(lines[2].summary, true);
  const bad = await run(["--scenario", "lost-update", "--json=everything"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.err.join("\n"), /--json=summary/);
});
