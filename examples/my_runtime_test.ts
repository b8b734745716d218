// Scenarios judged inside `deno test`, as fast-check's `fc.assert` judges a
// property. Run with: deno test --allow-read --allow-write examples/
import { assertScenario, testScenario } from "../mod.ts";
import ticketDispenser from "./ticket_lock.ts";

// One Deno.test with a step per variant, each within the budget it declares:
// `atomic` must pass DPOR's whole space, `racy` must be caught.
testScenario(ticketDispenser, { source: "examples/ticket_lock.ts", out: "sim-out/examples" });

// One call with overrides: more callers, a fixed strategy and seed.
Deno.test("four callers with atomic tickets pass 300 PCT runs", async () => {
  await assertScenario(ticketDispenser, {
    variant: "atomic",
    params: { callers: 4 },
    strategy: "pct",
    runs: 300,
    seed: 7,
    source: "examples/ticket_lock.ts",
  });
});
