/**
 * The `sim` command: run scenarios, sweep seeds, replay traces.
 *
 * `deno task sim --help` lists the flags.
 *
 * @module
 */
import { PortfolioStrategy } from "./sim/portfolio.ts";
import { parseArgs } from "./deps.ts";
import { intFlag, seedFlag, workersFlag } from "./cli/flags.ts";
import { type NotedFailure, noteFailure } from "./cli/failures.ts";
import { replayAtCommand, replaySources } from "./cli/replay_at.ts";
import { Interrupted, type Interrupts, watchInterrupts } from "./cli/interrupt.ts";
import { writeTrace } from "./cli/output.ts";
import { saveTrace } from "./cli/save.ts";

export { writeTrace };
import { shrinkCommand } from "./cli/shrink_command.ts";
import { supervisionFlags, supervisorFor } from "./cli/supervision.ts";
import type { SupervisorOptions } from "./scale/supervisor.ts";
import { labelOf, Sweeper, SweepSink } from "./cli/sweeps.ts";
import { shrinkText } from "./reports/markdown.ts";
import { Progress } from "./reports/progress.ts";
import { StepLog } from "./reports/steps.ts";
import { allVerdicts, formatMs, type Row, table } from "./reports/text.ts";
import { catalog, findScenario } from "./scenarios/mod.ts";
import { loadScenario, loadTrace } from "./scenarios/load.ts";
import { enterInitCwd } from "./scale/init_cwd.ts";
import { parseShard, type Shard, shardText } from "./scale/shard.ts";
import type { ExplorationStats } from "./sim/exhaustive.ts";
import {
  type Failure,
  isExhaustive,
  type JudgeOptions,
  makeTarget,
  ORDERS,
  planFor,
  type PlanOptions,
  replay,
  swarmConfigOf,
  type Target,
  variantOf,
} from "./sim/explore.ts";
import { describeOutcome, type Outcome, ReplayDivergence } from "./sim/outcome.ts";
import { CORES_MAX, PCT_DEPTH_MAX, PCT_STEPS_MAX, RUNS_MAX, STEPS_MAX } from "./sim/limits.ts";
import { isMemoryModel, MEMORY_MODELS, OrderingError } from "./sim/ordering.ts";
import { coerceParam, type Expectation, STEPS_MAX_DEFAULT, UsageError } from "./sim/scenario.ts";
import type { Strategy } from "./sim/strategy.ts";

/** Where the command writes, and how it reads wall-clock time. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Writes to stderr without a newline (progress lines). */
  errRaw(text: string): void;
  readonly isTerminal: boolean;
  now(): number;
  /** Starts listening for Ctrl-C during sweeps (the real terminal only). */
  watchInterrupts?(): Promise<Interrupts>;
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
    watchInterrupts,
  };
}

const HELP = `sim: a deterministic simulation testbed for concurrent runtimes

Usage:
  deno task sim [options]               run every scenario and variant (the main job)
  deno task sim --scenario NAME [...]   run one scenario (or a scenario file by path)
  deno task sim --replay FILE           replay a trace exactly
  deno task sim --shrink FILE           shrink a failing trace; writes FILE's .shrunk.json and .html
  deno task sim --list                  list scenarios, variants and parameters

Options:
  --seed N|TEXT       first seed (default 1); run i of a sweep uses seed + i
  --scenario NAME     a catalog scenario, or a path to a scenario file
  --variant NAME      one variant (default: every variant of the scenario)
  --param KEY=VALUE   a scenario parameter; repeatable
  --cores N           simulated cores (0: one per fiber; default: the scenario's)
  --memory M          memory model: sc | tso | pso | ra (default: the variant's, else sc)
  --swarm             each run first draws a configuration (sizes, faults) from its
                      seed, for scenarios that declare one; printed with a failure
  --strategy S        random | pct | portfolio | dfs | dpor (default: the variant's budget)
  --depth D           PCT bug depth (default 3)
  --pct-steps K       PCT's estimate of steps per run (default: a sequential probe run)
  --preemptions K     DFS, DPOR: at most K preemptions per schedule (with dpor:
                      bounded partial-order reduction over source-DPOR)
  --iterative         DFS, DPOR: K = 0, 1, 2, ... until the budget or the space runs out
                      (from the K of --preemptions or --delays when given)
  --delays K          DFS, DPOR: at most K delays per schedule (a delay skips the fiber
                      a round-robin scheduler would run next; 0 is one schedule);
                      not with --preemptions
  --order O           DFS, DPOR: default | random (children in an order drawn
                      from --seed: the same tree, shallow bugs sooner)
  --dpor V            DPOR: optimal (default: wakeup trees, one schedule per class)
                      | source (source-DPOR with sleep sets, for comparison)
  --runs N            runs in the sweep, or schedules for dfs/dpor (default: the budget)
  --max-steps N       step limit of one run (default: the scenario's, else 10000)
  --keep-going        go on after a failure and collect every failing seed
  --traces-max N      write at most N failing traces per variant (default 20);
                      the rest are counted
  --out DIR           where failing traces, shrunk traces, HTML reports, summary.md
                      and runs.jsonl (every run) go (default sim-out)
  --no-shrink         do not shrink failures (by default each reported one is)
  --step-timeout S    a step running longer than S seconds ends its run with
                      verdict hang (default 10; 0: no supervision, runs on
                      this thread)
  --heap-max MB       a run that grows the process by more than MB ends as a
                      crash (out-of-memory) (default 2048, at most 3/4 of V8's limit)
  --workers N         run seeds on N Deno Workers (random and pct); same results as 1
  --shard I/N         run only runs i with i % N == I (0 <= I < N), for clusters;
                      combine the shards' runs.jsonl with deno task merge
  --save              copy each shrunk failing trace into the regression folder
  --check-determinism run each schedule twice and compare the event logs
  --jsonl all|failures  which runs go into runs.jsonl (default all); a line per
                      variant and a summary line go in either way
  --replay FILE       replay a trace file; exit 0 when its outcome comes back exactly.
                      A trace only names its scenario: a catalog one is found by name;
                      for one recorded against a file, name the file with --scenario FILE
  --at N              with --replay: print steps 1..N with their source lines and
                      the state after step N (fibers, heap, locks, cells)
  --json              one JSON line per run, a line per variant, then a summary line
  --json=summary      only the per-variant lines and the summary line
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
  memory: string | undefined;
  swarm: boolean;
  strategy: string | null;
  depth: number | undefined;
  pctSteps: number | undefined;
  preemptions: number | undefined;
  iterative: boolean | undefined;
  delays: number | undefined;
  order: string | undefined;
  dpor: string | undefined;
  runs: number | undefined;
  stepsMax: number | undefined;
  keepGoing: boolean;
  tracesMax: number;
  out: string;
  shrink: string | null;
  noShrink: boolean;
  workers: number;
  /** How runs are supervised; null: on this thread. */
  supervision: SupervisorOptions | null;
  shard: Shard | null;
  save: boolean;
  checkDeterminism: boolean;
  jsonl: "all" | "failures";
  replay: string | null;
  at: number | undefined;
  json: boolean;
  /** With --json: a line per run too (--json=summary leaves them out). */
  jsonRuns: boolean;
  list: boolean;
  help: boolean;
}

/** `--json=MODE` becomes `--json --json-mode MODE`: parseArgs takes no value on a boolean. */
function jsonModeArgs(args: string[]): string[] {
  return args.flatMap((a) => a.startsWith("--json=") ? ["--json", "--json-mode", a.slice(7)] : [a]);
}

function parseCli(rawArgs: string[]): CliOptions {
  const args = jsonModeArgs(rawArgs);
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
        memory: { type: "string" },
        swarm: { type: "boolean" },
        strategy: { type: "string" },
        depth: { type: "string" },
        "pct-steps": { type: "string" },
        preemptions: { type: "string" },
        iterative: { type: "boolean" },
        delays: { type: "string" },
        order: { type: "string" },
        dpor: { type: "string" },
        runs: { type: "string" },
        "max-steps": { type: "string" },
        "keep-going": { type: "boolean" },
        "traces-max": { type: "string" },
        out: { type: "string" },
        shrink: { type: "string" },
        "no-shrink": { type: "boolean" },
        workers: { type: "string" },
        "step-timeout": { type: "string" },
        "heap-max": { type: "string" },
        shard: { type: "string" },
        save: { type: "boolean" },
        "check-determinism": { type: "boolean" },
        jsonl: { type: "string" },
        replay: { type: "string" },
        at: { type: "string" },
        json: { type: "boolean" },
        "json-mode": { type: "string" },
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
  const seed = v.seed === undefined ? 1 : seedFlag(v.seed);
  if (v.variant !== undefined && v.scenario === undefined) {
    throw new UsageError("--variant needs --scenario");
  }
  if (v.at !== undefined && v.replay === undefined) throw new UsageError("--at needs --replay");
  if (v.swarm && (v.cores !== undefined || v["max-steps"] !== undefined)) {
    throw new UsageError(
      "--swarm draws each run's configuration: cores and the step limit follow it, " +
        "so --cores and --max-steps do not go with it",
    );
  }
  if (v.swarm && (v.replay !== undefined || v.shrink !== undefined)) {
    throw new UsageError("--swarm goes with a sweep: a trace records whether its run swarmed");
  }
  return {
    seed,
    scenario: v.scenario ?? null,
    variant: v.variant ?? null,
    params,
    cores: intFlag("cores", v.cores, 0, CORES_MAX),
    memory: memoryFlag(v.memory),
    swarm: v.swarm ?? false,
    strategy: v.strategy ?? null,
    depth: intFlag("depth", v.depth, 1, PCT_DEPTH_MAX),
    pctSteps: intFlag("pct-steps", v["pct-steps"], 1, PCT_STEPS_MAX),
    preemptions: intFlag("preemptions", v.preemptions, 0, PCT_STEPS_MAX),
    iterative: v.iterative,
    delays: intFlag("delays", v.delays, 0, PCT_STEPS_MAX),
    order: orderFlag(v.order),
    dpor: v.dpor,
    runs: intFlag("runs", v.runs, 1, RUNS_MAX),
    stepsMax: intFlag("max-steps", v["max-steps"], 1, STEPS_MAX),
    keepGoing: v["keep-going"] ?? false,
    tracesMax: intFlag("traces-max", v["traces-max"], 1, RUNS_MAX) ?? 20,
    out: v.out ?? "sim-out",
    shrink: v.shrink ?? null,
    noShrink: v["no-shrink"] ?? false,
    workers: workersFlag(v.workers) ?? 1,
    supervision: supervisionFlags(v["step-timeout"], v["heap-max"]),
    shard: v.shard === undefined ? null : parseShard(v.shard),
    save: v.save ?? false,
    checkDeterminism: v["check-determinism"] ?? false,
    jsonl: jsonlFlag(v.jsonl),
    replay: v.replay ?? null,
    at: intFlag("at", v.at, 0),
    json: v.json ?? false,
    jsonRuns: (v.json ?? false) && jsonMode(v["json-mode"]) === "runs",
    list: v.list ?? false,
    help: v.help ?? false,
  };
}

function jsonMode(value: string | undefined): "runs" | "summary" {
  if (value === undefined || value === "runs") return "runs";
  if (value === "summary") return "summary";
  throw new UsageError(`bad --json=${value}: write --json or --json=summary`);
}

function orderFlag(value: string | undefined): string | undefined {
  if (value === undefined || (ORDERS as readonly string[]).includes(value)) return value;
  throw new UsageError(`bad --order "${value}": ${ORDERS.join(" or ")}`);
}

function memoryFlag(value: string | undefined): string | undefined {
  if (value === undefined || isMemoryModel(value)) return value;
  throw new UsageError(`bad --memory "${value}": known: ${MEMORY_MODELS.join(", ")}`);
}

function jsonlFlag(value: string | undefined): "all" | "failures" {
  if (value === undefined || value === "all" || value === "failures") return value ?? "all";
  throw new UsageError(`bad --jsonl "${value}": all or failures`);
}

export { loadScenario };

/** Runs the command with `args`; returns the exit code. */
export async function main(args: string[], io: Io = denoIo()): Promise<number> {
  try {
    const opts = parseCli(args);
    if (opts.help) {
      io.out(HELP);
      return 0;
    }
    if (opts.list) return list(opts, io);
    if (opts.replay !== null && opts.at !== undefined) {
      return await replayAtCommand(opts.replay, opts.at, io, opts.scenario);
    }
    if (opts.replay !== null) return await runReplay(opts.replay, opts, io);
    if (opts.shrink !== null) return await shrinkCommand(opts.shrink, opts, io);
    return await runSweeps(opts, io);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ReplayDivergence || e instanceof OrderingError) {
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
        memory: opts.memory,
        // The main job swarms the scenarios that declare a configuration.
        swarm: opts.swarm && (opts.scenario !== null || s.swarm !== undefined),
      }));
    }
  }
  return out;
}

async function runSweeps(opts: CliOptions, io: Io): Promise<number> {
  if (opts.scenario === null && Object.keys(opts.params).length > 0) {
    throw new UsageError("--param needs --scenario: parameters differ between scenarios");
  }
  // Started first: its worker loads while this thread loads the targets.
  const sweeper = new Sweeper(opts.workers, opts.supervision);
  let list: Target[];
  try {
    // A file's top-level code runs first where a step timeout bounds it.
    if (opts.scenario !== null && findScenario(opts.scenario) === undefined) {
      await sweeper.load(opts.scenario);
    }
    list = await targets(opts);
  } catch (e) {
    sweeper.close();
    throw e;
  }
  const rows: Row[] = [];
  const start = io.now();
  let runsTotal = 0;
  const sink = new SweepSink(opts.out);
  let interrupts: Interrupts | null = null;
  let summary;
  try {
    // No verdict of an earlier run survives in the out folder, even if this one is killed.
    sink.begin();
    interrupts = await io.watchInterrupts?.() ?? null;
    for (const target of list) {
      // After a run ran out of memory the command must end (see Sweeper.halted).
      if (sweeper.halted !== null) break;
      const row = await runTarget(target, opts, io, { sink, sweeper, interrupts });
      rows.push(row);
      runsTotal += row.runs;
    }
    const notRun = list.length - rows.length;
    const mismatched = rows.filter((r) => !r.ok).length + notRun;
    summary = {
      summary: true,
      targets: rows.length,
      asExpected: rows.length - mismatched,
      mismatched,
      ...(notRun > 0 ? { notRun, halted: sweeper.halted } : {}),
      nondeterministic: sink.nondeterministic,
      runs: runsTotal,
      ...(opts.shard === null ? {} : { shard: shardText(opts.shard) }),
      elapsedMs: round(io.now() - start),
      exitCode: mismatched === 0 && sink.nondeterministic === 0 ? 0 : 1,
    };
    sink.finish(rows, summary, io.now() - start);
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    const line = {
      interrupted: true,
      targets: list.length,
      finished: rows.length,
      runs: runsTotal,
      ...(opts.shard === null ? {} : { shard: shardText(opts.shard) }),
      elapsedMs: round(io.now() - start),
      exitCode: 130,
    };
    sink.interrupt(rows, line, io.now() - start);
    if (opts.json) io.out(JSON.stringify(line));
    else io.out(`interrupted after ${rows.length} of ${list.length} variants: no verdict`);
    return 130;
  } finally {
    sink.close();
    sweeper.close();
    interrupts?.close();
  }
  const { mismatched, nondeterministic, exitCode: code } = summary;
  if (opts.json) {
    io.out(JSON.stringify(summary));
  } else {
    io.out("");
    io.out(table(rows));
    io.out("");
    io.out(
      mismatched === 0
        ? `${allVerdicts(rows.length)} as expected (${formatMs(io.now() - start)})`
        : `${mismatched} of ${rows.length} verdicts NOT as expected`,
    );
    if (nondeterministic > 0) io.out(`${nondeterministic} scenario variants are NOT deterministic`);
    if (summary.notRun !== undefined) {
      io.out(`${summary.notRun} variants not run: ${summary.halted}`);
    }
    io.out(`summary: ${sink.summaryPath}`);
  }
  return code;
}

/** The options `planFor` reads, as plain data a worker can be sent. */
function planOptions(opts: CliOptions): PlanOptions {
  return {
    strategy: opts.strategy,
    runs: opts.runs,
    depth: opts.depth,
    pctSteps: opts.pctSteps,
    preemptions: opts.preemptions,
    iterative: opts.iterative,
    delays: opts.delays,
    order: opts.order,
    dpor: opts.dpor,
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

async function runTarget(
  target: Target,
  opts: CliOptions,
  io: Io,
  { sink, sweeper, interrupts }: {
    sink: SweepSink;
    sweeper: Sweeper;
    interrupts: Interrupts | null;
  },
): Promise<Row> {
  const plan = await sweeper.plan(target, planOptions(opts));
  const { strategy, runs } = planFor(target, plan);
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
  const sweepOptions: JudgeOptions = {
    strategy,
    runs,
    seed: opts.seed,
    keepGoing: opts.keepGoing,
    shard: opts.shard ?? undefined,
    onRun: (info) => {
      if (interrupts?.requested) throw new Interrupted();
      done++;
      let tracePath: string | null = null;
      if (info.failure !== null) {
        failing++;
        if (failing <= opts.tracesMax) {
          tracePath = writeTrace(target, strategy, info.failure, opts.out);
          written.set(info.failure, tracePath);
        }
      }
      const logged = opts.jsonl === "all" || info.failure !== null;
      if (opts.jsonRuns || logged) {
        const now = io.now();
        const line = JSON.stringify(runLine(target, strategy, expect, info.outcome, {
          seed: info.seed,
          elapsedMs: round(now - last),
          trace: tracePath,
          shard: opts.shard,
          config: target.swarm && info.failure !== null
            ? swarmConfigOf(target, info.failure.decisions)
            : undefined,
        }));
        last = now;
        if (logged) sink.run(line);
        if (opts.jsonRuns) io.out(line);
      }
      if ((done & 255) === 0) progress.update(done, failing);
    },
    onSchedule: (stats) => {
      if (interrupts?.requested) throw new Interrupted();
      if ((stats.schedules & 63) === 0) progress.update(stats.schedules, failing, "schedules");
    },
  };
  const result = await sweeper.judge(target, sweepOptions, plan);
  progress.done();
  const ms = io.now() - start;
  if (exhaustive) {
    for (const f of result.failures.slice(0, opts.tracesMax)) {
      written.set(f, writeTrace(target, strategy, f, opts.out));
    }
  }
  // Why a check after the sweep did not finish (a schedule that hangs there).
  const stops: string[] = [];
  if (opts.checkDeterminism) {
    // A fresh strategy (an exhaustive one has walked its whole tree by now),
    // on the supervised worker when there is one.
    const check = await sweeper.checkDeterminism(target, plan, { seed: opts.seed, runs });
    if (typeof check === "string") {
      stops.push(`determinism check stopped: its ${check}`);
    }
    for (const p of typeof check === "string" ? [] : check.problems) {
      sink.nondeterministic++;
      if (opts.json) io.out(JSON.stringify({ ...labelOf(target), nondeterminism: p }));
      else io.out(`${target.scenario.name}/${target.variant}: ${p.message}`);
    }
  }
  const notes = [];
  for (const f of result.failures.slice(0, Math.min(5, opts.tracesMax))) {
    const tracePath = written.get(f) ?? "";
    const note = await noteFailure({
      target,
      strategy,
      failure: f,
      tracePath,
      expected: result.ok,
      rerun: rerunCommand(target, strategy, f.seed),
      shrink: !opts.noShrink,
      html: true,
      now: io.now,
      shrinker: sweeper.shrinker(target),
    });
    notes.push(note);
    sink.failure(note);
    if (note.shrunk !== null) {
      sink.run(JSON.stringify({
        shrunk: true,
        ...labelOf(target),
        seed: f.seed,
        before: note.shrunk.before,
        after: note.shrunk.after,
        params: Object.fromEntries(note.shrunk.params.map((p) => [p.name, p.to])),
        trace: note.shrunk.path,
        report: note.reportPath,
      }));
    }
    if (opts.save) note.savedPath = saveTrace(note.shrunk?.path ?? tracePath);
  }
  const verified = await verifyDeclared(
    target,
    opts,
    result.ok && result.exploration?.exhausted !== true,
    sweeper,
  );
  // The gate: a failure whose trace cannot be trusted fails the variant, and
  // so does a check after the sweep that a schedule stopped.
  const ok = result.ok && notes.every((n) => n.problems.length === 0) && verified.ok &&
    stops.length === 0;
  const firstFailure = result.failures[0];
  const targetLine = {
    target: true,
    ...labelOf(target),
    strategy: strategy.name,
    expected: expect.verdict,
    ...(expect.check === undefined ? {} : { expectedCheck: expect.check }),
    ...(opts.shard === null ? {} : { shard: shardText(opts.shard) }),
    runs: result.runs,
    steps: result.steps,
    failures: result.failures.length,
    got: result.outcome?.verdict ?? "pass",
    ok,
    // Verified: DFS or DPOR tried every schedule (within `bound`, at
    // `verifiedParams` when given); else sampled.
    exhausted: result.exploration?.exhausted === true || verified.exhausted,
    ...verified.line,
    ...(result.exploration === null ? {} : { bound: result.exploration.bound }),
    ...(exhaustive && opts.shard !== null ? { split: true } : {}),
    runsPlanned: runs,
    ...(written.size < result.failures.length
      ? { tracesUnwritten: result.failures.length - written.size }
      : {}),
    ...(opts.keepGoing ? { keepGoing: true } : {}),
    ...(stops.length > 0 ? { stopped: stops } : {}),
    ...(strategy instanceof PortfolioStrategy && firstFailure !== undefined
      ? { foundBy: strategy.memberOf(firstFailure.seed) }
      : {}),
    elapsedMs: round(ms),
  };
  sink.target(targetLine);
  if (opts.json && !exhaustive) io.out(JSON.stringify(targetLine));
  const stats = result.exploration;
  if (stats !== null) {
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
    sink.run(JSON.stringify(line));
    if (opts.json) io.out(JSON.stringify(line));
  }
  if (!opts.json) {
    if (stats !== null) io.out(explorationLine(label, strategy, stats, result.failures.length, ms));
    if (verified.message !== null) io.out(verified.message);
    for (const stop of stops) io.out(`${label}: ${stop}`);
    for (const note of notes) reportFailure(note, io);
    if (result.failures.length > 5) {
      const unwritten = result.failures.length - written.size;
      io.out(
        `  ... and ${result.failures.length - 5} more failing runs (traces in ${opts.out}` +
          (unwritten > 0
            ? `; ${unwritten} not written, over --traces-max ${opts.tracesMax})`
            : ")"),
      );
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
    ok,
    ...(result.outcome !== undefined ? {} : {
      search: result.exploration?.exhausted === true
        ? "exhausted"
        : verified.exhausted
        ? verified.smaller ? "exhausted (smaller)" : "exhausted"
        : "sampled",
    }),
  };
}

/**
 * A pass variant judged on its own budget that declares a size to verify
 * at is exhausted there with DPOR: what that found, for the variant's line.
 */
async function verifyDeclared(
  target: Target,
  opts: CliOptions,
  wanted: boolean,
  sweeper: Sweeper,
): Promise<{
  ok: boolean;
  exhausted: boolean;
  /** True when verified at a size smaller than the one run. */
  smaller?: boolean;
  line: Record<string, unknown>;
  message: string | null;
}> {
  const own = opts.strategy === null && opts.runs === undefined && opts.shard === null &&
    opts.cores === undefined && opts.stepsMax === undefined &&
    Object.keys(opts.params).length === 0;
  const v = wanted && own ? await sweeper.verify(target) : null;
  if (v === null) return { ok: true, exhausted: false, line: {}, message: null };
  const label = `${target.scenario.name}/${target.variant}`;
  const size = JSON.stringify(variantOf(target).expect.verify?.params ?? {});
  const r = v.result;
  const line = { verifiedParams: v.target.params, verifiedSchedules: r.schedules };
  if (v.ok) {
    const smaller = size !== "{}";
    const at = smaller ? `at ${size}` : "at the default size";
    const message = `${label}: verified: dpor exhausted ${r.schedules} schedules ${at}`;
    return { ok: true, exhausted: true, smaller, line, message };
  }
  const first = r.failures[0];
  if (first !== undefined) {
    const dpor = planFor(v.target, { strategy: "dpor" }).strategy;
    const trace = writeTrace(v.target, dpor, first, opts.out);
    return {
      ok: false,
      exhausted: false,
      line: { ...line, verifyFailed: first.outcome.check },
      message: `${label}: NOT verified at ${size}: ${describeOutcome(first.outcome)}\n` +
        `  replay: deno task sim --replay ${trace}`,
    };
  }
  return {
    ok: false,
    exhausted: false,
    line,
    message: `${label}: NOT verified at ${size}: dpor did not exhaust it in ${r.schedules} ` +
      "schedules (raise verify.runs or declare a smaller size)",
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
  extra: {
    seed: number;
    elapsedMs: number;
    trace: string | null;
    shard: Shard | null;
    /** A failing swarm run's drawn configuration. */
    config?: Record<string, unknown>;
  },
): Record<string, unknown> {
  const line: Record<string, unknown> = {
    scenario: target.scenario.name,
    variant: target.variant,
    strategy: strategy.name,
    seed: extra.seed,
    expected: expect.verdict,
    ...(expect.check === undefined ? {} : { expectedCheck: expect.check }),
    ...(extra.shard === null ? {} : { shard: shardText(extra.shard) }),
    verdict: outcome.verdict,
    schedules: 1,
    steps: outcome.step,
    elapsedMs: extra.elapsedMs,
  };
  if (outcome.verdict !== "pass") {
    line.check = outcome.check;
    line.message = outcome.message;
    line.trace = extra.trace;
    if (extra.config !== undefined) line.config = extra.config;
  }
  return line;
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
  const memory = target.scenario.variants[target.variant].memory ?? "sc";
  if (target.memory !== memory) parts.push(`--memory ${target.memory}`);
  if (target.swarm) parts.push("--swarm");
  parts.push(`--strategy ${strategy.name}`);
  const o = strategy.options();
  if (typeof o.depth === "number") parts.push(`--depth ${o.depth}`);
  if (typeof o.steps === "number") parts.push(`--pct-steps ${o.steps}`);
  if (o.iterative === true) parts.push("--iterative");
  if (typeof o.delays === "number") {
    parts.push(`--delays ${o.iterative === true ? 0 : o.delays}`);
  } else if (o.iterative !== true && typeof o.preemptions === "number") {
    parts.push(`--preemptions ${o.preemptions}`);
  }
  if (o.order === "random") parts.push("--order random");
  if (o.dpor === "source") parts.push("--dpor source");
  if (target.stepsMax !== (target.scenario.stepsMax?.(target.params) ?? STEPS_MAX_DEFAULT)) {
    parts.push(`--max-steps ${target.stepsMax}`);
  }
  if (!isExhaustive(strategy)) parts.push(`--seed ${seed}`, "--runs 1");
  else if (o.order === "random") parts.push(`--seed ${seed}`);
  return parts.join(" ");
}

function reportFailure(note: NotedFailure, io: Io): void {
  const tag = note.expected && note.problems.length === 0 ? " (as expected)" : "";
  io.out(`${note.title}: ${note.outcome}${tag}`);
  io.out(`  ${note.where}, strategy ${note.strategy}`);
  if (note.config) io.out(`  config: ${note.config}`);
  if (note.shrunk !== null) io.out(`  shrunk: ${shrinkText(note.shrunk)}`);
  if (note.warning !== "") io.out(`  ${note.warning}`);
  for (const p of note.problems) io.out(`  NOT TRUSTED: ${p}`);
  io.out(`  replay: deno task sim --replay ${note.tracePath}`);
  if (note.shrunk !== null) io.out(`  replay shrunk: deno task sim --replay ${note.shrunk.path}`);
  if (note.reportPath !== null) io.out(`  report: ${note.reportPath}`);
  if (note.savedPath !== undefined) io.out(`  saved: ${note.savedPath}`);
  io.out(`  rerun:  ${note.rerun}`);
}

async function runReplay(file: string, opts: CliOptions, io: Io): Promise<number> {
  // A scenario file's top-level code runs first where a timeout bounds it.
  (await supervisorFor(opts.supervision, opts.scenario))?.close();
  const { trace, scenario } = await loadTrace(file, { scenario: opts.scenario, flag: "--replay" });
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
    for (const line of log.format(replaySources(trace, scenario, log) ?? undefined)) io.out(line);
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
  const cwdError = enterInitCwd();
  if (cwdError !== null) console.error(cwdError);
  Deno.exit(cwdError !== null ? 2 : await main(Deno.args));
}
