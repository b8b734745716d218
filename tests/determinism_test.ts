import fc from "fast-check";
import { assertEquals } from "../deps.ts";
import { runSpec } from "./_arbitraries.ts";
import { type RunSpec, traceOf } from "./_runs.ts";

Deno.test("the same scenario, parameters and seed give byte-identical traces in one process", () => {
  fc.assert(
    fc.property(runSpec, (spec) => {
      const a = traceOf(spec);
      const b = traceOf(spec);
      assertEquals(a.trace, b.trace);
      assertEquals(a.snapshot, b.snapshot);
    }),
    { numRuns: 300, seed: 31 },
  );
});

Deno.test("interleaving other runs in between does not change a run's trace", () => {
  fc.assert(
    fc.property(runSpec, fc.array(runSpec, { maxLength: 4 }), (spec, others) => {
      const before = traceOf(spec).trace;
      for (const o of others) traceOf(o);
      assertEquals(traceOf(spec).trace, before);
    }),
    { numRuns: 100, seed: 32 },
  );
});

async function tracesInAnotherProcess(specs: RunSpec[]): Promise<string[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", new URL("./_runs.ts", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(specs)));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("traces are byte-identical across processes", async () => {
  const specs = fc.sample(runSpec, { numRuns: 150, seed: 20261122 });
  const here = specs.map((s) => traceOf(s).trace);
  const [first, second] = await Promise.all([
    tracesInAnotherProcess(specs),
    tracesInAnotherProcess(specs),
  ]);
  assertEquals(first, here);
  assertEquals(second, here);
});

Deno.test("swarm runs draw the same configuration and give byte-identical traces across processes", async () => {
  const specs: RunSpec[] = [];
  for (const [scenario, variant] of [["channel-mpmc", "racy-close"], ["reactor", "correct"]]) {
    for (const strategy of ["random", "pct"] as const) {
      for (let seed = 1; seed <= 15; seed++) {
        specs.push({ scenario, variant, params: {}, strategy, seed, swarm: true });
      }
    }
  }
  const here = specs.map((s) => traceOf(s).trace);
  // Every swarm trace records its configuration, and seeds draw different ones.
  const configs = here.map((t) => JSON.stringify(JSON.parse(t).swarm));
  assertEquals(configs.every((c) => c !== undefined), true);
  assertEquals(new Set(configs).size > 20, true);
  assertEquals(await tracesInAnotherProcess(specs), here);
});
