import { assert, assertEquals, assertMatch } from "../deps.ts";
import type { Cell } from "../sim/cell.ts";
import { DporStrategy } from "../sim/dpor.ts";
import { exploreExhaustive } from "../sim/exhaustive.ts";
import { makeTarget } from "../sim/explore.ts";
import { Kernel } from "../sim/kernel.ts";
import type { Outcome } from "../sim/outcome.ts";
import { RandomStrategy } from "../sim/random.ts";
import { defineScenario } from "../sim/scenario.ts";
import { z } from "zod";
import { Stm, type StmOptions, type Tx } from "./atomic.ts";
import { TxHistory } from "./atomic_check.ts";
import { Regions } from "./regions.ts";

function kernel(seed = 1, stepsMax = 2_000): Kernel {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax }, new RandomStrategy(), seed);
  return k;
}

function* bump(tx: Tx, c: Cell<number>) {
  tx.write(c, (yield* tx.read(c)) + 1);
}

function* bumper(r: Regions, c: Cell<number>, times: number) {
  for (let i = 0; i < times; i++) yield* r.atomic(bump, c);
}

Deno.test("transactions never lose an increment, and conflicts abort and retry", () => {
  let aborts = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const k = kernel(seed);
    const stm = Stm.of(k).configure({ observer: new TxHistory() });
    const c = k.cell("c", 0);
    for (let i = 0; i < 3; i++) k.spawn(`b${i}`, bumper, Regions.of(k), c, 2);
    const o = k.execute();
    assertEquals(o.verdict, "pass", `seed ${seed}: ${o.message}`);
    assertEquals(c.peek(), 6);
    assertEquals(stm.stats.commits, 6);
    aborts += stm.stats.aborts;
  }
  assert(aborts > 0, "no conflict in 200 random runs: the test would not see a retry");
});

Deno.test("without validation an increment is lost and the checker says serializable", () => {
  let lost = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const k = kernel(seed);
    Stm.of(k).configure({ validate: false, observer: new TxHistory() });
    const c = k.cell("c", 0);
    for (let i = 0; i < 2; i++) k.spawn(`b${i}`, bumper, Regions.of(k), c, 1);
    const o = k.execute();
    if (o.verdict === "pass") {
      assertEquals(c.peek(), 2);
    } else {
      assertEquals(o.check, "serializable");
      lost++;
    }
  }
  assert(lost > 0 && lost < 200, `lost in ${lost} of 200 runs`);
});

function* inner(tx: Tx, c: Cell<number>, log: string[]) {
  const v = yield* tx.read(c);
  log.push(`inner read ${v}`);
  tx.write(c, v + 10);
}

function* outer(tx: Tx, r: Regions, a: Cell<number>, c: Cell<number>, log: string[]) {
  tx.write(a, (yield* tx.read(a)) + 1);
  yield* r.atomic(inner, c, log);
  log.push(`outer sees ${yield* tx.read(c)} at depth ${tx.depth}`);
}

function* runOuter(r: Regions, a: Cell<number>, c: Cell<number>, log: string[]) {
  yield* r.atomic(outer, r, a, c, log);
}

Deno.test("a nested region commits into its parent: the parent sees its writes, memory only at the end", () => {
  const k = kernel();
  const r = Regions.of(k);
  const [a, c] = [k.cell("a", 0), k.cell("c", 0)];
  const log: string[] = [];
  k.spawn("t", runOuter, r, a, c, log);
  assertEquals(k.execute().verdict, "pass");
  assertEquals(log, ["inner read 0", "outer sees 10 at depth 0"]);
  assertEquals([a.peek(), c.peek()], [1, 10]);
});

// The inner region reads x, then y. A rival commits x and y in between: the
// inner read set is stale, the outer one (a) still holds, so only the inner
// region runs again. Flat abort loses the outer write of a.
function* innerXY(tx: Tx, x: Cell<number>, y: Cell<number>, log: string[]) {
  const vx = yield* tx.read(x);
  const vy = yield* tx.read(y);
  log.push(`inner ${vx},${vy}`);
  tx.write(x, vx - 1);
  tx.write(y, vy + 1);
}

function* outerA(
  tx: Tx,
  r: Regions,
  a: Cell<number>,
  x: Cell<number>,
  y: Cell<number>,
  log: string[],
) {
  tx.write(a, (yield* tx.read(a)) + 1);
  yield* r.atomic(innerXY, x, y, log);
}

function* nester(r: Regions, a: Cell<number>, x: Cell<number>, y: Cell<number>, log: string[]) {
  yield* r.atomic(outerA, r, a, x, y, log);
}

function* rivalXY(tx: Tx, x: Cell<number>, y: Cell<number>) {
  tx.write(x, (yield* tx.read(x)) + 5);
  tx.write(y, (yield* tx.read(y)) + 5);
}

function* rival(r: Regions, x: Cell<number>, y: Cell<number>) {
  yield* r.atomic(rivalXY, x, y);
}

function nestedWorld(k: Kernel, options: StmOptions, log: string[]) {
  const r = Regions.of(k);
  const stm = Stm.of(k).configure({ ...options, observer: new TxHistory() });
  const [a, x, y] = [k.cell("a", 0), k.cell("x", 0), k.cell("y", 0)];
  k.spawn("nester", nester, r, a, x, y, log);
  k.spawn("rival", rival, r, x, y);
  return { stm, a, x, y };
}

Deno.test("closed nesting: an inner conflict re-runs only the inner region, the outer write survives", () => {
  let innerAborts = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const k = kernel(seed);
    const log: string[] = [];
    const { stm, a, x, y } = nestedWorld(k, {}, log);
    const o = k.execute();
    assertEquals(o.verdict, "pass", `seed ${seed}: ${o.message}`);
    assertEquals([a.peek(), x.peek() + y.peek()], [1, 10]);
    innerAborts += stm.stats.innerAborts;
  }
  assert(innerAborts > 0, "no inner abort in 300 runs");
});

Deno.test("flat abort: an inner abort drops the outer's write, which DPOR finds", () => {
  const scenario = defineScenario({
    name: "nested-flat",
    description: "",
    params: z.object({}),
    variants: {
      closed: {
        description: "",
        expect: { verdict: "pass", budget: { strategy: "dpor", runs: 1 } },
      },
      "flat-abort": {
        description: "",
        expect: { verdict: "bug", budget: { strategy: "dpor", runs: 1 } },
      },
    },
    setup(k, _p, variant) {
      const { a } = nestedWorld(k, { nesting: variant as "closed" | "flat-abort" }, []);
      k.invariant("outer-write", () => a.peek() === 1 || `a is ${a.peek()}, expected 1`);
    },
  });
  const closed = exploreExhaustive(makeTarget(scenario, "closed"), new DporStrategy(), {
    runs: 10_000,
    seed: 1,
  });
  assert(closed.exhausted && closed.failures.length === 0);
  const flat = exploreExhaustive(makeTarget(scenario, "flat-abort"), new DporStrategy(), {
    runs: 10_000,
    seed: 1,
  });
  assertEquals(flat.failures[0]?.outcome.check, "outer-write");
});

/** A sink that logs what reaches it, one step per post. */
class Log {
  readonly items: string[] = [];
  readonly #cell: Cell<number>;
  constructor(k: Kernel) {
    this.#cell = k.cell("log", 0);
  }
  *post(m: string) {
    yield* this.#cell.write(this.items.length + 1);
    this.items.push(m);
  }
}

function* sender(tx: Tx, c: Cell<number>, out: Log) {
  const v = yield* tx.read(c);
  tx.send(out, `saw ${v}`);
  tx.write(c, v + 1);
}

function* sends(r: Regions, c: Cell<number>, out: Log) {
  yield* r.atomic(sender, c, out);
}

Deno.test("a send inside a transaction reaches its sink once, after the commit, never from an aborted attempt", () => {
  let retried = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const k = kernel(seed);
    const stm = Stm.of(k);
    const c = k.cell("c", 0);
    const out = new Log(k);
    k.spawn("s0", sends, Regions.of(k), c, out);
    k.spawn("s1", sends, Regions.of(k), c, out);
    assertEquals(k.execute().verdict, "pass");
    assertEquals([...out.items].sort(), ["saw 0", "saw 1"]);
    retried += stm.stats.aborts;
  }
  assert(retried > 0);
});

function* waits(tx: Tx, r: Regions, c: Cell<number>) {
  yield* tx.read(c);
  yield* r.ltimer(1);
}

function* inSim(r: Regions, c: Cell<number>) {
  return yield* r.atomic(waits, r, c);
}

function* simThenAtomic(r: Regions, c: Cell<number>) {
  yield* r.sim(bumper, r, c, 2);
}

function run(build: (k: Kernel, r: Regions) => void, seed = 1): Outcome {
  const k = kernel(seed);
  build(k, Regions.of(k));
  return k.execute();
}

Deno.test("ltimer inside a transaction is refused with a clear crash; atomic inside sim works", () => {
  const refused = run((k, r) => {
    k.spawn("m", function* () {
      yield* r.sim(inSim, r, k.cell("c", 0));
    });
  });
  assertEquals(refused.verdict, "crash");
  assertMatch(refused.message, /called ltimer inside an atomic region/);
  for (let seed = 1; seed <= 20; seed++) {
    let c: Cell<number> | null = null;
    const o = run((k, r) => {
      c = k.cell("c", 0);
      k.spawn("a", simThenAtomic, r, c);
      k.spawn("b", simThenAtomic, r, c);
    }, seed);
    assertEquals(o.verdict, "pass");
    assertEquals((c as unknown as Cell<number>).peek(), 4);
  }
});

function* spin(tx: Tx, c: Cell<number>) {
  yield* tx.read(c);
  // Another fiber always commits between this read and the commit.
}

function* spinner(r: Regions, c: Cell<number>) {
  yield* r.atomic(spin, c);
}

function* writerLoop(r: Regions, c: Cell<number>) {
  for (;;) yield* r.atomic(bump, c);
}

Deno.test("a transaction that keeps aborting ends the run with step-limit (retry-limit)", () => {
  // A scheduler that lets the writer commit once between the spinner's read
  // and the spinner's commit, every time.
  const k = new Kernel();
  let writerCommitted = false;
  k.reset({ cores: 0, stepsMax: 100_000 }, {
    name: "adversary",
    options: () => ({}),
    begin() {},
    pickFiber(eligible, count) {
      let s = -1;
      let w = -1;
      for (let i = 0; i < count; i++) {
        if (eligible[i].name === "spinner") s = i;
        if (eligible[i].name === "writer") w = i;
      }
      if (s < 0 || w < 0) return 0;
      if (eligible[s].pending?.kind !== "commit" || writerCommitted) {
        writerCommitted = false;
        return s;
      }
      if (eligible[w].pending?.kind === "commit") writerCommitted = true;
      return w;
    },
    pickValue: () => 0,
  }, 1);
  Stm.of(k).configure({ retriesMax: 5 });
  const c = k.cell("c", 0);
  const r = Regions.of(k);
  k.spawn("spinner", spinner, r, c);
  k.spawn({ name: "writer", daemon: true }, writerLoop, r, c);
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["step-limit", "retry-limit"]);
  assertMatch(o.message, /spinner's transaction aborted 6 times/);
});
