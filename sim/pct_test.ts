import { z } from "zod";
import { assert, assertEquals } from "../deps.ts";
import type { Cell } from "./cell.ts";
import { makeTarget, sweep } from "./explore.ts";
import { PctStrategy } from "./pct.ts";
import { defineScenario } from "./scenario.ts";

function* stepper(trace: Cell<string>, me: string, steps: number) {
  for (let i = 0; i < steps; i++) yield* trace.write((yield* trace.read()) + me);
}

// Two fibers that never block: the alternation A, B, A, B needs two priority
// changes with the second demotion ranking below the first.
const alternation = defineScenario({
  name: "alternation",
  description: "-",
  params: z.object({}),
  variants: {
    v: { description: "-", expect: { verdict: "pass", budget: { strategy: "pct", runs: 1 } } },
  },
  setup(k) {
    const trace = k.cell("trace", "");
    k.spawn("a", stepper, trace, "a", 3);
    k.spawn("b", stepper, trace, "b", 3);
    k.invariant("no-abab", () => !/^a+b+a+b/.test(trace.peek()) || `saw ${trace.peek()}`);
  },
});

Deno.test("PCT with depth 3 reaches A, B, A, B between fibers that never block", () => {
  const target = makeTarget(alternation, "v");
  const r = sweep(target, {
    strategy: new PctStrategy({ depth: 3, steps: 12 }),
    seed: 1,
    runs: 2000,
  });
  assertEquals(r.failures[0]?.outcome.check, "no-abab");
});

Deno.test("PCT with depth 2 cannot alternate twice: one change point", () => {
  const target = makeTarget(alternation, "v");
  const r = sweep(target, {
    strategy: new PctStrategy({ depth: 2, steps: 12 }),
    seed: 1,
    runs: 2000,
    keepGoing: true,
  });
  assertEquals(r.failures.length, 0);
});

Deno.test("PCT rejects bad options with a clear error", () => {
  let message = "";
  try {
    new PctStrategy({ depth: 0, steps: 5 });
  } catch (e) {
    message = (e as Error).message;
  }
  assert(message.includes("depth 0"));
});
