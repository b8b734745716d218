/**
 * Scenarios in a user's own `deno test` suite: `assertScenario` judges a
 * scenario like `deno task sim` does and throws an `AssertionError` whose
 * message is a counterexample report (outcome, shrunk trace, replay and rerun
 * commands), as `fc.assert` does for a property.
 *
 * @module
 */
import { AssertionError } from "../deps.ts";
import {
  type Failure,
  judge,
  type Judgement,
  makeTarget,
  meetsExpectation,
  planFor,
  type Target,
  variantOf,
} from "../sim/explore.ts";
import { describeOutcome, type Verdict } from "../sim/outcome.ts";
import { PortfolioStrategy } from "../sim/portfolio.ts";
import type { AnyScenario, Expectation } from "../sim/scenario.ts";
import type { Strategy } from "../sim/strategy.ts";

/** How `assertScenario` judges a scenario; everything defaults to the variant's declaration. */
export interface AssertScenarioOptions {
  /** One variant; default: every variant of the scenario. */
  readonly variant?: string;
  /** Scenario parameters (validated by the scenario's zod schema). */
  readonly params?: Record<string, unknown>;
  /** "random", "pct", "portfolio", "dfs" or "dpor"; default: the variant's budget. */
  readonly strategy?: string;
  /** Runs (schedules for DFS and DPOR); default: the variant's budget. */
  readonly runs?: number;
  /** PCT's depth. */
  readonly depth?: number;
  /** The first seed (default 1). */
  readonly seed?: number;
  /** Where failing traces, shrunk traces and reports go (default `sim-out`). */
  readonly out?: string;
  /** Shrink a failure before reporting it (default true). */
  readonly shrink?: boolean;
  /**
   * The verdict to expect, overriding the variant's declared one: a verdict,
   * or a verdict with the check that must fail.
   */
  readonly expect?: Verdict | { readonly verdict: Verdict; readonly check?: string };
  /**
   * The file that exports the scenario, for the replay and rerun commands in
   * the message. Catalog scenarios need none.
   */
  readonly source?: string;
}

/** What one variant came to. */
export interface VariantResult {
  /** The variant's name. */
  readonly variant: string;
  /** Whether it got its expected verdict. */
  readonly ok: boolean;
  /** The whole judgement: runs, failures, strategy. */
  readonly judgement: Judgement;
}

/**
 * Judges `scenario` (every variant, or `options.variant`) against its
 * expected verdicts within their budgets. Resolves with what each variant
 * came to when all are as expected; otherwise rejects with an
 * `AssertionError` naming the outcome, the trace and shrunk trace, the
 * replay command and the rerun command.
 *
 * @example
 * ```ts
 * import { assertScenario } from "./assert.ts";
 * import { lostUpdate } from "../scenarios/mod.ts";
 * await assertScenario(lostUpdate, { variant: "locked", runs: 50 });
 * ```
 */
export async function assertScenario(
  scenario: AnyScenario,
  options: AssertScenarioOptions = {},
): Promise<VariantResult[]> {
  const variants = options.variant === undefined
    ? Object.keys(scenario.variants)
    : [options.variant];
  const results: VariantResult[] = [];
  const problems: string[] = [];
  for (const variant of variants) {
    const target = makeTarget(scenario, variant, {
      params: options.params,
      source: sourceOf(options),
    });
    const expect = expectationOf(target, options);
    const plan = planFor(target, {
      strategy: options.strategy ?? null,
      runs: options.runs,
      depth: options.depth,
    });
    const judgement = judge(target, { ...plan, seed: options.seed ?? 1 });
    const first = judgement.failures[0];
    const ok = meetsExpectation(expect, first?.outcome);
    results.push({ variant, ok, judgement });
    if (!ok) problems.push(await report(target, expect, judgement, first, options));
  }
  if (problems.length > 0) {
    throw new AssertionError({ message: problems.join("\n\n"), operator: "assertScenario" });
  }
  return results;
}

/**
 * Registers one `Deno.test` for `scenario`, with one step per variant, each
 * judged within its declared budget by `assertScenario`.
 *
 * @example
 * ```ts ignore
 * import { testScenario } from "./assert.ts";
 * import { lostUpdate } from "../scenarios/mod.ts";
 * testScenario(lostUpdate);
 * ```
 */
export function testScenario(
  scenario: AnyScenario,
  options: Omit<AssertScenarioOptions, "variant"> = {},
): void {
  Deno.test(`scenario ${scenario.name}`, async (t) => {
    for (const variant of Object.keys(scenario.variants)) {
      const expect = scenario.variants[variant].expect;
      await t.step(`${variant}: ${expect.verdict} (${budgetText(expect)})`, async () => {
        await assertScenario(scenario, { ...options, variant });
      });
    }
  });
}

function sourceOf(options: AssertScenarioOptions): string | null {
  return options.source ?? null;
}

function expectationOf(target: Target, options: AssertScenarioOptions): Expectation {
  const declared = variantOf(target).expect;
  const e = options.expect;
  if (e === undefined) return declared;
  if (typeof e === "string") return { verdict: e, budget: declared.budget };
  return { verdict: e.verdict, check: e.check, budget: declared.budget };
}

function budgetText(e: Expectation): string {
  return `${e.budget.strategy}, ${e.budget.runs} runs`;
}

async function report(
  target: Target,
  expect: Expectation,
  j: Judgement,
  first: Failure | undefined,
  options: AssertScenarioOptions,
): Promise<string> {
  const { rerunCommand, writeTrace } = await import("../cli.ts");
  const name = `${target.scenario.name}/${target.variant}`;
  const check = expect.check ?? expect.checks?.join(" or ");
  const want = check === undefined ? expect.verdict : `${expect.verdict} (${check})`;
  const strategy = j.strategy;
  if (first === undefined) {
    const how = j.exploration?.exhausted
      ? `${strategy.name} exhausted the space (${j.runs} schedules)`
      : `${j.runs} ${strategy.name} runs passed`;
    return [
      `Scenario ${name} expected ${want}, but ${how}.`,
      `  rerun:  ${rerunCommand(target, strategy, options.seed ?? 1).replace(/ --runs 1$/, "")}` +
      ` --runs ${j.runs}`,
    ].join("\n");
  }
  const out = options.out ?? "sim-out";
  const tracePath = writeTrace(target, strategy, first, out);
  const { noteFailure } = await import("../cli/failures.ts");
  const note = await noteFailure({
    target,
    strategy,
    failure: first,
    tracePath,
    expected: false,
    rerun: rerunCommand(target, strategy, first.seed),
    shrink: options.shrink ?? true,
    html: true,
    now: () => performance.now(),
  });
  const scenarioFlag = target.source === null ? "" : ` --scenario ${target.source}`;
  const replayPath = note.shrunk?.path ?? tracePath;
  const lines = [
    `Scenario ${name} expected ${want}, got ${describeOutcome(first.outcome)}`,
    `  found by ${foundBy(strategy, first)} after ${j.runs} ${
      first.schedule === undefined ? "runs" : "schedules"
    }`,
  ];
  if (note.shrunk !== null) {
    const a = note.shrunk.after;
    lines.push(`  shrunk to ${a.steps} steps, ${a.preemptions} preemptions`);
  }
  if (note.warning !== "") lines.push(`  ${note.warning}`);
  lines.push(`  trace:  ${tracePath}`);
  lines.push(`  replay: deno task sim --replay ${replayPath}${scenarioFlag}`);
  lines.push(`  rerun:  ${note.rerun}`);
  if (note.reportPath !== null) lines.push(`  report: ${note.reportPath}`);
  return lines.join("\n");
}

function foundBy(strategy: Strategy, failure: Failure): string {
  if (failure.schedule !== undefined) return `${strategy.name} schedule ${failure.schedule}`;
  const member = strategy instanceof PortfolioStrategy
    ? ` (member ${strategy.memberOf(failure.seed)})`
    : "";
  return `${strategy.name}${member} at seed ${failure.seed}`;
}
