import { assertEquals, assertMatch } from "../deps.ts";
import { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import { RandomStrategy } from "../sim/random.ts";
import { Future, settle } from "./future.ts";
import { Pipeline, Process, type Stepped } from "./process.ts";

function kernel(seed = 1): Kernel {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax: 10_000 }, new RandomStrategy(), seed);
  return k;
}

/** Counts calls; answers each input with (input, calls so far). */
// deno-lint-ignore require-yield
function* count(n: number, x: string): Action<Stepped<string, number>> {
  return { output: `${x}${n + 1}`, state: n + 1 };
}

type Counter = Process<string, string, number>;

function* sendAll(p: Counter, inputs: string[], out: unknown[], inFlight: number[]) {
  const futures: Future<string>[] = [];
  for (const x of inputs) {
    futures.push(yield* p.send(x));
    // Sent minus served: the queued inputs plus the one being served.
    inFlight.push(futures.length - p.peekState());
  }
  for (const f of futures) out.push(yield* f.join());
  out.push(yield* p.stop());
}

Deno.test("a process serves sends in order, carrying its state, under pushback", () => {
  for (let seed = 0; seed < 200; seed++) {
    const k = kernel(seed);
    const p = Process.fork(k, "counter", count, 0, { bound: 1 });
    const out: unknown[] = [];
    const inFlight: number[] = [];
    k.spawn("client", sendAll, p, ["a", "b", "c", "d"], out, inFlight);
    assertEquals(k.execute().verdict, "pass");
    assertEquals(out, ["a1", "b2", "c3", "d4", 4]);
    // A bound of 1: one input queued and one being served at most.
    for (const n of inFlight) assertEquals(n <= 2, true, `seed ${seed}: ${n} in flight`);
  }
});

function* sendAfterStop(p: Counter) {
  yield* p.stop();
  yield* p.send("late");
}

Deno.test("sending to a stopped process is a crash with a clear message", () => {
  const k = kernel();
  const p = Process.fork(k, "counter", count, 0, { bound: 1 });
  k.spawn("client", sendAfterStop, p);
  const o = k.execute();
  assertEquals(o.verdict, "crash");
  assertMatch(o.message, /Cannot send to process counter: it was stopped/);
});

function* resolveTwice(f: Future<number>) {
  yield* f.resolve(1);
  yield* f.resolve(2);
}

Deno.test("a future resolved twice is a bug; one never resolved names itself in the deadlock", () => {
  const k = kernel();
  k.spawn("r", resolveTwice, new Future<number>(k, "f"));
  const o = k.execute();
  assertEquals([o.verdict, o.check], ["bug", "future-single-assignment"]);

  const k2 = kernel();
  k2.spawn("w", settle, new Future<number>(k2, "never"));
  const o2 = k2.execute();
  assertEquals(o2.verdict, "deadlock");
  assertMatch(o2.message, /w waits for future never/);
});

// deno-lint-ignore require-yield
function* tag(name: string, x: string): Action<Stepped<string, string>> {
  return { output: `${x}>${name}`, state: name };
}

function* pipeClient(p: Pipeline, out: unknown[]) {
  const fs = [];
  for (const x of ["x", "y", "z"]) fs.push(yield* p.send(x));
  for (const f of fs) out.push(yield* settle(f));
  yield* p.stop();
}

Deno.test("a pipeline hands each input through every stage, in order, with bound 1", () => {
  for (let seed = 0; seed < 200; seed++) {
    const k = kernel(seed);
    const stages = ["a", "b", "c"].map((name) => ({ name, fn: tag, state: name }));
    const p = new Pipeline(k, stages, { bound: 1 });
    const out: unknown[] = [];
    k.spawn("client", pipeClient, p, out);
    assertEquals(k.execute().verdict, "pass");
    assertEquals(out, ["x>a>b>c", "y>a>b>c", "z>a>b>c"]);
  }
});
