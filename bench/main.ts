/**
 * `deno task bench`: every benchmark section, or the ones named.
 *
 *   deno task bench            all sections
 *   deno task bench kernel     one section
 *   deno task bench time       virtual time: clock-sync speed, timer cost
 *   deno task bench system     the composed runtime: runs/s, runs to find each bug
 */
import { atomicBench, piBench } from "./atomic_bench.ts";
import { commBench } from "./comm_bench.ts";
import { exploreBench } from "./explore_bench.ts";
import { fastCheckBench } from "./fastcheck_bench.ts";
import { kernelBench } from "./kernel_bench.ts";
import { memoryBench } from "./memory_bench.ts";
import { orderBench } from "./order_bench.ts";
import { reportBench } from "./report_bench.ts";
import { shrinkBench } from "./shrink_bench.ts";
import { spinBench } from "./spin_bench.ts";
import { superviseBench } from "./supervise_bench.ts";
import { splitBench } from "./split_bench.ts";
import { swarmBench } from "./swarm_bench.ts";
import { systemBench } from "./system_bench.ts";
import { timeBench } from "./time_bench.ts";
import { workersBench } from "./workers_bench.ts";
import { weakBench } from "./weak_bench.ts";

const SECTIONS: Record<string, () => void | Promise<void>> = {
  kernel: kernelBench,
  explore: exploreBench,
  memory: memoryBench,
  comm: commBench,
  time: timeBench,
  fastcheck: fastCheckBench,
  workers: workersBench,
  shrink: shrinkBench,
  order: orderBench,
  split: splitBench,
  weak: weakBench,
  spin: spinBench,
  atomic: atomicBench,
  pi: piBench,
  swarm: swarmBench,
  supervise: superviseBench,
  system: systemBench,
  report: reportBench,
};

const wanted = Deno.args.length === 0 ? Object.keys(SECTIONS) : Deno.args;
for (const name of wanted) {
  const section = SECTIONS[name];
  if (section === undefined) {
    console.error(
      `error: unknown bench section "${name}"; known: ${Object.keys(SECTIONS).join(", ")}`,
    );
    Deno.exit(2);
  }
  await section();
}
