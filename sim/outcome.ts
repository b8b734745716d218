/**
 * Outcomes of a run: each failure is a distinct result with a message, never a
 * crash of the tool.
 *
 * @module
 */

/** How a run ended. */
export type Verdict =
  | "pass"
  | "bug"
  | "crash"
  | "deadlock"
  | "step-limit"
  | "zeno"
  | "hang";

/** Every verdict, for validation and help texts. */
export const VERDICTS: readonly Verdict[] = [
  "pass",
  "bug",
  "crash",
  "deadlock",
  "step-limit",
  "zeno",
  "hang",
];

/** The result of one run. */
export interface Outcome {
  /** How the run ended. */
  readonly verdict: Verdict;
  /** Which check failed: an invariant's name, "assert", an error class, "deadlock"... */
  readonly check: string;
  /** What happened, for people. Empty for a pass. */
  readonly message: string;
  /** The step at which the run ended: the failing step, or the last step taken. */
  readonly step: number;
  /** The fiber that failed, when one did. */
  readonly fiber: string | null;
}

/**
 * Brands that mark a violation and a tool signal. They are registered
 * symbols (`Symbol.for`), the same in every copy of this module, so a
 * scenario file that imports another checkout's `mod.ts` still has its
 * violations reported as bugs: the kernel never asks `instanceof`.
 */
const VIOLATION_BRAND = Symbol.for("simtest.violation");
const TOOL_SIGNAL_BRAND = Symbol.for("simtest.tool-signal");

/**
 * True when `e` is a `Violation` from any copy of this module.
 *
 * @example
 * ```ts
 * import { assert } from "../deps.ts";
 * assert(isViolation(new Violation("c", "m")));
 * assert(isViolation({ [Symbol.for("simtest.violation")]: true, check: "c", verdict: "bug" }));
 * assert(!isViolation(new Error("x")));
 * ```
 */
export function isViolation(e: unknown): e is Violation {
  return typeof e === "object" && e !== null &&
    (e as Record<symbol, unknown>)[VIOLATION_BRAND] === true;
}

/** True when `e` is a `ToolSignal` (pruned run, nondeterminism, replay divergence) from any copy. */
export function isToolSignal(e: unknown): e is ToolSignal {
  return typeof e === "object" && e !== null &&
    (e as Record<symbol, unknown>)[TOOL_SIGNAL_BRAND] === true;
}

/**
 * Thrown by scenario and runtime code when a property does not hold. The
 * kernel turns it into an outcome naming `check`, with verdict `bug` unless
 * the violation names another failing verdict (a liveness failure such as
 * `zeno` found by a runtime monitor).
 */
export class Violation extends Error {
  /** The name of the property that failed ("assert", "no-lost-update", ...). */
  readonly check: string;
  /** The verdict of the run it ends. */
  readonly verdict: Exclude<Verdict, "pass">;
  /** Marks a violation across copies of this module. */
  readonly [VIOLATION_BRAND] = true;

  /** Makes a violation of `check`, judged as `verdict` (default `bug`). */
  constructor(check: string, message: string, verdict: Exclude<Verdict, "pass"> = "bug") {
    super(message);
    this.name = "Violation";
    this.check = check;
    this.verdict = verdict;
  }
}

/**
 * A signal from the tool itself (a strategy, a replay) that travels through
 * scenario code unchanged: the kernel never turns it into an outcome.
 */
export class ToolSignal extends Error {
  /** Marks a tool signal across copies of this module. */
  readonly [TOOL_SIGNAL_BRAND] = true;
}

/**
 * Thrown by an exhaustive strategy to abandon a run that can only repeat
 * schedules already explored (sleep-set blocked).
 */
export class PrunedRun extends ToolSignal {
  constructor() {
    super("run pruned: every schedule from here was already explored");
    this.name = "PrunedRun";
  }
}

/**
 * Thrown by a watched kernel at the next step once its supervisor gave up on
 * the run (it stopped it as a hang or out of memory): the thread then leaves
 * the sweep instead of running on unseen.
 */
export class RunStopped extends ToolSignal {
  /** The signal a watched kernel throws at the step after its run was stopped. */
  constructor() {
    super("the supervisor stopped this run");
    this.name = "RunStopped";
  }
}

/**
 * Thrown when re-executing a schedule prefix does not give the same choices
 * as before: the scenario depends on something outside the simulation.
 */
export class Nondeterminism extends ToolSignal {
  /** Makes the error; `message` says which choice differed. */
  constructor(message: string) {
    super(`the scenario is not deterministic: ${message}`);
    this.name = "Nondeterminism";
  }
}

/**
 * Thrown when a replayed trace no longer fits the scenario. It is a problem
 * with the input, not a failure of the scenario, so it is never turned into
 * an outcome.
 */
export class ReplayDivergence extends ToolSignal {
  /** The step at which the replay could not go on. */
  readonly step: number;

  /** Makes the error for a divergence at `step`. */
  constructor(step: number, message: string) {
    super(`Cannot replay trace: step ${step} ${message}`);
    this.name = "ReplayDivergence";
    this.step = step;
  }
}

/** The check of a `hang`: a step ran longer than `--step-timeout`. */
export const STEP_TIMEOUT = "step-timeout";

/** The check of a `hang` in the end-of-run checks: invariants run after the last step. */
export const END_CHECK_TIMEOUT = "end-check-timeout";

/** The check of a `crash` whose run grew past the heap limit (`--heap-max`). */
export const OUT_OF_MEMORY = "out-of-memory";

/**
 * The outcome of a run the supervisor stopped because step `step` (0: the
 * setup) did not return within the step timeout. It names no time, so a
 * trace stays the same bytes whatever the timeout was.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const o = hangOutcome(3, "spinner");
 * assertEquals([o.verdict, o.check, o.step, o.fiber], ["hang", "step-timeout", 3, "spinner"]);
 * assertEquals(hangOutcome(0, null).message.startsWith("setup did not return"), true);
 * ```
 */
export function hangOutcome(step: number, fiber: string | null): Outcome {
  const message = fiber === null
    ? "setup did not return within the step timeout (--step-timeout): a loop that never ends?"
    : `step ${step} did not return within the step timeout (--step-timeout): ` +
      "a loop that never yields?";
  return { verdict: "hang", check: STEP_TIMEOUT, message, step, fiber };
}

/**
 * The outcome of a run the supervisor stopped because the process grew past
 * the heap limit during step `step` (0: the setup): a `crash`, never a V8
 * fatal error.
 */
export function outOfMemoryOutcome(
  step: number,
  fiber: string | null,
  atEnd = false,
): Outcome {
  const where = atEnd ? END_CHECKS_WHERE : fiber === null ? "during setup" : `during step ${step}`;
  return {
    verdict: "crash",
    check: OUT_OF_MEMORY,
    message: `out of memory: the run grew past the heap limit (--heap-max) ${where}`,
    step,
    fiber,
  };
}

const END_CHECKS_WHERE = "in the end-of-run checks";

/**
 * The outcome of a run whose steps all returned but whose end-of-run checks
 * (the invariants after the last step, step `step`) did not return within
 * the step timeout: the checks are named, not the last step.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const o = endCheckHangOutcome(7);
 * assertEquals([o.verdict, o.check, o.step, o.fiber], ["hang", "end-check-timeout", 7, null]);
 * ```
 */
export function endCheckHangOutcome(step: number): Outcome {
  const message = `the end-of-run checks after step ${step} did not return within the step ` +
    "timeout (--step-timeout): an invariant that never returns?";
  return { verdict: "hang", check: END_CHECK_TIMEOUT, message, step, fiber: null };
}

/**
 * True for an outcome the supervisor gave (a hang, out of memory): the run
 * was stopped before step `outcome.step` returned, so a replay stops before
 * that step instead of running it (or, `isEndCut`, before its end checks).
 */
export function isCut(o: Outcome): boolean {
  return o.verdict === "hang" || (o.verdict === "crash" && o.check === OUT_OF_MEMORY);
}

/** True for a cut run stopped in its end-of-run checks, after its last step. */
export function isEndCut(o: Outcome): boolean {
  return isCut(o) && (o.check === END_CHECK_TIMEOUT || o.message.endsWith(END_CHECKS_WHERE));
}

/** The outcome a cut run ends with, built again from its step and fiber. */
export function cutOutcome(o: Outcome, step: number, fiber: string | null): Outcome {
  if (isEndCut(o)) {
    return o.verdict === "hang" ? endCheckHangOutcome(step) : outOfMemoryOutcome(step, null, true);
  }
  return o.verdict === "hang" ? hangOutcome(step, fiber) : outOfMemoryOutcome(step, fiber);
}

/** A one-line description of an outcome, as printed in tables and logs. */
export function describeOutcome(o: Outcome): string {
  if (o.verdict === "pass") return `pass after ${o.step} step${o.step === 1 ? "" : "s"}`;
  const who = o.fiber === null ? "" : ` in fiber ${o.fiber}`;
  return `${o.verdict} (${o.check}) at step ${o.step}${who}: ${o.message}`;
}
