import { assert, assertEquals, assertMatch } from "../deps.ts";
import { lostUpdate } from "../scenarios/mod.ts";
import type { StepEvent } from "../sim/events.ts";
import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
import type { Trace } from "../sim/trace.ts";
import { esc, kindColor, renderHtml } from "./html.ts";
import { type Timeline, timelineOf } from "./timeline.ts";

function timeline(events: StepEvent[], over: Partial<Timeline> = {}): Timeline {
  const trace: Trace = {
    format: 1,
    tool: "simtest test",
    scenario: "s<x>",
    source: null,
    variant: "v",
    params: {},
    cores: 2,
    stepsMax: 100,
    strategy: { name: "random" },
    seed: 1,
    decisions: "",
    outcome: { verdict: "bug", check: "c", message: "m & <b>", step: 2, fiber: null },
  };
  return {
    trace,
    events,
    steps: events.length,
    fibers: [{ id: 0, name: "a", core: 0, daemon: false }, {
      id: 1,
      name: "b",
      core: 1,
      daemon: false,
    }],
    cores: 2,
    outcome: trace.outcome,
    stats: { steps: events.length, preemptions: 0, switches: 1, decisions: 0 },
    usesClock: false,
    sources: [],
    state: null,
    race: null,
    ...over,
  };
}

const ev = (step: number, fiber: number, kind: string, time = step): StepEvent => ({
  step,
  fiber,
  name: fiber === 0 ? "a" : "b",
  core: fiber,
  kind,
  obj: 0,
  object: "x",
  write: kind === "write",
  time,
});

Deno.test("text from scenarios is escaped; the page has no external resources", () => {
  const html = renderHtml({
    title: "s<x>/v",
    original: timeline([ev(1, 0, "read"), ev(2, 1, "write")]),
    shrunk: null,
    originalPath: "a.json",
    shrunkPath: null,
  });
  assert(!html.includes("<b>") && html.includes(esc("m & <b>")));
  assert(!/<(script|img|link)[^>]+(src|href)=/.test(html));
  assertEquals(html.match(/class="lane"/g)?.length, 2);
  assertEquals(html.match(/class="mark failing"/g)?.length, 1);
});

Deno.test("virtual time gets its own axis when it differs from the step count", () => {
  const plain = renderHtml({
    title: "t",
    original: timeline([ev(1, 0, "read"), ev(2, 1, "write")]),
    shrunk: null,
    originalPath: "a.json",
    shrunkPath: null,
  });
  assert(!plain.includes(">virtual time</text>"));
  const timed = renderHtml({
    title: "t",
    original: timeline([ev(1, 0, "sleep", 10), ev(2, 1, "write", 11)], { usesClock: true }),
    shrunk: null,
    originalPath: "a.json",
    shrunkPath: null,
  });
  assertMatch(timed, />virtual time<\/text>/);
  assertMatch(timed, />t=10<\/text>/);
});

Deno.test("a deadlock is marked after its last step; a cut log says so", () => {
  const t = timeline([ev(1, 0, "lock"), ev(2, 1, "lock")], {
    steps: 5000,
    outcome: { verdict: "deadlock", check: "deadlock", message: "", step: 2, fiber: null },
  });
  const html = renderHtml({
    title: "t",
    original: t,
    shrunk: null,
    originalPath: "a",
    shrunkPath: null,
  });
  assertMatch(html, /deadlock after step 2/);
  assertMatch(html, /The run took 5000 steps; the first 2 are drawn/);
});

Deno.test("kinds keep their colours: pinned for known kinds, hashed stably for new ones", () => {
  // Snapshots: a change of colour between reports must be a reviewed diff.
  assertEquals(kindColor("read"), "#4e79a7");
  assertEquals(kindColor("write"), "#e15759");
  assertEquals(kindColor("lock"), "#59a14f");
  assertEquals(kindColor("some-new-kind"), "#86bcb6");
  assertEquals(kindColor("zz"), "#b9a0b4");
  const known = [
    "read",
    "write",
    "rmw",
    "alloc",
    "lock",
    "unlock",
    "send",
    "recv",
    "sleep",
    "park",
  ];
  assertEquals(new Set(known.map(kindColor)).size, known.length, "known kinds share a colour");
  // New kinds spread over the palette rather than all landing on one colour.
  const fresh = ["a", "b", "c", "d", "e", "f", "g"].map(kindColor);
  assert(fresh.every((c) => /^#[0-9a-f]{6}$/.test(c)), fresh.join(" "));
  assert(new Set(fresh).size >= 5, fresh.join(" "));
  // The page draws each step in its kind's colour.
  const html = renderHtml({
    title: "t",
    original: timeline([ev(1, 0, "read"), ev(2, 1, "some-new-kind")]),
    shrunk: null,
    originalPath: "a.json",
    shrunkPath: null,
  });
  assert(html.includes('fill="#4e79a7"') && html.includes('fill="#86bcb6"'));
});

Deno.test("a report says when source lines cover only part of the steps drawn", () => {
  const render = (sourceSteps: [number, number]) =>
    renderHtml({
      title: "s/v",
      original: timeline([ev(1, 0, "read"), ev(2, 1, "write")], { sourceSteps }),
      shrunk: null,
      originalPath: "a.json",
      shrunkPath: null,
    });
  assertMatch(render([2, 2]), /Source lines are recorded for steps 2 to 2 only/);
  assert(!render([1, 2]).includes("Source lines are recorded"));
});

Deno.test("a report says from which step on the state was kept when the cap cut it", () => {
  const target = makeTarget(lostUpdate, "racy", { params: { fibers: 3, increments: 20 } });
  const r = judge(target, { ...planFor(target, { strategy: "random" }), seed: 1 });
  const t = timelineOf(makeTrace(target, r.strategy, r.failures[0]), lostUpdate, {
    stateBytesMax: 3_000,
  });
  assert(t.state !== null && t.state.capped && t.state.from > 0, "capped");
  const html = renderHtml({
    title: "lost-update/racy",
    original: t,
    shrunk: null,
    originalPath: "a.json",
    shrunkPath: null,
  });
  assertMatch(html, new RegExp(`The state is recorded from step ${t.state.from} on`));
  assert(
    !renderHtml({
      title: "lost-update/racy",
      original: timelineOf(t.trace, lostUpdate),
      shrunk: null,
      originalPath: "a.json",
      shrunkPath: null,
    }).includes("The state is recorded from step"),
  );
});
