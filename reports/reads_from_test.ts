import { z } from "zod";
import { assert, assertEquals } from "../deps.ts";
import type { Cell, Kernel } from "../sim/kernel.ts";
import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
import { defineScenario } from "../sim/scenario.ts";
import { readsFrom } from "./state_view.ts";
import { timelineOf } from "./timeline.ts";

function* storeLoad(k: Kernel, mine: Cell<number>, other: Cell<number>, seen: number[]) {
  yield* mine.write(1);
  seen.push(yield* other.read());
  k.assert(seen.length < 2 || seen.includes(1), "both loads read 0");
}

function* ownStore(k: Kernel, x: Cell<number>) {
  yield* x.write(1);
  k.assert((yield* x.read()) !== 1, "read its own store");
}

const scenario = defineScenario({
  name: "reads-from",
  description: "store buffering, and a load of the fiber's own store (tests only)",
  params: z.object({}),
  variants: {
    "sb-ra": {
      description: "-",
      memory: "ra",
      expect: { verdict: "bug", budget: { strategy: "dfs", runs: 100 } },
    },
    "own-tso": {
      description: "-",
      memory: "tso",
      expect: { verdict: "bug", budget: { strategy: "dfs", runs: 100 } },
    },
  },
  setup(k, _p, variant) {
    const x = k.cell("x", 0), y = k.cell("y", 0);
    const seen: number[] = [];
    if (variant === "own-tso") {
      k.spawn("t0", ownStore, k, x);
    } else {
      k.spawn("t0", storeLoad, k, x, y, seen);
      k.spawn("t1", storeLoad, k, y, x, seen);
    }
  },
});

function arrows(variant: string) {
  const target = makeTarget(scenario, variant);
  const j = judge(target, { ...planFor(target), seed: 0 });
  assert(j.ok, `${variant}: not found`);
  const t = timelineOf(makeTrace(target, j.strategy, j.failures[0]), scenario);
  const at = (i: number) => i < 0 ? "init" : `${t.events[i].name} ${t.events[i].object}`;
  return {
    model: readsFrom(t.events, t.state, t.readsFrom ?? null).map(([r, w, v]) =>
      `${at(r)} <- ${at(w)} = ${v}`
    ),
    sc: readsFrom(t.events, t.state).map(([r, w, v]) => `${at(r)} <- ${at(w)} = ${v}`),
  };
}

Deno.test("reads-from arrows follow the model: a load of the fiber's own buffered store (tso)", () => {
  const { model, sc } = arrows("own-tso");
  // The load read the store waiting in its core's buffer, not memory's 0.
  assertEquals(model, ["t0 x <- t0 x@sb0 = 1"]);
  assertEquals(sc, ["t0 x <- init = 0"]);
});

Deno.test("reads-from arrows follow the model: a stale load under ra reads the initial store", () => {
  const { model, sc } = arrows("sb-ra");
  // t1 loads x after t0 stored 1, yet reads the initial 0: SB's weak outcome.
  assertEquals(model, ["t0 y <- init = 0", "t1 x <- init = 0"]);
  assertEquals(sc, ["t0 y <- init = 0", "t1 x <- t0 x = 1"]);
});

function* storeFenceFail(k: Kernel, x: Cell<number>) {
  yield* x.write(1);
  yield* k.fence("seq_cst");
  k.assert(false, "after the fence");
}

const drains = defineScenario({
  name: "drain-marks",
  description: "a store, a fence that waits for its drain, a failure (tests only)",
  params: z.object({}),
  variants: {
    only: {
      description: "-",
      memory: "tso",
      expect: { verdict: "bug", budget: { strategy: "dfs", runs: 10 } },
    },
  },
  cores: () => 2,
  setup(k) {
    k.spawn({ name: "t0", core: 1 }, storeFenceFail, k, k.cell("x", 0));
  },
});

Deno.test("the timeline puts a buffered store and its drain on the storing core's lane (tso)", () => {
  const target = makeTarget(drains, "only");
  const j = judge(target, { ...planFor(target), seed: 0 });
  assert(j.ok, "not found");
  const t = timelineOf(makeTrace(target, j.strategy, j.failures[0]), drains);
  const marks = t.events.map((e) => `${e.core} ${e.name} ${e.kind} ${e.object}`);
  // The store is issued into core 1's buffer, then drained to memory: both
  // on core 1's lane, the drain by the buffer's drain fiber, before the fence.
  assertEquals(marks, ["1 t0 write x@sb1", "1 sb1 drain x", "1 t0 fence sb1"]);
});
