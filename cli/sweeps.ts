/**
 * Sweeps as the `sim` command runs them: on this thread or on workers, with
 * every run written to `runs.jsonl` and the failures to `summary.md`.
 *
 * @module
 */
import { JsonlWriter } from "../reports/jsonl.ts";
import { type FailureNote, renderMarkdown } from "../reports/markdown.ts";
import type { Row } from "../reports/text.ts";
import {
  type Stopped,
  stoppedText,
  Supervisor,
  type SupervisorOptions,
} from "../scale/supervisor.ts";
import { WorkerPool, WorkersStopped } from "../scale/workers.ts";
import { checkDeterminism, type DeterminismResult } from "../sim/determinism.ts";
import {
  isExhaustive,
  judge,
  type Judgement,
  judgement,
  type JudgeOptions,
  planFor,
  type PlanOptions,
  type RunInfo,
  type Target,
} from "../sim/explore.ts";
import { UsageError } from "../sim/scenario.ts";
import type { ShrinkResult } from "../sim/shrink.ts";
import { exploreSplit, treeSpecOf } from "../sim/split.ts";
import type { Trace } from "../sim/trace.ts";
import { sizedTarget, type Verified, verifyPass } from "../sim/verified.ts";
import { writeAtomic } from "./output.ts";

/**
 * Runs the sweeps of one command: on one supervised worker (a step that
 * never returns is a `hang`), on this thread (`--step-timeout 0`), or on a
 * pool of Deno Workers started on first use and kept for every variant. A
 * watched pool that stops (a hang, out of memory) has the sweep run again on
 * one supervised worker, which finds the run and writes its trace.
 */
export class Sweeper {
  readonly workers: number;
  readonly #supervision: SupervisorOptions | null;
  #pool: WorkerPool | null = null;
  #supervisor: Supervisor | null;

  constructor(workers: number, supervision: SupervisorOptions | null = null) {
    this.workers = workers;
    this.#supervision = supervision;
    this.#supervisor = supervision === null ? null : new Supervisor(supervision);
    if (workers <= 1) this.#supervisor?.warm();
  }

  /**
   * The plan options with PCT's step estimate filled in, probed on the
   * supervised worker (a scenario that hangs is never run on this thread).
   */
  async plan<T extends PlanOptions>(target: Target, options: T): Promise<T> {
    const name = options.strategy ??
      target.scenario.variants[target.variant].expect.budget.strategy;
    if (this.#supervisor === null || options.pctSteps !== undefined) return options;
    if (name !== "pct" && name !== "portfolio") return options;
    return { ...options, pctSteps: await this.#supervisor.probe(target) };
  }

  /**
   * Sweeps `target` and judges the result against its expectation. DFS and
   * DPOR walk one tree of schedules; with shards (or workers, below) the
   * tree is split into subtrees, each shard exploring its share (on this
   * thread, or on the workers).
   */
  async judge(target: Target, options: JudgeOptions, plan?: PlanOptions): Promise<Judgement> {
    if (this.#supervisor !== null && plan !== undefined && this.workers <= 1) {
      return await this.#supervisor.judge(target, plan, options);
    }
    if (isExhaustive(options.strategy) && options.shard !== undefined && this.workers <= 1) {
      const r = exploreSplit(target, treeSpecOf(options.strategy), {
        runs: options.runs,
        seed: options.seed,
        keepGoing: options.keepGoing,
        shard: options.shard,
        onSchedule: options.onSchedule,
      });
      const result = { runs: r.schedules, steps: r.steps, failures: r.failures };
      return judgement(target, options.strategy, result, r);
    }
    if (this.workers <= 1) return judge(target, options);
    let seen = 0;
    const onRun = options.onRun;
    const counted = onRun === undefined ? options : {
      ...options,
      onRun: (info: RunInfo) => {
        seen++;
        onRun(info);
      },
    };
    try {
      return await this.#onPool(target, counted);
    } catch (e) {
      if (!(e instanceof WorkersStopped) || this.#supervisor === null || plan === undefined) {
        throw e;
      }
      // The same runs in the same order: those already reported are skipped.
      // PCT's estimate is the one this thread probed, so the worker runs no probe.
      const steps = options.strategy.options().steps;
      const same = typeof steps === "number" ? { ...plan, pctSteps: steps } : plan;
      let skip = seen;
      return await this.#supervisor.judge(target, same, {
        ...options,
        onRun: onRun === undefined ? undefined : (info) => {
          if (skip > 0) skip--;
          else onRun(info);
        },
      });
    }
  }

  async #onPool(target: Target, options: JudgeOptions): Promise<Judgement> {
    this.#pool ??= new WorkerPool(this.workers, this.#supervision);
    if (isExhaustive(options.strategy)) {
      const spec = treeSpecOf(options.strategy);
      // Listing the subtrees runs schedules too: on the supervised worker.
      const listed = await this.#supervisor?.frontier(target, spec, options.seed);
      if (listed !== undefined && "kind" in listed) throw new WorkersStopped(listed.kind);
      const r = await this.#pool.explore(target, spec, options, listed);
      const result = { runs: r.schedules, steps: r.steps, failures: r.failures };
      return judgement(target, options.strategy, result, r);
    }
    return judgement(target, options.strategy, await this.#pool.sweep(target, options));
  }

  /**
   * Imports the scenario file `path` where a step timeout bounds it (see
   * `Supervisor.load`); does nothing without supervision.
   */
  async load(path: string): Promise<void> {
    await this.#supervisor?.load(path);
  }

  /**
   * The determinism check of the sweep `plan` makes (`checkDeterminism`),
   * on the supervised worker when there is one: a schedule that hangs
   * gives a one-line reason instead of a command that never ends.
   */
  async checkDeterminism(
    target: Target,
    plan: PlanOptions,
    options: { readonly seed: number; readonly runs: number },
  ): Promise<DeterminismResult | string> {
    if (this.#supervisor === null) {
      return checkDeterminism(target, { strategy: planFor(target, plan).strategy, ...options });
    }
    return textOf(await this.#supervisor.checkDeterminism(target, plan, options));
  }

  /**
   * Exhausts a pass variant at its declared size (`verifyPass`), on the
   * supervised worker when there is one: a schedule that hangs there is a
   * `hang` failure with a trace, and the variant is not verified.
   */
  async verify(target: Target): Promise<Verified | null> {
    const sized = sizedTarget(target);
    if (this.#supervisor === null || sized === null) return verifyPass(target);
    // The same exploration `verifyPass` runs: plain DPOR, in its default order.
    const plan: PlanOptions = { strategy: "dpor", order: "default", runs: sized.runs };
    const { strategy, runs } = planFor(sized.target, plan);
    const j = await this.#supervisor.judge(sized.target, plan, { strategy, runs, seed: 0 });
    const result = { ...j.exploration!, failures: j.failures };
    return { target: sized.target, result, ok: result.exhausted && result.failures.length === 0 };
  }

  /**
   * A shrinker that runs on the supervised worker (null without supervision):
   * a candidate schedule that hangs gives a one-line reason instead of a
   * command that never ends.
   */
  shrinker(target: Target): ((trace: Trace) => Promise<ShrinkResult | string>) | null {
    const supervisor = this.#supervisor;
    if (supervisor === null) return null;
    const scenario = target.source ?? target.scenario.name;
    return async (trace) => textOf(await supervisor.shrink(scenario, trace));
  }

  /** Why no further sweep may run in this command, or null (`Supervisor.halted`). */
  get halted(): string | null {
    return this.#supervisor?.halted ?? null;
  }

  /** Stops the workers, if any were started. */
  close(): void {
    this.#pool?.close();
    this.#pool = null;
    this.#supervisor?.close();
  }
}

// A stopped job as one line of text; any other result as it is.
function textOf<T extends object>(r: T | Stopped): T | string {
  return "kind" in r && "atEnd" in r ? stoppedText(r as Stopped) : r as T;
}

/** The scenario and variant of a target, as JSON lines name them. */
export function labelOf(target: Target): { scenario: string; variant: string } {
  return { scenario: target.scenario.name, variant: target.variant };
}

/** Where a `sim` invocation's reports go: `runs.jsonl` and `summary.md` in the out folder. */
export class SweepSink {
  readonly dir: string;
  readonly summaryPath: string;
  readonly jsonlPath: string;
  /** Variants whose determinism check failed. */
  nondeterministic = 0;
  readonly #notes: FailureNote[] = [];
  #jsonl: JsonlWriter | null = null;
  #closed = false;

  constructor(dir: string) {
    this.dir = dir;
    this.summaryPath = `${dir}/summary.md`;
    this.jsonlPath = `${dir}/runs.jsonl`;
  }

  #writer(): JsonlWriter {
    if (this.#closed) throw new Error(`${this.jsonlPath} is already closed`);
    if (this.#jsonl === null) {
      try {
        Deno.mkdirSync(this.dir, { recursive: true });
        this.#jsonl = new JsonlWriter(this.jsonlPath);
      } catch (e) {
        throw new UsageError(`cannot write ${this.jsonlPath}: ${(e as Error).message}`);
      }
    }
    return this.#jsonl;
  }

  /**
   * Starts the folder afresh: truncates `runs.jsonl` and replaces the last
   * run's `summary.md` with one that holds no verdict, so an interrupted or
   * killed run never leaves an earlier verdict behind.
   */
  begin(): void {
    this.#writer();
    writeAtomic(
      this.summaryPath,
      "## simtest: running, or stopped before it finished: no verdict\n",
    );
  }

  /** Ends both files with an `interrupted` line, after what finished. */
  interrupt(rows: readonly Row[], line: Record<string, unknown>, elapsedMs: number): void {
    this.#writer().write(line);
    this.close();
    const md = renderMarkdown(rows, this.#notes, elapsedMs).replace(
      /^## simtest: .*/,
      `## simtest: interrupted after ${rows.length} of ${line.targets} variants: no verdict`,
    );
    writeAtomic(this.summaryPath, `${md.trimEnd()}\n\ninterrupted\n`);
  }

  /** One run's JSON line. */
  run(line: string): void {
    this.#writer().writeLine(line);
  }

  /** A variant's totals, once its sweep is done. */
  target(line: Record<string, unknown>): void {
    this.#writer().write(line);
  }

  /** A failure to list in the summary. */
  failure(note: FailureNote): void {
    this.#notes.push(note);
  }

  /** Writes the summary line to `runs.jsonl` and the Markdown summary. */
  finish(rows: readonly Row[], summary: Record<string, unknown>, elapsedMs: number): void {
    this.#writer().write(summary);
    this.close();
    writeAtomic(this.summaryPath, renderMarkdown(rows, this.#notes, elapsedMs));
  }

  /** Closes `runs.jsonl`; safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#jsonl?.close();
    this.#jsonl = null;
  }
}
