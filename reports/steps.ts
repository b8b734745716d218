/**
 * A readable log of the steps of a run, for replays.
 *
 * @module
 */
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel, StepObserver } from "../sim/kernel.ts";
import type { Op } from "../sim/op.ts";

/** One step as people read it. */
export interface StepLine {
  /** The step's number. */
  readonly step: number;
  /** The fiber that took it. */
  readonly fiber: string;
  /** The core it ran on. */
  readonly core: number;
  /** The operation's kind. */
  readonly kind: string;
  /** The object it named. */
  readonly object: string;
  /** The virtual time at the step. */
  readonly time: number;
}

/**
 * Collects the steps of a run (the first `headMax` and the last `tailMax`),
 * so a replay can show who did what in which order.
 */
export class StepLog implements StepObserver {
  /** The first steps. */
  readonly head: StepLine[] = [];
  /** The last steps. */
  readonly tail: StepLine[] = [];
  /** Steps seen. */
  total = 0;
  readonly #headMax: number;
  readonly #tailMax: number;

  /** Makes a log keeping the first `headMax` and the last `tailMax` steps. */
  constructor(headMax = 200, tailMax = 50) {
    this.#headMax = headMax;
    this.#tailMax = tailMax;
  }

  onStep(fiber: Fiber, op: Op, kernel: Kernel): void {
    const line: StepLine = {
      step: kernel.step,
      fiber: fiber.name,
      core: fiber.core,
      kind: op.kind,
      object: op.obj >= 0 ? kernel.objectName(op.obj) : "",
      time: kernel.now,
    };
    this.total++;
    if (this.head.length < this.#headMax) {
      this.head.push(line);
      return;
    }
    this.tail.push(line);
    if (this.tail.length > this.#tailMax) this.tail.shift();
  }

  /**
   * The log as aligned text lines. When virtual time is not simply one tick
   * per step (timers, costs), each line also shows the time after the step;
   * with `sourceOf`, each ends with where the step's operation was yielded.
   */
  format(sourceOf?: (step: number) => string | null): string[] {
    const lines = this.head.concat(this.tail);
    const timed = lines.some((l) => l.time !== l.step);
    const width = timed ? Math.max(...lines.map((l) => String(l.time).length)) : 0;
    const objects = sourceOf === undefined ? 0 : Math.max(0, ...lines.map((l) => l.object.length));
    const fmt = (l: StepLine): string =>
      (`${String(l.step).padStart(6)}  ${timed ? `t=${String(l.time).padEnd(width)}  ` : ""}` +
        `core ${String(l.core).padEnd(3)} ${l.fiber.padEnd(14)} ` +
        `${l.kind.padEnd(8)} ${l.object.padEnd(objects)}` +
        `${sourceOf === undefined ? "" : `  ${sourceOf(l.step) ?? "-"}`}`).trimEnd();
    const out = this.head.map(fmt);
    const skipped = this.total - this.head.length - this.tail.length;
    if (skipped > 0) out.push(`   ... ${skipped} steps not shown ...`);
    return out.concat(this.tail.map(fmt));
  }
}
