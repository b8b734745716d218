/**
 * Shrinking: how far failures found by random and PCT sampling shrink, and
 * what it costs.
 */
import { catalog, lockOrder, lostUpdate } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
import type { AnyScenario } from "../sim/scenario.ts";
import { shrinkTrace } from "../sim/shrink.ts";
import { printTable } from "./_measure.ts";

/** Prints the shrinking section. */
export function shrinkBench(): void {
  console.log("\n## Shrinking (first failure from seed 1; steps/preemptions/switches)\n");
  const cases: [AnyScenario, string, Record<string, unknown>, string | null][] = [
    [lostUpdate, "racy", { fibers: 4, increments: 3 }, "random"],
    [lostUpdate, "racy", { fibers: 8, increments: 10 }, "random"],
    [lostUpdate, "racy", { fibers: 16, increments: 50 }, "random"],
    [lockOrder, "opposite", { rounds: 5 }, "random"],
  ];
  // Every broken variant of the catalog, found with its own budget's strategy.
  for (const scenario of catalog) {
    for (const [variant, v] of Object.entries(scenario.variants)) {
      if (v.expect.verdict !== "pass") cases.push([scenario, variant, {}, null]);
    }
  }
  const rows = cases.map(([scenario, variant, params, strategy]) => {
    const target = makeTarget(scenario, variant, { params });
    const found = judge(target, { ...planFor(target, { strategy }), seed: 1 });
    if (found.failures.length === 0) {
      return [`${scenario.name}/${variant}`, "not found", "", "", 0, ""];
    }
    const trace = makeTrace(target, found.strategy, found.failures[0]);
    const t0 = performance.now();
    const r = shrinkTrace(trace, scenario, { now: () => performance.now() });
    const ms = performance.now() - t0;
    const s = (x: typeof r.before) => `${x.steps}/${x.preemptions}/${x.switches}`;
    return [
      `${scenario.name}/${variant} ${JSON.stringify(params)} (${found.strategy.name})`,
      s(r.before),
      s(r.after),
      changed(r.original.params, r.shrunk.params),
      r.runs,
      ms.toFixed(1),
    ];
  });
  printTable(["failure", "before", "after", "parameters", "runs", "ms"], rows);
}

if (import.meta.main) shrinkBench();

function changed(from: Record<string, unknown>, to: Record<string, unknown>): string {
  const out = Object.keys(from).filter((k) => from[k] !== to[k]).map((k) =>
    `${k} ${from[k]}->${to[k]}`
  );
  return out.length === 0 ? "-" : out.join(", ");
}
