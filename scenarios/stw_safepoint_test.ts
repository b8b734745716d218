import { assert, assertEquals, assertThrows } from "../deps.ts";
import { createStrategy, makeTarget, sweep } from "../sim/explore.ts";
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
