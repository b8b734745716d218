/**
 * Shrinking: how far failures found by random and PCT sampling shrink, and
 * what it costs.
 */
import { lockOrder, lostUpdate } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
import type { AnyScenario } from "../sim/scenario.ts";
import { shrinkTrace } from "../sim/shrink.ts";
import { printTable } from "./_measure.ts";

/** Prints the shrinking section. */
export function shrinkBench(): void {
  console.log("\n## Shrinking (first failure from seed 1; steps/preemptions/switches)\n");
  const cases: [AnyScenario, string, Record<string, unknown>, string][] = [
    [lostUpdate, "racy", {}, "pct"],
    [lostUpdate, "racy", { fibers: 4, increments: 3 }, "random"],
    [lostUpdate, "racy", { fibers: 8, increments: 10 }, "random"],
    [lockOrder, "opposite", { rounds: 5 }, "random"],
  ];
  const rows = cases.map(([scenario, variant, params, strategy]) => {
    const target = makeTarget(scenario, variant, { params });
    const found = judge(target, { ...planFor(target, { strategy }), seed: 1 });
    const trace = makeTrace(target, found.strategy, found.failures[0]);
    const t0 = performance.now();
    const r = shrinkTrace(trace, scenario, { now: () => performance.now() });
    const ms = performance.now() - t0;
    const s = (x: typeof r.before) => `${x.steps}/${x.preemptions}/${x.switches}`;
    return [
      `${scenario.name}/${variant} ${JSON.stringify(params)} (${strategy})`,
      s(r.before),
      s(r.after),
      JSON.stringify(r.shrunk.params),
      r.runs,
      ms.toFixed(1),
    ];
  });
  printTable(["failure", "before", "after", "params after", "runs", "ms"], rows);
}

if (import.meta.main) shrinkBench();
