import { assert, assertEquals, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
import { replayStored } from "../cli/regress.ts";
import { catalog } from "../scenarios/mod.ts";
import { judge, makeTarget, planFor, type PlanOptions, type RunInfo } from "../sim/explore.ts";
import { exploreSplit, treeSpecOf } from "../sim/split.ts";
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
async function sim(args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", "cli.ts", ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
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
      /^reproduced: (hang \(step-timeout\)|crash \(out-of-memory\))/,
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
