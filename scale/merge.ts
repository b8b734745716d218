/**
 * `deno task merge FILE...`: combines the `runs.jsonl` files of the shards
 * of a sweep into one verdict per variant, as one machine would have given.
 *
 * @module
 */
import { parseArgs } from "../deps.ts";
import { readJsonl } from "../reports/jsonl.ts";
import { enterInitCwd } from "./init_cwd.ts";
import { allVerdicts, formatMs, type Row, table } from "../reports/text.ts";

/** A failing run as a shard logged it. */
export interface MergedFailure {
  /** The run's seed. */
  readonly seed: number;
  /** Its verdict. */
  readonly verdict: string;
  /** The check that failed. */
  readonly check: string;
  /** What happened. */
  readonly message: string;
  /** The trace file written for it, or null. */
  readonly trace: string | null;
}

/** One variant over every shard. */
export interface MergedTarget {
  /** The scenario's name. */
  readonly scenario: string;
  /** The variant's name. */
  readonly variant: string;
  /** The strategy the shards ran. */
  readonly strategy: string;
  /** The expected verdict. */
  readonly expected: string;
  /** The check expected to fail, or null. */
  readonly expectedCheck: string | null;
  /** Runs over all shards. */
  readonly runs: number;
  /** Steps over all shards. */
  readonly steps: number;
  /** Time the shards spent on it, added up. */
  readonly ms: number;
  /** Every failing run, by seed. */
  readonly failures: readonly MergedFailure[];
  /** The verdict of the lowest failing seed, or pass: what one machine would report. */
  readonly got: string;
  /** Whether the merged result matches the expectation. */
  readonly ok: boolean;
  /** DFS and DPOR: every shard explored all of its part of the tree. */
  readonly exhausted: boolean;
}

/** What merging found. */
export interface Merged {
  /** Every variant, in the order first seen. */
  readonly targets: readonly MergedTarget[];
  /** The shard count the inputs name, or null when they were not sharded. */
  readonly shards: number | null;
  /** Shard indices none of the inputs covers. */
  readonly missing: readonly number[];
  /** Seeds that appeared more than once (the same shard given twice?). */
  readonly duplicates: number;
  /** The longest time a shard took. */
  readonly elapsedMs: number;
}

interface Acc {
  scenario: string;
  variant: string;
  strategy: string;
  expected: string;
  expectedCheck: string | null;
  runLines: number;
  stepsFromRuns: number;
  runsFromTargets: number;
  stepsFromTargets: number;
  ms: number;
  msFromRuns: number;
  hasTargetLines: boolean;
  exhausted: boolean;
  failures: Map<number, MergedFailure>;
  seeds: Set<number>;
}

/** Strategies that walk one tree of schedules: shards do not split them. */
const TREES = new Set(["dfs", "dpor"]);

const str = (v: unknown, d = ""): string => (typeof v === "string" ? v : d);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/**
 * Merges the lines of several `runs.jsonl` files.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const base = { scenario: "s", variant: "v", strategy: "random", expected: "pass" };
 * const m = mergeRuns([
 *   [{ ...base, seed: 1, verdict: "pass", steps: 4 }, { summary: true, shard: "0/2" }],
 *   [{ ...base, seed: 2, verdict: "bug", check: "c", steps: 3 }, { summary: true, shard: "1/2" }],
 * ]);
 * assertEquals([m.targets[0].runs, m.targets[0].got, m.targets[0].ok, m.missing], [2, "bug", false, []]);
 * ```
 */
export function mergeRuns(files: readonly Record<string, unknown>[][]): Merged {
  const byKey = new Map<string, Acc>();
  const shardCounts = new Set<number>();
  const shardsSeen = new Set<number>();
  let duplicates = 0;
  let elapsedMs = 0;
  const acc = (line: Record<string, unknown>): Acc => {
    const key = `${line.scenario}\u0000${line.variant}\u0000${line.strategy}`;
    let a = byKey.get(key);
    if (a === undefined) {
      a = {
        scenario: str(line.scenario),
        variant: str(line.variant),
        strategy: str(line.strategy),
        expected: str(line.expected, "pass"),
        expectedCheck: typeof line.expectedCheck === "string" ? line.expectedCheck : null,
        runLines: 0,
        stepsFromRuns: 0,
        runsFromTargets: 0,
        stepsFromTargets: 0,
        ms: 0,
        msFromRuns: 0,
        hasTargetLines: false,
        exhausted: true,
        failures: new Map(),
        seeds: new Set(),
      };
      byKey.set(key, a);
    }
    return a;
  };
  for (const lines of files) {
    for (const line of lines) {
      if (typeof line.shard === "string") {
        const [i, n] = line.shard.split("/").map(Number);
        shardCounts.add(n);
        shardsSeen.add(i);
      }
      if (line.summary === true) {
        elapsedMs += num(line.elapsedMs);
      } else if (line.target === true) {
        const a = acc(line);
        a.hasTargetLines = true;
        if (line.exhausted !== true) a.exhausted = false;
        if (TREES.has(a.strategy) && line.split === true) {
          // Each shard explored its own subtrees of the tree.
          a.runsFromTargets += num(line.runs);
          a.stepsFromTargets += num(line.steps);
        } else if (TREES.has(a.strategy)) {
          // Before shards split trees, every shard walked the same tree.
          a.runsFromTargets = Math.max(a.runsFromTargets, num(line.runs));
          a.stepsFromTargets = Math.max(a.stepsFromTargets, num(line.steps));
        } else {
          a.runsFromTargets += num(line.runs);
          a.stepsFromTargets += num(line.steps);
        }
        a.ms += num(line.elapsedMs);
      } else if (typeof line.scenario === "string" && typeof line.verdict === "string") {
        const a = acc(line);
        a.msFromRuns += num(line.elapsedMs);
        const seed = num(line.seed);
        if (a.seeds.has(seed)) {
          if (!TREES.has(a.strategy)) {
            duplicates++;
            continue;
          }
          // Every shard of a tree writes a line with the sweep's seed; a split
          // tree's failure may be found by any of them.
          if (line.verdict === "pass" || a.failures.has(seed)) continue;
        } else {
          a.seeds.add(seed);
          a.runLines++;
          a.stepsFromRuns += num(line.steps);
        }
        if (line.verdict !== "pass") {
          a.failures.set(seed, {
            seed,
            verdict: line.verdict,
            check: str(line.check),
            message: str(line.message),
            trace: typeof line.trace === "string" ? line.trace : null,
          });
        }
      }
    }
  }
  if (shardCounts.size > 1) {
    throw new RangeError(
      `Cannot merge: the inputs come from different shard counts (${[...shardCounts].join(", ")})`,
    );
  }
  const shards = shardCounts.size === 1 ? [...shardCounts][0] : null;
  const missing: number[] = [];
  if (shards !== null) { for (let i = 0; i < shards; i++) if (!shardsSeen.has(i)) missing.push(i); }
  const targets = [...byKey.values()].map((a): MergedTarget => {
    const failures = [...a.failures.values()].sort((x, y) => x.seed - y.seed);
    const first = failures[0];
    const got = first?.verdict ?? "pass";
    const ok = first === undefined ? a.expected === "pass" : first.verdict === a.expected &&
      (a.expectedCheck === null || a.expectedCheck === first.check);
    return {
      scenario: a.scenario,
      variant: a.variant,
      strategy: a.strategy,
      expected: a.expected,
      expectedCheck: a.expectedCheck,
      runs: a.hasTargetLines ? a.runsFromTargets : a.runLines,
      steps: a.hasTargetLines ? a.stepsFromTargets : a.stepsFromRuns,
      ms: a.hasTargetLines ? a.ms : a.msFromRuns,
      failures,
      got,
      ok,
      exhausted: a.hasTargetLines && a.exhausted,
    };
  });
  return { targets, shards, missing, duplicates, elapsedMs };
}

/** The number of runs i < `runs` with `i % of === index`: a shard's share of a sweep. */
export function shardShare(runs: number, index: number, of: number): number {
  return index < runs ? Math.floor((runs - index - 1) / of) + 1 : 0;
}

/**
 * What makes a shard's file unfit to merge: no summary line (the shard did
 * not finish), an interrupted run, or a variant that ran fewer runs than its
 * shard was asked for. Returns one line per problem, naming the file.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const t = { target: true, scenario: "s", variant: "v", strategy: "random", runs: 2, runsPlanned: 6, failures: 0 };
 * assertEquals(shardProblems([[{ ...t, shard: "0/3" }, { summary: true, shard: "0/3" }]], ["a"]), []);
 * assertEquals(shardProblems([[{ ...t, runs: 1 }, { summary: true }]], ["b"]), [
 *   "b: s/v ran 1 of the 6 runs it was asked for (interrupted?)",
 * ]);
 * assertEquals(shardProblems([[t]], ["c"]), ["c: no summary line: the sweep did not finish (interrupted?)"]);
 * ```
 */
export function shardProblems(
  files: readonly Record<string, unknown>[][],
  names: readonly string[],
): string[] {
  const out: string[] = [];
  files.forEach((lines, k) => {
    const name = names[k];
    if (lines.some((l) => l.interrupted === true)) {
      out.push(`${name}: the sweep was interrupted before it finished`);
      return;
    }
    const summary = lines.find((l) => l.summary === true);
    if (summary === undefined) {
      out.push(`${name}: no summary line: the sweep did not finish (interrupted?)`);
      return;
    }
    if (summary.interrupted === true) {
      out.push(`${name}: the sweep was interrupted before it finished`);
      return;
    }
    const shard = typeof summary.shard === "string" ? summary.shard.split("/").map(Number) : [0, 1];
    for (const t of lines) {
      if (t.target !== true || typeof t.runsPlanned !== "number") continue;
      // DFS and DPOR may end early when the space is exhausted; a sweep without
      // --keep-going ends at its first failure.
      if (TREES.has(str(t.strategy))) continue;
      if (num(t.failures) > 0 && t.keepGoing !== true) continue;
      const share = shardShare(t.runsPlanned, shard[0], shard[1]);
      if (num(t.runs) < share) {
        out.push(
          `${name}: ${str(t.scenario)}/${str(t.variant)} ran ${num(t.runs)} of the ${share} ` +
            "runs it was asked for (interrupted?)",
        );
      }
    }
  });
  return out;
}

/**
 * The files to merge: each argument is a `runs.jsonl`, or a folder whose
 * `runs.jsonl` and whose subfolders' `runs.jsonl` (one per shard) are taken.
 */
export async function inputFiles(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(a);
    } catch (e) {
      throw new RangeError(`cannot read ${a}: ${(e as Error).message}`);
    }
    if (!info.isDirectory) {
      out.push(a);
      continue;
    }
    const found: string[] = [];
    const dir = a.replace(/[\\/]+$/, "");
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name === "runs.jsonl") found.push(`${dir}/runs.jsonl`);
      if (e.isDirectory) {
        try {
          if ((await Deno.stat(`${dir}/${e.name}/runs.jsonl`)).isFile) {
            found.push(`${dir}/${e.name}/runs.jsonl`);
          }
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        }
      }
    }
    if (found.length === 0) {
      throw new RangeError(`no runs.jsonl in ${a} or in its subfolders`);
    }
    out.push(...found.sort());
  }
  return out;
}

const HELP = `merge: combine the runs.jsonl files of a sharded sweep

Usage:
  deno task merge [--json] [--out FILE] FILE|DIR...

Each FILE is the runs.jsonl that one shard wrote (deno task sim --shard I/N --out DIR);
a DIR stands for its runs.jsonl and those of its subfolders (one per shard).
A shard without its summary line, interrupted, or with fewer runs than it was
asked for is refused (exit 2), naming what is missing.
Prints one verdict per variant, judged on the lowest failing seed over all shards,
exactly as one machine running the whole sweep would.

Options:
  --out FILE   also write the merged failing runs and totals as JSON lines
  --json       print JSON lines instead of a table
  -h, --help   this text

Exit codes: 0 every verdict as expected, 1 one is not, 2 bad input (including a missing shard).`;

/** Where the merge command writes: standard output and standard error, injected for tests. */
export interface Io {
  /** Writes a line of results. */
  out(line: string): void;
  /** Writes a line of errors. */
  err(line: string): void;
}

/** Runs the merge command; returns the exit code. */
export async function mergeMain(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    io.err(`error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  const { values: v, positionals: args0 } = parsed;
  if (v.help) {
    io.out(HELP);
    return 0;
  }
  if (args0.length === 0) {
    io.err("error: no input files: give the runs.jsonl of each shard (see --help)");
    return 2;
  }
  let merged: Merged;
  let files: string[];
  try {
    files = await inputFiles(args0);
    const inputs = [];
    for (const f of files) inputs.push(readJsonl(await readText(f), f));
    const problems = shardProblems(inputs, files);
    if (problems.length > 0) {
      for (const p of problems) io.err(`error: ${p}`);
      io.err(`error: cannot merge: ${problems.length} of ${files.length} inputs incomplete`);
      return 2;
    }
    merged = mergeRuns(inputs);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError || e instanceof RangeError) {
      io.err(`error: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
  if (merged.missing.length > 0) {
    const list = merged.missing.map((i) => `${i}/${merged.shards}`).join(", ");
    io.err(`error: missing shards ${list}: their runs are not in the inputs`);
    return 2;
  }
  const bad = merged.targets.filter((t) => !t.ok).length;
  const code = bad === 0 ? 0 : 1;
  const runs = merged.targets.reduce((n, t) => n + t.runs, 0);
  const summary = {
    summary: true,
    merged: files.length,
    shards: merged.shards,
    targets: merged.targets.length,
    asExpected: merged.targets.length - bad,
    mismatched: bad,
    runs,
    duplicates: merged.duplicates,
    exitCode: code,
  };
  const lines = [
    ...merged.targets.flatMap((t) => [
      ...t.failures.map((f) => ({ scenario: t.scenario, variant: t.variant, ...f })),
      { target: true, ...t, failures: t.failures.length },
    ]),
    summary,
  ];
  if (v.out !== undefined) {
    try {
      await Deno.writeTextFile(v.out, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    } catch (e) {
      io.err(`error: cannot write ${v.out}: ${(e as Error).message}`);
      return 2;
    }
  }
  if (v.json) {
    for (const l of lines) io.out(JSON.stringify(l));
    return code;
  }
  const rows: Row[] = merged.targets.map((t) => ({
    scenario: t.scenario,
    variant: t.variant,
    expected: t.expected,
    got: t.got,
    runs: t.runs,
    steps: t.steps,
    ms: t.ms,
    ok: t.ok,
  }));
  const shardText = merged.shards === null ? "" : ` from ${merged.shards} shards`;
  io.out(`merged ${files.length} files${shardText}`);
  io.out("");
  io.out(table(rows));
  for (const t of merged.targets) {
    if (t.failures.length === 0) continue;
    const shown = t.failures.slice(0, 10).map((f) => f.seed).join(", ");
    const more = t.failures.length > 10 ? `, ... (${t.failures.length} in all)` : "";
    io.out(`${t.scenario}/${t.variant}: failing seeds ${shown}${more}`);
    const first = t.failures[0];
    io.out(`  lowest: seed ${first.seed}, ${first.verdict} (${first.check}): ${first.message}`);
    if (first.trace !== null) io.out(`  replay: deno task sim --replay ${first.trace}`);
  }
  if (merged.duplicates > 0) {
    io.out(`warning: ${merged.duplicates} runs appeared twice (the same shard given twice?)`);
  }
  io.out("");
  io.out(
    bad === 0
      ? `${allVerdicts(rows.length)} as expected over ${runs} runs (${
        formatMs(merged.elapsedMs)
      } of shard time)`
      : `${bad} of ${rows.length} verdicts NOT as expected`,
  );
  return code;
}

async function readText(file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (e) {
    throw new RangeError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

if (import.meta.main) {
  const cwdError = enterInitCwd();
  if (cwdError !== null) console.error(cwdError);
  Deno.exit(
    cwdError !== null ? 2 : await mergeMain(Deno.args, { out: console.log, err: console.error }),
  );
}
