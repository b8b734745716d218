import { assertEquals, assertMatch } from "../deps.ts";
import { Kernel } from "./kernel.ts";
import { CHOOSE_MAX } from "./limits.ts";
import { RandomStrategy } from "./random.ts";
import { ReplayStrategy } from "./replay.ts";
import type { Strategy } from "./strategy.ts";
import { decodeDecisions, encodeDecisions, scanDecisions } from "./trace.ts";

function chooseOnce(n: number, strategy: Strategy, seed: number) {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax: 10 }, strategy, seed);
  const got: number[] = [];
  k.spawn("c", function* () {
    yield* k.pause();
    got.push(k.choose(n));
  });
  return { outcome: k.execute(), got, decisions: k.decisions() };
}

Deno.test("k.choose takes n up to 2^32; its values are recorded, encoded and replayed exactly", () => {
  const values = new Set<number>();
  for (let seed = 1; seed <= 20; seed++) {
    const run = chooseOnce(CHOOSE_MAX, new RandomStrategy(), seed);
    assertEquals(run.outcome.verdict, "pass");
    const v = run.got[0];
    values.add(v);
    assertEquals(run.decisions, [v]);
    assertEquals(decodeDecisions(encodeDecisions(run.decisions)), [v]);
    assertEquals(chooseOnce(CHOOSE_MAX, new ReplayStrategy(run.decisions), 0).got, [v]);
  }
  // Half the range lies above 2^31: twenty draws all below it would mean the top bit is lost.
  assertEquals([...values].some((v) => v >= 2 ** 31), true);
  const top = chooseOnce(CHOOSE_MAX, new ReplayStrategy([CHOOSE_MAX - 1]), 0);
  assertEquals([top.got, top.decisions], [[CHOOSE_MAX - 1], [CHOOSE_MAX - 1]]);
});

Deno.test("k.choose above 2^32 is a clear scenario error, not a malformed trace later", () => {
  const run = chooseOnce(CHOOSE_MAX + 1, new RandomStrategy(), 1);
  assertEquals(run.outcome.verdict, "crash");
  assertMatch(
    run.outcome.message,
    /Cannot choose among 4294967297 values: need an integer in 1\.\.2\^32/,
  );
});

Deno.test("decision lists scan in one pass; a bad one names the place", () => {
  assertEquals(scanDecisions(""), 0);
  assertEquals(scanDecisions("4294967295*3,0"), 4);
  assertMatch(scanDecisions("0,,1") as string, /at character 2 .*expected a number/);
  assertMatch(scanDecisions("12345678901") as string, /expected a decision below 2\^32/);
  assertMatch(scanDecisions("1*99999999999") as string, /more than 50000000 decisions/);
  assertMatch(scanDecisions("1,".repeat(1000) + "x") as string, /at character 2000/);
});
