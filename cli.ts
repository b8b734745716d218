/**
 * The `sim` command: run scenarios, sweep seeds, replay traces.
 *
 * `deno task sim --help` lists the flags.
 *
 * @module
 */
import { parseArgs } from "./deps.ts";
import { Progress } from "./reports/progress.ts";
import { StepLog } from "./reports/steps.ts";
import { formatMs, type Row, table } from "./reports/text.ts";
import { catalog, findScenario } from "./scenarios/mod.ts";
import type { ExplorationStats } from "./sim/exhaustive.ts";
import {
  type Failure,
  isExhaustive,
  judge,
  makeTarget,
  makeTrace,
  planFor,
  replay,
  type Target,
  variantOf,
} from "./sim/explore.ts";
import { describeOutcome, type Outcome, ReplayDivergence } from "./sim/outcome.ts";
import { seedToInt } from "./sim/rng.ts";
import {
  type AnyScenario,
  checkScenario,
  coerceParam,
  type Expectation,
  STEPS_MAX_DEFAULT,
  UsageError,
} from "./sim/scenario.ts";
import type { Strategy } from "./sim/strategy.ts";
import { parseTrace, serializeTrace } from "./sim/trace.ts";

/** Where the command writes, and how it reads wall-clock time. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Writes to stderr without a newline (progress lines). */
  errRaw(text: string): void;
  readonly isTerminal: boolean;
  now(): number;
}

/** The real terminal. */
export function denoIo(): Io {
  const enc = new TextEncoder();
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    errRaw: (text) => Deno.stderr.writeSync(enc.encode(text)),
    isTerminal: Deno.stderr.isTerminal(),
    now: () => performance.now(),
  };
}

const HELP = `sim: a deterministic simulation testbed for concurrent runtimes

Usage:
  deno task sim [options]               run every scenario and variant (the main job)
  deno task sim --scenario NAME [...]   run one scenario (or a scenario file by path)
  deno task sim --replay FILE           replay a trace exactly
  deno task sim --list                  list scenarios, variants and parameters

Options:
  --seed N|TEXT       first seed (default 1); run i of a sweep uses seed + i
  --scenario NAME     a catalog scenario, or a path to a scenario file
  --variant NAME      one variant (default: every variant of the scenario)
  --param KEY=VALUE   a scenario parameter; repeatable
  --cores N           simulated cores (0: one per fiber; default: the scenario's)
  --strategy S        random | pct | dfs | dpor (default: the variant's budget)
  --depth D           PCT bug depth (default 3)
  --pct-steps K       PCT's estimate of steps per run (default: a sequential probe run)
  --preemptions K     DFS: at most K preemptions per schedule
  --iterative         DFS: K = 0, 1, 2, ... until the budget or the space runs out
  --runs N            runs in the sweep, or schedules for dfs/dpor (default: the budget)
  --max-steps N       step limit of one run (default: the scenario's, else 10000)
  --keep-going        go on after a failure and collect every failing seed
  --out DIR           where failing traces go (default sim-out)
  --replay FILE       replay a trace file; exit 0 when its outcome comes back exactly
  --json              one JSON line per run, then a summary line
  --list              list the catalog
  -h, --help          this text

Exit codes: 0 every verdict as expected (or the replay reproduced), 1 a verdict
not as expected, 2 bad usage or bad input.`;

interface CliOptions {
  seed: number;
  scenario: string | null;
  variant: string | null;
  params: Record<string, unknown>;
  cores: number | undefined;
  strategy: string | null;
  depth: number | undefined;
  pctSteps: number | undefined;
  preemptions: number | undefined;
  iterative: boolean | undefined;
  runs: number | undefined;
  stepsMax: number | undefined;
  keepGoing: boolean;
  out: string;
  replay: string | null;
  json: boolean;
  list: boolean;
  help: boolean;
}

function intFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`bad --${name} "${value}": need an integer >= ${min}`);
  }
  return Number(value);
}

function parseCli(args: string[]): CliOptions {
  let v;
  try {
    v = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        seed: { type: "string" },
        scenario: { type: "string" },
        variant: { type: "string" },
        param: { type: "string", multiple: true },
        cores: { type: "string" },
        strategy: { type: "string" },
        depth: { type: "string" },
        "pct-steps": { type: "string" },
        preemptions: { type: "string" },
        iterative: { type: "boolean" },
        runs: { type: "string" },
        "max-steps": { type: "string" },
        "keep-going": { type: "boolean" },
        out: { type: "string" },
        replay: { type: "string" },
        json: { type: "boolean" },
        list: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (see --help)`);
  }
  const params: Record<string, unknown> = {};
  for (const p of v.param ?? []) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new UsageError(`bad --param "${p}": write KEY=VALUE`);
    params[p.slice(0, eq)] = coerceParam(p.slice(eq + 1));
  }
  let seed = 1;
  if (v.seed !== undefined) {
    if (v.seed === "") throw new UsageError("bad --seed: empty");
    seed = seedToInt(/^-/.test(v.seed) ? badSeed(v.seed) : v.seed);
  }
  if (v.variant !== undefined && v.scenario === undefined) {
    throw new UsageError("--variant needs --scenario");
  }
  return {
    seed,
    scenario: v.scenario ?? null,
    variant: v.variant ?? null,
    params,
    cores: intFlag("cores", v.cores, 0),
    strategy: v.strategy ?? null,
    depth: intFlag("depth", v.depth, 1),
    pctSteps: intFlag("pct-steps", v["pct-steps"], 1),
    preemptions: intFlag("preemptions", v.preemptions, 0),
    iterative: v.iterative,
    runs: intFlag("runs", v.runs, 1),
    stepsMax: intFlag("max-steps", v["max-steps"], 1),
    keepGoing: v["keep-going"] ?? false,
    out: v.out ?? "sim-out",
    replay: v.replay ?? null,
    json: v.json ?? false,
    list: v.list ?? false,
    help: v.help ?? false,
  };
}

function badSeed(text: string): never {
  throw new UsageError(`bad --seed "${text}": a seed is a non-negative integer or a word`);
}

/** Finds a scenario by catalog name, or imports it from a file path. */
export async function loadScenario(ref: string): Promise<AnyScenario> {
  const known = findScenario(ref);
  if (known !== undefined) return known;
  if (!/[\/\\]|\.[jt]s$/.test(ref)) {
    const names = catalog.map((s) => s.name).join(", ");
    throw new UsageError(`unknown scenario "${ref}"; known: ${names} (or give a file path)`);
  }
  let mod: Record<string, unknown>;
  try {
    const url = new URL(ref, `file://${Deno.cwd()}/`).href;
    mod = await import(url);
  } catch (e) {
    throw new UsageError(`cannot load scenario file ${ref}: ${(e as Error).message}`);
  }
  const value = mod.default ?? mod.scenario;
  if (value === undefined) {
    throw new UsageError(`${ref} exports no scenario: export it as default or as "scenario"`);
  }
  return checkScenario(value, ref);
}

/** Runs the command with `args`; returns the exit code. */
export async function main(args: string[], io: Io = denoIo()): Promise<number> {
  try {
    const opts = parseCli(args);
    if (opts.help) {
      io.out(HELP);
      return 0;
    }
    if (opts.list) return list(opts, io);
    if (opts.replay !== null) return await runReplay(opts.replay, opts, io);
    return await runSweeps(opts, io);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ReplayDivergence) {
      io.err(`error: ${e.message.replace(/\s*\n\s*/g, " ")}`);
      return 2;
    }
    throw e;
  }
}

function list(opts: CliOptions, io: Io): number {
  for (const s of catalog) {
    if (opts.json) {
      io.out(JSON.stringify({
        scenario: s.name,
        description: s.description,
        variants: Object.fromEntries(
          Object.entries(s.variants).map(([n, v]) => [n, v.expect]),
        ),
        params: s.params.parse({}),
      }));
      continue;
    }
    io.out(`${s.name}: ${s.description}`);
    io.out(`  params: ${JSON.stringify(s.params.parse({}))}`);
    for (const [name, v] of Object.entries(s.variants)) {
      io.out(`  ${name.padEnd(20)} expect ${expectText(v.expect)}: ${v.description}`);
    }
  }
  return 0;
}

function expectText(e: Expectation): string {
  const b = e.budget;
  const bound = b.strategy === "dfs" && b.preemptions !== undefined
    ? `, ${b.preemptions} preemptions`
    : "";
  return `${e.verdict} (${b.strategy}, ${b.runs} runs${bound})`;
}

/** Every target the options name, in catalog order. */
async function targets(opts: CliOptions): Promise<Target[]> {
  const scenarios = opts.scenario === null ? catalog : [await loadScenario(opts.scenario)];
  const source = opts.scenario !== null && findScenario(opts.scenario) === undefined
    ? opts.scenario
    : null;
  const out: Target[] = [];
  for (const s of scenarios) {
    const variants = opts.variant === null ? Object.keys(s.variants) : [opts.variant];
    for (const variant of variants) {
      out.push(makeTarget(s, variant, {
        params: opts.params,
        cores: opts.cores,
        stepsMax: opts.stepsMax,
        source,
      }));
    }
  }
  return out;
}

async function runSweeps(opts: CliOptions, io: Io): Promise<number> {
  if (opts.scenario === null && Object.keys(opts.params).length > 0) {
    throw new UsageError("--param needs --scenario: parameters differ between scenarios");
  }
  const list = await targets(opts);
  const rows: Row[] = [];
  const start = io.now();
  let runsTotal = 0;
  for (const target of list) {
    const row = runTarget(target, opts, io);
    rows.push(row);
    runsTotal += row.runs;
  }
  const mismatched = rows.filter((r) => !r.ok).length;
  const code = mismatched === 0 ? 0 : 1;
  if (opts.json) {
    io.out(JSON.stringify({
      summary: true,
      targets: rows.length,
      asExpected: rows.length - mismatched,
      mismatched,
      runs: runsTotal,
      elapsedMs: round(io.now() - start),
      exitCode: code,
    }));
  } else {
    io.out("");
    io.out(table(rows));
    io.out("");
    io.out(
      mismatched === 0
        ? `all ${rows.length} verdicts as expected (${formatMs(io.now() - start)})`
        : `${mismatched} of ${rows.length} verdicts NOT as expected`,
    );
  }
  return code;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function runTarget(target: Target, opts: CliOptions, io: Io): Row {
  const { strategy, runs } = planFor(target, opts);
  const exhaustive = isExhaustive(strategy);
  const label = `${target.scenario.name}/${target.variant}`;
  const progress = new Progress(
    { isTerminal: io.isTerminal && !opts.json, write: io.errRaw, now: io.now },
    label,
    runs,
  );
  const start = io.now();
  let last = start;
  let done = 0;
  let failing = 0;
  const written = new Map<Failure, string>();
  const expect = variantOf(target).expect;
  const result = judge(target, {
    strategy,
    runs,
    seed: opts.seed,
    keepGoing: opts.keepGoing,
    onRun: (info) => {
      done++;
      let tracePath: string | null = null;
      if (info.failure !== null) {
        failing++;
        tracePath = writeTrace(target, strategy, info.failure, opts.out);
        written.set(info.failure, tracePath);
      }
      if (opts.json) {
        const now = io.now();
        io.out(JSON.stringify(runLine(target, strategy, expect, info.outcome, {
          seed: info.seed,
          elapsedMs: round(now - last),
          trace: tracePath,
        })));
        last = now;
      }
      if ((done & 255) === 0) progress.update(done, failing);
    },
    onSchedule: (stats) => {
      if ((stats.schedules & 63) === 0) progress.update(stats.schedules, failing, "schedules");
    },
  });
  progress.done();
  const ms = io.now() - start;
  if (exhaustive) {
    for (const f of result.failures) written.set(f, writeTrace(target, strategy, f, opts.out));
  }
  const stats = result.exploration;
  if (opts.json && stats !== null) {
    const first = result.failures[0];
    const line: Record<string, unknown> = {
      scenario: target.scenario.name,
      variant: target.variant,
      strategy: strategy.name,
      seed: opts.seed,
      expected: expect.verdict,
      verdict: result.outcome?.verdict ?? "pass",
      result: explorationResult(result.failures.length > 0, stats),
      exhausted: stats.exhausted,
      bound: stats.bound,
      schedules: stats.schedules,
      complete: stats.complete,
      pruned: stats.pruned,
      maxDepth: stats.maxDepth,
      steps: stats.steps,
      schedulesPerSec: ms > 0 ? Math.round((stats.schedules * 1000) / ms) : null,
      elapsedMs: round(ms),
    };
    if (first !== undefined) {
      line.check = first.outcome.check;
      line.message = first.outcome.message;
      line.trace = written.get(first);
    }
    io.out(JSON.stringify(line));
  }
  if (!opts.json) {
    if (stats !== null) io.out(explorationLine(label, strategy, stats, result.failures.length, ms));
    for (const f of result.failures.slice(0, 5)) {
      reportFailure(target, strategy, f, written.get(f) ?? "", result.ok, io);
    }
    if (result.failures.length > 5) {
      io.out(`  ... and ${result.failures.length - 5} more failing runs (traces in ${opts.out})`);
    }
  }
  return {
    scenario: target.scenario.name,
    variant: target.variant,
    expected: expect.verdict,
    got: result.outcome?.verdict ?? "pass",
    runs: result.runs,
    steps: result.steps,
    ms,
    ok: result.ok,
  };
}

function explorationResult(found: boolean, stats: ExplorationStats): string {
  if (found) return "bug-found";
  return stats.exhausted ? "exhausted" : "budget-spent";
}

function explorationLine(
  label: string,
  strategy: Strategy,
  stats: ExplorationStats,
  failures: number,
  ms: number,
): string {
  const rate = ms > 0 ? `, ${Math.round((stats.schedules * 1000) / ms)} schedules/s` : "";
  const verdict = failures > 0
    ? "bug found"
    : stats.exhausted
    ? `exhausted (bound: ${stats.bound === "none" ? "none, the whole space" : stats.bound})`
    : `budget spent, not exhausted${stats.bound === "none" ? "" : ` (bound: ${stats.bound})`}`;
  return `${label}: ${strategy.name} ran ${stats.schedules} schedules ` +
    `(${stats.complete} complete, ${stats.pruned} pruned), max depth ${stats.maxDepth}, ` +
    `${stats.steps} steps${rate}: ${verdict}`;
}

function runLine(
  target: Target,
  strategy: Strategy,
  expect: Expectation,
  outcome: Outcome,
  extra: { seed: number; elapsedMs: number; trace: string | null },
): Record<string, unknown> {
  const line: Record<string, unknown> = {
    scenario: target.scenario.name,
    variant: target.variant,
    strategy: strategy.name,
    seed: extra.seed,
    expected: expect.verdict,
    verdict: outcome.verdict,
    schedules: 1,
    steps: outcome.step,
    elapsedMs: extra.elapsedMs,
  };
  if (outcome.verdict !== "pass") {
    line.check = outcome.check;
    line.message = outcome.message;
    line.trace = extra.trace;
  }
  return line;
}

function traceFile(target: Target, strategy: Strategy, failure: Failure, dir: string): string {
  const which = failure.schedule === undefined
    ? `seed${failure.seed}`
    : `schedule${failure.schedule}`;
  const name = `${target.scenario.name}.${target.variant}.${strategy.name}.${which}.json`;
  return `${dir}/${name.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}

function writeTrace(target: Target, strategy: Strategy, failure: Failure, dir: string): string {
  const path = traceFile(target, strategy, failure, dir);
  try {
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeTextFileSync(path, serializeTrace(makeTrace(target, strategy, failure)));
  } catch (e) {
    throw new UsageError(`cannot write trace ${path}: ${(e as Error).message}`);
  }
  return path;
}

/** The command that re-runs one seed (or exploration) of a target exactly. */
export function rerunCommand(target: Target, strategy: Strategy, seed: number): string {
  const parts = [
    "deno task sim",
    `--scenario ${target.source ?? target.scenario.name}`,
    `--variant ${target.variant}`,
  ];
  const defaults = target.scenario.params.parse({}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(target.params)) {
    if (JSON.stringify(defaults[k]) !== JSON.stringify(v)) {
      parts.push(`--param ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
    }
  }
  const cores = target.scenario.cores?.(target.params) ?? 0;
  if (target.cores !== cores) parts.push(`--cores ${target.cores}`);
  parts.push(`--strategy ${strategy.name}`);
  const o = strategy.options();
  if (typeof o.depth === "number") parts.push(`--depth ${o.depth}`);
  if (typeof o.steps === "number") parts.push(`--pct-steps ${o.steps}`);
  if (o.iterative === true) parts.push("--iterative");
  else if (typeof o.preemptions === "number") parts.push(`--preemptions ${o.preemptions}`);
  if (target.stepsMax !== (target.scenario.stepsMax?.(target.params) ?? STEPS_MAX_DEFAULT)) {
    parts.push(`--max-steps ${target.stepsMax}`);
  }
  if (!isExhaustive(strategy)) parts.push(`--seed ${seed}`, "--runs 1");
  return parts.join(" ");
}

function reportFailure(
  target: Target,
  strategy: Strategy,
  f: Failure,
  path: string,
  expected: boolean,
  io: Io,
): void {
  const tag = expected ? " (as expected)" : "";
  const where = f.schedule === undefined ? `seed ${f.seed}` : `schedule ${f.schedule}`;
  io.out(`${target.scenario.name}/${target.variant}: ${describeOutcome(f.outcome)}${tag}`);
  const o = strategy.options();
  const shown = Object.entries(o).map(([k, v]) => `${k} ${v}`).join(", ");
  io.out(`  ${where}, strategy ${strategy.name}${shown === "" ? "" : ` (${shown})`}`);
  io.out(`  replay: deno task sim --replay ${path}`);
  io.out(`  rerun:  ${rerunCommand(target, strategy, f.seed)}`);
}

async function runReplay(file: string, opts: CliOptions, io: Io): Promise<number> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new UsageError(`cannot read trace ${file}: ${(e as Error).message}`);
  }
  const trace = parseTrace(text, file);
  const scenario = await loadScenario(trace.source ?? trace.scenario);
  const log = new StepLog();
  const result = replay(trace, scenario, (k) => k.observe(log));
  if (opts.json) {
    io.out(JSON.stringify({
      replay: file,
      scenario: trace.scenario,
      variant: trace.variant,
      reproduced: result.reproduced,
      verdict: result.outcome.verdict,
      check: result.outcome.check,
      message: result.outcome.message,
      step: result.outcome.step,
      state: result.snapshot,
    }));
  } else {
    io.out(`replaying ${file}: ${trace.scenario}/${trace.variant}, seed ${trace.seed}`);
    for (const line of log.format()) io.out(line);
    io.out(`final state: ${JSON.stringify(result.snapshot)}`);
    io.out(
      result.reproduced
        ? `reproduced: ${describeOutcome(result.outcome)}`
        : `NOT reproduced: ${result.message}`,
    );
  }
  return result.reproduced ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
