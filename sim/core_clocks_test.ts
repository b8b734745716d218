import { assert, assertEquals, assertThrows } from "../deps.ts";
import { CoreClocks } from "./core_clocks.ts";
import { Kernel } from "./kernel.ts";
import { RandomStrategy } from "./random.ts";
import { ReplayStrategy } from "./replay.ts";
import type { Strategy } from "./strategy.ts";

function kernel(strategy: Strategy = new RandomStrategy(), seed = 1) {
  const k = new Kernel();
  k.reset({ cores: 4, stepsMax: 100 }, strategy, seed);
  return k;
}

const OPTIONS = { cores: 4, driftPpmMax: 500, offsetMax: 1_000_000 };

Deno.test("drift and offset are recorded draws within their bounds, and replay exactly", () => {
  for (let seed = 0; seed < 50; seed++) {
    const k = kernel(new RandomStrategy(), seed);
    const clocks = new CoreClocks(k, OPTIONS);
    assertEquals(k.decisionCount, 8);
    const again = new CoreClocks(kernel(new ReplayStrategy(k.decisions())), OPTIONS);
    for (let c = 0; c < 4; c++) {
      assert(Math.abs(clocks.driftPpm(c)) <= 500);
      const r = clocks.read(c);
      assert(r >= 0 && r <= 1_000_000);
      assertEquals(again.read(c), r);
      assertEquals(again.driftPpm(c), clocks.driftPpm(c));
    }
  }
});

Deno.test("a drifting clock gains or loses drift ppm of elapsed time and never goes back", () => {
  const k = kernel();
  const clocks = new CoreClocks(k, { cores: 1, driftPpmMax: 0, offsetMax: 0 });
  const fast = new CoreClocks(k, { cores: 1, driftPpmMax: 999_999, offsetMax: 0 });
  let last = -Infinity;
  for (let t = 0; t <= 3_000_000; t += 7919) {
    k.now = t;
    assertEquals(clocks.read(0), t);
    const r = fast.read(0);
    assert(r >= last, `went back at ${t}`);
    assertEquals(r, t + Math.floor((t * fast.driftPpm(0)) / 1e6));
    last = r;
  }
});

Deno.test("set and adjust move a core's clock, not its rate", () => {
  const k = kernel();
  const clocks = new CoreClocks(k, OPTIONS);
  k.now = 10_000;
  clocks.set(2, 42);
  assertEquals(clocks.read(2), 42);
  clocks.adjust(2, -2);
  assertEquals(clocks.read(2), 40);
  k.now = 1_010_000;
  const expected = 40 + 1_000_000 + Math.floor((1_010_000 * clocks.driftPpm(2)) / 1e6) -
    Math.floor((10_000 * clocks.driftPpm(2)) / 1e6);
  assertEquals(clocks.read(2), expected);
});

Deno.test("bad options and bad cores are refused with a message", () => {
  const k = kernel();
  assertThrows(() => new CoreClocks(k, { ...OPTIONS, cores: 0 }), RangeError);
  assertThrows(() => new CoreClocks(k, { ...OPTIONS, driftPpmMax: 1_000_000 }), RangeError);
  assertThrows(() => new CoreClocks(k, { ...OPTIONS, offsetMax: -1 }), RangeError);
  const clocks = new CoreClocks(k, OPTIONS);
  assertThrows(() => clocks.read(4), /No clock for core 4/);
  assertThrows(() => clocks.read(), /outside a fiber/);
});
