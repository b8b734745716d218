/**
 * Litmus tests: the classic small programs that tell memory models apart,
 * with the outcomes each model allows as published (x86-TSO: Owens, Sarkar
 * and Sewell, TPHOLs 2009, and Sewell et al., CACM 2010; PSO: the SPARC V9
 * manual's partial store order, as in herd7's models; C11 release/acquire
 * and relaxed (`ra`): RC11, Lahav, Vafeiadis, Kang, Hur and Dreyer, PLDI
 * 2017, herd7's `rc11.cat`, whose results for these tests agree with Batty,
 * Owens, Sarkar, Sewell and Weber, POPL 2011, except LB: C11 allows LB's
 * weak outcome for relaxed accesses, RC11 forbids it by making po ∪ rf
 * acyclic, and we follow RC11).
 *
 * Under `ra` an access with no ordering is relaxed.
 * @module
 */
import { z } from "zod";
import type { Cell, Kernel } from "../sim/kernel.ts";
import type { MemoryModel } from "../sim/ordering.ts";
import { defineScenario, type Scenario, type Variant } from "../sim/scenario.ts";

/** One litmus test: its threads, what it observes, and what each model forbids. */
export interface LitmusTest {
  readonly description: string;
  /** Names of the registers (and final memory values) an outcome lists, in order. */
  readonly observed: readonly string[];
  /** The values each observed name can take. */
  readonly values: readonly number[];
  /** Outcomes a model forbids, as "r0=1 r1=0"; every other combination is allowed. */
  readonly forbidden: Readonly<Record<MemoryModel, readonly string[]>>;
  /** Spawns the threads over cells `x`, `y` and registers (cells too, set with `poke`). */
  spawn(k: Kernel, cells: Cells): void;
}

/** The shared cells and the registers of one run. */
export interface Cells {
  readonly x: Cell<number>;
  readonly y: Cell<number>;
  readonly r: readonly Cell<number>[];
}

function* storeLoad(
  k: Kernel,
  mine: Cell<number>,
  other: Cell<number>,
  r: Cell<number>,
  fence: boolean,
) {
  yield* mine.write(1);
  if (fence) yield* k.fence("seq_cst");
  r.poke(yield* other.read());
}

function* storeLoadRelAcq(mine: Cell<number>, other: Cell<number>, r: Cell<number>) {
  yield* mine.write(1, "release");
  r.poke(yield* other.read("acquire"));
}

function* mpWriter(k: Kernel, c: Cells, how: MpHow) {
  yield* c.x.write(1);
  if (how === "fences") yield* k.fence("release");
  yield* c.y.write(1, how === "rel-acq" || how === "rel-rlx" ? "release" : undefined);
}

function* mpReader(k: Kernel, c: Cells, how: MpHow) {
  c.r[0].poke(yield* c.y.read(how === "rel-acq" ? "acquire" : undefined));
  if (how === "fences") yield* k.fence("acquire");
  c.r[1].poke(yield* c.x.read());
}

type MpHow = "plain" | "fences" | "rel-acq" | "rel-rlx";

/** WRC's middle thread: reads x, then writes y. */
function* wrcRelay(c: Cells, relAcq: boolean) {
  c.r[0].poke(yield* c.x.read(relAcq ? "acquire" : undefined));
  yield* c.y.write(1, relAcq ? "release" : undefined);
}

/** WRC's last thread: reads y, then x. */
function* wrcReader(c: Cells, relAcq: boolean) {
  c.r[1].poke(yield* c.y.read(relAcq ? "acquire" : undefined));
  c.r[2].poke(yield* c.x.read());
}

function* loadStore(mine: Cell<number>, other: Cell<number>, r: Cell<number>) {
  r.poke(yield* mine.read());
  yield* other.write(1);
}

function* store(c: Cell<number>, v: number) {
  yield* c.write(v);
}

function* loadLoad(a: Cell<number>, b: Cell<number>, ra: Cell<number>, rb: Cell<number>) {
  ra.poke(yield* a.read());
  rb.poke(yield* b.read());
}

function* storeStore(a: Cell<number>, b: Cell<number>) {
  yield* a.write(1);
  yield* b.write(2);
}

const all = (outcome: string): Readonly<Record<MemoryModel, readonly string[]>> => ({
  sc: [outcome],
  tso: [outcome],
  pso: [outcome],
  ra: [outcome],
});

/** Forbidden by every model but `ra`: the hardware models are multi-copy atomic. */
const allButRa = (outcome: string): Readonly<Record<MemoryModel, readonly string[]>> => ({
  ...all(outcome),
  ra: [],
});

function sb(fence: boolean): LitmusTest {
  return {
    description: fence
      ? "store buffering with a seq_cst fence between each thread's store and load"
      : "store buffering: x=1; r0=y || y=1; r1=x",
    observed: ["r0", "r1"],
    values: [0, 1],
    // SB's weak outcome: x86's store buffers (Owens et al. 2009, test SB);
    // RC11 allows it for relaxed accesses and forbids it with seq_cst fences.
    forbidden: fence ? all("r0=0 r1=0") : { sc: ["r0=0 r1=0"], tso: [], pso: [], ra: [] },
    spawn(k, c) {
      k.spawn("t0", storeLoad, k, c.x, c.y, c.r[0], fence);
      k.spawn("t1", storeLoad, k, c.y, c.x, c.r[1], fence);
    },
  };
}

function mp(how: MpHow): LitmusTest {
  const weak = how === "plain" ? [] : ["r0=1 r1=0"];
  return {
    description: {
      plain: "message passing: x=1; y=1 || r0=y; r1=x",
      fences:
        "message passing with a release fence in the writer and an acquire fence in the reader",
      "rel-acq": "message passing with a release store of y and an acquire load of it",
      "rel-rlx": "message passing with a release store of y and a relaxed load of it",
    }[how],
    observed: ["r0", "r1"],
    values: [0, 1],
    // C11: only a release (store or fence) read by an acquire (load or
    // fence) synchronises; a release store read relaxed does not.
    forbidden: {
      sc: ["r0=1 r1=0"],
      tso: ["r0=1 r1=0"],
      pso: weak,
      ra: how === "fences" || how === "rel-acq" ? ["r0=1 r1=0"] : [],
    },
    spawn(k, c) {
      k.spawn("t0", mpWriter, k, c, how);
      k.spawn("t1", mpReader, k, c, how);
    },
  };
}

/** The catalog of litmus tests, by variant-name stem. */
export const LITMUS_TESTS: Readonly<Record<string, LitmusTest>> = {
  sb: sb(false),
  "sb+mfences": sb(true),
  mp: mp("plain"),
  "mp+fences": mp("fences"),
  "mp+rel-acq": mp("rel-acq"),
  "mp+rel-rlx": mp("rel-rlx"),
  "sb+rel-acq": {
    description: "store buffering with release stores and acquire loads",
    observed: ["r0", "r1"],
    values: [0, 1],
    // Release/acquire does not order a store before a later load (RC11's SB+rel+acq).
    forbidden: { sc: ["r0=0 r1=0"], tso: [], pso: [], ra: [] },
    spawn(k, c) {
      k.spawn("t0", storeLoadRelAcq, c.x, c.y, c.r[0]);
      k.spawn("t1", storeLoadRelAcq, c.y, c.x, c.r[1]);
    },
  },
  wrc: {
    description: "write-to-read causality: x=1 || r0=x; y=1 || r1=y; r2=x",
    observed: ["r0", "r1", "r2"],
    values: [0, 1],
    // Relaxed accesses give no causality: the third thread may miss x=1.
    forbidden: allButRa("r0=1 r1=1 r2=0"),
    spawn(k, c) {
      k.spawn("t0", store, c.x, 1);
      k.spawn("t1", wrcRelay, c, false);
      k.spawn("t2", wrcReader, c, false);
    },
  },
  "wrc+rel-acq": {
    description: "write-to-read causality with acquire loads and a release store",
    observed: ["r0", "r1", "r2"],
    values: [0, 1],
    // Happens-before is transitive: x=1 hb the release of y hb the last read.
    forbidden: all("r0=1 r1=1 r2=0"),
    spawn(k, c) {
      k.spawn("t0", store, c.x, 1);
      k.spawn("t1", wrcRelay, c, true);
      k.spawn("t2", wrcReader, c, true);
    },
  },
  lb: {
    description:
      "load buffering: r0=x; y=1 || r1=y; x=1 (no model here lets a load see a later store)",
    observed: ["r0", "r1"],
    values: [0, 1],
    forbidden: all("r0=1 r1=1"),
    spawn(k, c) {
      k.spawn("t0", loadStore, c.x, c.y, c.r[0]);
      k.spawn("t1", loadStore, c.y, c.x, c.r[1]);
    },
  },
  iriw: {
    description:
      "independent reads of independent writes: two readers must agree on the order of x=1 and y=1",
    observed: ["r0", "r1", "r2", "r3"],
    values: [0, 1],
    // Forbidden on multi-copy-atomic hardware (x86, SPARC); C11 release/acquire
    // is not multi-copy atomic and allows it even with acquire loads.
    forbidden: allButRa("r0=1 r1=0 r2=1 r3=0"),
    spawn(k, c) {
      k.spawn("t0", store, c.x, 1);
      k.spawn("t1", store, c.y, 1);
      k.spawn("t2", loadLoad, c.x, c.y, c.r[0], c.r[1]);
      k.spawn("t3", loadLoad, c.y, c.x, c.r[2], c.r[3]);
    },
  },
  "2+2w": {
    description: "two stores each: x=1; y=2 || y=1; x=2, observed in final memory",
    observed: ["x", "y"],
    values: [1, 2],
    // Modification order is per cell in C11, so both first stores may end on top.
    forbidden: { sc: ["x=1 y=1"], tso: ["x=1 y=1"], pso: [], ra: [] },
    spawn(k, c) {
      k.spawn("t0", storeStore, c.x, c.y);
      k.spawn("t1", storeStore, c.y, c.x);
    },
  },
};

/** Every outcome a test can name: all combinations of its observed values. */
export function allOutcomes(test: LitmusTest): string[] {
  let out = [""];
  for (const name of test.observed) {
    out = out.flatMap((o) => test.values.map((v) => `${o}${o === "" ? "" : " "}${name}=${v}`));
  }
  return out;
}

/** The outcomes `model` allows for `test`, sorted. */
export function allowedOutcomes(test: LitmusTest, model: MemoryModel): string[] {
  const forbidden = test.forbidden[model];
  return allOutcomes(test).filter((o) => !forbidden.includes(o)).sort();
}

/** The outcome of a finished run, from its final state (registers and memory). */
export function outcomeOf(test: LitmusTest, snapshot: Record<string, unknown>): string {
  return test.observed.map((name) => `${name}=${snapshot[name]}`).join(" ");
}

/** Where a variant name puts its memory model: `sb` is sc, `sb-tso` is tso. */
function variants(): Record<string, Variant> {
  const out: Record<string, Variant> = {};
  for (const [name, test] of Object.entries(LITMUS_TESTS)) {
    for (const memory of ["sc", "tso", "pso", "ra"] as const) {
      out[memory === "sc" ? name : `${name}-${memory}`] = {
        description: `${test.description}; under ${memory}`,
        memory,
        // DFS enumerates every schedule: no outcome outside the allowed set.
        expect: { verdict: "pass", budget: { strategy: "dfs", runs: 20_000 } },
      };
    }
  }
  return out;
}

/** The litmus test a variant runs: its name without the memory model suffix. */
export function testOf(variant: string): LitmusTest {
  return LITMUS_TESTS[variant.replace(/-(tso|pso|ra)$/, "")];
}

/**
 * `litmus`: one variant per litmus test and memory model. A run fails when
 * its outcome is one the run's memory model forbids; the litmus tests in
 * `litmus_test.ts` check that DFS enumerates exactly the allowed outcomes,
 * no more and no fewer.
 */
export const litmus: Scenario<Record<string, never>> = defineScenario({
  name: "litmus",
  description:
    "litmus tests (SB, MP, LB, WRC, IRIW, 2+2W) against the outcomes each memory model allows",
  params: z.object({}),
  variants: variants(),
  stepsMax: () => 100,
  setup(k: Kernel, _params, variant) {
    const test = testOf(variant);
    const r = test.observed.filter((n) => n.startsWith("r")).map((n) => k.cell(n, -1));
    const cells: Cells = { x: k.cell("x", 0), y: k.cell("y", 0), r };
    test.spawn(k, cells);
    const allowed = new Set(allowedOutcomes(test, k.memory));
    k.invariant("allowed-outcome", () => {
      const o = outcomeOf(test, k.snapshot());
      return allowed.has(o) || `outcome ${o} is forbidden under ${k.memory}`;
    });
  },
});
