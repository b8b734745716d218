/**
 * The calibration race: fibers increment a shared counter.
 *
 * @module
 */
import { z } from "zod";
import type { Cell, Mutex } from "../sim/kernel.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

// Fiber and cell names, made once: building `inc${i}` in every run's setup is a
// visible part of a sub-microsecond run.
const INC_NAMES = Array.from({ length: 64 }, (_, i) => `inc${i}`);
const OWN_NAMES = Array.from({ length: 64 }, (_, i) => `own${i}`);

function* work(own: Cell<number>, steps: number) {
  for (let i = 0; i < steps; i++) yield* own.write(i);
}

function* incrementRacy(
  counter: Cell<number>,
  increments: number,
  own: Cell<number>,
  local: number,
) {
  for (let n = 0; n < increments; n++) {
    // `yield*` allocates a generator even for no work: about 8% of a small run.
    if (local > 0) yield* work(own, local);
    const v = yield* counter.read();
    yield* counter.write(v + 1);
  }
}

function* incrementLocked(
  counter: Cell<number>,
  increments: number,
  own: Cell<number>,
  local: number,
  lock: Mutex,
) {
  for (let n = 0; n < increments; n++) {
    if (local > 0) yield* work(own, local);
    yield* lock.lock();
    const v = yield* counter.read();
    yield* counter.write(v + 1);
    yield* lock.unlock();
  }
}

/** The parameters of `lostUpdate` (see its `params` schema for ranges and defaults). */
export type LostUpdateParams = {
  /** Fibers incrementing the counter. */
  readonly fibers: number;
  /** Increments each fiber makes. */
  readonly increments: number;
  /** Writes to the fiber's own cell before each increment: work that commutes. */
  readonly localWork: number;
};

/** `racy` reads then writes without a lock (an update can be lost); `locked` holds a mutex. */
export const lostUpdate: Scenario<LostUpdateParams> = defineScenario({
  name: "lost-update",
  description: "fibers each increment a shared counter; racy read-then-write loses updates",
  params: z.object({
    fibers: z.number().int().min(1).max(64).default(2),
    increments: z.number().int().min(1).max(10_000).default(1),
    /** Writes to the fiber's own cell before each increment: work that commutes. */
    localWork: z.number().int().min(0).max(1_000).default(0),
  }),
  variants: {
    racy: {
      description: "each increment is a read then a write of the counter, unguarded",
      expect: {
        verdict: "bug",
        check: "no-lost-update",
        budget: { strategy: "pct", runs: 500 },
      },
    },
    locked: {
      description: "the same read and write, under a mutex",
      expect: {
        verdict: "pass",
        budget: { strategy: "random", runs: 10_000 },
        verify: { runs: 100 },
      },
    },
  },
  setup(k, { fibers, increments, localWork }, variant) {
    const counter = k.cell("counter", 0);
    const lock = variant === "locked" ? k.mutex("lock") : null;
    for (let i = 0; i < fibers; i++) {
      // Private cells only when there is private work: a cell costs allocation per run.
      const own = localWork > 0 ? k.cell(OWN_NAMES[i], 0) : counter;
      if (lock === null) k.spawn(INC_NAMES[i], incrementRacy, counter, increments, own, localWork);
      else k.spawn(INC_NAMES[i], incrementLocked, counter, increments, own, localWork, lock);
    }
    const expected = fibers * increments;
    k.invariant("no-lost-update", () => {
      const got = counter.peek();
      return got === expected || `lost update: counter is ${got}, expected ${expected}`;
    });
  },
});
