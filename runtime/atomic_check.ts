/**
 * Checks of transactional histories that do not trust the transaction
 * manager they judge: they keep their own record of what each attempt read
 * and what each commit wrote, rebuild the states the committed history went
 * through, and search for explanations.
 *
 * - **serializable**: after every commit, some serial order of the committed
 *   transactions gives every one of them the values it read and ends in the
 *   state memory is in.
 * - **opacity**: at every read, the values the attempt has read so far (its
 *   enclosing levels' and its own, even if it aborts later) all come from one
 *   state the committed history passed through since the attempt began.
 *
 * @module
 */
import type { Cell } from "../sim/cell.ts";
import type { Fiber } from "../sim/fiber.ts";
import { Violation } from "../sim/outcome.ts";
import type { TxObserver } from "./atomic.ts";

/** Commits the serializability search looks at; later ones are not checked (the search is exponential). */
export const SERIAL_COMMITS_MAX = 16;

interface Committed {
  readonly fiber: string;
  readonly reads: ReadonlyArray<readonly [number, unknown]>;
  readonly writes: ReadonlyArray<readonly [number, unknown]>;
}

interface Live {
  readonly fiber: string;
  /** Commits before the attempt began: its snapshot can be no older. */
  readonly start: number;
  /** External reads per open level, outermost first. */
  readonly levels: Array<Array<readonly [number, unknown]>>;
}

/**
 * Records transactions (pass it as `observer` to `Stm.configure`) and
 * throws a `Violation` (`serializable` or `opacity`) where a history has no
 * explanation. Cells must change only through commits while it watches.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel, type Cell } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import { Stm, type Tx } from "./atomic.ts";
 * function* bump(tx: Tx, c: Cell<number>) {
 *   tx.write(c, (yield* tx.read(c)) + 1);
 * }
 * function* bumper(stm: Stm, c: Cell<number>) {
 *   yield* stm.atomic(bump, c);
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 1);
 * const history = new TxHistory();
 * const stm = Stm.of(k).configure({ validate: false, observer: history });
 * const c = k.cell("c", 0);
 * k.spawn("a", bumper, stm, c);
 * k.spawn("b", bumper, stm, c);
 * const o = k.execute(); // without validation both may read 0: no serial order explains that
 * assertEquals(o.verdict === "pass" || o.check === "serializable", true);
 * ```
 */
export class TxHistory implements TxObserver {
  readonly #names: string[] = [];
  readonly #initial = new Map<number, unknown>();
  /** Per cell: the commit indices (1-based) that wrote it and the values. */
  readonly #written = new Map<number, { at: number[]; values: unknown[] }>();
  readonly #committed: Committed[] = [];
  readonly #live = new Map<number, Live>();
  /** Serial-order searches run (for tests). */
  searches = 0;

  /** Commits recorded so far. */
  get commits(): number {
    return this.#committed.length;
  }

  begin(attempt: number, fiber: Fiber): void {
    this.#live.set(attempt, { fiber: fiber.name, start: this.commits, levels: [[]] });
  }

  enter(attempt: number, depth: number): void {
    const live = this.#get(attempt);
    live.levels.length = depth;
    live.levels.push([]);
  }

  leaveAborted(attempt: number, depth: number): void {
    this.#get(attempt).levels.length = depth;
  }

  leaveCommitted(attempt: number, depth: number): void {
    const levels = this.#get(attempt).levels;
    const inner = levels[depth];
    levels.length = depth;
    levels[depth - 1].push(...inner);
  }

  read(attempt: number, depth: number, cell: Cell<unknown>, value: unknown): void {
    this.#see(cell);
    const live = this.#get(attempt);
    live.levels[depth].push([cell.id, value]);
    const reads = live.levels.flat();
    for (let j = this.commits; j >= live.start; j--) {
      if (reads.every(([id, v]) => Object.is(this.#valueAt(id, j), v))) return;
    }
    const seen = reads.map(([id, v]) => `${this.#names[id]}=${String(v)}`).join(", ");
    throw new Violation(
      "opacity",
      `a transaction of ${live.fiber} read ${seen}: no state since it began ` +
        `(after commit ${live.start} .. ${this.commits}) holds all of these`,
    );
  }

  commit(attempt: number, writes: ReadonlyArray<readonly [Cell<unknown>, unknown]>): void {
    const live = this.#get(attempt);
    this.#live.delete(attempt);
    for (const [cell] of writes) this.#see(cell);
    const index = this.commits + 1;
    for (const [cell, value] of writes) {
      let w = this.#written.get(cell.id);
      if (w === undefined) this.#written.set(cell.id, w = { at: [], values: [] });
      w.at.push(index);
      w.values.push(value);
    }
    this.#committed.push({
      fiber: live.fiber,
      reads: live.levels.flat(),
      writes: writes.map(([cell, value]) => [cell.id, value] as const),
    });
    if (this.commits <= SERIAL_COMMITS_MAX && !this.#serializable()) {
      const last = this.#committed[this.commits - 1];
      const read = last.reads.map(([id, v]) => `${this.#names[id]}=${String(v)}`).join(", ");
      throw new Violation(
        "serializable",
        `no serial order explains the ${this.commits} commits so far; the last, by ` +
          `${last.fiber}, read ${read || "nothing"}`,
      );
    }
  }

  abort(attempt: number): void {
    this.#live.delete(attempt);
  }

  // ---- the model ---------------------------------------------------------

  #get(attempt: number): Live {
    const live = this.#live.get(attempt);
    if (live === undefined) throw new Error(`TxHistory: attempt ${attempt} never began`);
    return live;
  }

  // The first time a cell shows up, no commit has written it yet (cells
  // change only through commits), so its value now is its initial value.
  #see(cell: Cell<unknown>): void {
    if (this.#initial.has(cell.id)) return;
    this.#initial.set(cell.id, cell.peek());
    this.#names[cell.id] = cell.name;
  }

  /** The value of cell `id` after the first `j` commits. */
  #valueAt(id: number, j: number): unknown {
    const w = this.#written.get(id);
    if (w !== undefined) {
      for (let i = w.at.length - 1; i >= 0; i--) if (w.at[i] <= j) return w.values[i];
    }
    return this.#initial.get(id);
  }

  // Depth-first over orders, committed order first, so a serializable
  // history that is serial in commit order is confirmed without backtracking.
  // Failed (set of transactions placed, state) pairs are remembered.
  #serializable(): boolean {
    this.searches++;
    const txs = this.#committed;
    const n = txs.length;
    const ids = [...this.#initial.keys()].sort((a, b) => a - b);
    const final = new Map<number, unknown>();
    for (const id of ids) final.set(id, this.#valueAt(id, n));
    const failed = new Set<string>();
    const state = new Map(this.#initial);
    const search = (placed: number, count: number): boolean => {
      if (count === n) return ids.every((id) => Object.is(state.get(id), final.get(id)));
      const key = `${placed}:${ids.map((id) => String(state.get(id))).join(",")}`;
      if (failed.has(key)) return false;
      for (let i = 0; i < n; i++) {
        if ((placed & (1 << i)) !== 0) continue;
        const tx = txs[i];
        if (!tx.reads.every(([id, v]) => Object.is(state.get(id), v))) continue;
        const saved = tx.writes.map(([id]) => [id, state.get(id)] as const);
        for (const [id, v] of tx.writes) state.set(id, v);
        const ok = search(placed | (1 << i), count + 1);
        for (const [id, v] of saved) state.set(id, v);
        if (ok) return true;
      }
      failed.add(key);
      return false;
    };
    return search(0, 0);
  }
}
