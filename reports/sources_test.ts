import { assert, assertEquals } from "../deps.ts";
import { lostUpdate } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
import { panelData } from "./html_state.ts";
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
    // Every step of the window (the last steps) has its line; no step before it has one.
    const first = Math.max(1, t.steps - sourceStepsMax + 1);
    assertEquals(t.sourceSteps, [first, t.steps]);
    assertEquals(shown, t.steps - first + 1);
    assert(t.sources.slice(0, first - 1).every((s) => s === null));
  }
});

Deno.test("every step of a 5,000-step run has its source line, in the timeline and the report's data", () => {
  const target = makeTarget(lostUpdate, "racy", { params: { fibers: 10, increments: 250 } });
  const r = judge(target, { ...planFor(target, { strategy: "random" }), seed: 1 });
  const t = timelineOf(makeTrace(target, r.strategy, r.failures[0]), lostUpdate);
  assertEquals(t.steps, 5_000);
  assertEquals(t.sourceSteps, [1, 5_000]);
  // A window of the last 1,000 steps left step 1 without one.
  assertEquals([t.events[0].step, t.sources[0]], [1, READ]);
  t.events.forEach((e, i) => assertEquals(t.sources[i], e.kind === "read" ? READ : WRITE));
  // The page script shows a step's line from the embedded table: two lines, one index per step.
  const data = JSON.parse(panelData(t, null));
  assertEquals(data.files.length, 2);
  assertEquals(data.src.length, 5_000);
  assertEquals(data.files[data.src[0]], READ);
  assert(data.src.every((i: number) => i >= 0));
});
