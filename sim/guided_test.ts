import { assertEquals } from "../deps.ts";
import type { Cell } from "./cell.ts";
import { GuidedStrategy } from "./guided.ts";
import { Kernel } from "./kernel.ts";

function* incr(c: Cell<number>) {
  yield* c.write((yield* c.read()) + 1);
}

function run(decisions: number[], fibers = 2): { k: Kernel; g: GuidedStrategy; c: Cell<number> } {
  const k = new Kernel();
  const g = new GuidedStrategy(decisions, true);
  k.reset({ cores: 0, stepsMax: 100 }, g, 0);
  const c = k.cell("c", 0);
  for (let i = 0; i < fibers; i++) k.spawn(`inc${i}`, incr, c);
  k.execute();
  return { k, g, c };
}

Deno.test("an empty list runs the default schedule: no preemption, lowest id first", () => {
  const { k, g, c } = run([]);
  assertEquals(c.peek(), 2);
  assertEquals(k.decisions(), [0, 0]);
  assertEquals(g.stats(k), { steps: 4, preemptions: 0, switches: 1, decisions: 2 });
});

Deno.test("a decision that does not fit falls back to the default and is counted", () => {
  const { k, g } = run([7, 1]);
  assertEquals(k.decisions(), [0, 1, 1]);
  assertEquals([g.misfits, g.firstMisfitStep, g.preemptions], [1, 1, 1]);
});

Deno.test("decision points say which choices preempted and who could run", () => {
  const { g } = run([0, 1, 1]);
  assertEquals(g.points.map((p) => p.kind === "fiber" && p.preempts), [false, true, false]);
  assertEquals(g.points[1], { kind: "fiber", eligible: [0, 1], prev: 0, preempts: true });
});

Deno.test("values out of range fall back to 0", () => {
  const k = new Kernel();
  const g = new GuidedStrategy([5, 1]);
  k.reset({ cores: 0, stepsMax: 10 }, g, 0);
  assertEquals([k.choose(3), k.choose(3)], [0, 1]);
  assertEquals(g.misfits, 1);
});
