/**
 * The concurrent mark-and-sweep of the seed note against a mutator that
 * plays the classic lost-object move: it hides a white node behind a black
 * one and deletes the only other path to it.
 *
 * @module
 */
import { z } from "zod";
import { Heap, NULL } from "../runtime/heap.ts";
import { collectCycles, MarkSweep, type MarkSweepOptions } from "../runtime/mark_sweep.ts";
import type { Cell, Kernel } from "../sim/kernel.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

/** What each variant builds. */
export const BUILDS: Record<string, MarkSweepOptions> = {
  "no-barrier": { barrier: "none", mark: "clear", collectors: 1 },
  insertion: { barrier: "insertion", mark: "clear", collectors: 1 },
  deletion: { barrier: "deletion", mark: "clear", collectors: 1 },
  "no-reset": { barrier: "deletion", mark: "flip", collectors: 1 },
  "no-reset-nonatomic": { barrier: "deletion", mark: "flip-nonatomic", collectors: 2 },
  "parallel-mark": { barrier: "insertion", mark: "clear", collectors: 2 },
  "no-reset-stm": { barrier: "deletion", mark: "flip-stm", collectors: 2 },
  handshake: { barrier: "insertion", mark: "clear", collectors: 1 },
  "handshake-no-fence": { barrier: "insertion", mark: "clear", collectors: 1 },
  "satb-relaxed": { barrier: "deletion", mark: "clear", collectors: 1, finalStop: false },
  "satb-relaxed-ra": { barrier: "deletion", mark: "clear", collectors: 1, finalStop: false },
  "satb-release": {
    barrier: "deletion",
    mark: "clear",
    collectors: 1,
    finalStop: false,
    publish: true,
  },
  "satb-release-ra": {
    barrier: "deletion",
    mark: "clear",
    collectors: 1,
    finalStop: false,
    publish: true,
  },
};

/** The variants whose world is stopped by a handshake on cells, and whether it is fenced. */
const HANDSHAKES: Record<string, boolean> = { handshake: true, "handshake-no-fence": false };

/**
 * The mutator. Initially g0 → A, A → B, B → C and g1 → B. It loads A, B and
 * C into registers, cuts B → C and moves C behind A (without a barrier, a
 * collector that already traced A and has yet to trace B never marks C),
 * forgets C and B (so only A keeps C: rescanning the registers cannot save
 * it), allocates N, reloads C through A, links N → C, and uses C. Between
 * the cut and the move C is only in a register: an insertion barrier needs
 * its final rescan of the registers there.
 */
function* mutator(
  gc: MarkSweep,
  g0: Cell<number>,
  g1: Cell<number>,
  r: Cell<number>[],
  newName: string,
) {
  yield* gc.move(r[0], g0); //       r0 := A
  yield* gc.load(r[1], r[0], 0); //  r1 := A.p0   (B)
  yield* gc.load(r[2], r[1], 0); //  r2 := B.p0   (C)
  yield* gc.store(r[1], 0, null); // B.p0 := null (C is only in r2 now)
  yield* gc.store(r[0], 0, r[2]); // A.p0 := C    (a black node now points at a white one)
  yield* gc.move(r[2], null); //     r2 := null   (only A keeps C)
  yield* gc.move(g1, null); //       g1 := null   (only r1 keeps B)
  yield* gc.alloc(r[1], 1, newName); // r1 := new N (B is garbage)
  yield* gc.load(r[2], r[0], 0); //  r2 := A.p0   (C again)
  yield* gc.store(r[1], 0, r[2]); // N.p0 := C
  yield* gc.touch(r[2]); //          use C
}

/** The parameters of gc-mark-sweep. */
export interface MarkSweepParams {
  /** Collection cycles the collector runs. */
  readonly cycles: number;
  /** Mutator fibers playing the lost-object move. */
  readonly mutators: number;
  /** Unreachable nodes placed beside the live graph. */
  readonly garbage: number;
}

/**
 * The world of gc-mark-sweep for any collector build: g0 → A → B → C,
 * g1 → B, `garbage` unreachable nodes, the collector and the mutators.
 */
export function buildWorld(k: Kernel, params: MarkSweepParams, build: MarkSweepOptions): void {
  const { cycles, mutators, garbage } = params;
  const heap = new Heap(k, { objectsMax: 64 });
  const gc = new MarkSweep(heap, heap.space("nodes", 4096), build);
  const c = gc.node({ name: "C" });
  const b = gc.node({ name: "B", ptrs: [c] });
  const a = gc.node({ name: "A", ptrs: [b] });
  for (let i = 0; i < garbage; i++) gc.node({ name: `D${i}`, ptrs: [i === 0 ? c : NULL] });
  const g0 = heap.roots.global("g0", a);
  const g1 = heap.roots.global("g1", b);
  // The flipped marks are only reset for the next cycle: run at least two.
  const flipped = build.mark !== undefined && build.mark !== "clear";
  k.spawn("gc", collectCycles, gc, flipped ? Math.max(cycles, 2) : cycles);
  for (let m = 0; m < mutators; m++) {
    k.spawn(`m${m}`, mutator, gc, g0, g1, heap.roots.stack(`m${m}`, 3), `N${m}`);
  }
  k.invariant("no-dangling", () => heap.dangling() ?? true);
}

/**
 * Every variant of the mark-and-sweep against the same mutator. Broken:
 * `no-barrier`. The others must pass, including the flipped-mark version
 * without the atomic section, where two collectors may trace a node twice.
 */
export const gcMarkSweep: Scenario<MarkSweepParams> = defineScenario({
  name: "gc-mark-sweep",
  description: "concurrent mark-and-sweep (mark cells, start/finish) against a pointer-moving " +
    "mutator, with write-barrier and mark-cell variants",
  params: z.object({
    cycles: z.number().int().min(1).max(4).default(1),
    mutators: z.number().int().min(1).max(3).default(1),
    garbage: z.number().int().min(0).max(4).default(0),
  }),
  variants: {
    "no-barrier": {
      description: "no write barrier: the mutator hides C behind black A, C is freed while live",
      expect: { verdict: "bug", check: "free-safety", budget: { strategy: "dpor", runs: 1_000 } },
    },
    // DPOR exhausts these three at the default size (1 mutator, 4 nodes) well
    // within their budgets: 452, 925 and 1,463 schedules.
    insertion: {
      description: "Dijkstra insertion barrier (shade the new target), roots rescanned at the end",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 5_000 } },
    },
    deletion: {
      description: "Yuasa deletion barrier (shade the overwritten target), roots snapshotted",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 5_000 } },
    },
    "no-reset": {
      description: "mark meaning flipped (true = unmarked), finish writes true back; atomic " +
        "start; at least 2 cycles, so the second depends on the reset",
      // Already at its smallest size (1 mutator, 2 cycles): DPOR exhausts it in 15,868
      // schedules, about 3 s.
      expect: {
        verdict: "pass",
        budget: { strategy: "pct", runs: 1_000 },
        verify: { runs: 20_000 },
      },
    },
    "no-reset-nonatomic": {
      description: "flipped marks without the atomic section, 2 collector fibers, at least 2 " +
        "cycles: repeated work, never a wrong free",
      expect: { verdict: "pass", budget: { strategy: "random", runs: 1_000 } },
    },
    "parallel-mark": {
      description: "2 collector fibers mark from the roots and sweep in parallel (insertion)",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 5_000 } },
    },
    "no-reset-stm": {
      description: "flipped marks, the note's atomic(if x.read() >> x.write(false)) as an " +
        "atomic region (r.atomic), 2 collector fibers, at least 2 cycles",
      expect: { verdict: "pass", budget: { strategy: "random", runs: 1_000 } },
    },
    handshake: {
      description: "insertion barrier; the world is stopped by a Dekker handshake on cells " +
        "(busy and stop flags) with a seq_cst fence on each side, under tso",
      memory: "tso",
      expect: { verdict: "pass", budget: { strategy: "pct", runs: 2_000 } },
    },
    "handshake-no-fence": {
      description: "the handshake without its fences: under tso each side's flag waits in its " +
        "store buffer while it reads the other's (SB), so the collector ends marking mid-operation",
      memory: "tso",
      // The heap's checks: the mutator uses a node the sweep freed.
      expect: {
        verdict: "bug",
        checks: ["use-after-free", "free-safety"],
        budget: { strategy: "pct", runs: 3_000 },
      },
    },
    "satb-relaxed": {
      description: "snapshot-at-the-beginning: deletion barrier shading the old target before " +
        "the pointer store, marking ended without stopping the world; under pso the store " +
        "drains before the shade, the collector sees the cut and a white mark, and frees C",
      memory: "pso",
      expect: {
        verdict: "bug",
        checks: ["free-safety", "use-after-free", "no-dangling"],
        budget: { strategy: "dpor", runs: 1_000 },
      },
    },
    "satb-relaxed-ra": {
      description: "satb-relaxed under release/acquire: the collector reads the cut and a " +
        "stale mark of C (relaxed store, relaxed load)",
      memory: "ra",
      expect: {
        verdict: "bug",
        checks: ["free-safety", "use-after-free", "no-dangling"],
        budget: { strategy: "dpor", runs: 1_000 },
      },
    },
    "satb-release": {
      description: "satb with the pointer store a release and the collector's pointer loads " +
        "acquires: whoever sees the cut sees the shade (under pso)",
      memory: "pso",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 5_000 } },
    },
    "satb-release-ra": {
      description: "satb-release under release/acquire",
      memory: "ra",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 5_000 } },
    },
  },
  stepsMax: ({ cycles, mutators, garbage }) =>
    400 * Math.max(cycles, 2) + 100 * mutators + 20 * garbage,
  setup(k, params, variant) {
    const build = BUILDS[variant];
    if (build === undefined) throw new RangeError(`gc-mark-sweep has no variant ${variant}`);
    if (build.finalStop === false && params.cycles > 1) {
      throw new RangeError(
        `Cannot run ${variant} for ${params.cycles} cycles: it ends marking without a ` +
          "handshake, so a mutator's late shade could outlive the sweep into the next cycle",
      );
    }
    const fenced = HANDSHAKES[variant];
    buildWorld(
      k,
      params,
      fenced === undefined ? build : { ...build, handshake: { mutators: params.mutators, fenced } },
    );
  },
});
