import { assert } from "../deps.ts";
import type { Cell } from "./cell.ts";
import { Kernel } from "./kernel.ts";
import { PctStrategy } from "./pct.ts";

function* twoSteps(c: Cell<number>, log: string[], me: string) {
  for (let i = 0; i < 2; i++) {
    yield* c.write(i);
    log.push(me);
  }
}

Deno.test("PCT at depth 3 can switch A -> B -> A -> B between two fibers that never block", () => {
  // Each change point must drop its fiber below the one demoted before it;
  // otherwise the first demoted fiber stays lowest and ABAB never happens.
  const k = new Kernel();
  const pct = new PctStrategy({ depth: 3, steps: 4 });
  const seen = new Set<string>();
  for (let seed = 0; seed < 500; seed++) {
    k.reset({ cores: 0, stepsMax: 100 }, pct, seed);
    const c = k.cell("c", 0);
    const log: string[] = [];
    k.spawn("a", twoSteps, c, log, "a");
    k.spawn("b", twoSteps, c, log, "b");
    k.execute();
    seen.add(log.join(""));
  }
  assert(seen.has("abab") || seen.has("baba"), `orders seen: ${[...seen].sort().join(", ")}`);
});
