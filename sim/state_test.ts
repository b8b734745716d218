import { assert, assertEquals, assertMatch } from "../deps.ts";
import fc from "fast-check";
import {
  channelMpmc,
  forwarding,
  gcMarkSweep,
  lockOrder,
  lostUpdate,
  runtime,
  workStealing,
  zeno,
} from "../scenarios/mod.ts";
import type { Fiber } from "./fiber.ts";
import { makeTarget, Runner } from "./explore.ts";
import type { Kernel, StepObserver } from "./kernel.ts";
import type { Op } from "./op.ts";
import { RandomStrategy } from "./random.ts";
import type { AnyScenario } from "./scenario.ts";
import { captureState, stateAt, StateRecorder, type StateRecording } from "./state.ts";

/** Takes the whole state after every step, independently of the recorder's deltas. */
class FullStates implements StepObserver {
  readonly states: Map<string, string>[] = [];
  onStep(_f: Fiber, _op: Op, kernel: Kernel): void {
    this.states.push(captureState(kernel));
  }
}

function sorted(m: Map<string, string> | null): [string, string][] {
  return [...(m ?? new Map())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One random run of `scenario/variant` with both observers on. */
function record(scenario: AnyScenario, variant: string, seed: number, bytesMax?: number) {
  const target = makeTarget(scenario, variant);
  const k = new Runner(target).kernel;
  k.reset({ cores: target.cores, stepsMax: target.stepsMax }, new RandomStrategy(), seed);
  const recorder = new StateRecorder(bytesMax);
  recorder.attach(k);
  const full = new FullStates();
  k.observe({
    onStep(f, op, kk) {
      recorder.onStep(f, op, kk);
      full.onStep(f, op, kk);
    },
  });
  scenario.setup(k, target.params, variant);
  const initial = captureState(k);
  recorder.start(k);
  const outcome = k.execute();
  return { rec: recorder.result(), initial, states: full.states, outcome };
}

function checkAll(
  rec: StateRecording,
  initial: Map<string, string>,
  states: Map<string, string>[],
) {
  if (rec.from === 0) assertEquals(sorted(stateAt(rec, 0)), sorted(initial), "step 0");
  for (let s = Math.max(1, rec.from); s <= states.length; s++) {
    assertEquals(sorted(stateAt(rec, s)), sorted(states[s - 1]), `step ${s}`);
  }
}

const CASES: [AnyScenario, string][] = [
  [gcMarkSweep, "no-barrier"],
  [channelMpmc, Object.keys(channelMpmc.variants)[0]],
  [workStealing, Object.keys(workStealing.variants)[0]],
  [gcMarkSweep, "insertion"],
  [lostUpdate, "racy"],
  [lockOrder, "opposite"],
];

Deno.test("replaying the deltas gives the state at every step of a random run", () => {
  const seed = 20261202;
  fc.assert(
    fc.property(fc.constantFrom(...CASES), fc.nat(1_000_000), ([scenario, variant], runSeed) => {
      const { rec, initial, states } = record(scenario, variant, runSeed);
      assertEquals(rec.from, 0);
      assertEquals(rec.capped, false);
      assertEquals(rec.steps, states.length);
      checkAll(rec, initial, states);
    }),
    { seed, numRuns: 60, verbose: true },
  );
});

Deno.test("over the size cap, the last steps are kept with a base state at the first kept", () => {
  const { rec, initial, states } = record(gcMarkSweep, "insertion", 7, 3_000);
  assert(rec.capped, "capped");
  assert(rec.from > 0 && rec.from < states.length, `from ${rec.from}`);
  assert(rec.bytes <= 3_000, `${rec.bytes} bytes`);
  assertEquals(stateAt(rec, rec.from - 1), null);
  checkAll(rec, initial, states);
});

Deno.test("the heap, mark colours, locks and fibers are described", () => {
  const { states } = record(gcMarkSweep, "no-barrier", 3);
  const first = states[0];
  assertEquals(JSON.parse(first.get("heap/A")!).ptrs, [1]); // A → B
  assertEquals(first.get("root/g0"), "2");
  assert(first.has("color/C") && first.has("gc/gc.phase"), "colours and phase");
  assert(states.some((s) => s.get("color/A") === '"grey"'), "A is grey at some step");
  assert(states.some((s) => s.get("color/A") === '"black"'), "A is black at some step");
  assertEquals(JSON.parse(first.get("lock/gc.world")!).kind, "rwlock");
  assert(JSON.parse(first.get("fiber/m0")!).core >= 0);
});

Deno.test("a deadlock's fibers name what they wait for and whom", () => {
  for (let seed = 0; seed < 200; seed++) {
    const { states, outcome } = record(lockOrder, "opposite", seed);
    if (outcome.verdict !== "deadlock") continue;
    const last = states.at(-1)!;
    const blocked = [...last].filter(([k]) => k.startsWith("fiber/"))
      .map(([, v]) => JSON.parse(v)).filter((f) => f.state === "blocked");
    assert(blocked.length >= 2, "two fibers blocked");
    for (const f of blocked) assertEquals(f.on.length, 1, JSON.stringify(f));
    return;
  }
  throw new Error("no deadlock in 200 seeds");
});

Deno.test("ordinary runs collect no describers", () => {
  const target = makeTarget(gcMarkSweep, "no-barrier");
  const r = new Runner(target);
  r.run(new RandomStrategy(), 1);
  assertEquals(r.kernel.describing, false);
  assertEquals(r.kernel.describers.length, 0);
});

Deno.test("channels, deques and region clocks are described", () => {
  const chan = record(channelMpmc, Object.keys(channelMpmc.variants)[0], 1).states;
  const chans = chan.flatMap((s) => [...s].filter(([k]) => k.startsWith("chan/")));
  assert(chans.length > 0, "a chan/ key");
  assert(
    chans.some(([, v]) => JSON.parse(v).items.length > 0),
    "some step has an item in a channel",
  );
  const ws = record(workStealing, Object.keys(workStealing.variants)[0], 1).states;
  const deques = ws.flatMap((s) => [...s].filter(([k]) => k.startsWith("deque/")));
  assert(deques.some(([, v]) => JSON.parse(v).items.length > 0), "some deque holds an item");
  const z = record(zeno, "busy-wait", 1).states.at(-1)!;
  const clocks = [...z].filter(([k]) => k.startsWith("clock/") && k !== "clock/virtual time");
  assert(clocks.length > 0 && JSON.parse(clocks[0][1]).instantSteps > 0, JSON.stringify(clocks));
});

Deno.test("the forwarding net, the composed system and safepoints are described", () => {
  const fwd = record(forwarding, "correct", 1).states;
  const entries = (s: Map<string, string>) =>
    [...s].filter(([k]) => /^forwarding\/ctx\d+$/.test(k))
      .flatMap(([, v]) => Object.values(JSON.parse(v).entries as Record<string, string>));
  assert(entries(fwd[0]).includes("here"), "a process starts at its home");
  assert(fwd.some((s) => entries(s).some((e) => e.startsWith("→ ctx"))), "a forwarding entry");
  assert(fwd.some((s) => entries(s).includes("moving")), "a process being handed over");
  const hosted = (s: Map<string, string>) =>
    [...s].filter(([k]) => /^forwarding\/ctx\d+$/.test(k))
      .flatMap(([, v]) => Object.values(JSON.parse(v).hosted as Record<string, { moves: number }>));
  assert(hosted(fwd[0]).every((h) => h.moves === 0), "no process has moved at the start");
  assert(fwd.some((s) => hosted(s).some((h) => h.moves > 0)), "a process hosted after a move");
  const marks = JSON.parse(fwd.at(-1)!.get("forwarding/marks")!);
  assert(marks.delete > 0 && marks.outstanding === 0, JSON.stringify(marks));
  const sys = record(runtime, "correct", 1).states;
  assertEquals(sys[0].get("system/phase"), '"start-up"');
  assertEquals(sys.at(-1)!.get("system/phase"), '"running"');
  assert(JSON.parse(sys.at(-1)!.get("system/stats")!).attempts > 0, "jobs were attempted");
  assertMatch(JSON.parse(sys.at(-1)!.get("system/w0")!).arena, /^\S+ \d+\/\d+ bytes$/);
  const stops = sys.map((s) => JSON.parse(s.get("lock/safepoints")!));
  assert(stops.some((sp) => sp.stopper !== null), "some step has the world stopped");
  assertEquals(Object.keys(stops[0].mutators).sort(), ["boot", "w0", "w1"]);
});
