import { assert, assertEquals, assertThrows } from "../deps.ts";
import { Faults } from "../runtime/faults.ts";
import { createStrategy, judge, makeTarget, planFor, Runner, sweep } from "../sim/explore.ts";
import { stwSafepoint } from "./stw_safepoint.ts";
import { judgeVariant } from "./_judge.ts";

Deno.test("stw-safepoint: DPOR exhausts two mutators with one event and one collection", () => {
  const r = judgeVariant(stwSafepoint, "correct", {
    params: { mutators: 2, events: 1, semispaceBytes: 136 },
    strategy: "dpor",
    runs: 2_000,
  });
  assert(r.ok && r.exploration?.exhausted, `${r.runs} schedules: ${r.outcome?.message}`);
});

Deno.test("stw-safepoint: a missing safepoint is caught by checks that know nothing of safepoints", () => {
  // The copy's graph comparison, the heap's poisoning and the scenario's ledger: never a
  // check of the safepoint module, which has none.
  const independent = new Set([
    "copy-isomorphic",
    "mutator-state",
    "use-after-free",
    "free-safety",
  ]);
  const target = makeTarget(stwSafepoint, "missing-safepoint");
  const r = sweep(target, {
    strategy: createStrategy("random", target, {}),
    seed: 1,
    runs: 300,
    keepGoing: true,
  });
  assert(r.failures.length > 0 && r.failures.length < r.runs / 2, `${r.failures.length} failures`);
  const seen = new Set<string>();
  for (const f of r.failures) {
    assertEquals(f.outcome.verdict, "bug", f.outcome.message);
    assert(independent.has(f.outcome.check), f.outcome.check);
    seen.add(f.outcome.check);
  }
  assert(seen.has("mutator-state"), [...seen].join());
});

Deno.test("stw-safepoint: a lost resume is a deadlock naming the parked mutator", () => {
  const r = judgeVariant(stwSafepoint, "lost-resume");
  assertEquals([r.ok, r.outcome?.verdict], [true, "deadlock"]);
  assert(/m\d waits for a resume, but m\d's stop of the world has ended/.test(r.outcome!.message));
});

Deno.test("stw-safepoint: a semispace too small for the live set is a one-line usage error", () => {
  assertThrows(
    () => makeTarget(stwSafepoint, "correct", { params: { semispaceBytes: 100 } }),
    Error,
    "semispaceBytes is too small",
  );
});

Deno.test("stw-safepoint: DPOR finds both broken variants at the small size within a few schedules", () => {
  const small = { mutators: 2, events: 1, semispaceBytes: 136 };
  const missing = judgeVariant(stwSafepoint, "missing-safepoint", {
    params: small,
    strategy: "dpor",
    runs: 100,
  });
  // A count written to the record after it was copied is lost with the old copy.
  assertEquals([missing.ok, missing.outcome?.check], [true, "mutator-state"]);
  const lost = judgeVariant(stwSafepoint, "lost-resume", {
    params: small,
    strategy: "dpor",
    runs: 100,
  });
  assertEquals([lost.ok, lost.outcome?.verdict], [true, "deadlock"]);
  assert(missing.runs < 100 && lost.runs < 100, `${missing.runs} and ${lost.runs} schedules`);
});

Deno.test("stw-safepoint: correct survives injected allocation failures and early collections", () => {
  const faults = { alloc: 0.2, collect: 0.2 };
  const target = makeTarget(stwSafepoint, "correct", { params: { faults } });
  const runner = new Runner(target);
  const strategy = createStrategy("random", target);
  const fired = { alloc: 0, collect: 0 };
  for (let seed = 1; seed <= 200; seed++) {
    const o = runner.run(strategy, seed);
    assertEquals(o.verdict, "pass", `seed ${seed}: ${o.message}`);
    const f = Faults.of(runner.kernel).fired;
    fired.alloc += f.alloc;
    fired.collect += f.collect;
  }
  // The faults did fire, often: the runs above were not fault-free by luck.
  assert(fired.alloc > 100 && fired.collect > 100, JSON.stringify(fired));
});

Deno.test("stw-safepoint under swarm: correct passes, both broken variants are found in budget", () => {
  for (const strategy of ["random", "pct"]) {
    const target = makeTarget(stwSafepoint, "correct", { swarm: true });
    const r = judge(target, { ...planFor(target, { strategy, runs: 200 }), seed: 1 });
    assert(r.ok, `${strategy}: ${r.outcome?.message}`);
  }
  for (const variant of ["missing-safepoint", "lost-resume"]) {
    const target = makeTarget(stwSafepoint, variant, { swarm: true });
    const r = judge(target, { ...planFor(target), seed: 1 });
    assert(r.ok && r.failures.length > 0, `${variant} not found under swarm`);
  }
});
