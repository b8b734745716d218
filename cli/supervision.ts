/**
 * `--step-timeout` and `--heap-max`: how the `sim` command supervises the
 * runs it sweeps (see `scale/supervisor.ts`).
 *
 * @module
 */
import { getHeapStatistics } from "../deps.ts";
import { UsageError } from "../sim/scenario.ts";
import { Supervisor, type SupervisorOptions } from "../scale/supervisor.ts";
import { findScenario } from "../scenarios/mod.ts";
import { intFlag } from "./flags.ts";

/** The step timeout when none is given, in seconds. */
export const STEP_TIMEOUT_DEFAULT_S = 10;
const STEP_TIMEOUT_MAX_S = 86_400;
const HEAP_MAX_DEFAULT_MB = 2048;
const HEAP_MAX_MIN_MB = 16;

/**
 * The heap limit V8 gives each thread, in MB: `--heap-max` must stay well
 * under it, so the supervisor stops a run before V8 would abort the process.
 */
export function heapLimitMb(): number {
  return Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20);
}

/**
 * Parses `--step-timeout S` (seconds; 0 turns supervision off) and
 * `--heap-max MB` into supervisor options, or null when supervision is off.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "../deps.ts";
 * assertEquals(supervisionFlags(undefined, undefined)?.stepTimeoutMs, 10_000);
 * assertEquals(supervisionFlags("0.5", "64")?.heapMaxBytes, 64 * 2 ** 20);
 * assertEquals(supervisionFlags("0", undefined), null);
 * assertThrows(() => supervisionFlags("soon", undefined), /bad --step-timeout/);
 * ```
 */
export function supervisionFlags(
  stepTimeout: string | undefined,
  heapMax: string | undefined,
): SupervisorOptions | null {
  let seconds = STEP_TIMEOUT_DEFAULT_S;
  if (stepTimeout !== undefined) {
    seconds = Number(stepTimeout);
    if (!/^\d+(\.\d+)?$/.test(stepTimeout) || seconds > STEP_TIMEOUT_MAX_S) {
      throw new UsageError(
        `bad --step-timeout "${stepTimeout.slice(0, 40)}": seconds, from 0 (off) ` +
          `to ${STEP_TIMEOUT_MAX_S}`,
      );
    }
  }
  // Three quarters of V8's limit: room for the rest of the process, and for
  // the growth between two looks.
  const ceiling = Math.floor(heapLimitMb() * 0.75);
  const mb = intFlag(
    "heap-max",
    heapMax,
    HEAP_MAX_MIN_MB,
    ceiling,
    "three quarters of the V8 heap limit; raise it with --v8-flags=--max-old-space-size",
  ) ?? Math.min(HEAP_MAX_DEFAULT_MB, ceiling);
  if (seconds === 0) {
    if (heapMax !== undefined) {
      throw new UsageError("--heap-max needs supervision: drop --step-timeout 0");
    }
    return null;
  }
  return { stepTimeoutMs: seconds * 1000, heapMaxBytes: mb * 2 ** 20 };
}

/**
 * A supervisor for a command that replays or shrinks, started only when it
 * is needed: with supervision on. When `scenario` names a file, the file is
 * imported on its worker first, so top-level code that never returns is a
 * one-line error (exit 2) instead of a command that never ends. The caller
 * closes it.
 */
export async function supervisorFor(
  supervision: SupervisorOptions | null,
  scenario: string | null | undefined,
): Promise<Supervisor | null> {
  if (supervision === null) return null;
  const supervisor = new Supervisor(supervision);
  try {
    if (scenario != null && findScenario(scenario) === undefined) await supervisor.load(scenario);
  } catch (e) {
    supervisor.close();
    throw e;
  }
  return supervisor;
}
