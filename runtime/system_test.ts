import { assert, assertEquals, assertThrows } from "../deps.ts";
import { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import { RandomStrategy } from "../sim/random.ts";
import { NULL } from "./heap.ts";
import type { JobOutcome } from "./reactor.ts";
import { System, type SystemJob, type SystemOptions, type SystemStartup } from "./system.ts";

const OPTIONS: SystemOptions = {
  workers: 2,
  startupBytes: 96,
  globalBytes: 128,
  contextBytes: 96,
  sharedBytes: 256,
  queue: 2,
  gcCycles: 1,
  delayMax: 3,
};

/** Fills the start-up heap with garbage around a rooted pair until it was compacted twice. */
function* script(ctx: SystemStartup): Action<void> {
  const leaf = yield* ctx.alloc({ kind: "binary", imms: [5], name: "leaf" });
  yield* ctx.registers[0].write(leaf);
  for (let i = 0; ctx.collections < 2 && i < 32; i++) yield* ctx.alloc({ imms: [i, i] });
  // `leaf` moved: alloc follows its forwarding address.
  ctx.root("pair", yield* ctx.alloc({ ptrs: [leaf], imms: [2], name: "pair" }));
  ctx.bind("list", list);
}

/** Builds a list of n cells in the arena; gives n times the leaf's value. */
function* list(ctx: SystemJob, n: number): Action<number> {
  let head = NULL;
  for (let i = 0; i < n; i++) head = yield* ctx.arena.alloc({ ptrs: [head], imms: [i] });
  const pair = yield* ctx.global("pair").read();
  const leaf = yield* ctx.heap.load(pair, 0);
  return n * (yield* ctx.heap.readImm(leaf, 0));
}

function run(seed: number, payloads: readonly number[]) {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax: 20_000 }, new RandomStrategy(), seed);
  const outcomes: JobOutcome[] = [];
  const sys = new System(k, {
    ...OPTIONS,
    hooks: { onOutcome: (e, o) => void (outcomes[e.id] = o) },
  });
  sys.start(script, payloads.map((payload, id) => ({ id, channel: "list", payload })));
  return { outcome: k.execute(), outcomes, sys };
}

Deno.test("system: the start-up heap is compacted when it overflows, pointers follow", () => {
  for (let seed = 1; seed <= 5; seed++) {
    const { outcome, outcomes, sys } = run(seed, [1]);
    assertEquals(outcome.verdict, "pass", outcome.message);
    assertEquals(sys.stats.startupCollections, 2);
    // Each collection stopped the world: the workers were waiting in a safe region.
    assertEquals(sys.safepoints.epoch, 2);
    assertEquals(outcomes, [{ tag: "done", value: 5 }]);
    // Only the pair and its leaf reached the sealed global heap.
    const names = sys.global.space.objects.map((o) => o.name.replace(/~.*/, ""));
    assertEquals(names.sort(), ["leaf", "pair"]);
  }
});

Deno.test("system: a job too big for a fresh arena fails; one that overflows a used arena retries", () => {
  // Each arena holds 48 bytes: two cells of 24.
  const payloads = [1, 3, 2, 2, 1, 2];
  let retries = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const { outcome, outcomes, sys } = run(seed, payloads);
    assertEquals(outcome.verdict, "pass", outcome.message);
    assertEquals(outcomes[1].tag, "failed");
    for (const id of [0, 2, 3, 4, 5]) {
      assertEquals(outcomes[id], { tag: "done", value: 5 * payloads[id] });
    }
    retries += sys.stats.retries;
  }
  assert(retries > 0, "no job overflowed a used arena in 10 runs");
});

Deno.test("system: refuses fewer than two workers", () => {
  const k = new Kernel();
  k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 1);
  assertThrows(() => new System(k, { ...OPTIONS, workers: 1 }), RangeError, "at least 2");
});
