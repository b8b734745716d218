/**
 * `deno task regress`: every scenario variant against its expected verdict,
 * then every stored failing trace replayed and required to fail exactly as
 * recorded.
 *
 * @module
 */
import { type Io, main } from "../cli.ts";
import { parseArgs } from "../deps.ts";
import { loadTrace } from "../scenarios/load.ts";
import { replay } from "../sim/explore.ts";
import { ReplayDivergence } from "../sim/outcome.ts";
import { UsageError } from "../sim/scenario.ts";
import { fromRoot } from "../scale/init_cwd.ts";
import { REGRESS_DIR, saveTrace } from "./save.ts";

const HELP = `regress: the regression suite

Usage:
  deno task regress [options]           every variant against its verdict, then every stored trace
  deno task regress --save FILE         add a failing trace to the regression folder

Options:
  --traces DIR          the regression folder (default ${REGRESS_DIR})
  --save FILE           copy a failing trace into the folder (repeatable), then stop
  --scenario FILE       a scenario file that stored traces recorded against it may load
                        (repeatable); a trace never loads the file it names by itself
  --check-determinism   also run each schedule twice and compare the event logs
  --seed N, --out DIR, --workers N, --no-shrink, --json   as for deno task sim
  -h, --help            this text

Exit codes: 0 all as expected, 1 a verdict or a stored trace not as recorded, 2 bad usage
or a stored file that is not a valid trace (every other trace is still judged).`;

/** One stored trace's result. */
export interface StoredResult {
  readonly file: string;
  readonly ok: boolean;
  /**
   * `ok`: it failed exactly as recorded; `mismatch`: it did not (exit 1);
   * `malformed`: the file could not be read as a trace (exit 2).
   */
  readonly status: "ok" | "mismatch" | "malformed";
  /** "reproduced", or what went wrong. */
  readonly result: string;
}

/**
 * Replays every trace in `dir`; each must fail exactly as recorded. A file
 * that is not a valid trace is reported as malformed, and the others are
 * still judged. `trusted` names scenario files stored traces may load.
 */
export async function replayStored(
  dir: string,
  trusted: readonly string[] = [],
): Promise<StoredResult[]> {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".json"))
      .map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw new UsageError(`cannot read ${dir}: ${(e as Error).message}`);
  }
  const out: StoredResult[] = [];
  for (const name of names) out.push(await replayOne(`${dir}/${name}`, trusted));
  return out;
}

function oneLine(e: unknown): string {
  return (e as Error).message.replace(/\s*\n\s*/g, " ");
}

async function replayOne(file: string, trusted: readonly string[]): Promise<StoredResult> {
  let loaded;
  try {
    loaded = await loadTrace(file, { trusted, flag: "regress" });
  } catch (e) {
    // A stack overflow or an allocation failure while parsing is the file's fault too.
    if (e instanceof UsageError) {
      return { file, ok: false, status: "malformed", result: oneLine(e) };
    }
    if (e instanceof RangeError) {
      return { file, ok: false, status: "malformed", result: `cannot read ${file}: ${oneLine(e)}` };
    }
    throw e;
  }
  const { trace, scenario } = loaded;
  if (trace.outcome.verdict === "pass") {
    return {
      file,
      ok: false,
      status: "mismatch",
      result: "a passing trace: the folder keeps failures",
    };
  }
  try {
    const r = replay(trace, scenario);
    return r.reproduced
      ? {
        file,
        ok: true,
        status: "ok",
        result: `reproduced ${r.outcome.verdict} (${r.outcome.check})`,
      }
      : { file, ok: false, status: "mismatch", result: `NOT reproduced: ${r.message}` };
  } catch (e) {
    if (e instanceof UsageError || e instanceof ReplayDivergence || e instanceof RangeError) {
      return { file, ok: false, status: "mismatch", result: `NOT reproduced: ${oneLine(e)}` };
    }
    throw e;
  }
}

/** Runs the regression suite with `args`; returns the exit code. */
export async function regress(args: string[], io: Io): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        traces: { type: "string" },
        scenario: { type: "string", multiple: true },
        save: { type: "string", multiple: true },
        "check-determinism": { type: "boolean" },
        seed: { type: "string" },
        out: { type: "string" },
        workers: { type: "string" },
        "no-shrink": { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    io.err(`error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  if (v.help) {
    io.out(HELP);
    return 0;
  }
  const dir = v.traces ?? fromRoot(REGRESS_DIR);
  try {
    if (v.save !== undefined) {
      for (const file of v.save) io.out(`saved ${file} as ${saveTrace(file, dir)}`);
      return 0;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const simArgs: string[] = [];
  if (v.seed !== undefined) simArgs.push("--seed", v.seed);
  if (v.out !== undefined) simArgs.push("--out", v.out);
  if (v.workers !== undefined) simArgs.push("--workers", v.workers);
  if (v["no-shrink"]) simArgs.push("--no-shrink");
  if (v["check-determinism"]) simArgs.push("--check-determinism");
  if (v.json) simArgs.push("--json");
  const code = await main(simArgs, io);
  if (code === 2) return 2;
  let stored: StoredResult[];
  try {
    stored = await replayStored(dir, v.scenario ?? []);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const bad = stored.filter((s) => !s.ok).length;
  const malformed = stored.filter((s) => s.status === "malformed").length;
  if (v.json) {
    for (const s of stored) {
      io.out(JSON.stringify({ stored: s.file, ok: s.ok, status: s.status, result: s.result }));
    }
  } else {
    io.out("");
    io.out(`stored failing traces in ${dir}: ${stored.length}`);
    for (const s of stored) io.out(`  ${STATUS_TAG[s.status]}  ${s.file}: ${s.result}`);
    io.out(
      bad === 0
        ? (stored.length === 1
          ? "1 stored trace fails exactly as recorded"
          : `all ${stored.length} stored traces fail exactly as recorded`)
        : `${bad} of ${stored.length} stored ${plural(stored.length, "trace")} NOT as recorded` +
          (malformed === 0 ? "" : ` (${malformed} malformed)`),
    );
  }
  // A file that is not a trace is bad input; it does not hide the other results.
  if (malformed > 0) return 2;
  return code !== 0 || bad > 0 ? 1 : 0;
}

const STATUS_TAG = { ok: "ok       ", mismatch: "MISMATCH ", malformed: "MALFORMED" } as const;

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
