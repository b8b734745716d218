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
  "logical-timers": fc.record({
    fibers: fc.integer({ min: 0, max: 3 }),
    messages: fc.integer({ min: 0, max: 3 }),
  }),
  zeno: fc.record({ instantStepsMax: fc.integer({ min: 10, max: 60 }) }),
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
