import { assert, assertEquals } from "../deps.ts";
import { lazySlice } from "./lazy_slice.ts";
import { judgeVariant } from "./_judge.ts";

Deno.test("lazy-slice: DPOR exhausts three collections against three reads", () => {
  const r = judgeVariant(lazySlice, "copy-out", { params: { collections: 3, reads: 3 } });
  assert(r.ok && r.exploration?.exhausted, r.outcome?.message);
});

Deno.test("lazy-slice: pinning and not copying out are found by every strategy", () => {
  for (const strategy of ["random", "pct", "dpor"]) {
    assertEquals(judgeVariant(lazySlice, "pin", { strategy }).outcome?.check, "slice-slack");
    assertEquals(
      judgeVariant(lazySlice, "no-copy-out", { strategy }).outcome?.check,
      "free-safety",
    );
  }
});
