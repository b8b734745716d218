/**
 * Test helper: runs a list of (scenario, variant, params, strategy, seed) and
 * gives each run's trace, pass or fail. Also a script, so the determinism
 * tests can compare traces made in other processes.
 */
import { catalog } from "../scenarios/mod.ts";
import { createStrategy, makeTarget, makeTrace, Runner, type Target } from "../sim/explore.ts";
import { serializeTrace } from "../sim/trace.ts";

/** One run to make. */
export interface RunSpec {
  scenario: string;
  variant: string;
  params: Record<string, unknown>;
  strategy: "random" | "pct";
  seed: number;
  /** Draw a swarm configuration first. */
  swarm?: boolean;
}

/** The catalog target a spec names. */
export function targetOf(spec: RunSpec): Target {
  const s = catalog.find((x) => x.name === spec.scenario);
  if (s === undefined) throw new Error(`no scenario ${spec.scenario}`);
  return makeTarget(s, spec.variant, { params: spec.params, swarm: spec.swarm });
}

/** The serialized trace of the run a spec names, and the final state. */
export function traceOf(spec: RunSpec): { trace: string; snapshot: Record<string, unknown> } {
  const target = targetOf(spec);
  const strategy = createStrategy(spec.strategy, target);
  const runner = new Runner(target);
  const outcome = runner.run(strategy, spec.seed);
  const trace = makeTrace(target, strategy, {
    seed: spec.seed,
    outcome,
    decisions: runner.kernel.decisions(),
  });
  return { trace: serializeTrace(trace), snapshot: runner.kernel.snapshot() };
}

if (import.meta.main) {
  const specs = JSON.parse(await new Response(Deno.stdin.readable).text()) as RunSpec[];
  console.log(JSON.stringify(specs.map((s) => traceOf(s).trace)));
}
