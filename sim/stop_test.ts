import { assert, assertEquals, assertThrows } from "../deps.ts";
import { lostUpdate } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor, replay, Runner, stopAtOf } from "./explore.ts";
import {
  BEAT_DECISIONS,
  BEAT_FIBER,
  BEAT_FIBER_END,
  BEAT_RUN,
  BEAT_SLOTS,
  BEAT_STEP,
  BEAT_STOP,
} from "./kernel.ts";
import {
  endCheckHangOutcome,
  hangOutcome,
  isCut,
  outOfMemoryOutcome,
  RunStopped,
} from "./outcome.ts";
import { RandomStrategy } from "./random.ts";
import { shrinkTrace } from "./shrink.ts";
import { verifyFound } from "./verify.ts";

const target = makeTarget(lostUpdate, "racy");

function heartbeat() {
  return {
    beat: new Int32Array(new SharedArrayBuffer(4 * BEAT_SLOTS)),
    seed: new Float64Array(new SharedArrayBuffer(8)),
    // Small, so a run outgrows it and the kernel hands over a new one.
    decisions: new SharedArrayBuffer(8),
  };
}

Deno.test("a watched kernel publishes its run, step, fiber and decisions in shared memory", () => {
  const hb = heartbeat();
  const grown: SharedArrayBuffer[] = [];
  const runner = new Runner(target);
  runner.kernel.watch({ ...hb, onGrow: (b) => grown.push(b) });
  const strategy = new RandomStrategy();
  runner.run(strategy, 7);
  const o = runner.run(strategy, 8);
  const k = runner.kernel;
  assertEquals(hb.beat[BEAT_RUN], 2);
  // After the last step the end-of-run checks ran, published as the step after it.
  assertEquals([hb.beat[BEAT_STEP], hb.beat[BEAT_FIBER]], [o.step + 1, BEAT_FIBER_END]);
  assertEquals(hb.seed[0], 8);
  // Every decision, in the buffer the kernel last handed over.
  const count = hb.beat[BEAT_DECISIONS];
  assertEquals(count, k.decisions().length);
  assert(count > 2, `only ${count} decisions`);
  assert(grown.length > 0, "the decisions never outgrew the first buffer");
  const shared = Array.from(new Uint32Array(grown[grown.length - 1], 0, count));
  assertEquals(shared, k.decisions());
  // During a step: the step and its fiber.
  let during: number[] = [];
  const again = runner.run(strategy, 8, {
    onStep: () => (during = [hb.beat[BEAT_STEP], hb.beat[BEAT_FIBER]]),
  });
  assertEquals(during, [again.step, k.lastFiber?.id]);
  // Unwatched, a run gives the same decisions.
  const plain = new Runner(target);
  plain.run(new RandomStrategy(), 8);
  assertEquals(plain.kernel.decisions(), k.decisions());
});

Deno.test("stopAt ends a run before its step runs, naming the fiber picked for it", () => {
  const runner = new Runner(target);
  const full = runner.run(new RandomStrategy(), 3);
  const steps = full.step;
  const whole = runner.kernel.decisions();
  for (let step = 1; step <= steps; step++) {
    const o = runner.run(new RandomStrategy(), 3, undefined, stopAtOf(hangOutcome(step, null)));
    assertEquals([o.verdict, o.check, o.step], ["hang", "step-timeout", step]);
    assertEquals(runner.kernel.step, step - 1, "the stopped step ran");
    assert(o.fiber !== null && o.fiber.startsWith("inc"), `fiber ${o.fiber}`);
    assertEquals(o, hangOutcome(step, o.fiber));
    // Its decisions are a prefix of the whole run's, up to the pick of the stopped step.
    assertEquals(whole.slice(0, runner.kernel.decisionCount), runner.kernel.decisions());
  }
  const setup = runner.run(new RandomStrategy(), 3, undefined, stopAtOf(hangOutcome(0, null)));
  assertEquals(setup, hangOutcome(0, null));
  assertEquals(runner.kernel.fibers.length, 0, "setup ran");
});

Deno.test("a cut trace replays up to its step, passes the gate and is never shrunk", () => {
  const { strategy } = planFor(target, { strategy: "random" });
  const runner = new Runner(target);
  for (const make of [hangOutcome, outOfMemoryOutcome]) {
    const outcome = runner.run(strategy, 5, undefined, stopAtOf(make(3, null)));
    assert(isCut(outcome));
    const failure = { seed: 5, outcome, decisions: runner.kernel.decisions() };
    const trace = makeTrace(target, strategy, failure);
    const r = replay(trace, lostUpdate);
    assert(r.reproduced, r.message);
    assertEquals(r.outcome, outcome);
    assertEquals(verifyFound(trace, lostUpdate), []);
    // Another fiber at the stopped step does not reproduce.
    const other = outcome.fiber === "inc0" ? "inc1" : "inc0";
    const moved = { ...trace, outcome: make(3, other) };
    assert(!replay(moved, lostUpdate).reproduced);
    assertThrows(() => shrinkTrace(trace, lostUpdate), /is not shrunk/);
  }
});

Deno.test("a trace of an ordinary failure is no cut run", () => {
  const r = judge(target, { ...planFor(target, { strategy: "pct" }), seed: 1 });
  assert(!isCut(r.failures[0].outcome));
  assertEquals(stopAtOf(r.failures[0].outcome), undefined);
});

Deno.test("a watched kernel whose supervisor gave up leaves the run at its next step", () => {
  const hb = heartbeat();
  const runner = new Runner(target);
  runner.kernel.watch(hb);
  hb.beat[BEAT_STOP] = 1;
  assertThrows(() => runner.run(new RandomStrategy(), 1), RunStopped);
  assertEquals(hb.beat[BEAT_STEP], 1);
});

Deno.test("stopAt at the end checks ends a run after its last step, before its invariants", () => {
  const runner = new Runner(target);
  // The first seed whose run breaks lost-update's end invariant.
  let seed = 1;
  while (runner.run(new RandomStrategy(), seed).verdict !== "bug") seed++;
  const full = runner.run(new RandomStrategy(), seed);
  assertEquals([full.verdict, full.fiber], ["bug", null]);
  const whole = runner.kernel.decisions();
  // Stopped before that invariant, the run is a hang in its end checks.
  const o = runner.run(
    new RandomStrategy(),
    seed,
    undefined,
    stopAtOf(endCheckHangOutcome(full.step)),
  );
  assertEquals(o, endCheckHangOutcome(full.step));
  assertEquals(runner.kernel.decisions(), whole);
});
