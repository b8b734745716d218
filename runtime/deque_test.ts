import { assertEquals, assertMatch, assertThrows } from "../deps.ts";
import type { Fiber } from "../sim/fiber.ts";
import { Kernel } from "../sim/kernel.ts";
import { RandomStrategy } from "../sim/random.ts";
import type { Strategy } from "../sim/strategy.ts";
import { Deque, type DequeFlaw, type Stolen } from "./deque.ts";

/**
 * Runs the fibers in the order a script names them, one letter per choice
 * (the first letter of the fiber's name), so a test can force the exact
 * interleaving a bug needs.
 */
class ScriptStrategy implements Strategy {
  readonly name = "script";
  #at = 0;
  constructor(readonly script: string) {}
  options(): Record<string, string> {
    return { script: this.script };
  }
  begin(): void {
    this.#at = 0;
  }
  pickFiber(eligible: readonly Fiber[], count: number): number {
    const want = this.script[this.#at++] ?? eligible[0].name[0];
    for (let i = 0; i < count; i++) if (eligible[i].name[0] === want) return i;
    throw new Error(`script step ${this.#at}: ${want} is not eligible`);
  }
  pickValue(): number {
    return 0;
  }
}

function kernel(strategy: Strategy = new RandomStrategy(), seed = 1): Kernel {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax: 10_000 }, strategy, seed);
  return k;
}

function* pushThenTake(d: Deque<string>, items: string[], takes: number, got: unknown[]) {
  for (const x of items) yield* d.push(x);
  for (let i = 0; i < takes; i++) got.push(yield* d.take());
}

function* stealOnce(d: Deque<string>, got: unknown[]) {
  got.push(yield* d.steal());
}

Deno.test("the owner takes newest first, thieves steal oldest first, across a growth", () => {
  const k = kernel();
  const d = new Deque<string>(k, "dq", { capacity: 2 });
  const got: unknown[] = [];
  k.spawn("owner", pushThenTake, d, ["a", "b", "c", "d", "e"], 2, got);
  assertEquals(k.execute().verdict, "pass");
  assertEquals(got, [{ tag: "ok", value: "e" }, { tag: "ok", value: "d" }]);
  assertEquals([d.peekLength(), d.peekSize()], [3, 8]);
});

Deno.test("a deque refuses bad sizes and fails clearly past capacityMax", () => {
  const k = kernel();
  assertThrows(() => new Deque(k, "dq", { capacity: 3 }), /powers of two/);
  assertThrows(() => new Deque(k, "dq", { capacity: 4, capacityMax: 2 }), /below capacity/);
  const d = new Deque<string>(k, "dq", { capacity: 2, capacityMax: 2 });
  k.spawn("owner", pushThenTake, d, ["a", "b", "c"], 0, []);
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["crash", "RangeError"]);
  assertMatch(o.message, /may not grow past capacityMax 2/);
});

/**
 * The owner holds one element and takes it while a thief steals. The thief
 * reads top and bottom (2 steps), the owner runs take up to its read of top
 * (read bottom, read array, write bottom, read top), the thief finishes
 * (read array, read slot, CAS), then the owner finishes.
 */
function lastElementRace(flaw: DequeFlaw | null): unknown[] {
  const k = kernel(new ScriptStrategy("ooooo" + "tt" + "oooo" + "ttt" + "ooo"));
  const d = new Deque<string>(k, "dq", { capacity: 2, flaw });
  const got: unknown[] = [];
  k.spawn("owner", pushThenTake, d, ["x"], 1, got);
  k.spawn("thief", stealOnce, d, got);
  assertEquals(k.execute().verdict, "pass");
  return got;
}

Deno.test("no-cas-last: owner and thief both get the last element; with the CAS, only one", () => {
  assertEquals(lastElementRace("no-cas-last"), [
    { tag: "ok", value: "x" },
    { tag: "ok", value: "x" },
  ]);
  assertEquals(lastElementRace(null), [{ tag: "ok", value: "x" }, { tag: "empty" }]);
});

function* pushAll(d: Deque<string>, items: string[]) {
  for (const x of items) yield* d.push(x);
}

/**
 * The owner fills its 2-slot array with a and b (10 steps); the thief reads
 * top, bottom and the array; then, for `steal-read-after-cas`, it CASes (1
 * step) before the owner pushes c, which wraps around into slot 0 because
 * top moved (5 steps); the thief reads slot 0 last.
 */
function wrapRace(flaw: DequeFlaw | null): Stolen<string> {
  const cas = flaw === "steal-read-after-cas" ? "tttt" : "ttt";
  const k = kernel(new ScriptStrategy("oooooooooo" + cas + "ooooo"));
  const d = new Deque<string>(k, "dq", { capacity: 2, flaw });
  const got: Stolen<string>[] = [];
  k.spawn("owner", pushAll, d, ["a", "b", "c"]);
  k.spawn("thief", stealOnce, d, got);
  assertEquals(k.execute().verdict, "pass");
  assertEquals(d.peekSize(), flaw === null ? 4 : 2, "c wrapped around only after the CAS");
  return got[0];
}

Deno.test("steal-read-after-cas: the owner reuses the slot between the CAS and the read", () => {
  // The thief claimed a but reads c: a is lost, and c will run twice.
  assertEquals(wrapRace("steal-read-after-cas"), { tag: "ok", value: "c" });
  // Reading before the CAS, the thief has a in hand; the owner's push found
  // the array full (top had not moved) and grew it instead of wrapping.
  assertEquals(wrapRace(null), { tag: "ok", value: "a" });
});

function* ownerRun(d: Deque<number>, n: number, ran: number[]) {
  for (let i = 0; i < n; i++) {
    yield* d.push(i);
    if (i % 2 === 1) {
      const r = yield* d.take();
      if (r.tag === "ok") ran.push(r.value);
    }
  }
  for (;;) {
    const r = yield* d.take();
    if (r.tag === "empty") return;
    ran.push(r.value);
  }
}

function* thiefRun(d: Deque<number>, attempts: number, ran: number[]) {
  for (let i = 0; i < attempts; i++) {
    const r = yield* d.steal();
    if (r.tag === "ok") ran.push(r.value);
  }
}

Deno.test("under random schedules every pushed element is taken or stolen exactly once", () => {
  for (let seed = 0; seed < 400; seed++) {
    const k = kernel(new RandomStrategy(), seed);
    const d = new Deque<number>(k, "dq", { capacity: 2 });
    const ran: number[] = [];
    k.spawn("owner", ownerRun, d, 6, ran);
    k.spawn("t1", thiefRun, d, 3, ran);
    k.spawn("t2", thiefRun, d, 3, ran);
    assertEquals(k.execute().verdict, "pass");
    assertEquals(ran.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5], `seed ${seed}`);
  }
});
