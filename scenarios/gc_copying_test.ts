import { assert, assertEquals } from "../deps.ts";
import { gcCopying } from "./gc_copying.ts";
import { judgeVariant } from "./_judge.ts";

Deno.test("gc-copying: DPOR exhausts two one-cell scripts; bigger worlds pass random runs", () => {
  const small = judgeVariant(gcCopying, "cheney", {
    params: { scripts: 2, length: 1 },
    strategy: "dpor",
    runs: 1_000,
  });
  assert(small.ok && small.exploration?.exhausted, `${small.runs} schedules`);
  const big = judgeVariant(gcCopying, "cheney", { params: { scripts: 4, length: 5 }, runs: 200 });
  assert(big.ok, big.outcome?.message);
});

Deno.test("gc-copying: without forwarding the first shared cell is copied twice", () => {
  const r = judgeVariant(gcCopying, "no-forwarding", { strategy: "dpor", runs: 10 });
  assertEquals([r.outcome?.check, r.runs], ["copied-once", 1]);
});
