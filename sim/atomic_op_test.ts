import fc from "fast-check";
import { z } from "zod";
import { assert, assertEquals, assertMatch } from "../deps.ts";
import type { Cell } from "./cell.ts";
import { DfsStrategy } from "./dfs.ts";
import { DporStrategy } from "./dpor.ts";
import { exploreExhaustive } from "./exhaustive.ts";
import { makeTarget } from "./explore.ts";
import { Kernel } from "./kernel.ts";
import {
  atomicItemArb,
  type Item,
  observeExploration as observe,
  programArb,
  programScenario,
} from "./_programs.ts";
import { RandomStrategy } from "./random.ts";
import { defineScenario } from "./scenario.ts";

/** Generated programs where some fibers end with a multi-cell k.atomic step. */
const withAtomics = fc.tuple(programArb, fc.array(fc.option(atomicItemArb), { maxLength: 4 }))
  .map(([program, atomics]) =>
    program.map((items, i) => {
      const a = atomics[i];
      return a === null || a === undefined ? items : [...items.slice(0, -1), a as Item];
    })
  );

Deno.test("DPOR over k.atomic steps reaches exactly DFS's final states and failures", () => {
  let withAtomic = 0;
  fc.assert(
    fc.property(withAtomics, (program) => {
      if (program.some((items) => items.some((it) => it.op === "atomic"))) withAtomic++;
      const target = makeTarget(programScenario, "only", { params: { program } });
      const dfs = observe(target, new DfsStrategy());
      const dpor = observe(target, new DporStrategy());
      assertEquals(dpor.finals, dfs.finals);
      assert(dpor.schedules <= dfs.schedules, `dpor ${dpor.schedules} > dfs ${dfs.schedules}`);
    }),
    { numRuns: 600, seed: 20261202 },
  );
  assert(withAtomic > 300, `only ${withAtomic} programs had an atomic step`);
});

function* snapshotAndBump(this: Kernel, shared: Cell<number>, own: Cell<number>, mode: string) {
  yield* this.atomic(
    mode === "read-shared" ? { reads: [shared], writes: [own] } : { writes: [shared, own] },
    () => {
      own.poke(shared.peek() + 1);
      if (mode === "write-shared") shared.poke(shared.peek() + 1);
    },
  );
}

const fanOut = defineScenario({
  name: "atomic-fan-out",
  description: "fibers each take one k.atomic step over a shared cell and their own",
  params: z.object({
    fibers: z.number().int().default(4),
    mode: z.string().default("read-shared"),
  }),
  variants: {
    v: { description: "-", expect: { verdict: "pass", budget: { strategy: "dpor", runs: 1 } } },
  },
  setup(k, { fibers, mode }) {
    const shared = k.cell("shared", 0);
    for (let i = 0; i < fibers; i++) {
      k.spawn(`f${i}`, snapshotAndBump, shared, k.cell(`own${i}`, 0), mode);
    }
  },
});

function dporSchedules(mode: string, fibers: number): number {
  const target = makeTarget(fanOut, "v", { params: { fibers, mode } });
  const r = exploreExhaustive(target, new DporStrategy(), { runs: 1e6 });
  assert(r.exhausted);
  return r.schedules;
}

Deno.test("DPOR is precise over k.atomic footprints: shared reads commute, shared writes do not", () => {
  for (const n of [2, 3, 4]) assertEquals(dporSchedules("read-shared", n), 1);
  for (const [n, fact] of [[2, 2], [3, 6], [4, 24]]) {
    assertEquals(dporSchedules("write-shared", n), fact);
  }
});

function* sneaky(this: Kernel, a: Cell<number>, b: Cell<number>, how: string) {
  yield* this.atomic({ reads: [a] }, () => {
    if (how === "poke-unnamed") b.poke(1);
    else if (how === "peek-unnamed") b.peek();
    else a.poke(1); // named as read only
  });
}

Deno.test("k.atomic touching a cell outside its footprint crashes the run, naming the cell", () => {
  for (
    const [how, want] of [
      ["poke-unnamed", /wrote b, which its footprint does not name$/],
      ["peek-unnamed", /read b, which its footprint does not name$/],
      ["poke-read-only", /wrote a, which its footprint does not name as written/],
    ] as const
  ) {
    const k = new Kernel();
    k.reset({ cores: 0, stepsMax: 10 }, new RandomStrategy(), 1);
    const a = k.cell("a", 0);
    const b = k.cell("b", 0);
    k.spawn("s", sneaky, a, b, how);
    const o = k.execute();
    assertEquals(o.verdict, "crash", how);
    assertMatch(o.message, want);
    assertEquals(o.step, 1);
  }
});
