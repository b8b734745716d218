import { assert, assertEquals, assertMatch } from "../deps.ts";
import { gcFreeList } from "./gc_free_list.ts";
import { judgeVariant } from "./_judge.ts";

Deno.test("gc-free-list: an unpinned message is freed by its owner's local sweep, by any strategy", () => {
  for (const strategy of ["random", "pct", "dpor"]) {
    const r = judgeVariant(gcFreeList, "unpinned", { strategy });
    assertEquals([r.outcome?.check, r.runs], ["free-safety", 1]);
    assertMatch(
      r.outcome?.message ?? "",
      /freed msg\d, which is still reachable: outbox\d → msg\d/,
    );
  }
});

Deno.test("gc-free-list: pinned messages survive many sweeps on tiny pages", () => {
  const r = judgeVariant(gcFreeList, "pinned", {
    params: { workers: 4, cells: 3, churn: 12 },
    strategy: "random",
    runs: 300,
  });
  assert(r.ok, r.outcome?.message);
});
