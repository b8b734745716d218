import { assert, assertEquals } from "../deps.ts";
import { catalog, lostUpdate } from "../scenarios/mod.ts";
import { DporStrategy } from "./dpor.ts";
import { exploreExhaustive } from "./exhaustive.ts";
import { makeTarget } from "./explore.ts";
import type { AnyScenario } from "./scenario.ts";
import { verifyPass } from "./verified.ts";

Deno.test("every pass variant that declares a size is exhausted there by DPOR, and passes", () => {
  let declared = 0;
  for (const s of catalog) {
    for (const [name, v] of Object.entries(s.variants)) {
      if (v.expect.verify === undefined) continue;
      assertEquals(v.expect.verdict, "pass", `${s.name}/${name} declares a size but is not pass`);
      const r = verifyPass(makeTarget(s, name));
      assert(r !== null);
      assert(r.result.exhausted, `${s.name}/${name}: not exhausted in ${r.result.schedules}`);
      assertEquals(r.result.failures.length, 0, `${s.name}/${name}`);
      assert(r.ok);
      declared++;
    }
  }
  assert(declared >= 8, `${declared} variants declare a size`);
});

Deno.test("a broken variant declared pass is not verified: DPOR finds the failure", () => {
  const racyAsPass = {
    ...lostUpdate,
    variants: {
      racy: {
        description: "racy, wrongly declared pass",
        expect: {
          verdict: "pass" as const,
          budget: { strategy: "random" as const, runs: 1 },
          verify: { runs: 100, params: { fibers: 2 } },
        },
      },
    },
  } as AnyScenario;
  const r = verifyPass(makeTarget(racyAsPass, "racy"));
  assertEquals(r?.ok, false);
  assertEquals(r?.result.failures[0].outcome.check, "no-lost-update");
});

Deno.test("a size too large for its schedule budget is not verified", () => {
  const big = {
    ...lostUpdate,
    variants: {
      locked: {
        description: "locked, with too small a budget",
        expect: {
          verdict: "pass" as const,
          budget: { strategy: "random" as const, runs: 1 },
          verify: { runs: 3, params: { fibers: 4 } },
        },
      },
    },
  } as AnyScenario;
  const r = verifyPass(makeTarget(big, "locked"));
  assertEquals([r?.ok, r?.result.exhausted, r?.result.schedules], [false, false, 3]);
});

/**
 * A declared size must still hold the bug: the broken siblings of a verified
 * variant fail at that size, found by DPOR within the same schedule budget.
 */
const SIBLINGS: Record<string, readonly string[]> = {
  "gc-free-list/pinned": ["unpinned"],
  "gc-mark-sweep/no-reset": ["no-barrier"],
  "logical-timers/nested": ["parent-future"],
  "work-stealing/chase-lev": ["no-cas-last", "steal-read-after-cas"],
  "work-stealing/chase-lev-fenced": ["take-no-fence"],
};

Deno.test("the broken siblings of a verified variant fail at its declared size", () => {
  for (const [label, broken] of Object.entries(SIBLINGS)) {
    const [name, variant] = label.split("/");
    const s = catalog.find((c) => c.name === name);
    assert(s !== undefined, name);
    const verify = s.variants[variant].expect.verify;
    assert(verify !== undefined, `${label} declares no size`);
    for (const b of broken) {
      const target = makeTarget(s, b, { params: verify.params ?? {} });
      const r = exploreExhaustive(target, new DporStrategy(), { runs: verify.runs });
      assert(r.failures.length > 0, `${name}/${b} passes at ${label}'s size`);
      const expect = s.variants[b].expect;
      const checks = expect.checks ?? (expect.check === undefined ? [] : [expect.check]);
      if (checks.length > 0) assert(checks.includes(r.failures[0].outcome.check), `${name}/${b}`);
    }
  }
});
