import { assert, assertEquals } from "../deps.ts";
import { lostUpdate } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
import { timelineOf } from "./timeline.ts";

// lost-update's racy body reads the counter on one line and writes it on the next.
const text = await Deno.readTextFile(new URL("../scenarios/lost_update.ts", import.meta.url));
const lines = text.split("\n");
const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
const READ = `scenarios/lost_update.ts:${lineOf("const v = yield* counter.read();")}`;
const WRITE = `scenarios/lost_update.ts:${lineOf("yield* counter.write(v + 1);")}`;

function failingTrace() {
  const target = makeTarget(lostUpdate, "racy", { params: { fibers: 3, increments: 50 } });
  const r = judge(target, { ...planFor(target, { strategy: "random" }), seed: 1 });
  return makeTrace(target, r.strategy, r.failures[0]);
}

Deno.test("every source line shown is the line of its step's operation, inside the window or out", () => {
  const trace = failingTrace();
  for (const sourceStepsMax of [10, 100_000]) {
    const t = timelineOf(trace, lostUpdate, { sourceStepsMax });
    let shown = 0;
    t.events.forEach((e, i) => {
      const s = t.sources[i];
      if (s === null) return;
      shown++;
      assertEquals(s, e.kind === "read" ? READ : WRITE, `step ${e.step} (${e.kind})`);
    });
    // Inside the window every step has its line; before it, at most the first step of
    // each fiber (whose site was taken when setup spawned it).
    if (sourceStepsMax > t.steps) assertEquals(shown, t.steps);
    else assert(shown >= sourceStepsMax && shown <= sourceStepsMax + 100 + 3, `${shown} shown`);
  }
});
