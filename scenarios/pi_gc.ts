/**
 * π's collectors against an interpreter-like mutator: it pushes, builds,
 * slices (lazily, by reference), stores to locals, calls and returns, while a
 * collector on its own core collects and a reader on a third core reads
 * shared immutable values. Checks, after every step, never trust the
 * collector's flags: every root decodes (references followed) to what the
 * mutator's own model says it holds, the live-set sum kept at every push and
 * pop equals a recomputation from the bytes, and (generational) no old value
 * refers to a young one.
 *
 * @module
 */
import { z } from "zod";
import { Faults, FaultsSchema } from "../runtime/faults.ts";
import { type PiGcOptions, PiMachine } from "../runtime/pi_heap.ts";
import type { PiValue } from "../runtime/pi_value.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Op } from "../sim/op.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

/** The collector each variant builds, and whether the mutator writes a pointer into bytes. */
export const PI_BUILDS: Record<string, { gc: PiGcOptions; mutatePointer: boolean }> = {
  generational: { gc: { mode: "generational", majorEvery: 2 }, mutatePointer: false },
  "full-copy": { gc: { mode: "full-copy" }, mutatePointer: false },
  presimplify: {
    gc: { mode: "generational", majorEvery: 2, presimplify: true },
    mutatePointer: false,
  },
  "mutable-pointer": { gc: { mode: "generational", majorEvery: 2 }, mutatePointer: true },
  "scan-simple-skip": { gc: { mode: "full-copy", misclassify: true }, mutatePointer: false },
};

/** One instruction of the mutator's program. */
type Instr =
  | { op: "push"; v: PiValue }
  | { op: "pop" | "call" | "ret" }
  | { op: "build" | "slice" | "store" | "load" | "clear"; n: number }
  | { op: "mutate"; n: number; ref: boolean };

/** The program: per round, a list with a lazy slice of it that outlives it, in a frame. */
export function program(rounds: number, mutatePointer: boolean): Instr[] {
  const out: Instr[] = [];
  for (let r = 0; r < rounds; r++) {
    out.push(
      { op: "call" },
      { op: "push", v: `row${r}: some text to slice` },
      { op: "push", v: 1000 + r },
      { op: "build", n: 2 }, //     L = [text, int]
      { op: "store", n: 0 }, //     local 0 := L
      { op: "load", n: 0 },
      { op: "slice", n: 0 }, //     a reference to L's text: O(1), complex
      { op: "push", v: new Uint8Array(4) },
      { op: "build", n: 2 }, //     C = [ref, bytes]: complex
      { op: "store", n: 2 }, //     local 2 := C
      { op: "pop" }, //             L off the stack
      { op: "clear", n: 0 }, //     only C's reference keeps L's text now
      { op: "clear", n: 2 }, //     C dies
    );
    if (mutatePointer) {
      out.push(
        { op: "push", v: new Uint8Array(16) },
        { op: "store", n: 1 }, //   B: a byte buffer
        { op: "push", v: `young${r}` },
        { op: "mutate", n: 1, ref: true }, // B holds a pointer to the young text
        { op: "mutate", n: 1, ref: false }, // and plain bytes again
        { op: "pop" },
      );
    }
    out.push({ op: "ret" });
  }
  return out;
}

/** The mutator's own model of what its roots hold, with references followed. */
class Model {
  readonly stack: unknown[] = [];
  readonly frames: unknown[][] = [[]];

  apply(i: Instr): void {
    const frame = this.frames[this.frames.length - 1];
    switch (i.op) {
      case "push":
        return void this.stack.push(i.v);
      case "pop":
        return void this.stack.pop();
      case "call":
        return void this.frames.push([]);
      case "ret":
        return void this.frames.pop();
      case "build":
        return void this.stack.push(this.stack.splice(this.stack.length - i.n, i.n));
      case "slice":
        return void this.stack.push((this.stack[this.stack.length - 1] as unknown[])[i.n]);
      case "store":
        frame[i.n] = this.stack.pop();
        return;
      case "load":
        return void this.stack.push(frame[i.n]);
      case "clear":
        frame[i.n] = undefined;
        return;
      case "mutate":
        frame[i.n] = i.ref ? this.stack[this.stack.length - 1] : new Uint8Array(16);
    }
  }
}

function exec(m: PiMachine, i: Instr): Generator<Op, unknown, void> {
  switch (i.op) {
    case "push":
      return m.push(i.v);
    case "pop":
      return m.pop();
    case "call":
      return m.call();
    case "ret":
      return m.ret();
    case "build":
      return m.build(i.n);
    case "slice":
      return m.slice(i.n);
    case "store":
      return m.store(i.n);
    case "load":
      return m.load(i.n);
    case "clear":
      return m.clear(i.n);
    case "mutate":
      return m.mutate(i.n, i.ref);
  }
}

function* mutator(m: PiMachine, prog: Instr[], model: Model) {
  for (const i of prog) {
    yield* exec(m, i);
    model.apply(i);
  }
}

function* collector(k: Kernel, m: PiMachine, cycles: number, gap: number) {
  for (let c = 0; c < cycles; c++) {
    // Other work of the collector's core between collections: no footprint.
    for (let i = 0; i < gap; i++) yield* k.pause();
    yield* m.collect();
  }
}

function* reader(m: PiMachine, reads: number, expected: unknown[]) {
  for (let i = 0; i < reads; i++) {
    const g = i % expected.length;
    const got = yield* m.readGlobal(g);
    if (!same(got, expected[g])) {
      throw new Error(`reader: global ${g} reads ${show(got)}, expected ${show(expected[g])}`);
    }
  }
}

/** Deep equality of decoded values. */
export function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a instanceof Map && b instanceof Map) {
    return a.size === b.size && [...a].every(([k, v]) => same(v, b.get(k)));
  }
  return Object.is(a, b);
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  return JSON.stringify(v) ?? String(v);
}

/** The parameters of pi-gc. */
export interface PiGcParams {
  /** Rounds of the mutator's program. */
  readonly rounds: number;
  /** Collections the collector runs. */
  readonly cycles: number;
  /** Reader fibers reading shared immutable values. */
  readonly readers: number;
  /** Reads each reader makes. */
  readonly reads: number;
  /** Simplify values before copying them (over the variant's setting). */
  readonly presimplify: boolean;
  /** Pauses the collector takes between collections. */
  readonly gap: number;
}

/** Builds the world of pi-gc with `build`; gives the machine. */
export function buildPi(
  k: Kernel,
  params: PiGcParams,
  build: { gc: PiGcOptions; mutatePointer: boolean },
): PiMachine {
  const gc = { ...build.gc, presimplify: build.gc.presimplify || params.presimplify };
  const m = new PiMachine(k, gc);
  const shared: PiValue[] = [["shared", 7, new Map([["k", "immutable"]])], "a global"];
  for (const v of shared) m.addGlobal(v);
  const model = new Model();
  k.spawn("mutator", mutator, m, program(params.rounds, build.mutatePointer), model);
  k.spawn("gc", collector, k, m, params.cycles, params.gap);
  for (let i = 0; i < params.readers; i++) k.spawn(`reader${i}`, reader, m, params.reads, shared);
  if (gc.mode === "generational") {
    k.invariant("old-to-young", () => m.oldToYoung() ?? true, "step");
  }
  k.invariant("values-intact", () => {
    for (let i = 0; i < m.stack.length; i++) {
      const got = m.resolve(m.stack[i]);
      if (!same(got, model.stack[i])) {
        return `stack entry ${i} holds ${show(got)}, expected ${show(model.stack[i])}`;
      }
    }
    for (let f = 0; f < m.frames.length; f++) {
      const frame = m.frames[f];
      for (let j = 0; j < frame.length; j++) {
        if (frame[j] === 0) continue;
        const got = m.resolve(frame[j]);
        if (!same(got, model.frames[f][j])) {
          return `local ${j} of frame ${f} holds ${show(got)}, expected ${
            show(model.frames[f][j])
          }`;
        }
      }
    }
    return true;
  }, "step");
  k.invariant("live-set", () => {
    const oracle = m.liveSetOracle();
    return m.liveSetBytes === oracle ||
      `the live-set sum is ${m.liveSetBytes} bytes, recomputed from the roots ${oracle}`;
  }, "step");
  return m;
}

/** π's tiered values and copying collectors; broken variants mutate a pointer into bytes or skip a scan. */
export const piGc: Scenario<PiGcParams> = defineScenario({
  name: "pi-gc",
  description: "π's three tiers and byte-encoded values under copying and generational " +
    "collection, with lazy slices; an interpreter-like mutator, a collector and a reader",
  params: z.object({
    rounds: z.number().int().min(1).max(4).default(1),
    cycles: z.number().int().min(1).max(6).default(2),
    readers: z.number().int().min(0).max(2).default(1),
    reads: z.number().int().min(1).max(8).default(2),
    presimplify: z.boolean().default(false),
    /** Pauses of the collector's core before each collection. */
    gap: z.number().int().min(0).max(40).default(8),
    /** Faults (runtime/faults.ts): `collect` runs a full collection early. Off when absent. */
    faults: FaultsSchema.optional(),
  }),
  variants: {
    generational: {
      description: "nursery collections without a write barrier, a full one every second",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 20_000 } },
    },
    "full-copy": {
      description: "every collection copies everything live",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 20_000 } },
    },
    presimplify: {
      description: "generational, every reference copied out at collection: no value stays complex",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 20_000 } },
    },
    "mutable-pointer": {
      description: "a byte buffer is written in place to hold a pointer to a young value",
      expect: { verdict: "bug", check: "old-to-young", budget: { strategy: "random", runs: 200 } },
    },
    "scan-simple-skip": {
      description: "a list holding a reference is flagged simple: moved unscanned, its " +
        "reference dangles",
      expect: { verdict: "bug", check: "no-dangling", budget: { strategy: "random", runs: 200 } },
    },
  },
  stepsMax: ({ rounds, cycles, readers, reads, gap }) =>
    100 + 30 * rounds + cycles * (gap + 1) + readers * reads,
  setup(k, params, variant) {
    Faults.enable(k, params.faults);
    const build = PI_BUILDS[variant];
    if (build === undefined) throw new RangeError(`pi-gc has no variant ${variant}`);
    buildPi(k, params, build);
  },
});
