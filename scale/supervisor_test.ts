import { assert, assertEquals, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
import { replayStored } from "../cli/regress.ts";
import { catalog } from "../scenarios/mod.ts";
import { Sweeper } from "../cli/sweeps.ts";
import { checkDeterminism } from "../sim/determinism.ts";
import {
  judge,
  makeTarget,
  makeTrace,
  planFor,
  type PlanOptions,
  type RunInfo,
} from "../sim/explore.ts";
import { shrinkTrace } from "../sim/shrink.ts";
import { exploreSplit, listFrontier, treeSpecOf } from "../sim/split.ts";
import { verifyPass } from "../sim/verified.ts";
import { captured } from "../tests/_io.ts";
import { Supervisor } from "./supervisor.ts";

const FIXTURE = "tests/fixtures/hanging_scenario.ts";
const HOG = "tests/fixtures/hog_scenario.ts";
const tmp = await Deno.makeTempDir({ prefix: "sim-supervisor-test-" });

function byName(name: string) {
  return catalog.find((s) => s.name === name)!;
}

Deno.test("a supervised sweep gives the runs, failures and traces' options of one on this thread", async () => {
  const sup = new Supervisor({ stepTimeoutMs: 10_000, heapMaxBytes: 2 ** 30 });
  try {
    const cases: [string, string, PlanOptions, boolean][] = [
      ["lost-update", "racy", { strategy: "portfolio", pctSteps: 8 }, true],
      ["lock-order", "opposite", { strategy: "random" }, false],
      ["lost-update", "racy", { strategy: "dpor" }, true],
      ["lost-update", "racy", { strategy: "dfs", iterative: true }, false],
    ];
    for (const [scenario, variant, plan, keepGoing] of cases) {
      const target = makeTarget(byName(scenario), variant);
      const here: RunInfo[] = [];
      const there: RunInfo[] = [];
      const a = judge(target, {
        ...planFor(target, plan),
        seed: 3,
        runs: 40,
        keepGoing,
        onRun: (i) => here.push(i),
      });
      const b = await sup.judge(target, plan, {
        ...planFor(target, plan),
        seed: 3,
        runs: 40,
        keepGoing,
        onRun: (i) => there.push(i),
      });
      const label = `${scenario}/${variant} ${JSON.stringify(plan)}`;
      assert(a.failures.length > 0, `${label}: nothing failed`);
      assertEquals([b.runs, b.steps, b.ok], [a.runs, a.steps, a.ok], label);
      assertEquals(b.exploration, a.exploration, label);
      assertEquals(there.map((i) => [i.seed, i.outcome]), here.map((i) => [i.seed, i.outcome]));
      assertEquals(
        b.failures.map((f) => [f.seed, f.schedule, f.outcome, f.decisions]),
        a.failures.map((f) => [f.seed, f.schedule, f.outcome, f.decisions]),
        label,
      );
      // The options each trace records: those of the strategy right after its run.
      const options = b.failures.map((f) => f.options);
      assert(options.every((o) => o !== undefined), `${label}: a failure without options`);
      if (plan.strategy === "portfolio") {
        assertEquals(options.map((o) => o?.member), b.failures.map((f) => memberOf(f.seed)));
      }
    }
  } finally {
    sup.close();
  }
});

Deno.test("a supervised shard of a DFS or DPOR tree explores what exploreSplit does here", async () => {
  const sup = new Supervisor({ stepTimeoutMs: 10_000, heapMaxBytes: 2 ** 30 });
  try {
    for (const [variant, strategy] of [["racy", "dpor"], ["locked", "dfs"]] as const) {
      const target = makeTarget(byName("lost-update"), variant, { params: { fibers: 3 } });
      const plan = { strategy };
      const { strategy: s, runs } = planFor(target, plan);
      for (const index of [0, 1]) {
        const shard = { index, of: 2 };
        const here = exploreSplit(target, treeSpecOf(s), { runs, seed: 1, shard, keepGoing: true });
        const there = await sup.judge(target, plan, {
          ...planFor(target, plan),
          seed: 1,
          shard,
          keepGoing: true,
        });
        const { frontier: _, failures, ...stats } = here;
        assertEquals(there.exploration, stats, `${variant} ${strategy} shard ${index}`);
        assertEquals(
          there.failures.map((f) => [f.schedule, f.outcome, f.decisions]),
          failures.map((f) => [f.schedule, f.outcome, f.decisions]),
        );
      }
    }
  } finally {
    sup.close();
  }
});

function memberOf(seed: number): string {
  return ["random", "pct-d1", "pct-d2", "pct-d3", "pct-d4", "pct-d5"][seed % 6];
}

// A step that never returns keeps its thread busy until the process exits
// (Deno's Worker.terminate does not stop it), so these runs are subprocesses,
// each killed if it outlives a minute.
async function sim(args: string[], killMs = 60_000): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", "cli.ts", ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(killMs),
  }).output();
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  return { code: r.code, out };
}

Deno.test("a step or a setup that never returns is a hang, with a trace that replays", async () => {
  const out = `${tmp}/hang`;
  const r = await sim(["--scenario", FIXTURE, "--step-timeout", "0.5", "--out", out]);
  const text = r.out;
  // `unexpected` declares pass: its hang is a verdict not as expected.
  assertEquals(r.code, 1, text);
  assert(!/^\s+at\s/m.test(text), `a stack trace:\n${text}`);
  assertMatch(
    text,
    /hanging\/step: hang \(step-timeout\) at step 2 in fiber spinner: step 2 did not return within the step timeout \(--step-timeout\): a loop that never yields\? \(as expected\)/,
  );
  assertMatch(text, /hanging\/setup: hang \(step-timeout\) at step 0: setup did not return/);
  assertMatch(text, /hanging\/unexpected: hang \(step-timeout\) at step 2 in fiber spinner/);
  assertMatch(text, /not shrunk: a hang \(step-timeout\) is not shrunk/);
  assertMatch(text, /1 of 3 verdicts NOT as expected/);
  await replaysAll(out, FIXTURE, 3);
  // runs.jsonl has the run before the hang (run again on this thread) and the hang.
  const lines = jsonl(out);
  const step = lines.filter((l) => l.variant === "step" && l.seed !== undefined);
  assertEquals(step.map((l) => [l.seed, l.verdict]), [[1, "pass"], [2, "hang"]]);
  assertEquals(lines.at(-1).exitCode, 1);
});

Deno.test("a run that eats memory is a crash (out-of-memory), and the command ends there", async () => {
  const out = `${tmp}/hog`;
  const r = await sim([
    "--scenario",
    HOG,
    "--step-timeout",
    "60",
    "--heap-max",
    "64",
    "--out",
    out,
  ]);
  const text = r.out;
  assertEquals(r.code, 1, text);
  assert(!/^\s+at\s/m.test(text), `a stack trace:\n${text}`);
  assertMatch(
    text,
    /hog\/hog: crash \(out-of-memory\) at step 1 in fiber hog: out of memory: the run grew past the heap limit \(--heap-max\) during step 1 \(as expected\)/,
  );
  assertMatch(text, /1 variants not run: a run ran out of memory/);
  await replaysAll(out, HOG, 1);
  const summary = jsonl(out).at(-1);
  assertEquals([summary.notRun, summary.exitCode], [1, 1]);
});

// Every trace in `dir` replays, up to the step that never returned.
async function replaysAll(dir: string, scenario: string, count: number): Promise<void> {
  const traces = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"));
  assertEquals(traces.length, count, traces.join());
  for (const t of traces) {
    const replayed = await captured(main, ["--replay", `${dir}/${t}`, "--scenario", scenario]);
    assertEquals(replayed.code, 0, `${t}: ${replayed.out.join("\n")}`);
    assertMatch(
      replayed.out.at(-1)!,
      /^reproduced: (hang \((step|end-check)-timeout\)|crash \(out-of-memory\))/,
    );
  }
  // regress judges them like any stored trace.
  const stored = await replayStored(dir, [scenario]);
  for (const x of stored) assertEquals([x.status, x.ok], ["ok", true], `${x.file}: ${x.result}`);
  assertEquals(stored.length, count);
}

// deno-lint-ignore no-explicit-any
function jsonl(dir: string): any[] {
  return Deno.readTextFileSync(`${dir}/runs.jsonl`).trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("DPOR, PCT and --workers find a hang too; --step-timeout 0 turns supervision off", async () => {
  const dpor = await sim([
    "--scenario",
    FIXTURE,
    "--variant",
    "step",
    "--strategy",
    "dpor",
    "--step-timeout",
    "0.5",
    "--out",
    `${tmp}/dpor`,
    "--json=summary",
  ]);
  assertEquals(dpor.code, 0, dpor.out);
  const line = dpor.out.split("\n").find((l) => l.includes('"result"'))!;
  const x = JSON.parse(line);
  assertEquals([x.verdict, x.result, x.check, x.exhausted], [
    "hang",
    "bug-found",
    "step-timeout",
    false,
  ]);
  const pct = await sim([
    "--scenario",
    FIXTURE,
    "--variant",
    "step",
    "--strategy",
    "pct",
    "--step-timeout",
    "0.5",
    "--out",
    `${tmp}/pct`,
  ]);
  assertEquals(pct.code, 0, pct.out);
  assertMatch(pct.out, /strategy pct \(depth 3, steps \d+\)/);
  // PCT's probe (one sequential run) hangs in the setup: the estimate is the step limit.
  const probe = await sim([
    "--scenario",
    FIXTURE,
    "--variant",
    "setup",
    "--strategy",
    "pct",
    "--step-timeout",
    "0.5",
    "--out",
    `${tmp}/probe`,
  ]);
  assertEquals(probe.code, 0, probe.out);
  assertMatch(probe.out, /hanging\/setup: hang \(step-timeout\) at step 0/);
  assertMatch(probe.out, /strategy pct \(depth 3, steps 10000\)/);
  // A watched pool stops, and one supervised worker finds the run again.
  const pool = await sim([
    "--scenario",
    FIXTURE,
    "--variant",
    "step",
    "--workers",
    "2",
    "--runs",
    "500",
    "--step-timeout",
    "0.5",
    "--out",
    `${tmp}/pool`,
  ]);
  assertEquals(pool.code, 0, pool.out);
  assertMatch(pool.out, /hanging\/step: hang \(step-timeout\) at step 2 in fiber spinner/);
  await replaysAll(`${tmp}/pool`, FIXTURE, 1);
  const runs = jsonl(`${tmp}/pool`).filter((l) => l.seed !== undefined);
  assertEquals(runs.map((l) => [l.seed, l.verdict]), [[1, "pass"], [2, "hang"]]);
  const off = await sim([
    "--scenario",
    FIXTURE,
    "--variant",
    "step",
    "--step-timeout",
    "0",
    "--heap-max",
    "64",
  ]);
  assertEquals(off.code, 2);
  assertEquals(off.out.trim(), "error: --heap-max needs supervision: drop --step-timeout 0");
});

Deno.test("the checks after a sweep give on the supervised worker what they give here", async () => {
  const sup = new Supervisor({ stepTimeoutMs: 10_000, heapMaxBytes: 2 ** 30 });
  const sweeper = new Sweeper(1, { stepTimeoutMs: 10_000, heapMaxBytes: 2 ** 30 });
  try {
    const locked = makeTarget(byName("lost-update"), "locked");
    // Verification at the declared size: the same DPOR exploration.
    const here = verifyPass(locked)!;
    const there = (await sweeper.verify(locked))!;
    assertEquals([there.ok, there.result.schedules], [here.ok, here.result.schedules]);
    assert(there.ok && there.result.schedules > 1, `${there.result.schedules} schedules`);
    // The determinism check of a sweep.
    const racy = makeTarget(byName("lost-update"), "racy");
    const plan = { strategy: "random" };
    const check = await sup.checkDeterminism(racy, plan, { seed: 1, runs: 30 });
    assertEquals(check, checkDeterminism(racy, { ...planFor(racy, plan), seed: 1, runs: 30 }));
    // The subtrees of a split tree.
    const spec = treeSpecOf(planFor(racy, { strategy: "dpor" }).strategy);
    assertEquals(await sup.frontier(racy, spec, 1), listFrontier(racy, spec, { seed: 1 }));
    // A shrink, with the same budget in runs.
    const found = judge(racy, { ...planFor(racy, plan), seed: 1, runs: 50 });
    const trace = makeTrace(racy, found.strategy, found.failures[0]);
    const shrunk = await sup.shrink("lost-update", trace, { timeMsMax: 60_000 });
    const local = shrinkTrace(trace, byName("lost-update"));
    assert(!("atEnd" in shrunk));
    assertEquals([shrunk.shrunk, shrunk.runs], [local.shrunk, local.runs]);
  } finally {
    sup.close();
    sweeper.close();
  }
});

const SOMETIMES = "tests/fixtures/sometimes_hanging_scenario.ts";

Deno.test("shrinking, --check-determinism and verify-at-size stop a schedule that hangs", async () => {
  // Seed 2 of `race` is a bug (no hang): the sweep passes on to what comes after it.
  const common = ["--scenario", SOMETIMES, "--seed", "2", "--step-timeout", "0.5"];
  const [shrink, determinism, verified] = await Promise.all([
    sim([...common, "--variant", "race", "--out", `${tmp}/s-shrink`]),
    sim([
      ...common,
      "--variant",
      "race",
      "--no-shrink",
      "--check-determinism",
      "--out",
      `${tmp}/s-det`,
    ]),
    sim([...common, "--variant", "verified", "--out", `${tmp}/s-verify`]),
  ]);
  for (const r of [shrink, determinism, verified]) {
    assertEquals(r.code, 1, r.out);
    assert(!/^\s+at\s/m.test(r.out), `a stack trace:\n${r.out}`);
    assertMatch(r.out, /1 of 1 verdicts NOT as expected/);
  }
  assertMatch(shrink.out, /bug \(write-in-time\) at step 3/);
  assertMatch(
    shrink.out,
    /shrinking stopped: its run \d+ \(seed 2\) did not return from step 2 within the step timeout/,
  );
  assertMatch(
    determinism.out,
    /race: determinism check stopped: its run \d+ \(seed \d+\) did not return from step 2/,
  );
  assertMatch(
    verified.out,
    /verified: NOT verified at \{\}: hang \(step-timeout\) at step 2 in fiber spinner/,
  );
  // The hang DPOR found while verifying has a trace that replays.
  const trace = /replay: deno task sim --replay (\S+dpor\S+\.json)/.exec(verified.out)![1];
  const replayed = await captured(main, ["--replay", trace, "--scenario", SOMETIMES]);
  assertMatch(replayed.out.at(-1)!, /^reproduced: hang \(step-timeout\) at step 2/);
  // `--shrink FILE` stops there too.
  const found = [...Deno.readDirSync(`${tmp}/s-det`)].find((e) => e.name.endsWith(".json"))!;
  const file = `${tmp}/s-det/${found.name}`;
  const again = await sim(["--shrink", file, "--scenario", SOMETIMES, "--step-timeout", "0.5"]);
  assertEquals(again.code, 1, again.out);
  assertMatch(again.out, /^shrinking \S+ stopped: its run \d+ \(seed 2\) did not return/);
});

Deno.test("with --workers, PCT's probe and a split tree's subtree listing are supervised", async () => {
  // The sequential schedule hangs: the probe's, and a DFS or DPOR tree's first.
  const runs = await Promise.all(["pct", "dfs"].map((strategy) =>
    sim([
      "--scenario",
      SOMETIMES,
      "--variant",
      "found",
      "--workers",
      "2",
      "--strategy",
      strategy,
      "--step-timeout",
      "0.5",
      "--out",
      `${tmp}/w-${strategy}`,
      // Each hang leaves a thread spinning: the workers that start after it
      // load slowly on a busy machine.
    ], 120_000)
  ));
  for (const r of runs) {
    assertEquals(r.code, 0, r.out);
    assertMatch(r.out, /found: hang \(step-timeout\) at step 2 in fiber spinner/);
  }
  assertMatch(runs[0].out, /strategy pct \(depth 3, steps 10000\)/);
  assertMatch(runs[1].out, /schedule 1, strategy dfs/);
});

Deno.test("a hang in the end-of-run checks is named as such, and replays", async () => {
  const out = `${tmp}/end`;
  const r = await sim([
    "--scenario",
    SOMETIMES,
    "--variant",
    "end-hang",
    "--step-timeout",
    "0.5",
    "--out",
    out,
  ]);
  assertEquals(r.code, 0, r.out);
  assertMatch(
    r.out,
    /end-hang: hang \(end-check-timeout\) at step 3: the end-of-run checks after step 3 did not return within the step timeout/,
  );
  await replaysAll(out, SOMETIMES, 1);
});

Deno.test("a scenario file whose top-level code never returns is a one-line error", async () => {
  const file = "tests/fixtures/loading_forever_scenario.ts";
  const trace = [...Deno.readDirSync(`${tmp}/end`)].find((e) => e.name.endsWith(".json"))!;
  const runs = await Promise.all([
    ["--scenario", file],
    ["--replay", `${tmp}/end/${trace.name}`, "--scenario", file],
    ["--shrink", `${tmp}/end/${trace.name}`, "--scenario", file],
  ].map((args) => sim([...args, "--step-timeout", "0.5", "--out", `${tmp}/load`])));
  for (const r of runs) {
    assertEquals(r.code, 2, r.out);
    assertEquals(
      r.out.trim(),
      `error: scenario file ${file} did not finish loading within 5 s: top-level code that ` +
        "never returns? (the limit is the step timeout, --step-timeout, and at least 5 s)",
    );
  }
});

Deno.test("a run that allocates 3 GB in one go is a crash (out-of-memory), not a fatal error", async () => {
  const out = `${tmp}/huge`;
  const file = "tests/fixtures/huge_scenario.ts";
  const r = await sim(["--scenario", file, "--heap-max", "64", "--out", out]);
  assertEquals(r.code, 0, r.out);
  assert(!/^\s+at\s|Fatal|fatal/m.test(r.out), r.out);
  assertMatch(
    r.out,
    /huge\/huge: crash \(out-of-memory\) at step 1 in fiber huge: out of memory: the run grew past the heap limit \(--heap-max\) during step 1 \(as expected\)/,
  );
  await replaysAll(out, file, 1);
});
