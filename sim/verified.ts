/**
 * Verified, not sampled: a pass variant that declares a size (`verify` in its
 * expectation) is exhausted there by DPOR, so "pass" means every schedule at
 * that size passed, not "no failure in N runs".
 *
 * @module
 */
import { DporStrategy } from "./dpor.ts";
import { type ExplorationResult, exploreExhaustive } from "./exhaustive.ts";
import { makeTarget, type Target, variantOf } from "./explore.ts";

/** What exhausting a variant at its declared size found. */
export interface Verified {
  /** The target at the declared size. */
  readonly target: Target;
  readonly result: ExplorationResult;
  /** True when every schedule was explored and passed. */
  readonly ok: boolean;
}

/**
 * Exhausts `target`'s variant with DPOR at the size its expectation declares;
 * null when it declares none.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { workStealing } from "../scenarios/mod.ts";
 * import { makeTarget } from "./explore.ts";
 * const v = verifyPass(makeTarget(workStealing, "chase-lev"));
 * assertEquals([v?.ok, v?.result.exhausted, v?.target.params.thieves], [true, true, 1]);
 * ```
 */
export function verifyPass(target: Target): Verified | null {
  const sized = sizedTarget(target);
  if (sized === null) return null;
  const result = exploreExhaustive(sized.target, new DporStrategy(), { runs: sized.runs });
  return { target: sized.target, result, ok: result.exhausted && result.failures.length === 0 };
}

/**
 * `target` at the size its expectation declares to verify at, with the
 * schedule budget for it; null when it declares none.
 */
export function sizedTarget(target: Target): { target: Target; runs: number } | null {
  const verify = variantOf(target).expect.verify;
  if (verify === undefined) return null;
  const sized = makeTarget(target.scenario, target.variant, {
    params: verify.params ?? {},
    source: target.source,
  });
  return { target: sized, runs: verify.runs };
}
