/**
 * A user's own runtime piece, modelled as a scenario: a ticket dispenser that
 * hands each caller a unique ticket. `racy` reads and then writes the counter;
 * `atomic` uses fetch-and-add. Judged inside `deno test` by
 * `examples/my_runtime_test.ts`.
 *
 * @module
 */
import { type Cell, defineScenario, z } from "../mod.ts";

function* takeAtomic(next: Cell<number>, issued: Cell<number>[], i: number) {
  const t = yield* next.fetchAdd(1);
  yield* issued[i].write(t);
}

function* takeRacy(next: Cell<number>, issued: Cell<number>[], i: number) {
  const t = yield* next.read();
  yield* next.write(t + 1);
  yield* issued[i].write(t);
}

export default defineScenario({
  name: "ticket-dispenser",
  description: "callers take tickets from a shared counter; no two get the same ticket",
  params: z.object({ callers: z.number().int().min(2).max(8).default(3) }),
  variants: {
    atomic: {
      description: "fetch-and-add: every ticket unique",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 10_000 } },
    },
    racy: {
      description: "read, then write: two callers can read the same value",
      expect: {
        verdict: "bug",
        check: "unique-tickets",
        budget: { strategy: "portfolio", runs: 200 },
      },
    },
  },
  setup(k, { callers }, variant) {
    const next = k.cell("next", 0);
    const issued = Array.from({ length: callers }, (_, i) => k.cell(`issued${i}`, -1));
    const body = variant === "racy" ? takeRacy : takeAtomic;
    for (let i = 0; i < callers; i++) k.spawn(`caller${i}`, body, next, issued, i);
    k.invariant("unique-tickets", () => {
      const seen = new Set(issued.map((c) => c.peek()));
      return seen.size === callers || `tickets ${issued.map((c) => c.peek()).join(", ")}`;
    });
  },
});
