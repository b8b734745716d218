/**
 * Shrinking over the whole catalog: whatever fails, in any scenario with any
 * small parameters, shrinks to a trace that replays exactly, fails the same
 * way, and is no larger.
 */
import fc from "fast-check";
import { assert, assertEquals } from "../deps.ts";
import { catalog } from "../scenarios/mod.ts";
import { replay } from "../sim/explore.ts";
import { shrinkTrace } from "../sim/shrink.ts";
import { parseTrace, serializeTrace } from "../sim/trace.ts";
import { runSpec } from "./_arbitraries.ts";
import { traceOf } from "./_runs.ts";

Deno.test("any failing catalog run shrinks to a no larger trace that fails the same way on replay", () => {
  let failing = 0;
  fc.assert(
    fc.property(runSpec, (spec) => {
      const trace = parseTrace(traceOf(spec).trace);
      if (trace.outcome.verdict === "pass") return;
      failing++;
      const scenario = catalog.find((s) => s.name === spec.scenario)!;
      const r = shrinkTrace(trace, scenario, { runsMax: 800, searchRuns: 40 });
      const again = replay(parseTrace(serializeTrace(r.shrunk)), scenario);
      assert(again.reproduced, again.message);
      assertEquals([again.outcome.verdict, again.outcome.check], [
        trace.outcome.verdict,
        trace.outcome.check,
      ]);
      const [b, a] = [r.before, r.after];
      assert(
        a.preemptions < b.preemptions || (a.preemptions === b.preemptions && a.steps <= b.steps),
        `${JSON.stringify(b)} -> ${JSON.stringify(a)}`,
      );
    }),
    { numRuns: 120, seed: 7 },
  );
  assert(failing >= 10, `only ${failing} failing runs were generated`);
});
