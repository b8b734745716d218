/**
 * Nested atomic regions with inner aborts: each mover withdraws from its
 * own wallet in an outer transaction, then deposits into a shared pool in a
 * nested one. Movers race on the pool, so an inner region often finds its
 * reads stale and runs again while the outer withdrawal must survive.
 *
 * @module
 */
import { z } from "zod";
import { Stm, type StmOptions, type Tx } from "../runtime/atomic.ts";
import { TxHistory } from "../runtime/atomic_check.ts";
import { Regions } from "../runtime/regions.ts";
import type { Cell } from "../sim/kernel.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

/** The transaction manager each variant builds. */
export const NESTED_BUILDS: Record<string, StmOptions> = {
  closed: { nesting: "closed" },
  "flat-abort": { nesting: "flat-abort" },
};

const WALLET = 10;

function* deposit(tx: Tx, pool: Cell<number>, deposits: Cell<number>, amount: number) {
  const p = yield* tx.read(pool);
  const d = yield* tx.read(deposits);
  tx.write(pool, p + amount);
  tx.write(deposits, d + 1);
}

function* withdrawAndDeposit(
  tx: Tx,
  r: Regions,
  wallet: Cell<number>,
  pool: Cell<number>,
  deposits: Cell<number>,
  amount: number,
) {
  tx.write(wallet, (yield* tx.read(wallet)) - amount);
  yield* r.atomic(deposit, pool, deposits, amount);
}

function* mover(
  r: Regions,
  wallet: Cell<number>,
  pool: Cell<number>,
  deposits: Cell<number>,
  rounds: number,
) {
  for (let i = 0; i < rounds; i++) {
    yield* r.atomic(withdrawAndDeposit, r, wallet, pool, deposits, 1 + i);
  }
}

/** The parameters of `atomicNested` (see its `params` schema for ranges and defaults). */
export type AtomicNestedParams = {
  /** Movers: fibers that each withdraw from a wallet and deposit into the shared pool. */
  readonly movers: number;
  /** Withdraw-and-deposit rounds each mover makes. */
  readonly rounds: number;
};

/** Closed nesting keeps the outer withdrawal across inner aborts; flat abort drops it. */
export const atomicNested: Scenario<AtomicNestedParams> = defineScenario({
  name: "atomic-nested",
  description: "an outer transaction withdraws, a nested one deposits into a contended pool; " +
    "inner aborts must keep the outer's writes",
  params: z.object({
    movers: z.number().int().min(1).max(6).default(2),
    rounds: z.number().int().min(1).max(4).default(1),
  }),
  variants: {
    closed: {
      description:
        "closed nesting: an inner abort discards only the inner region's reads and writes",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 5_000 } },
    },
    "flat-abort": {
      description: "an inner abort discards the outer's buffered withdrawal too, yet only the " +
        "inner region runs again: money appears",
      expect: { verdict: "bug", check: "total", budget: { strategy: "random", runs: 200 } },
    },
  },
  stepsMax: ({ movers, rounds }) => 200 + 40 * movers * movers * rounds,
  setup(k, { movers, rounds }, variant) {
    const build = NESTED_BUILDS[variant];
    if (build === undefined) throw new RangeError(`atomic-nested has no variant ${variant}`);
    Stm.of(k).configure({ ...build, observer: new TxHistory() });
    const r = Regions.of(k);
    const pool = k.cell("pool", 0);
    const deposits = k.cell("deposits", 0);
    const wallets: Cell<number>[] = [];
    for (let i = 0; i < movers; i++) {
      const wallet = k.cell(`wallet${i}`, WALLET);
      wallets.push(wallet);
      k.spawn(`mover${i}`, mover, r, wallet, pool, deposits, rounds);
    }
    const total = WALLET * movers;
    k.invariant("total", () => {
      const got = wallets.reduce((s, w) => s + w.peek(), pool.peek());
      return got === total || `wallets and pool hold ${got}, expected ${total}`;
    });
    k.invariant("deposits", () => {
      const got = deposits.peek();
      return got === movers * rounds || `${got} deposits, expected ${movers * rounds}`;
    });
  },
});
