import { z } from "zod";
import { assert, assertEquals, assertMatch, assertNotEquals, assertThrows } from "../deps.ts";
import { main } from "../cli.ts";
import { captured } from "./_io.ts";
import { channelMpmc, lostUpdate, reactor } from "../scenarios/mod.ts";
import {
  createStrategy,
  judge,
  makeTarget,
  makeTrace,
  planFor,
  replay,
  Runner,
} from "../sim/explore.ts";
import { ReplayDivergence } from "../sim/outcome.ts";
import { type AnyScenario, defineScenario, UsageError } from "../sim/scenario.ts";
import { shrinkTrace } from "../sim/shrink.ts";
import { configOfDecisions, formatSwarm } from "../sim/swarm.ts";
import { decodeDecisions, parseTrace, serializeTrace } from "../sim/trace.ts";

const tmp = await Deno.makeTempDir({ prefix: "sim-swarm-test-" });

function swarmFailure(scenario: AnyScenario = channelMpmc, variant = "racy-close") {
  const target = makeTarget(scenario, variant, { swarm: true });
  const r = judge(target, { ...planFor(target), seed: 1 });
  assert(r.failures.length > 0, `${scenario.name}/${variant} not found under swarm`);
  return { target, r, trace: makeTrace(target, r.strategy, r.failures[0]) };
}

Deno.test("swarm: each seed draws its configuration first, the same on every run", () => {
  const target = makeTarget(channelMpmc, "correct", { swarm: true });
  const configs = (): string[] => {
    const runner = new Runner(target);
    const s = createStrategy("random", target);
    const out: string[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const o = runner.run(s, seed);
      assertEquals(o.verdict, "pass", o.message);
      out.push(`${JSON.stringify(runner.config)} ${runner.kernel.decisions().join(",")}`);
    }
    return out;
  };
  const a = configs();
  assertEquals(configs(), a, "the same seeds draw the same configurations and runs");
  const distinct = new Set(a.map((l) => l.split(" ")[0]));
  assert(distinct.size > 20, `only ${distinct.size} distinct configurations in 40 seeds`);
  assert(a.some((l) => l.includes('"delay"')), "some seed turns delays on");
  assert(a.some((l) => !l.includes('"delay"')), "some seed leaves them off");
});

Deno.test("swarm: a scenario without a swarm hook, and --swarm with --cores, are usage errors", async () => {
  assertThrows(
    () => makeTarget(lostUpdate, "racy", { swarm: true }),
    UsageError,
    "declares no swarm configuration",
  );
  const r = await captured(main, ["--scenario", "lost-update", "--swarm", "--out", tmp]);
  assertEquals(r.code, 2);
  assertMatch(r.err.join("\n"), /lost-update declares no swarm configuration/);
  const c = await captured(main, ["--scenario", "reactor", "--swarm", "--cores", "2"]);
  assertEquals(c.code, 2);
  assertEquals(c.err.length, 1, c.err.join("\n"));
});

Deno.test("swarm: a hook drawing a value the parameters refuse fails the run with zod's reason", () => {
  const bad = defineScenario({
    name: "bad-swarm",
    description: "draws a size its schema refuses",
    params: z.object({ n: z.number().int().min(1).max(3).default(1) }),
    variants: {
      default: {
        description: "-",
        expect: { verdict: "pass", budget: { strategy: "random", runs: 1 } },
      },
    },
    swarm: (draw) => ({ n: draw.int("n", 2, 9) }),
    setup(k, { n }) {
      k.spawn("f", function* () {
        yield* k.cell("c", n).read();
      });
    },
  });
  const target = makeTarget(bad, "default", { swarm: true });
  const runner = new Runner(target);
  let crashed = "";
  for (let seed = 1; seed <= 30 && crashed === ""; seed++) {
    const o = runner.run(createStrategy("random", target), seed);
    if (o.verdict === "crash") crashed = o.message;
  }
  assertMatch(crashed, /bad-swarm's swarm hook drew a configuration its parameters refuse: n: .*3/);
  // A configuration too big for a trace is refused when drawn, not when read back.
  const huge = defineScenario({
    ...bad,
    name: "huge-swarm",
    swarm: () => ({ n: "x".repeat(5000) }),
  });
  const o = new Runner(makeTarget(huge, "default", { swarm: true }))
    .run(createStrategy("random", makeTarget(huge, "default")), 1);
  assertMatch(o.message, /a trace cannot hold: at most 4096 characters/);
});

Deno.test("swarm: the configuration is stored in the trace, round-trips, replays and is checked", () => {
  const { target, trace } = swarmFailure();
  assert(trace.swarm !== undefined && "producers" in trace.swarm, JSON.stringify(trace.swarm));
  const text = serializeTrace(trace);
  const back = parseTrace(text);
  assertEquals(serializeTrace(back), text);
  assertEquals(back.swarm, trace.swarm);
  assertEquals(configOfDecisions(target, decodeDecisions(back.decisions)).config, trace.swarm);
  assertEquals(replay(back, channelMpmc).reproduced, true);
  // A configuration that the decisions do not draw is a divergence, said plainly.
  const tampered = { ...back, swarm: { ...back.swarm, producers: 99 } };
  assertThrows(() => replay(tampered, channelMpmc), ReplayDivergence, "the trace records");
  // Old traces (no swarm field) stay loadable; a malformed one is refused by zod.
  const { swarm: _, ...old } = JSON.parse(text);
  assertEquals(parseTrace(JSON.stringify(old)).swarm, undefined);
  assertThrows(
    () => parseTrace(JSON.stringify({ ...old, swarm: "x" })),
    UsageError,
    "swarm:",
  );
  const big = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
  assertThrows(
    () => parseTrace(JSON.stringify({ ...old, swarm: big })),
    UsageError,
    "at most 64 configuration values",
  );
});

Deno.test("swarm: a shrunk swarm failure draws a smaller configuration that matches its decisions", () => {
  const { target, trace } = swarmFailure(channelMpmc, "racy-close");
  assertEquals(trace.swarm?.consumers, 3, "seed 1 draws three consumers and delays");
  const r = shrinkTrace(trace, channelMpmc, { runsMax: 3_000 });
  assertEquals(r.shrunk.params, trace.params, "swarm shrinks its configuration, not the params");
  // Searched afresh under smaller drawn values, as parameters are: one of
  // each, and the faults off.
  assertEquals(r.shrunk.swarm, {
    producers: 1,
    consumers: 1,
    messages: 1,
    capacity: 1,
    faults: {},
  });
  assertEquals(
    configOfDecisions(target, decodeDecisions(r.shrunk.decisions)).config,
    r.shrunk.swarm,
  );
  assertEquals(replay(r.shrunk, channelMpmc).reproduced, true);
  assert(r.after.steps < r.before.steps, `${r.before.steps} -> ${r.after.steps} steps`);
});

Deno.test("swarm: the CLI finds the broken variant, prints the configuration, and its trace replays", async () => {
  const out = `${tmp}/cli`;
  const r = await captured(main, [
    "--scenario",
    "channel-mpmc",
    "--variant",
    "racy-close",
    "--swarm",
    "--no-shrink",
    "--out",
    out,
  ]);
  assertEquals(r.code, 0, r.out.join("\n") + r.err.join("\n"));
  const text = r.out.join("\n");
  const config = text.match(/^ {2}config: (.*)$/m)?.[1] ?? "";
  assertMatch(config, /^producers=\d consumers=\d messages=\d capacity=\d( faults=\{.*\})?$/);
  assertMatch(text, /rerun: .* --swarm /);
  const path = text.match(/replay: deno task sim --replay (\S+)/)![1];
  const trace = parseTrace(await Deno.readTextFile(path));
  // The trace keeps its keys sorted; the printed line keeps the order of the draws.
  const tokens = (line: string) => line.split(" ").sort();
  assertEquals(tokens(formatSwarm(trace.swarm!)), tokens(config));
  // runs.jsonl's line for the failing run carries the configuration too.
  const failing = (await Deno.readTextFile(`${out}/runs.jsonl`)).trim().split("\n")
    .map((l) => JSON.parse(l)).find((l) => l.verdict === "bug");
  assertEquals(failing?.config, trace.swarm);
  const again = await captured(main, ["--replay", path]);
  assertEquals(again.code, 0, again.out.join("\n"));
  // The rerun command reproduces the same seed and configuration.
  const rerun = text.match(/rerun: {2}deno task sim (.*)$/m)![1].split(" ");
  const second = await captured(main, [...rerun, "--no-shrink", "--out", `${out}/rerun`]);
  assertEquals(second.code, 0);
  assertMatch(second.out.join("\n"), new RegExp(`config: ${escape(config)}`));
  assertNotEquals(config, "");
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("swarm: correct variants pass their budgets under --swarm; broken ones are found", () => {
  for (const [scenario, variant] of [[channelMpmc, "correct"], [reactor, "correct"]] as const) {
    const target = makeTarget(scenario, variant, { swarm: true });
    const r = judge(target, { ...planFor(target, { runs: 400 }), seed: 1 });
    assert(r.ok, `${scenario.name}/${variant}: ${r.outcome?.message}`);
  }
  for (
    const [scenario, variant] of [
      [channelMpmc, "racy-enqueue"],
      [channelMpmc, "racy-close"],
      [reactor, "shared-arena"],
    ] as const
  ) {
    const target = makeTarget(scenario, variant, { swarm: true });
    const r = judge(target, { ...planFor(target), seed: 1 });
    assert(r.ok, `${scenario.name}/${variant} not found under swarm in its budget`);
  }
});
