/**
 * One owner makes tasks, thieves steal them: Chase-Lev and its classic bugs,
 * and load balancing as the alternative.
 *
 * @module
 */
import { z } from "zod";
import { Balancer } from "../runtime/balance.ts";
import { Deque, type DequeFlaw } from "../runtime/deque.ts";
import { ParkingSpot } from "../runtime/park.ts";
import type { Cell } from "../sim/cell.ts";
import type { Kernel } from "../sim/kernel.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";
import { RunLedger } from "./_ledger.ts";

/**
 * The owner pushes its tasks, taking one back after every `takeEvery` pushes,
 * drains its deque and says it is done.
 */
function* own(
  dq: Deque<number>,
  ledger: RunLedger,
  done: Cell<boolean>,
  tasks: number,
  takeEvery: number,
) {
  for (let task = 0; task < tasks; task++) {
    yield* dq.push(task);
    if ((task + 1) % takeEvery === 0) {
      const r = yield* dq.take();
      if (r.tag === "ok") ledger.run(r.value, "owner");
    }
  }
  for (;;) {
    const r = yield* dq.take();
    if (r.tag === "empty") break;
    ledger.run(r.value, "owner");
  }
  yield* done.write(true);
}

/** A thief parks until the deque looks non-empty, steals, and stops once the owner is done. */
function* thieve(
  dq: Deque<number>,
  idle: ParkingSpot,
  ledger: RunLedger,
  done: Cell<boolean>,
  me: string,
) {
  for (;;) {
    yield* idle.park();
    const r = yield* dq.steal();
    if (r.tag === "ok") ledger.run(r.value, me);
    else if (r.tag === "empty" && (yield* done.read())) return;
  }
}

function* dispatch(lb: Balancer<number>, tasks: number, me: number, ledger: RunLedger) {
  for (let task = 0; task < tasks; task++) yield* lb.assign(task);
  yield* lb.close();
  yield* serve(lb, me, ledger, "owner");
}

function* serve(lb: Balancer<number>, me: number, ledger: RunLedger, name: string) {
  for (;;) {
    const r = yield* lb.next(me);
    if (r.tag === "closed") return;
    ledger.run(r.value, name);
    yield* lb.finished(me);
  }
}

const found = (runs: number) =>
  ({
    verdict: "bug",
    check: "executed-once",
    budget: { strategy: "pct", runs },
  }) as const;

/** The parameters of `workStealing` (see its `params` schema for ranges and defaults). */
export type WorkStealingParams = {
  /** Thief fibers. */
  readonly thieves: number;
  /** Tasks the owner pushes. */
  readonly tasks: number;
  /** The owner takes a task back after this many pushes. */
  readonly takeEvery: number;
  /** Slots in the deque's first array (a power of two; it grows). */
  readonly capacity: number;
};

/**
 * `work-stealing`: an owner pushes numbered tasks into its deque (first array
 * of `capacity` slots, so it grows), takes some back, and drains it; thieves
 * park while it looks empty and steal otherwise, until the owner is done.
 * Every task must run exactly once.
 */
export const workStealing: Scenario<WorkStealingParams> = defineScenario({
  name: "work-stealing",
  description: "an owner and thieves share a Chase-Lev deque; every task must run exactly once",
  params: z.object({
    thieves: z.number().int().min(1).max(8).default(2),
    tasks: z.number().int().min(1).max(64).default(4),
    takeEvery: z.number().int().min(1).max(64).default(3),
    capacity: z.number().int().min(1).max(64).default(2)
      .refine((n) => (n & (n - 1)) === 0, "a power of two"),
  }),
  variants: {
    "chase-lev": {
      description: "the algorithm as published, under sequential consistency",
      expect: {
        verdict: "pass",
        budget: { strategy: "pct", runs: 3_000 },
        // One thief and three tasks (2,450 DPOR schedules): the third push wraps around
        // the two slots, which steal-read-after-cas needs; no-cas-last fails there too.
        verify: { runs: 5_000, params: { thieves: 1, tasks: 3 } },
      },
    },
    "chase-lev-fenced": {
      description: "the fences and orderings of Lê et al. (PPoPP 2013), on x86-TSO store buffers",
      memory: "tso",
      // One thief and two tasks: 9,391 DPOR schedules with the drains; take-no-fence fails there.
      expect: {
        verdict: "pass",
        budget: { strategy: "pct", runs: 3_000 },
        verify: { runs: 15_000, params: { thieves: 1, tasks: 2 } },
      },
    },
    "chase-lev-fenced-pso": {
      description: "the same on PSO, where stores to different cells drain out of order",
      memory: "pso",
      // 8,169 DPOR schedules at one thief and two tasks.
      expect: {
        verdict: "pass",
        budget: { strategy: "pct", runs: 3_000 },
        verify: { runs: 15_000, params: { thieves: 1, tasks: 2 } },
      },
    },
    "take-no-fence": {
      description: "take reads top without a fence after writing bottom: fine under sc, not on x86",
      memory: "tso",
      expect: found(3_000),
    },
    "no-cas-last": {
      description: "take claims the last element by writing top instead of a CAS",
      expect: found(3_000),
    },
    "steal-read-after-cas": {
      description: "a thief reads the slot after its CAS, when the owner may have reused it",
      expect: found(3_000),
    },
    "load-balance": {
      description: "no stealing: a dispatcher gives each task to the least-loaded worker",
      // DPOR explores every interleaving class of the default parameters in 1,305 schedules.
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 3_000 } },
    },
  },
  setup(k: Kernel, { thieves, tasks, takeEvery, capacity }, variant) {
    const ledger = new RunLedger(tasks, "executed-once");
    k.invariant("executed-once", () => ledger.missing());
    if (variant === "load-balance") {
      const lb = new Balancer<number>(k, "lb", { workers: thieves + 1, capacity });
      k.spawn("owner", dispatch, lb, tasks, 0, ledger);
      for (let w = 1; w <= thieves; w++) k.spawn(`worker${w}`, serve, lb, w, ledger, `worker${w}`);
      return;
    }
    const flaw = variant.startsWith("chase-lev") ? null : variant as DequeFlaw;
    const dq = new Deque<number>(k, "dq", { capacity, flaw });
    const done = k.cell("done", false);
    // What ready() peeks at: DPOR may trust the footprint.
    const idle = new ParkingSpot("idle", {
      watches: [dq.bottomId, dq.topId, done.id],
      watchesAll: true,
      ready: () => dq.peekLength() > 0 || done.peek(),
      reason: "work in the deque, or the owner to be done",
    });
    k.spawn("owner", own, dq, ledger, done, tasks, takeEvery);
    for (let i = 1; i <= thieves; i++) {
      k.spawn(`thief${i}`, thieve, dq, idle, ledger, done, `thief${i}`);
    }
  },
});
