/**
 * Zeno behaviour: unbounded computation in zero logical time, which the seed
 * note's axioms forbid.
 *
 * @module
 */
import { z } from "zod";
import type { Cell } from "../sim/cell.ts";
import type { Kernel } from "../sim/kernel.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";
import { Regions } from "../runtime/regions.ts";

/** Sets the flag one logical unit from now. */
function* setLater(r: Regions, flag: Cell<boolean>) {
  yield* r.ltimer(1);
  yield* flag.write(true);
}

/** Polls the flag in a loop of immediate operations: logical time can never pass. */
function* busyWait(flag: Cell<boolean>) {
  while (!(yield* flag.read())) {
    // nothing here waits, so the region never becomes quiescent
  }
}

/** Polls the flag once per logical unit. */
function* timedWait(r: Regions, flag: Cell<boolean>) {
  while (!(yield* flag.read())) yield* r.ltimer(1);
}

/** A region whose clock runs forever: every instant is finite, the whole is not. */
function* tickForever(r: Regions) {
  for (;;) yield* r.ltimer(1);
}

function* region(k: Kernel, r: Regions, flag: Cell<boolean>, variant: string) {
  if (variant === "endless-nested") {
    yield* r.sim(tickForever, r);
    return;
  }
  k.spawn("setter", setLater, r, flag);
  if (variant === "busy-wait") yield* busyWait(flag);
  else yield* timedWait(r, flag);
}

function* main(k: Kernel, r: Regions, flag: Cell<boolean>, variant: string) {
  yield* r.sim(region, k, r, flag, variant);
}

/** The parameters of `zeno` (see its `params` schema for ranges and defaults). */
export type ZenoParams = {
  /** Steps a region may take at one logical instant before the run ends as `zeno`. */
  readonly instantStepsMax: number;
};

/** `busy-wait` and `endless-nested` are Zeno; `timed-wait` passes. */
export const zeno: Scenario<ZenoParams> = defineScenario({
  name: "zeno",
  description: "a logical region must not compute without bound at one logical instant",
  params: z.object({
    instantStepsMax: z.number().int().min(10).max(100_000).default(200),
  }),
  variants: {
    "busy-wait": {
      description: "a fiber polls a flag in a loop of immediate operations, waiting for a " +
        "logical timer that cannot fire while it polls",
      expect: { verdict: "zeno", check: "zeno", budget: { strategy: "random", runs: 5 } },
    },
    "endless-nested": {
      description: "a nested region ticks forever: each of its instants is short, but all of " +
        "them happen at one instant of its parent",
      expect: { verdict: "zeno", check: "zeno", budget: { strategy: "random", runs: 5 } },
    },
    "timed-wait": {
      description: "the same poll, with a logical timer between reads",
      expect: {
        verdict: "pass",
        budget: { strategy: "random", runs: 200 },
        verify: { runs: 100 },
      },
    },
  },
  stepsMax: ({ instantStepsMax }) => 10 * instantStepsMax + 1_000,
  setup(k, { instantStepsMax }, variant) {
    const r = Regions.of(k);
    r.instantStepsMax = instantStepsMax;
    k.spawn("main", main, k, r, k.cell("flag", false), variant);
  },
});
