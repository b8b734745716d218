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
import { REGRESS_DIR, saveTrace } from "./save.ts";

const HELP = `regress: the regression suite

Usage:
  deno task regress [options]           every variant against its verdict, then every stored trace
  deno task regress --save FILE         add a failing trace to the regression folder

Options:
  --traces DIR          the regression folder (default ${REGRESS_DIR})
  --save FILE           copy a failing trace into the folder (repeatable), then stop
  --check-determinism   also run each schedule twice and compare the event logs
  --seed N, --out DIR, --workers N, --no-shrink, --json   as for deno task sim
  -h, --help            this text

Exit codes: 0 all as expected, 1 a verdict or a stored trace not as recorded, 2 bad usage.`;

/** One stored trace's result. */
export interface StoredResult {
  readonly file: string;
  readonly ok: boolean;
  /** "reproduced", or what went wrong. */
  readonly result: string;
}

/** Replays every trace in `dir`; each must fail exactly as recorded. */
export async function replayStored(dir: string): Promise<StoredResult[]> {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".json"))
      .map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw new UsageError(`cannot read ${dir}: ${(e as Error).message}`);
  }
  const out: StoredResult[] = [];
  for (const name of names) out.push(await replayOne(`${dir}/${name}`));
  return out;
}

async function replayOne(file: string): Promise<StoredResult> {
  try {
    const { trace, scenario } = await loadTrace(file);
    const r = replay(trace, scenario);
    if (trace.outcome.verdict === "pass") {
      return { file, ok: false, result: "a passing trace: the folder keeps failures" };
    }
    return r.reproduced
      ? { file, ok: true, result: `reproduced ${r.outcome.verdict} (${r.outcome.check})` }
      : { file, ok: false, result: `NOT reproduced: ${r.message}` };
  } catch (e) {
    if (e instanceof UsageError || e instanceof ReplayDivergence) {
      return { file, ok: false, result: `NOT reproduced: ${e.message}` };
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
  const dir = v.traces ?? REGRESS_DIR;
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
    stored = await replayStored(dir);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const bad = stored.filter((s) => !s.ok).length;
  if (v.json) {
    for (const s of stored) io.out(JSON.stringify({ stored: s.file, ok: s.ok, result: s.result }));
  } else {
    io.out("");
    io.out(`stored failing traces in ${dir}: ${stored.length}`);
    for (const s of stored) io.out(`  ${s.ok ? "ok      " : "MISMATCH"}  ${s.file}: ${s.result}`);
    io.out(
      bad === 0
        ? `all ${stored.length} stored traces fail exactly as recorded`
        : `${bad} of ${stored.length} stored traces NOT as recorded`,
    );
  }
  return code !== 0 || bad > 0 ? 1 : 0;
}
