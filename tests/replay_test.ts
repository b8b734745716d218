import fc from "fast-check";
import { assert, assertEquals } from "../deps.ts";
import { catalog } from "../scenarios/mod.ts";
import { replay } from "../sim/explore.ts";
import { ReplayDivergence } from "../sim/outcome.ts";
import { UsageError } from "../sim/scenario.ts";
import { parseTrace } from "../sim/trace.ts";
import { runSpec } from "./_arbitraries.ts";
import { traceOf } from "./_runs.ts";

const scenarioOf = (name: string) => catalog.find((s) => s.name === name)!;

Deno.test("every recorded run replays to the same outcome and the same final state", () => {
  fc.assert(
    fc.property(runSpec, (spec) => {
      const { trace, snapshot } = traceOf(spec);
      const parsed = parseTrace(trace);
      const result = replay(parsed, scenarioOf(spec.scenario));
      assert(result.reproduced, result.message);
      assertEquals(result.outcome, parsed.outcome);
      assertEquals(result.snapshot, snapshot);
    }),
    { numRuns: 300, seed: 21 },
  );
});

/** Replays `text`; returns how it ended, and fails the test on any other throw. */
function replayText(text: string): "reproduced" | "differs" | "diverged" | "rejected" {
  try {
    const trace = parseTrace(text);
    const result = replay(trace, scenarioOf(trace.scenario) ?? catalog[0]);
    return result.reproduced ? "reproduced" : "differs";
  } catch (e) {
    if (e instanceof ReplayDivergence) return "diverged";
    if (e instanceof UsageError) return "rejected";
    throw e;
  }
}

Deno.test("corrupted decision lists give a divergence or a different outcome, never a crash", () => {
  fc.assert(
    fc.property(
      runSpec,
      fc.array(fc.nat({ max: 6 }), { maxLength: 8 }),
      fc.nat(),
      (spec, noise, cut) => {
        const json = JSON.parse(traceOf(spec).trace);
        const decisions = String(json.decisions).split(",").filter((x) => x !== "");
        const at = decisions.length === 0 ? 0 : cut % (decisions.length + 1);
        json.decisions = [...decisions.slice(0, at), ...noise.map(String)].join(",");
        const how = replayText(JSON.stringify(json));
        assert(["reproduced", "differs", "diverged"].includes(how), how);
      },
    ),
    { numRuns: 300, seed: 22 },
  );
});

Deno.test("truncated or mangled trace files are rejected with a message, never a crash", () => {
  fc.assert(
    fc.property(runSpec, fc.nat(), fc.string({ maxLength: 3 }), (spec, cut, junk) => {
      const text = traceOf(spec).trace;
      const mangled = text.slice(0, cut % text.length) + junk;
      const how = replayText(mangled);
      assert(how === "rejected" || how === "reproduced" || how === "diverged", how);
    }),
    { numRuns: 200, seed: 23 },
  );
});

Deno.test("a trace for another scenario's variant or with bad parameters is rejected", () => {
  const text = traceOf({
    scenario: "lost-update",
    variant: "racy",
    params: {},
    strategy: "pct",
    seed: 3,
  }).trace;
  const wrongVariant = text.replace('"variant": "racy"', '"variant": "nope"');
  const badParams = text.replace('"fibers": 2', '"fibers": -1');
  assertEquals(replayText(wrongVariant), "rejected");
  assertEquals(replayText(badParams), "rejected");
});
