import { assert, assertEquals, assertMatch } from "../deps.ts";
import { gcFreeList } from "./gc_free_list.ts";
import { judgeVariant } from "./_judge.ts";

Deno.test("gc-free-list: an unpinned message is freed by its owner's local sweep, by any strategy", () => {
  for (const strategy of ["random", "pct", "dpor"]) {
    const r = judgeVariant(gcFreeList, "unpinned", { strategy, runs: 100 });
    assertEquals(r.outcome?.check, "free-safety", strategy);
    assertMatch(
      r.outcome?.message ?? "",
      /freed msg\d, which is still reachable: (outbox\d|reader\d\.r0) → msg\d/,
    );
  }
});

Deno.test("gc-free-list: a sweep frees the unpinned message only if it beats the reader", () => {
  // Sweeping starts with the sixth churn allocation; churning five times never sweeps.
  const early = judgeVariant(gcFreeList, "unpinned", { params: { churn: 5 }, runs: 300 });
  assert(early.ok === false && early.outcome === undefined, early.outcome?.message);
  // A tiny page sweeps at the first churn allocation, before any reader can take the message.
  const tiny = judgeVariant(gcFreeList, "unpinned", { params: { cells: 3 }, strategy: "dpor" });
  assertEquals([tiny.outcome?.check, tiny.runs], ["free-safety", 1]);
});

Deno.test("gc-free-list: pinned messages survive many sweeps on tiny pages", () => {
  const r = judgeVariant(gcFreeList, "pinned", {
    params: { workers: 4, cells: 3, churn: 12 },
    strategy: "random",
    runs: 300,
  });
  assert(r.ok, r.outcome?.message);
});
