import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../deps.ts";
import { lostUpdate } from "../scenarios/mod.ts";
import { DfsStrategy, IterativeDfsStrategy } from "./dfs.ts";
import { type ExhaustiveStrategy, exploreExhaustive } from "./exhaustive.ts";
import { makeTarget, Runner, type Target } from "./explore.ts";
import { type Outcome, PrunedRun } from "./outcome.ts";
import { UsageError } from "./scenario.ts";
import {
  exploreSplit,
  InterleavedStrategy,
  listFrontier,
  siblingsOf,
  subtreeStrategy,
  type TreeSpec,
  treeSpecOf,
} from "./split.ts";
import { programArb, programScenario, registers, syncProgramArb } from "./_programs.ts";

/** Every complete schedule (its decisions), final state and failure of one walk. */
function walk(target: Target, strategy: ExhaustiveStrategy, seed: number) {
  const schedules: string[] = [];
  const finals = new Set<string>();
  const failures = new Set<string>();
  const runner = new Runner(target);
  for (;;) {
    let o: Outcome | null = null;
    try {
      o = runner.run(strategy, seed);
    } catch (e) {
      if (!(e instanceof PrunedRun)) throw e;
    }
    if (o !== null) {
      schedules.push(runner.kernel.decisions().join(","));
      if (o.verdict === "bug" || o.verdict === "crash") {
        failures.add(`${o.verdict} ${o.check}: ${o.message}`);
      } else {
        finals.add(`${o.verdict} ${JSON.stringify({ c: runner.kernel.snapshot(), registers })}`);
      }
    }
    if (!strategy.advance()) break;
    if (schedules.length > 50_000) throw new Error("exploration too large for this test");
  }
  return { schedules, finals, failures };
}

/** The same, over every subtree of a frontier of at least `subtrees`. */
function walkSplit(
  target: Target,
  spec: TreeSpec,
  seed: number,
  subtrees: number,
  seeded = true,
) {
  const frontier = listFrontier(target, spec, { seed, subtrees });
  const all = { schedules: [] as string[], finals: new Set<string>(), failures: new Set<string>() };
  for (let i = 0; i < frontier.prefixes.length; i++) {
    const siblings = seeded ? siblingsOf(frontier, i) : undefined;
    const strategy = subtreeStrategy(spec, frontier.prefixes[i], siblings);
    const w = walk(target, strategy, seed);
    all.schedules.push(...w.schedules);
    for (const f of w.finals) all.finals.add(f);
    for (const f of w.failures) all.failures.add(f);
  }
  return { ...all, subtrees: frontier.prefixes.length };
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

Deno.test("split DFS: the subtrees together are the whole tree, schedule for schedule", () => {
  let split = 0;
  const specs: TreeSpec[] = [
    { strategy: "dfs" },
    { strategy: "dfs", preemptions: 1 },
    { strategy: "dfs", delays: 2, order: "random" },
  ];
  fc.assert(
    fc.property(programArb, fc.nat({ max: 2 }), fc.nat({ max: 5 }), (program, s, seed) => {
      const target = makeTarget(programScenario, "only", { params: { program } });
      const spec = specs[s];
      const whole = walk(target, subtreeStrategy(spec, []), seed);
      const parts = walkSplit(target, spec, seed, 5);
      assertEquals(sorted(parts.schedules), sorted(whole.schedules));
      if (parts.subtrees > 1) split++;
    }),
    { numRuns: 300, seed: 10 },
  );
  assert(split > 200, `only ${split} programs split`);
});

Deno.test("split DPOR reaches exactly the final states and failures of full DFS", () => {
  fc.assert(
    fc.property(programArb, fc.boolean(), (program, random) => {
      const target = makeTarget(programScenario, "only", { params: { program } });
      const dfs = walk(target, new DfsStrategy(), 0);
      const spec: TreeSpec = { strategy: "dpor", ...(random ? { order: "random" } : {}) };
      const parts = walkSplit(target, spec, 3, 6);
      assertEquals(sorted(parts.finals), sorted(dfs.finals));
      assertEquals(sorted(parts.failures), sorted(dfs.failures));
    }),
    { numRuns: 500, seed: 11 },
  );
});

Deno.test("split DPOR with sync objects: DFS's final states, and about as many complete schedules as one DPOR", () => {
  let skipped = 0, split = 0, one = 0, unseeded = 0;
  fc.assert(
    fc.property(syncProgramArb, fc.constantFrom(4, 16), fc.boolean(), (program, n, source) => {
      const target = makeTarget(programScenario, "only", { params: { program } });
      const dfs = walk(target, new DfsStrategy(), 0);
      const spec: TreeSpec = { strategy: "dpor", ...(source ? { dpor: "source" } : {}) };
      const whole = walk(target, subtreeStrategy(spec, []), 0);
      const parts = walkSplit(target, spec, 0, n);
      assertEquals(sorted(parts.finals), sorted(dfs.finals));
      assertEquals(sorted(parts.failures), sorted(dfs.failures));
      if (!source) {
        split += parts.schedules.length;
        one += whole.schedules.length;
        unseeded += walkSplit(target, spec, 0, n, false).schedules.length;
      }
      if (parts.schedules.length < parts.subtrees) skipped++;
    }),
    { numRuns: 300, seed: 13 },
  );
  // The earlier subtrees' first steps are asleep in the later ones: most
  // classes two subtrees would share are explored once (measured: 586
  // complete schedules split, 418 whole, 2,396 split without sleeping).
  const counts = `split ${split}, whole ${one}, split without siblings asleep ${unseeded}`;
  assert(split <= one * 1.5 && split * 3 <= unseeded, counts);
  assert(skipped > 30, `only ${skipped} programs had a subtree that repeats an earlier one`);
});

Deno.test("split bounded DPOR reaches exactly what DFS with the same bound reaches, in any order", () => {
  const kinds = fc.constantFrom("preemptions" as const, "delays" as const);
  fc.assert(
    fc.property(programArb, kinds, fc.nat({ max: 2 }), fc.nat({ max: 3 }), (p, kind, k, seed) => {
      const target = makeTarget(programScenario, "only", { params: { program: p } });
      const dfs = walk(target, new DfsStrategy({ [kind]: k }), 0);
      const order = seed > 0 ? { order: "random" as const } : {};
      const spec: TreeSpec = { strategy: "dpor", dpor: "source", [kind]: k, ...order };
      const parts = walkSplit(target, spec, seed, 4);
      assertEquals(sorted(parts.finals), sorted(dfs.finals));
      assertEquals(sorted(parts.failures), sorted(dfs.failures));
      // And interleaved, as `--order random` runs it.
      if (seed === 0) return;
      const mixed = walk(target, new InterleavedStrategy(target, spec, 4), seed);
      assertEquals(sorted(mixed.finals), sorted(dfs.finals));
      assertEquals(sorted(mixed.failures), sorted(dfs.failures));
    }),
    { numRuns: 120, seed: 12 },
  );
});

Deno.test("shards split the subtrees: their schedules add up to one process's, for any count", () => {
  const target = makeTarget(lostUpdate, "locked", { params: { fibers: 3, localWork: 1 } });
  for (const spec of [{ strategy: "dfs" }, { strategy: "dpor" }] as TreeSpec[]) {
    const one = exploreSplit(target, spec, { runs: 1e6, seed: 0 });
    assert(one.exhausted);
    assert(one.frontier.prefixes.length >= 4, `${one.frontier.prefixes.length} subtrees`);
    for (const count of [2, 3, 5]) {
      let schedules = 0;
      for (let index = 0; index < count; index++) {
        const shard = { index, of: count };
        const r = exploreSplit(target, spec, { runs: 1e6, seed: 0, shard });
        assert(r.exhausted);
        assertEquals(r.failures.length, 0);
        schedules += r.schedules;
      }
      assertEquals(schedules, one.schedules, `${spec.strategy}, ${count} shards`);
    }
  }
});

Deno.test("split DFS runs exactly the schedules of one DFS; the first failure is the same", () => {
  const locked = makeTarget(lostUpdate, "locked", { params: { fibers: 3, localWork: 1 } });
  const whole = exploreExhaustive(locked, new DfsStrategy(), { runs: 1e6 });
  const split = exploreSplit(locked, { strategy: "dfs" }, { runs: 1e6, seed: 0 });
  assertEquals([split.schedules, split.exhausted], [whole.schedules, true]);
  for (const order of ["default", "random"] as const) {
    const racy = makeTarget(lostUpdate, "racy", { params: { fibers: 4 } });
    const one = exploreExhaustive(racy, new DfsStrategy({ order }), { runs: 1e6, seed: 9 });
    const first = exploreSplit(racy, { strategy: "dfs", order }, { runs: 1e6, seed: 9 });
    assertEquals(first.failures[0].schedule, one.failures[0].schedule);
    assertEquals(first.failures[0].decisions, one.failures[0].decisions);
  }
});

Deno.test("strategies that cannot be split say so", () => {
  assertThrows(() => treeSpecOf(new IterativeDfsStrategy()), UsageError, "--iterative");
  assertEquals(treeSpecOf(new DfsStrategy({ delays: 2, order: "random" })), {
    strategy: "dfs",
    delays: 2,
    order: "random",
  });
});

Deno.test("interleaved subtrees: the same schedules as one DFS, and DPOR's final states", () => {
  fc.assert(
    fc.property(programArb, fc.nat({ max: 5 }), (program, seed) => {
      const target = makeTarget(programScenario, "only", { params: { program } });
      const dfs = walk(target, new DfsStrategy(), 0);
      const spec: TreeSpec = { strategy: "dfs", order: "random" };
      const rr = walk(target, new InterleavedStrategy(target, spec, 4), seed);
      assertEquals(sorted(rr.schedules), sorted(dfs.schedules));
      const dpor = walk(target, new InterleavedStrategy(target, { strategy: "dpor" }, 4), seed);
      assertEquals(sorted(dpor.finals), sorted(dfs.finals));
      assertEquals(sorted(dpor.failures), sorted(dfs.failures));
    }),
    { numRuns: 200, seed: 12 },
  );
});
