import { assert, assertEquals } from "../deps.ts";
import { gcCompaction } from "./gc_compaction.ts";
import { judgeVariant } from "./_judge.ts";

Deno.test("gc-compaction: unguarded readers are found by DPOR at once and by PCT", () => {
  const dpor = judgeVariant(gcCompaction, "unguarded", { strategy: "dpor", runs: 100 });
  assertEquals(dpor.outcome?.check, "free-safety");
  assert(dpor.runs <= 5, `${dpor.runs} schedules`);
  const pct = judgeVariant(gcCompaction, "unguarded");
  assertEquals(pct.outcome?.check, "free-safety");
});

Deno.test("gc-compaction: guarded readers pass with more messages and compactions", () => {
  const r = judgeVariant(gcCompaction, "rwlock", {
    params: { messages: 3, length: 4, compactions: 3, garbage: 2 },
    strategy: "pct",
    runs: 300,
  });
  assert(r.ok, r.outcome?.message);
});
