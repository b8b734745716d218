import { assert, assertEquals, AssertionError, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
import { lockOrder, lostUpdate } from "../scenarios/mod.ts";
import { replay } from "../sim/explore.ts";
import { parseTrace } from "../sim/trace.ts";
import ticketDispenser from "../examples/ticket_lock.ts";
import { captured } from "../tests/_io.ts";
import { assertScenario } from "./assert.ts";

const tmp = await Deno.makeTempDir({ prefix: "sim-assert-test-" });

async function rejection(p: Promise<unknown>): Promise<AssertionError> {
  try {
    await p;
  } catch (e) {
    assert(e instanceof AssertionError, `not an AssertionError: ${e}`);
    return e;
  }
  throw new Error("assertScenario resolved, but it should have failed");
}

Deno.test("assertScenario resolves when every variant is as declared", async () => {
  const r = await assertScenario(lostUpdate, { out: tmp });
  assertEquals(r.map((v) => [v.variant, v.ok]), [["racy", true], ["locked", true]]);
  assertEquals(r[0].judgement.outcome?.check, "no-lost-update");
});

Deno.test("an unexpected bug gives a counterexample report whose replay command works", async () => {
  const e = await rejection(
    assertScenario(lostUpdate, { variant: "racy", expect: "pass", out: tmp, seed: 3 }),
  );
  const m = e.message;
  assertMatch(m, /^Scenario lost-update\/racy expected pass, got bug \(no-lost-update\) at step/);
  assertMatch(m, /found by pct \(depth \d+, steps \d+\)|found by \w+/);
  assertMatch(m, /shrunk to \d+ steps, 1 preemptions/);
  assertMatch(m, /rerun: {2}deno task sim --scenario lost-update --variant racy --strategy pct/);
  const replayLine = m.split("\n").find((l) => l.includes("replay: "));
  assert(replayLine !== undefined, m);
  const path = replayLine.replace(/^.*--replay (\S+).*$/, "$1");
  assertMatch(path, /\.shrunk\.json$/);
  const shrunk = parseTrace(await Deno.readTextFile(path), path);
  assertEquals(shrunk.outcome.check, "no-lost-update");
  assert(replay(shrunk, lostUpdate).reproduced);
  const ran = await captured(main, ["--replay", path]);
  assertEquals(ran.code, 0, ran.err.join("\n"));
});

Deno.test("an expected failure that is not found says how much was tried", async () => {
  const e = await rejection(
    assertScenario(lockOrder, {
      variant: "fixed",
      expect: "deadlock",
      strategy: "random",
      runs: 40,
    }),
  );
  assertMatch(e.message, /expected deadlock, but 40 random runs passed/);
  const d = await rejection(assertScenario(lockOrder, { variant: "fixed", expect: "deadlock" }));
  assertMatch(d.message, /expected deadlock, but dpor exhausted the space \(\d+ schedules\)/);
  assertMatch(e.message, /rerun: {2}deno task sim --scenario lock-order --variant fixed/);
});

Deno.test("a check that differs from the expected one is a failure too", async () => {
  const e = await rejection(
    assertScenario(lostUpdate, {
      variant: "racy",
      expect: { verdict: "bug", check: "some-other-check" },
      out: tmp,
      shrink: false,
    }),
  );
  assertMatch(e.message, /expected bug \(some-other-check\), got bug \(no-lost-update\)/);
});

Deno.test("a user's scenario file: the replay command names it with --scenario", async () => {
  const source = "examples/ticket_lock.ts";
  const e = await rejection(
    assertScenario(ticketDispenser, { variant: "racy", expect: "pass", source, out: tmp }),
  );
  const replayLine = e.message.split("\n").find((l) => l.includes("replay: "));
  assertMatch(replayLine ?? "", /--replay \S+\.shrunk\.json --scenario examples\/ticket_lock\.ts$/);
  const args = (replayLine ?? "").replace(/^.*deno task sim /, "").split(" ");
  const ran = await captured(main, args);
  assertEquals(ran.code, 0, ran.err.join("\n"));
  assertMatch(e.message, /found by portfolio \(member (random|pct-d[1-5])\) at seed \d+/);
});

Deno.test("bad parameters are the scenario's zod message", async () => {
  try {
    await assertScenario(lostUpdate, { params: { fibers: 0 } });
    throw new Error("accepted fibers=0");
  } catch (e) {
    assertMatch((e as Error).message, /bad parameters for lost-update: fibers/);
  }
});
