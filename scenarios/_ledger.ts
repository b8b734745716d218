/**
 * Ghost bookkeeping shared by scenarios: which task ran, and where.
 *
 * @module
 */
import { Violation } from "../sim/outcome.ts";

/**
 * Records each execution of numbered tasks and fails the run the moment one
 * runs twice; `missing` names a task that never ran, for an end invariant.
 * It is ghost state: recording is not a scheduling point.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "../deps.ts";
 * const l = new RunLedger(2, "executed-once");
 * l.run(0, "owner");
 * assertEquals(l.missing(), "task 1 never ran");
 * assertThrows(() => l.run(0, "thief1"), /task 0 ran twice: on owner, then on thief1/);
 * ```
 */
export class RunLedger {
  readonly check: string;
  readonly #where: (string | undefined)[];

  constructor(tasks: number, check: string) {
    this.#where = new Array(tasks).fill(undefined);
    this.check = check;
  }

  /** Records that `task` ran on `who`; a second run is a `bug`. */
  run(task: number, who: string): void {
    const before = this.#where[task];
    if (before !== undefined) {
      throw new Violation(this.check, `task ${task} ran twice: on ${before}, then on ${who}`);
    }
    this.#where[task] = who;
  }

  /** True when `task` ran. */
  has(task: number): boolean {
    return this.#where[task] !== undefined;
  }

  /** How many tasks ran. */
  get ran(): number {
    return this.#where.filter((w) => w !== undefined).length;
  }

  /** True when every task ran, else a message naming the first that did not. */
  missing(): true | string {
    const i = this.#where.indexOf(undefined);
    return i < 0 || `task ${i} never ran`;
  }
}
