/**
 * fast-check generators for catalog runs, shared by the cross-cutting tests.
 */
import fc from "fast-check";
import { catalog } from "../scenarios/mod.ts";
import type { RunSpec } from "./_runs.ts";

/**
 * Small parameter values per scenario, so generated runs stay short. A
 * scenario missing here runs with its defaults only.
 */
const PARAMS: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  "lost-update": fc.record({
    fibers: fc.integer({ min: 1, max: 4 }),
    increments: fc.integer({ min: 1, max: 3 }),
    localWork: fc.integer({ min: 0, max: 2 }),
  }),
  "lock-order": fc.record({ rounds: fc.integer({ min: 1, max: 3 }) }),
  "gc-mark-sweep": fc.record({
    cycles: fc.integer({ min: 1, max: 2 }),
    mutators: fc.integer({ min: 1, max: 2 }),
    garbage: fc.integer({ min: 0, max: 2 }),
  }),
  "gc-copying": fc.record({
    scripts: fc.integer({ min: 1, max: 3 }),
    length: fc.integer({ min: 1, max: 3 }),
  }),
  "gc-compaction": fc.record({
    messages: fc.integer({ min: 1, max: 2 }),
    length: fc.integer({ min: 1, max: 3 }),
    compactions: fc.integer({ min: 1, max: 2 }),
    garbage: fc.integer({ min: 0, max: 1 }),
  }),
  "lazy-slice": fc.record({
    words: fc.integer({ min: 6, max: 10 }),
    collections: fc.integer({ min: 1, max: 2 }),
    reads: fc.integer({ min: 1, max: 2 }),
  }),
  "gc-free-list": fc.record({
    workers: fc.integer({ min: 1, max: 3 }),
    cells: fc.integer({ min: 3, max: 4 }),
    churn: fc.integer({ min: 0, max: 5 }),
  }),
  "arena-overflow": fc.record({
    workers: fc.integer({ min: 1, max: 3 }),
    jobs: fc.integer({ min: 2, max: 5 }),
    arenaCells: fc.integer({ min: 1, max: 3 }),
  }),
  "channel-mpmc": fc.record({
    producers: fc.integer({ min: 1, max: 3 }),
    consumers: fc.integer({ min: 1, max: 2 }),
    messages: fc.integer({ min: 1, max: 3 }),
    capacity: fc.integer({ min: 1, max: 3 }),
  }),
  reactor: fc.record({
    workers: fc.integer({ min: 1, max: 3 }),
    events: fc.integer({ min: 1, max: 6 }),
    arenaBytes: fc.constantFrom(48, 96, 200),
    queue: fc.integer({ min: 1, max: 3 }),
    delayMax: fc.integer({ min: 0, max: 4 }),
  }),
  comms: fc.record({
    messages: fc.integer({ min: 1, max: 3 }),
    words: fc.integer({ min: 1, max: 3 }),
    slots: fc.integer({ min: 1, max: 2 }),
    gcs: fc.integer({ min: 1, max: 2 }),
  }),
  "pf-pipeline": fc.record({
    stages: fc.integer({ min: 1, max: 3 }),
    producers: fc.integer({ min: 1, max: 2 }),
    tasks: fc.integer({ min: 1, max: 3 }),
    bound: fc.integer({ min: 1, max: 2 }),
    hops: fc.integer({ min: 1, max: 3 }),
  }),
  "work-stealing": fc.record({
    thieves: fc.integer({ min: 1, max: 3 }),
    tasks: fc.integer({ min: 1, max: 6 }),
    takeEvery: fc.integer({ min: 1, max: 4 }),
    capacity: fc.constantFrom(1, 2, 4),
  }),
  "logical-timers": fc.record({
    fibers: fc.integer({ min: 0, max: 3 }),
    messages: fc.integer({ min: 0, max: 3 }),
  }),
  zeno: fc.record({ instantStepsMax: fc.integer({ min: 10, max: 60 }) }),
  runtime: fc.record({
    workers: fc.integer({ min: 2, max: 3 }),
    events: fc.integer({ min: 1, max: 6 }),
    delayMax: fc.integer({ min: 0, max: 60 }),
  }),
  "clock-sync": fc.record({
    clients: fc.integer({ min: 1, max: 3 }),
    rounds: fc.integer({ min: 1, max: 3 }),
    periodTicks: fc.integer({ min: 0, max: 1_000_000 }),
    minDelay: fc.integer({ min: 0, max: 50 }),
    extraDelay: fc.integer({ min: 0, max: 500 }),
    driftPpmMax: fc.integer({ min: 0, max: 1000 }),
    offsetMax: fc.integer({ min: 0, max: 1_000_000 }),
  }).map(({ extraDelay, ...p }) => ({ ...p, maxDelay: p.minDelay + extraDelay })),
};

/** Any catalog scenario and variant, small parameters, either sampler, any seed. */
export const runSpec: fc.Arbitrary<RunSpec> = fc
  .constantFrom(...catalog.flatMap((s) => Object.keys(s.variants).map((v) => [s.name, v])))
  .chain(([scenario, variant]) =>
    fc.record({
      scenario: fc.constant(scenario),
      variant: fc.constant(variant),
      params: PARAMS[scenario] ?? fc.constant({}),
      strategy: fc.constantFrom("random" as const, "pct" as const),
      seed: fc.nat({ max: 2 ** 32 - 1 }),
    })
  );
