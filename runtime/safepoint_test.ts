import { z } from "zod";
import { assert, assertEquals, assertThrows } from "../deps.ts";
import { DfsStrategy } from "../sim/dfs.ts";
import { DporStrategy } from "../sim/dpor.ts";
import { exploreExhaustive } from "../sim/exhaustive.ts";
import { makeTarget } from "../sim/explore.ts";
import type { Cell, Kernel } from "../sim/kernel.ts";
import { Violation } from "../sim/outcome.ts";
import { defineScenario } from "../sim/scenario.ts";
import { captureState } from "../sim/state.ts";
import { world } from "./_testing.ts";
import { Arena } from "./arena.ts";
import { Faults, FaultsSchema } from "./faults.ts";
import { Heap } from "./heap.ts";
import { type Mutator, type SafepointOptions, Safepoints } from "./safepoint.ts";

/**
 * Ghost bookkeeping independent of the module under test: which mutators are
 * between two safepoints now (touching the heap), and what each stop saw.
 */
class Watch {
  readonly active = new Set<string>();
  readonly stops: string[] = [];

  /** Fails when anyone but `me` is active: the world was not stopped. */
  alone(me: string): void {
    const others = [...this.active].filter((n) => n !== me);
    if (others.length > 0) {
      throw new Violation("world-stopped", `${me} collects while ${others.join(", ")} run`);
    }
  }
}

/** Polls, then "touches the heap" for one step (a write), `rounds` times; then unregisters. */
function* worker(sp: Safepoints, m: Mutator, w: Watch, x: Cell<number>, rounds: number) {
  for (let i = 0; i < rounds; i++) {
    yield* sp.poll(m);
    w.active.add(m.name);
    yield* x.fetchAdd(1);
    w.active.delete(m.name);
  }
  yield* sp.unregister(m);
}

/** Waits off the heap in a safe region, then touches the heap, then unregisters. */
function* sleeper(sp: Safepoints, m: Mutator, w: Watch, x: Cell<number>) {
  yield* sp.enterSafe(m);
  yield* sp.leaveSafe(m);
  w.active.add(m.name);
  yield* x.fetchAdd(1);
  w.active.delete(m.name);
  yield* sp.unregister(m);
}

/**
 * Stops the world (as mutator `m`, or as no mutator) and checks it is alone:
 * by the ghost set, and by reading the cell the mutators write twice (a real
 * footprint, so DPOR orders a mutator's write between the two reads).
 */
function* collector(sp: Safepoints, m: Mutator | null, w: Watch, x: Cell<number>, name: string) {
  yield* sp.stopTheWorld(m, function* () {
    w.alone(name);
    const before = yield* x.read();
    const after = yield* x.read();
    w.alone(name);
    if (before !== after) {
      throw new Violation("world-stopped", `a mutator wrote x during ${name}'s stop`);
    }
    w.stops.push(name);
  });
  if (m !== null) yield* sp.unregister(m);
}

/** Explores `setup` exhaustively with DPOR (or plain DFS, which trusts no footprint). */
function explore(setup: (k: Kernel) => void, runs = 5_000, dfs = false) {
  const scenario = defineScenario({
    name: "safepoint-test",
    description: "-",
    params: z.object({}),
    variants: {
      v: { description: "-", expect: { verdict: "pass", budget: { strategy: "dpor", runs } } },
    },
    setup,
  });
  const strategy = dfs ? new DfsStrategy() : new DporStrategy();
  const r = exploreExhaustive(makeTarget(scenario, "v"), strategy, {
    runs,
    keepGoing: true,
  });
  return { exhausted: r.exhausted, schedules: r.schedules, failures: r.failures };
}

function world2(k: Kernel, options: SafepointOptions = {}) {
  return { sp: new Safepoints(k, options), w: new Watch(), x: k.cell("x", 0) };
}

Deno.test("a stop waits for every running mutator to reach a safepoint (DPOR, every schedule)", () => {
  const r = explore((k) => {
    const { sp, w, x } = world2(k);
    const c = sp.register("c");
    for (const n of ["a", "b"]) k.spawn(n, worker, sp, sp.register(n), w, x, 2);
    k.spawn("c", collector, sp, c, w, x, "c");
    k.invariant("stopped-once", () => w.stops.length === 1 || `${w.stops.length} stops`);
    k.invariant("resumed", () => x.peek() === 4 || `x is ${x.peek()}`);
  });
  assert(r.exhausted && r.schedules > 10, `${r.schedules} schedules`);
  assertEquals(r.failures.map((f) => f.outcome.message), []);
});

Deno.test("two collectors at once: each gets the world to itself, one after the other", () => {
  const r = explore((k) => {
    const { sp, w, x } = world2(k);
    const a = sp.register("a"), b = sp.register("b");
    k.spawn("a", collector, sp, a, w, x, "a");
    k.spawn("b", collector, sp, b, w, x, "b");
    k.spawn("gc", collector, sp, null, w, x, "gc"); // a collector that is no mutator
    k.spawn("m", worker, sp, sp.register("m"), w, x, 1);
    k.invariant("three-stops", () => w.stops.length === 3 || `stops: ${w.stops.join()}`);
    k.invariant("epochs", () => sp.epoch === 3 || `epoch ${sp.epoch}`);
  });
  assert(r.exhausted, `${r.schedules} schedules`);
  assertEquals(r.failures.map((f) => f.outcome.message), []);
});

Deno.test("a mutator in a safe region does not hold up a stop, and leaves it only once the stop ends", () => {
  const setup = (options: SafepointOptions) => (k: Kernel) => {
    const { sp, w, x } = world2(k, options);
    const c = sp.register("c");
    k.spawn("s", sleeper, sp, sp.register("s"), w, x);
    k.spawn("c", collector, sp, c, w, x, "c");
  };
  const ok = explore(setup({}));
  assert(ok.exhausted);
  assertEquals(ok.failures.map((f) => f.outcome.message), []);
  // Leaving without the safepoint: the sleeper runs during the collection.
  const broken = explore(setup({ regionExit: "no-wait" }));
  assert(broken.exhausted);
  assert(broken.failures.length > 0 && broken.failures.length < ok.schedules);
  for (const f of broken.failures) assertEquals(f.outcome.check, "world-stopped");
});

Deno.test("granted-only resume loses a mutator that parked after the stop was granted", () => {
  const setup = (options: SafepointOptions) => (k: Kernel) => {
    const { sp, w, x } = world2(k, options);
    const c = sp.register("c");
    k.spawn("s", sleeper, sp, sp.register("s"), w, x);
    k.spawn("c", collector, sp, c, w, x, "c");
  };
  assertEquals(explore(setup({ resume: "all" })).failures.length, 0);
  const broken = explore(setup({ resume: "granted-only" }));
  assert(broken.exhausted && broken.failures.length > 0);
  for (const f of broken.failures) {
    assertEquals(f.outcome.verdict, "deadlock");
    assert(/s waits for a resume, but c's stop of the world has ended/.test(f.outcome.message));
  }
});

Deno.test("a mutator that unregisters while a stop is pending releases it; one that never does hangs it", () => {
  const ok = explore((k) => {
    const { sp, w, x } = world2(k);
    k.spawn("a", worker, sp, sp.register("a"), w, x, 1);
    k.spawn("gc", collector, sp, null, w, x, "gc");
  });
  assert(ok.exhausted);
  assertEquals(ok.failures.length, 0);
  const hang = explore((k) => {
    const { sp, w, x } = world2(k);
    sp.register("forgot"); // registered, but its fiber never polls nor unregisters
    k.spawn("forgot", function* () {});
    k.spawn("gc", collector, sp, null, w, x, "gc");
  });
  assertEquals(hang.failures.map((f) => f.outcome.verdict), ["deadlock"]);
  assert(/every mutator at a safepoint \(forgot runs\)/.test(hang.failures[0].outcome.message));
});

Deno.test("a nested stop by the stopper runs its body at once", () => {
  const { k } = world(3);
  const sp = new Safepoints(k);
  const a = sp.register("a");
  const order: string[] = [];
  k.spawn("a", function* () {
    yield* sp.stopTheWorld(a, function* () {
      order.push("outer");
      const inner = yield* sp.stopTheWorld(a, function* () {
        order.push("inner");
        return 7;
      });
      order.push(`got ${inner}`);
    });
    yield* sp.poll(a); // no stop is on: one read, no parking
    yield* sp.unregister(a);
  });
  assertEquals(k.execute().verdict, "pass");
  assertEquals(order, ["outer", "inner", "got 7"]);
  assertEquals([sp.epoch, sp.stopper, sp.stopping], [1, null, false]);
  assertEquals(a.state, "done");
});

Deno.test("allocate: an overflow stops the world and collects once, however many overflow at once", () => {
  const r = explore((k) => {
    const w = world2(k);
    const collected: number[] = [];
    const h = new Heap(k);
    const arena = new Arena(h, "semi", 32); // room for two one-word objects
    arena.place({ imms: [0] });
    arena.place({ imms: [0] }); // full already
    const space = {
      allocator: () => arena,
      *collect() {
        collected.push(k.step);
        yield* arena.reset(); // nothing is reachable: everything goes
      },
    };
    for (const n of ["a", "b"]) {
      const m = w.sp.register(n);
      k.spawn(n, function* () {
        yield* w.sp.allocate(m, { imms: [1] }, space);
        yield* w.sp.unregister(m);
      });
    }
    k.invariant("collected-once", () => collected.length === 1 || `${collected.length} times`);
    // Both fit after the one collection.
    k.invariant("both-fit", () => arena.space.objects.length === 2 || "an allocation is missing");
  });
  assert(r.exhausted);
  assertEquals(r.failures.map((f) => f.outcome.message), []);
});

Deno.test("bad use gets a clear error", () => {
  const { k } = world();
  const sp = new Safepoints(k);
  const other = new Safepoints(k, { name: "other" });
  const a = sp.register("a");
  const stranger = other.register("x");
  const errors: string[] = [];
  k.spawn("t", function* () {
    for (
      const bad of [
        () => sp.register("late"),
        () => sp.poll(stranger).next(),
        () => sp.leaveSafe(a).next(),
      ]
    ) {
      try {
        bad();
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    yield* sp.unregister(a);
    try {
      yield* sp.poll(a);
    } catch (e) {
      errors.push((e as Error).message);
    }
  });
  assertEquals(k.execute().verdict, "pass");
  assertEquals(errors, [
    "Cannot register mutator late from inside fiber t: use attach",
    "Cannot poll: x is not a mutator of safepoints",
    "Cannot leave a safe region: a is running, not safe",
    "Cannot poll: a was unregistered",
  ]);
  assertThrows(() => sp.stopTheWorld(null, function* () {}).next(), RangeError, "outside a fiber");
});

Deno.test("reports see who holds the stop and where each mutator is", () => {
  const { k } = world(2);
  k.startDescribing();
  const sp = new Safepoints(k);
  const a = sp.register("a"), b = sp.register("b");
  let during = "";
  k.spawn("a", function* () {
    yield* sp.stopTheWorld(a, function* () {
      during = captureState(k).get("lock/safepoints")!;
    });
    yield* sp.unregister(a);
  });
  k.spawn("b", function* () {
    yield* sp.enterSafe(b);
    yield* sp.leaveSafe(b);
    yield* sp.unregister(b);
  });
  assertEquals(k.execute().verdict, "pass");
  const seen = JSON.parse(during);
  assertEquals([seen.kind, seen.stopper, seen.epoch, seen.mutators.a], [
    "safepoints",
    "a",
    1,
    "running",
  ]);
  assert(["safe", "done"].includes(seen.mutators.b), seen.mutators.b);
  const end = JSON.parse(captureState(k).get("lock/safepoints")!);
  assertEquals([end.stopper, end.mutators], [null, { a: "done", b: "done" }]);
});

Deno.test("allocate is a marked place: a collect fault stops the world and collects with room left", () => {
  const { k, heap } = world(5);
  Faults.enable(k, FaultsSchema.parse({ collect: 1 }));
  const sp = new Safepoints(k);
  const a = sp.register("a");
  const arena = new Arena(heap, "semi", 1024);
  let collections = 0;
  const space = {
    allocator: () => arena,
    *collect() {
      collections++;
      yield* arena.reset();
    },
  };
  k.spawn("a", function* () {
    yield* sp.allocate(a, { imms: [1] }, space);
    yield* sp.allocate(a, { imms: [2] }, space);
    yield* sp.unregister(a);
  });
  assertEquals(k.execute().verdict, "pass");
  assertEquals([collections, sp.epoch, Faults.of(k).fired.collect], [2, 2, 2]);
  assertEquals(arena.space.objects.length, 1); // the second collection freed the first object
});

/** A new mutator: it touches the heap at once, before its first poll. */
function* child(sp: Safepoints, m: Mutator, w: Watch, x: Cell<number>) {
  w.active.add(m.name);
  yield* x.fetchAdd(1);
  w.active.delete(m.name);
  yield* worker(sp, m, w, x, 1);
}

/** Attaches a mutator for a child, starts it, then works and polls itself. */
function* parent(this: Kernel, sp: Safepoints, m: Mutator, w: Watch, x: Cell<number>) {
  yield* sp.poll(m);
  const c = yield* sp.attach("child");
  this.spawn("child", child, sp, c, w, x);
  yield* worker(sp, m, w, x, 1);
}

Deno.test("a mutator attached while a stop waits is waited for too (DFS and DPOR, every schedule)", () => {
  const setup = (k: Kernel) => {
    const { sp, w, x } = world2(k);
    k.spawn("parent", parent, sp, sp.register("parent"), w, x);
    k.spawn("gc", collector, sp, null, w, x, "gc");
    k.invariant("all-ran", () => x.peek() === 3 || `x is ${x.peek()}`);
    k.invariant("attached", () => sp.mutators.length === 2 || "no child");
  };
  // DFS tries every interleaving, trusting no footprint: the ghost check sees
  // the child between its start and its first poll in some of them.
  const dfs = explore(setup, 5_000, true);
  assert(dfs.exhausted && dfs.schedules > 50, `${dfs.schedules} schedules`);
  assertEquals(dfs.failures.map((f) => f.outcome.message), []);
  const dpor = explore(setup);
  assert(dpor.exhausted && dpor.schedules < dfs.schedules, `${dpor.schedules} schedules`);
  assertEquals(dpor.failures.map((f) => f.outcome.message), []);
});
