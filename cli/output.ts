/**
 * Files the `sim` command writes, made trustworthy: names that tell runs with
 * different parameters apart, writes that never leave half a file, and no
 * stale sibling left beside a trace that was written again.
 *
 * @module
 */
import type { Failure, Target } from "../sim/explore.ts";
import { makeTrace } from "../sim/explore.ts";
import { UsageError } from "../sim/scenario.ts";
import type { Strategy } from "../sim/strategy.ts";
import { canonical, serializeTrace } from "../sim/trace.ts";

/**
 * Eight hex digits (FNV-1a) of a target's scenario, variant, parameters,
 * cores and step limit: two runs that differ in any of them get different
 * trace names.
 *
 * @example
 * ```ts
 * import { assertMatch, assertNotEquals } from "../deps.ts";
 * import { lostUpdate } from "../scenarios/mod.ts";
 * import { makeTarget } from "../sim/explore.ts";
 * const a = targetHash(makeTarget(lostUpdate, "racy"));
 * assertMatch(a, /^[0-9a-f]{8}$/);
 * assertNotEquals(a, targetHash(makeTarget(lostUpdate, "racy", { params: { fibers: 3 } })));
 * ```
 */
export function targetHash(target: Target): string {
  const text = JSON.stringify(canonical({
    scenario: target.scenario.name,
    source: target.source,
    variant: target.variant,
    params: target.params,
    cores: target.cores,
    stepsMax: target.stepsMax,
    // Only swarm targets name it, so other traces keep their names.
    ...(target.swarm ? { swarm: true } : {}),
  }));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** `DIR/scenario.variant.HASH.strategy.seedN.json` (or `scheduleN` for DFS and DPOR). */
export function traceFile(
  target: Target,
  strategy: Strategy,
  failure: Failure,
  dir: string,
): string {
  const which = failure.schedule === undefined
    ? `seed${failure.seed}`
    : `schedule${failure.schedule}`;
  const name = `${target.scenario.name}.${target.variant}.${targetHash(target)}.` +
    `${strategy.name}.${which}.json`;
  return `${dir}/${name.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}

/**
 * Writes `text` to a temporary name beside `path` and renames it into place,
 * so a reader never sees half a file. Gives a `UsageError` naming the path.
 */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    const dir = path.replace(/[\/\\][^\/\\]*$/, "");
    if (dir !== path && dir !== "") Deno.mkdirSync(dir, { recursive: true });
    Deno.writeTextFileSync(tmp, text);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* it was never written */ }
    throw new UsageError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

/** The files written beside a trace: its shrunk form and its report. */
export const SIBLING_SUFFIXES = [".shrunk.json", ".html"] as const;

/** Removes the shrunk trace and report beside `tracePath`, if any. */
export function removeSiblings(tracePath: string): void {
  const stem = tracePath.replace(/(\.shrunk)?\.json$/, "");
  for (const suffix of SIBLING_SUFFIXES) {
    try {
      Deno.removeSync(stem + suffix);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new UsageError(`cannot remove stale ${stem + suffix}: ${(e as Error).message}`);
      }
    }
  }
}

/**
 * Writes the trace of a failure into `dir` and removes a shrunk trace or
 * report left there by an earlier run; returns the trace's path.
 */
export function writeTrace(
  target: Target,
  strategy: Strategy,
  failure: Failure,
  dir: string,
): string {
  const path = traceFile(target, strategy, failure, dir);
  removeSiblings(path);
  writeAtomic(path, serializeTrace(makeTrace(target, strategy, failure)));
  return path;
}
