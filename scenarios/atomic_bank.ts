/**
 * The bank of atomic regions: fibers move money between accounts in
 * transactions while an auditor sums every account in one. The total never
 * changes, every committed history is serializable and every read, even in
 * an attempt that later aborts, comes from one consistent state.
 *
 * @module
 */
import { z } from "zod";
import { Regions } from "../runtime/regions.ts";
import { Stm, type StmOptions, type Tx } from "../runtime/atomic.ts";
import { TxHistory } from "../runtime/atomic_check.ts";
import type { Cell, Kernel } from "../sim/kernel.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";

/** The transaction manager each variant builds (the checker is added in setup). */
export const BANK_BUILDS: Record<string, StmOptions> = {
  stm: {},
  "no-validate": { validate: false },
  "no-snapshot": { snapshot: false },
};

/** Money each account starts with. */
export const BALANCE = 10;

function* transfer(tx: Tx, from: Cell<number>, to: Cell<number>, amount: number) {
  const b = yield* tx.read(to);
  const a = yield* tx.read(from);
  tx.write(from, a - amount);
  tx.write(to, b + amount);
}

function* teller(
  r: Regions,
  accounts: Cell<number>[],
  first: number,
  transfers: number,
  desk: Cell<number>,
  work: number,
) {
  const n = accounts.length;
  for (let t = 0; t < transfers; t++) {
    // Work at the teller's own desk before each transfer: steps that commute.
    for (let w = 0; w < work; w++) yield* desk.write(w);
    const from = (first + t) % n;
    yield* r.atomic(transfer, accounts[from], accounts[(from + 1) % n], 1 + t);
  }
}

function* sum(tx: Tx, accounts: Cell<number>[]) {
  let total = 0;
  for (const a of accounts) total += yield* tx.read(a);
  return total;
}

function* auditor(r: Regions, accounts: Cell<number>[], seen: number[]) {
  seen.push(yield* r.atomic(sum, accounts));
}

/** The parameters of atomic-bank. */
export interface BankParams {
  /** Teller fibers moving money. */
  readonly tellers: number;
  /** Accounts. */
  readonly accounts: number;
  /** Transfers each teller makes. */
  readonly transfers: number;
  /** Auditor fibers summing every account in one transaction. */
  readonly auditors: number;
  /** Steps of private work a teller does before each transfer. */
  readonly work: number;
}

/** Builds the bank with `build`'s transaction manager; gives the history checker. */
export function buildBank(
  k: Kernel,
  params: BankParams,
  build: StmOptions,
): TxHistory {
  const history = new TxHistory();
  Stm.of(k).configure({ ...build, observer: history });
  const r = Regions.of(k);
  const accounts: Cell<number>[] = [];
  for (let i = 0; i < params.accounts; i++) accounts.push(k.cell(`acct${i}`, BALANCE));
  const seen: number[] = [];
  for (let i = 0; i < params.tellers; i++) {
    const desk = k.cell(`desk${i}`, 0);
    k.spawn(`teller${i}`, teller, r, accounts, i, params.transfers, desk, params.work);
  }
  for (let i = 0; i < params.auditors; i++) k.spawn(`audit${i}`, auditor, r, accounts, seen);
  const total = BALANCE * params.accounts;
  k.invariant("total", () => {
    const got = accounts.reduce((s, a) => s + a.peek(), 0);
    return got === total || `the accounts hold ${got}, expected ${total}`;
  });
  k.invariant("audit", () => {
    const wrong = seen.find((s) => s !== total);
    return wrong === undefined || `an auditor committed a sum of ${wrong}, expected ${total}`;
  });
  return history;
}

/** Transfers in transactions; broken variants skip commit validation or the read snapshot. */
export const atomicBank: Scenario<BankParams> = defineScenario({
  name: "atomic-bank",
  description: "tellers move money between accounts in atomic regions while an auditor sums " +
    "them; the total is constant, histories serializable, every read opaque",
  params: z.object({
    tellers: z.number().int().min(1).max(8).default(2),
    accounts: z.number().int().min(2).max(8).default(3),
    transfers: z.number().int().min(1).max(4).default(1),
    auditors: z.number().int().min(0).max(2).default(1),
    /** Steps of private work a teller does before each transfer. */
    work: z.number().int().min(0).max(20).default(2),
  }),
  variants: {
    stm: {
      description: "reads check the snapshot, the commit validates the read set",
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 5_000 } },
    },
    "no-validate": {
      description: "the commit skips read-set validation: two transfers from one account both " +
        "commit, one update is lost",
      expect: {
        verdict: "bug",
        check: "serializable",
        budget: { strategy: "random", runs: 200 },
      },
    },
    "no-snapshot": {
      description: "reads are not checked against the snapshot before use: a doomed " +
        "transaction sees old and new balances together",
      expect: { verdict: "bug", check: "opacity", budget: { strategy: "random", runs: 200 } },
    },
  },
  stepsMax: ({ tellers, transfers, auditors, accounts }) =>
    200 + 50 * (tellers * transfers + auditors * accounts) * (tellers + auditors),
  setup(k, params, variant) {
    const build = BANK_BUILDS[variant];
    if (build === undefined) throw new RangeError(`atomic-bank has no variant ${variant}`);
    buildBank(k, params, build);
  },
});
