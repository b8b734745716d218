import { assert, assertEquals, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
import { captured, type Ran } from "../tests/_io.ts";
import { regress } from "./regress.ts";
import { mergeMain } from "../scale/merge.ts";
import { parseTrace } from "../sim/trace.ts";
import { lostUpdate } from "../scenarios/mod.ts";
import { makeTarget } from "../sim/explore.ts";
import { exploreSplit } from "../sim/split.ts";

const sim = (args: string[]): Promise<Ran> => captured(main, args);

const tmp = await Deno.makeTempDir({ prefix: "sim-commands-test-" });

Deno.test("a failure is shrunk, and the shrunk trace, HTML report and summaries are written", async () => {
  const out = `${tmp}/auto`;
  const r = await sim([
    "--scenario=lost-update",
    "--variant=racy",
    "--param=fibers=3",
    "--param=increments=2",
    "--out",
    out,
  ]);
  assertEquals(r.code, 0);
  const text = r.out.join("\n");
  assertMatch(
    text,
    /shrunk: \d+ steps, \d+ preemptions?, .* -> 4 steps, 1 preemption, 2 context switches \(fibers 3 -> 2, increments 2 -> 1\)/,
  );
  const shrunk = text.match(/replay shrunk: deno task sim --replay (\S+)/)![1];
  const report = text.match(/report: (\S+)/)![1];
  assert(shrunk.endsWith(".shrunk.json") && report.endsWith(".html"));
  const again = await sim(["--replay", shrunk]);
  assertEquals(again.code, 0, again.out.join("\n"));
  assertMatch(again.out.at(-1)!, /^reproduced: bug \(no-lost-update\) at step 4/);
  assertMatch(await Deno.readTextFile(report), /<svg class="timeline"/);
  assertMatch(await Deno.readTextFile(`${out}/summary.md`), /### Failures[\s\S]*shrunk: /);
  const lines = (await Deno.readTextFile(`${out}/runs.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  const runs = lines.filter((l) => l.verdict !== undefined);
  assert(runs.length >= 1 && runs.every((l) => l.seed !== undefined));
  assertEquals(lines.filter((l) => l.target).map((l) => [l.variant, l.got]), [["racy", "bug"]]);
  const shrink = lines.find((l) => l.shrunk);
  assertEquals([shrink.after.steps, shrink.after.preemptions, shrink.params.fibers], [4, 1, 2]);
  assertEquals(lines.at(-1).summary, true);
});

Deno.test("--no-shrink skips shrinking; --shrink FILE shrinks a trace file and writes beside it", async () => {
  const out = `${tmp}/manual`;
  const r = await sim([
    "--scenario",
    "lost-update",
    "--variant",
    "racy",
    "--param",
    "fibers=4",
    "--no-shrink",
    "--out",
    out,
  ]);
  assert(!r.out.some((l) => l.includes("shrunk")));
  const trace = r.out.find((l) => l.includes("replay: "))!.split("--replay ")[1];
  const s = await sim(["--shrink", trace]);
  assertEquals(s.code, 0, s.err.join("\n"));
  assertMatch(s.out.join("\n"), /-> 4 steps, 1 preemption, 2 context switches \(fibers 4 -> 2\)/);
  const shrunk = parseTrace(await Deno.readTextFile(trace.replace(/\.json$/, ".shrunk.json")));
  assertEquals(shrunk.params.fibers, 2);
  const bad = await sim(["--shrink", `${tmp}/nope.json`]);
  assertEquals([bad.code, bad.err.length], [2, 1]);
});

Deno.test("--workers 2 writes the same traces and failing seeds as one worker", async () => {
  const args = [
    "--scenario",
    "lost-update",
    "--variant",
    "racy",
    "--strategy",
    "random",
    "--runs",
    "400",
    "--keep-going",
    "--no-shrink",
    "--json",
  ];
  const one = await sim([...args, "--out", `${tmp}/w1`]);
  const two = await sim([...args, "--out", `${tmp}/w2`, "--workers", "2"]);
  assertEquals([one.code, two.code], [0, 0]);
  const seeds = (r: Ran) =>
    r.out.map((l) => JSON.parse(l)).filter((l) => l.verdict === "bug").map((l) => l.seed);
  assertEquals(seeds(two), seeds(one));
  const traces = (dir: string) =>
    [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /seed\d+\.json$/.test(n)).sort();
  // --keep-going writes the first 20 (--traces-max) and counts the rest.
  assert(seeds(one).length > 20, `${seeds(one).length} failing seeds`);
  assertEquals(traces(`${tmp}/w1`).length, 20);
  assertEquals(traces(`${tmp}/w2`), traces(`${tmp}/w1`));
  for (const seed of seeds(one).slice(0, 20)) {
    const [name] = traces(`${tmp}/w1`).filter((n) => n.endsWith(`.random.seed${seed}.json`));
    assertMatch(name, /^lost-update\.racy\.[0-9a-f]{8}\.random\.seed\d+\.json$/);
    assertEquals(
      await Deno.readTextFile(`${tmp}/w2/${name}`),
      await Deno.readTextFile(`${tmp}/w1/${name}`),
    );
  }
  const totals = one.out.map((l) => JSON.parse(l)).find((l) => l.target);
  assertEquals(totals.tracesUnwritten, seeds(one).length - 20);
  const dfs = await sim(["--scenario", "lost-update", "--workers", "2", "--strategy", "nope"]);
  assertEquals(dfs.code, 2);
});

Deno.test("shards merge into the verdicts and failing seeds of the unsharded sweep", async () => {
  const args = [
    "--scenario",
    "lost-update",
    "--strategy",
    "random",
    "--runs",
    "300",
    "--keep-going",
    "--no-shrink",
  ];
  const whole = await sim([...args, "--out", `${tmp}/whole`, "--json"]);
  const files: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await sim([...args, "--shard", `${i}/3`, "--out", `${tmp}/shards/shard${i}`]);
    assertEquals(r.code, 0);
    files.push(`${tmp}/shards/shard${i}/runs.jsonl`);
  }
  const m = await captured(mergeMain, ["--json", ...files]);
  assertEquals(m.code, 0);
  const merged = m.out.map((l) => JSON.parse(l));
  const wholeLines = whole.out.map((l) => JSON.parse(l));
  const failing = (ls: Record<string, unknown>[]) =>
    ls.filter((l) => l.verdict === "bug").map((l) => `${l.variant}:${l.seed}`).sort();
  assertEquals(failing(merged), failing(wholeLines));
  const targets = merged.filter((l) => l.target);
  assertEquals(targets.map((t) => [t.variant, t.runs, t.got, t.ok]), [["racy", 300, "bug", true], [
    "locked",
    300,
    "pass",
    true,
  ]]);
  const missing = await captured(mergeMain, [files[0], files[2]]);
  assertEquals(missing.code, 2);
  assertMatch(missing.err[0], /missing shards 1\/3/);
  const folder = await captured(mergeMain, ["--json", `${tmp}/shards/`]);
  assertEquals(folder.code, 0, folder.err.join("\n"));
  assertEquals(folder.out, m.out);
  // A shard interrupted part way: its runs are there, its totals and summary are not.
  const lines = (await Deno.readTextFile(files[1])).split("\n");
  const partial = `${tmp}/partial/runs.jsonl`;
  await Deno.mkdir(`${tmp}/partial`, { recursive: true });
  await Deno.writeTextFile(partial, lines.slice(0, 40).join("\n") + "\n");
  const cut = await captured(mergeMain, [files[0], partial, files[2]]);
  assertEquals(cut.code, 2);
  assertEquals(cut.err, [
    `error: ${partial}: no summary line: the sweep did not finish (interrupted?)`,
    "error: cannot merge: 1 of 3 inputs incomplete",
  ]);
  // A shard whose totals say it ran fewer runs than its share.
  const short = lines.filter((l) => l !== "").map((l) => JSON.parse(l))
    .map((l) => l.target && l.variant === "locked" ? { ...l, runs: 99 } : l);
  await Deno.writeTextFile(partial, short.map((l) => JSON.stringify(l)).join("\n") + "\n");
  const few = await captured(mergeMain, [files[0], partial, files[2]]);
  assertEquals(few.code, 2);
  assertEquals(
    few.err[0],
    `error: ${partial}: lost-update/locked ran 99 of the 100 runs it was asked for (interrupted?)`,
  );
  assertEquals((await captured(mergeMain, [`${tmp}/nothing-here`])).code, 2);
  assertEquals((await sim(["--shard", "3/3"])).code, 2);
});

Deno.test("--check-determinism reports a scenario that keeps state between runs, exit 1", async () => {
  const r = await sim([
    "--scenario",
    "tests/fixtures/leaky_scenario.ts",
    "--check-determinism",
    "--out",
    `${tmp}/leaky`,
  ]);
  assertEquals(r.code, 1);
  assertMatch(
    r.out.join("\n"),
    /nondeterminism in the scenario: seed 1, two runs of the same schedule differ from step \d+/,
  );
});

Deno.test("regress: --save adds a failing trace; every stored trace must fail exactly as recorded", async () => {
  const dir = `${tmp}/stored`;
  const found = await sim([
    "--scenario",
    "lock-order",
    "--variant",
    "opposite",
    "--out",
    `${tmp}/reg`,
  ]);
  const trace = found.out.find((l) => l.includes("replay: "))!.split("--replay ")[1];
  const saved = await captured(regress, ["--traces", dir, "--save", trace]);
  assertEquals(saved.code, 0);
  assertMatch(saved.out[0], /saved .* as .*lock-order\.opposite\.deadlock\.[0-9a-f]{8}\.json/);
  const ok = await captured(regress, ["--traces", dir, "--out", `${tmp}/reg`]);
  assertEquals(ok.code, 0);
  assertMatch(ok.out.join("\n"), /1 stored trace fails exactly as recorded/);
  const stored = [...Deno.readDirSync(dir)][0].name;
  const text = await Deno.readTextFile(`${dir}/${stored}`);
  await Deno.writeTextFile(`${dir}/${stored}`, text.replace(/"step": \d+/, '"step": 99'));
  const bad = await captured(regress, ["--traces", dir, "--out", `${tmp}/reg`]);
  assertEquals(bad.code, 1);
  assertMatch(bad.out.join("\n"), /MISMATCH .*NOT reproduced/);
  const passing = text.replace(/"verdict": "deadlock"/, '"verdict": "pass"');
  await Deno.writeTextFile(`${tmp}/pass.json`, passing);
  assertEquals((await captured(regress, ["--traces", dir, "--save", `${tmp}/pass.json`])).code, 2);
});

Deno.test("the stored regression traces in the repository fail exactly as recorded", async () => {
  const { replayStored } = await import("./regress.ts");
  const results = await replayStored("regress/traces");
  assert(results.length >= 2);
  for (const r of results) assert(r.ok, `${r.file}: ${r.result}`);
});

Deno.test("the Kubernetes manifest's command is a valid sharded sweep", async () => {
  const yaml = await Deno.readTextFile("deploy/k8s/sweep-job.yaml");
  assertMatch(yaml, /completionMode: Indexed/);
  const completions = Number(yaml.match(/completions: (\d+)/)![1]);
  const command = yaml.match(/- >-\n((?:\s{14}.*\n)+)/)![1].replace(/\s+/g, " ").trim();
  assert(command.startsWith("deno task sim "), command);
  assert(command.includes(`/${completions}"`), `--shard must use N = completions (${completions})`);
  const args = command.slice("deno task sim ".length)
    .replaceAll("${JOB_COMPLETION_INDEX}", "5")
    .split(" ")
    .map((a) => a.replace(/^"|"$/g, "").replace("/results", tmp));
  // The real sweep is huge; the same flags with a short run count must work.
  const r = await sim([...args, "--runs", "1000", "--workers", "1"]);
  assertEquals(r.code, 0, r.err.join("\n"));
  const lines = (await Deno.readTextFile(`${tmp}/shard-5/runs.jsonl`)).trim().split("\n");
  assertEquals(JSON.parse(lines.at(-1)!).shard, `5/${completions}`);
});

Deno.test("the Kubernetes exhaustive job: every shard on workers, merged to one exhausted verdict", async () => {
  const yaml = await Deno.readTextFile("deploy/k8s/exhaust-job.yaml");
  assertMatch(yaml, /completionMode: Indexed/);
  const completions = Number(yaml.match(/completions: (\d+)/)![1]);
  const command = yaml.match(/- >-\n((?:\s{14}.*\n)+)/)![1].replace(/\s+/g, " ").trim();
  assert(command.includes(`/${completions}"`), `--shard must use N = completions (${completions})`);
  assertMatch(command, /--strategy dpor .*--workers 2/);
  // The real tree takes minutes; the same flags on a small tree must exhaust it.
  const small = { "--scenario": "lost-update", "--variant": "locked" } as Record<string, string>;
  const files: string[] = [];
  for (let i = 0; i < completions; i++) {
    const args = command.slice("deno task sim ".length)
      .replaceAll("${JOB_COMPLETION_INDEX}", String(i))
      .split(" ")
      .map((a) => a.replace(/^"|"$/g, "").replace("/results", tmp));
    for (let k = 0; k < args.length - 1; k++) if (small[args[k]]) args[k + 1] = small[args[k]];
    const r = await sim([...args, "--param", "fibers=4", "--param", "localWork=1"]);
    assertEquals(r.code, 0, r.err.join("\n"));
    files.push(`${tmp}/exhaust/shard-${i}/runs.jsonl`);
  }
  const m = await captured(mergeMain, ["--json", ...files]);
  assertEquals(m.code, 0, m.err.join("\n"));
  const target = m.out.map((l) => JSON.parse(l)).find((l) => l.target);
  const locked = makeTarget(lostUpdate, "locked", { params: { fibers: 4, localWork: 1 } });
  const whole = exploreSplit(locked, { strategy: "dpor" }, { runs: 1e6, seed: 0 });
  assertEquals([target.got, target.exhausted, target.runs], ["pass", true, whole.schedules]);
});

Deno.test("regress: a truncated or huge stored trace is malformed (exit 2); the others are still judged", async () => {
  const dir = `${tmp}/malformed`;
  await Deno.mkdir(dir, { recursive: true });
  const good = [...Deno.readDirSync("regress/traces")].map((e) => e.name).sort();
  for (const name of good) await Deno.copyFile(`regress/traces/${name}`, `${dir}/${name}`);
  const text = await Deno.readTextFile(`regress/traces/${good[0]}`);
  await Deno.writeTextFile(`${dir}/a-truncated.json`, text.slice(0, 200));
  const huge = JSON.parse(text);
  huge.decisions = "0,1,".repeat(1_500_000) + "0";
  await Deno.writeTextFile(`${dir}/b-huge.json`, JSON.stringify(huge));
  const r = await captured(regress, ["--traces", dir, "--out", `${tmp}/malformed-out`]);
  assertEquals(r.code, 2);
  const text2 = r.out.join("\n");
  assertMatch(text2, /MALFORMED {2}\S+a-truncated\.json: \S+a-truncated\.json is not JSON/);
  assertMatch(text2, /(MALFORMED|MISMATCH ) {2}\S+b-huge\.json: /);
  for (const name of good) assertMatch(text2, new RegExp(`ok {9}\\S+${name}: reproduced`));
  assertMatch(text2, new RegExp(`2 of ${good.length + 2} stored traces NOT as recorded`));
  assertEquals(r.err.filter((l) => /^\s+at /.test(l)), []);
});

Deno.test("wording: one verdict is 'the 1 verdict', one step is '1 step'", async () => {
  const r = await sim(["--scenario", "lock-order", "--variant", "fixed", "--out", `${tmp}/one`]);
  assertEquals(r.code, 0);
  assertMatch(r.out.join("\n"), /\nthe 1 verdict as expected \(/);
  const { describeOutcome } = await import("../sim/outcome.ts");
  const pass = { verdict: "pass" as const, check: "", message: "", fiber: null };
  assertEquals(describeOutcome({ ...pass, step: 1 }), "pass after 1 step");
  assertEquals(describeOutcome({ ...pass, step: 2 }), "pass after 2 steps");
});
