/**
 * The event log of a run: who did what, in order. Traces record choices;
 * events are a separate record, for reports and determinism checks.
 *
 * @module
 */
import type { Fiber } from "./fiber.ts";
import type { Kernel, StepObserver } from "./kernel.ts";
import type { Op } from "./op.ts";

/** One step of a run. */
export interface StepEvent {
  /** The step number, from 1. */
  readonly step: number;
  /** The fiber's id, name and core. */
  readonly fiber: number;
  /** The fiber's name. */
  readonly name: string;
  /** The core it ran on. */
  readonly core: number;
  /** The operation's kind, object id and name ("" when none), and whether it writes. */
  readonly kind: string;
  /** The object id the operation named. */
  readonly obj: number;
  /** The object's name. */
  readonly object: string;
  /** Whether the operation wrote the object. */
  readonly write: boolean;
  /** Virtual time after the step. */
  readonly time: number;
}

/** Steps recorded unless told otherwise: reports of longer runs show the start. */
export const EVENTS_MAX_DEFAULT = 20_000;

/**
 * Records the first `eventsMax` steps of a run.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "./kernel.ts";
 * import { RandomStrategy } from "./random.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 10 }, new RandomStrategy(), 1);
 * const log = new EventLog();
 * k.observe(log);
 * const c = k.cell("c", 0);
 * k.spawn("w", function* () { yield* c.write(1); });
 * k.execute();
 * assertEquals(log.events.map((e) => `${e.name} ${e.kind} ${e.object}`), ["w write c"]);
 * ```
 */
export class EventLog implements StepObserver {
  /** The steps recorded so far. */
  readonly events: StepEvent[] = [];
  /** Steps seen, recorded or not. */
  total = 0;
  readonly #eventsMax: number;

  /** Makes a log that keeps the first `eventsMax` steps. */
  constructor(eventsMax = EVENTS_MAX_DEFAULT) {
    this.#eventsMax = eventsMax;
  }

  /** True when some steps were not recorded. */
  get truncated(): boolean {
    return this.total > this.events.length;
  }

  onStep(fiber: Fiber, op: Op, kernel: Kernel): void {
    this.total++;
    if (this.events.length >= this.#eventsMax) return;
    this.events.push({
      step: kernel.step,
      fiber: fiber.id,
      name: fiber.name,
      core: fiber.core,
      kind: op.kind,
      obj: op.obj,
      object: op.obj >= 0 ? kernel.objectName(op.obj) : "",
      write: op.write,
      time: kernel.now,
    });
  }
}

/** A step as one line of text: `12 inc0 write counter t=12`. */
export function describeEvent(e: StepEvent): string {
  const obj = e.object === "" ? "" : ` ${e.object}`;
  return `step ${e.step}: ${e.name} (core ${e.core}) ${e.kind}${obj} at t=${e.time}`;
}
