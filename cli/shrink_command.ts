/**
 * `deno task sim --shrink FILE`: shrink a failing trace and write the result
 * beside it.
 *
 * @module
 */
import type { Io } from "../cli.ts";
import { renderHtml } from "../reports/html.ts";
import { shrinkText } from "../reports/markdown.ts";
import { stoppedText, type SupervisorOptions } from "../scale/supervisor.ts";
import { loadTrace } from "../scenarios/load.ts";
import { describeOutcome } from "../sim/outcome.ts";
import type { ShrinkResult } from "../sim/shrink.ts";
import { serializeTrace } from "../sim/trace.ts";
import { besidePath, paramChanges, reportTimeline, shrinkLazily, writeText } from "./failures.ts";
import { supervisorFor } from "./supervision.ts";

/**
 * Shrinks the trace in `file`; returns the exit code. With supervision the
 * candidates run on a supervised worker: one that hangs ends the command
 * with a one-line message (exit 1).
 */
export async function shrinkCommand(
  file: string,
  opts: {
    readonly json: boolean;
    readonly scenario?: string | null;
    readonly supervision?: SupervisorOptions | null;
  },
  io: Io,
): Promise<number> {
  const supervisor = await supervisorFor(opts.supervision ?? null, opts.scenario);
  let r: ShrinkResult;
  const { trace, scenario } = await loadTrace(file, { scenario: opts.scenario, flag: "--shrink" })
    .catch((e) => {
      supervisor?.close();
      throw e;
    });
  try {
    if (supervisor === null) {
      r = await shrinkLazily(trace, scenario, { now: io.now });
    } else {
      const shrunk = await supervisor.shrink(opts.scenario ?? trace.scenario, trace);
      if ("atEnd" in shrunk) {
        const text = `shrinking ${file} stopped: its ${stoppedText(shrunk)}: the scenario ` +
          "hangs or runs out of memory in some schedules";
        if (opts.json) io.out(JSON.stringify({ shrink: file, stopped: text }));
        else io.out(text);
        return 1;
      }
      r = shrunk;
    }
  } finally {
    supervisor?.close();
  }
  const path = besidePath(file, ".shrunk.json");
  writeText(path, serializeTrace(r.shrunk));
  const report = besidePath(file, ".html");
  const original = reportTimeline(trace, scenario);
  writeText(
    report,
    renderHtml({
      title: `${trace.scenario}/${trace.variant}`,
      original: original.timeline,
      shrunk: reportTimeline(r.shrunk, scenario).timeline,
      originalPath: file,
      shrunkPath: path,
      where: whereOfFile(file, trace.seed),
    }),
  );
  const note = { path, before: r.before, after: r.after, params: paramChanges(r) };
  if (opts.json) {
    io.out(JSON.stringify({
      shrink: file,
      scenario: trace.scenario,
      variant: trace.variant,
      verdict: r.shrunk.outcome.verdict,
      check: r.shrunk.outcome.check,
      before: r.before,
      after: r.after,
      params: r.shrunk.params,
      runs: r.runs,
      rounds: r.rounds,
      stopped: r.stopped,
      trace: path,
      report,
    }));
    return 0;
  }
  io.out(`shrinking ${file}: ${trace.scenario}/${trace.variant}, seed ${trace.seed}`);
  io.out(`  ${describeOutcome(r.original.outcome)}`);
  io.out(`  shrunk: ${shrinkText(note)}`);
  io.out(`  ${r.runs} runs, ${r.rounds} improvements, stopped: ${stopText(r.stopped)}`);
  io.out(`  now fails with: ${describeOutcome(r.shrunk.outcome)}`);
  io.out(`  replay: deno task sim --replay ${path}`);
  io.out(`  report: ${report}`);
  if (original.note !== "") io.out(`  ${original.note}`);
  return 0;
}

function stopText(why: string): string {
  return why === "fixpoint" ? "no smaller candidate fails the same way" : `${why} budget used up`;
}

/**
 * A trace names its seed but not the schedule of a DFS or DPOR run; the
 * file the sim command wrote does (`....schedule13.json`).
 */
function whereOfFile(file: string, seed: number): string {
  const m = /\.schedule(\d+)(\.shrunk)?\.json$/.exec(file);
  return m === null ? `seed ${seed}` : `schedule ${m[1]}`;
}
