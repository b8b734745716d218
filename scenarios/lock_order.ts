/**
 * The calibration deadlock: two fibers take two locks.
 *
 * @module
 */
import { z } from "zod";
import type { Cell, Mutex } from "../sim/kernel.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

function* takeBoth(first: Mutex, second: Mutex, held: Cell<number>, rounds: number) {
  for (let r = 0; r < rounds; r++) {
    yield* first.lock();
    yield* second.lock();
    yield* held.write((yield* held.read()) + 1);
    yield* second.unlock();
    yield* first.unlock();
  }
}

/** The parameters of `lockOrder` (see its `params` schema for ranges and defaults). */
export type LockOrderParams = {
  /** Times each fiber takes both locks. */
  readonly rounds: number;
};

/** `opposite` takes the locks in opposite orders (deadlock); `fixed` in the same order. */
export const lockOrder: Scenario<LockOrderParams> = defineScenario({
  name: "lock-order",
  description: "two fibers take locks A and B; in opposite orders they can deadlock",
  params: z.object({
    rounds: z.number().int().min(1).max(100).default(1),
  }),
  variants: {
    opposite: {
      description: "one fiber takes A then B, the other B then A",
      expect: { verdict: "deadlock", budget: { strategy: "pct", runs: 500 } },
    },
    fixed: {
      description: "both fibers take A then B",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 10_000 } },
    },
  },
  setup(k, { rounds }, variant) {
    const a = k.mutex("A");
    const b = k.mutex("B");
    const held = k.cell("held", 0);
    k.spawn("ab", takeBoth, a, b, held, rounds);
    if (variant === "fixed") k.spawn("ab2", takeBoth, a, b, held, rounds);
    else k.spawn("ba", takeBoth, b, a, held, rounds);
  },
});
