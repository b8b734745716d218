/**
 * `deno task sim --replay FILE --at N`: replays a trace and prints each step
 * up to N with the source line that yielded it, then the state after step N
 * (fibers, heap, roots, locks, cells; what step N changed is starred).
 *
 * @module
 */
import { changedKeys, formatState } from "../reports/state_text.ts";
import { SOURCE_STEPS_MAX, type StepRange } from "../reports/sources.ts";
import type { StepLog } from "../reports/steps.ts";
import { sourcesOf, timelineOf } from "../reports/timeline.ts";
import { loadTrace } from "../scenarios/load.ts";
import { replay } from "../sim/explore.ts";
import type { AnyScenario } from "../sim/scenario.ts";
import type { Trace } from "../sim/trace.ts";
import { describeOutcome } from "../sim/outcome.ts";
import { UsageError } from "../sim/scenario.ts";
import { stateAt } from "../sim/state.ts";

/** Where the command prints. */
export interface ReplayAtIo {
  out(line: string): void;
}

/**
 * Runs `--replay file --at at` (`scenario`: the `--scenario` file a trace
 * recorded against a file names); returns the exit code (0, or 1 when the
 * trace did not reproduce).
 */
export async function replayAtCommand(
  file: string,
  at: number,
  io: ReplayAtIo,
  scenarioFile: string | null = null,
): Promise<number> {
  const { trace, scenario } = await loadTrace(file, { scenario: scenarioFile, flag: "--replay" });
  // The exact replay first: a trace that no longer fits stops here with the step where it parts.
  const result = replay(trace, scenario);
  const steps = result.outcome.step;
  if (at > steps) {
    throw new UsageError(`bad --at ${at}: the run has ${steps} steps; give 0..${steps}`);
  }
  const t = timelineOf(trace, scenario, {
    eventsMax: at,
    stateBytesMax: Infinity,
    sourcesUpTo: at,
  });
  const rec = t.state;
  const state = rec === null ? null : stateAt(rec, at);
  if (state === null) throw new Error(`state at step ${at} was not recorded`);
  io.out(`replaying ${file}: ${trace.scenario}/${trace.variant}, seed ${trace.seed}`);
  const first = t.sourceSteps?.[0] ?? 1;
  if (first > 1) {
    io.out(
      `source lines for steps ${first} to ${at} only: at most ${SOURCE_STEPS_MAX} steps get them`,
    );
  }
  const width = Math.max(4, ...t.events.map((e) => e.name.length));
  const kinds = Math.max(4, ...t.events.map((e) => e.kind.length));
  const objects = Math.max(6, ...t.events.map((e) => e.object.length));
  t.events.forEach((e, i) => {
    io.out(
      `${String(e.step).padStart(6)}  core ${String(e.core).padEnd(3)} ${e.name.padEnd(width)} ` +
        `${e.kind.padEnd(kinds)} ${e.object.padEnd(objects)}  ${t.sources[i] ?? "-"}`,
    );
  });
  const before = at === 0 ? null : stateAt(rec as NonNullable<typeof rec>, at - 1);
  const last = t.events[at - 1];
  io.out("");
  io.out(
    at === 0
      ? "state after setup (step 0):"
      : `state after step ${at} of ${steps} (${last.name}: ${last.kind} ${last.object}` +
        `${t.sources[at - 1] ? `, ${t.sources[at - 1]}` : ""}):`.replace(/ \)/, ")"),
  );
  for (const line of formatState(state, changedKeys(before, state))) io.out(`  ${line}`);
  io.out("");
  io.out(
    result.reproduced
      ? `the run goes on to: ${describeOutcome(result.outcome)}`
      : `NOT reproduced: ${result.message}`,
  );
  return result.reproduced ? 0 : 1;
}

/**
 * The source line of each step a `--replay` listing shows (`log`'s first and
 * last steps), for the listing; null when the trace does not fit the scenario.
 */
export function replaySources(
  trace: Trace,
  scenario: AnyScenario,
  log: StepLog,
): ((step: number) => string | null) | null {
  const ranges = [log.head, log.tail]
    .filter((lines) => lines.length > 0)
    .map((lines): StepRange => [lines[0].step, lines[lines.length - 1].step]);
  try {
    return sourcesOf(trace, scenario, ranges);
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}
