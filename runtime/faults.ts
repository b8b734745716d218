/**
 * Faults through the seed (FoundationDB's BUGGIFY): at marked places the
 * runtime's parts may, when a run enables it, fail an allocation, delay a
 * message, stall a worker, make a timer late or run a collection early.
 *
 * Every fault is a `k.chance(p, "fault")`, so it is a recorded decision: a
 * trace replays it, the shrinker can turn it off (decision 0), and a run
 * with faults off draws nothing at all, so its trace is what it was before
 * faults existed. Correct code must survive every fault: each one stays
 * within what the part promises (an allocation may always fail resumably, a
 * channel only promises FIFO per sender, a timer only promises "not early").
 *
 * @module
 */
import { z } from "zod";
import { Clock } from "../sim/clock.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";

/** The kinds of fault, one per marked place. */
export const FAULT_KINDS = ["alloc", "delay", "stall", "late", "collect"] as const;

/** A kind of fault. */
export type FaultKind = typeof FAULT_KINDS[number];

/** The longest delay, stall or lateness a fault may draw, in ticks. */
export const FAULT_TICKS_MAX = 1000;

const probability = z.number().min(0).max(1);

/**
 * Which faults a run enables and how often: a probability per marked place
 * (0, the default, is off) and the longest delay in virtual ticks.
 *
 * - `alloc`: an allocation fails with a resumable `HeapExhausted` (marked
 *   `injected`), having written nothing.
 * - `delay`: a channel post or retrieve waits 1..`delayTicksMax` ticks
 *   first, which reorders messages of different senders, never one sender's.
 * - `stall`: a worker waits 1..`delayTicksMax` ticks before its next job.
 * - `late`: a timer fires 1..`delayTicksMax` ticks after its deadline.
 * - `collect`: a collection runs before its trigger says it must.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "../deps.ts";
 * assertEquals(FaultsSchema.parse({ alloc: 0.1 }).delay, 0);
 * assertThrows(() => FaultsSchema.parse({ alloc: 2 }));
 * assertThrows(() => FaultsSchema.parse({ alocc: 0.1 }));
 * ```
 *
 * @ignore a zod schema: its type is zod's, not the package's (see `FaultConfig`)
 */
export const FaultsSchema: z.ZodType<FaultConfig> = z.object({
  alloc: probability.default(0),
  delay: probability.default(0),
  stall: probability.default(0),
  late: probability.default(0),
  collect: probability.default(0),
  delayTicksMax: z.number().int().min(1).max(FAULT_TICKS_MAX).default(8),
}).strict();

/** A fault configuration, as `FaultsSchema` gives it: a probability per kind of fault. */
export interface FaultConfig {
  /** An allocation fails with a resumable `HeapExhausted`. */
  readonly alloc: number;
  /** A channel post or retrieve waits first. */
  readonly delay: number;
  /** A worker waits before its next job. */
  readonly stall: number;
  /** A timer fires after its deadline. */
  readonly late: number;
  /** A collection runs before its trigger says it must. */
  readonly collect: number;
  /** The longest delay, stall or lateness, in ticks. */
  readonly delayTicksMax: number;
}

/** Every fault off. */
export const NO_FAULTS: FaultConfig = Object.freeze(FaultsSchema.parse({}));

/**
 * The run's fault injector. One per run, attached to the kernel: parts get
 * it with `Faults.of(kernel)` when they are built, and a scenario turns
 * faults on with `Faults.enable(kernel, config)` in its setup, before or
 * after building the parts. Until then every fault is off and draws nothing.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 3);
 * const faults = Faults.of(k);
 * assertEquals(faults.fire("alloc"), false); // off: no decision recorded
 * assertEquals(k.decisionCount, 0);
 * Faults.enable(k, { ...NO_FAULTS, alloc: 1 });
 * assertEquals(faults.fire("alloc"), true);
 * assertEquals(faults.fired.alloc, 1);
 * ```
 */
export class Faults {
  readonly #kernel: Kernel;
  #config: FaultConfig = NO_FAULTS;
  /** True when some fault may fire: parts test it before anything else. */
  on = false;
  /** Ghost: how many faults of each kind fired in this run, for end-to-end checks. */
  readonly fired: Record<FaultKind, number> = { alloc: 0, delay: 0, stall: 0, late: 0, collect: 0 };

  private constructor(kernel: Kernel) {
    this.#kernel = kernel;
  }

  /** The fault injector of the kernel's current run (all off until enabled). */
  static of(kernel: Kernel): Faults {
    return kernel.attached(Faults, (k) => new Faults(k));
  }

  /** Turns on the faults of `config` for the current run; undefined leaves them off. */
  static enable(kernel: Kernel, config: FaultConfig | undefined): Faults {
    const f = Faults.of(kernel);
    f.#config = config ?? NO_FAULTS;
    f.on = FAULT_KINDS.some((kind) => f.#config[kind] > 0);
    return f;
  }

  /** The configuration in force. */
  get config(): FaultConfig {
    return this.#config;
  }

  /** Whether a fault of `kind` fires here: a recorded coin on the "fault" stream. */
  fire(kind: FaultKind): boolean {
    if (!this.on) return false;
    const p = this.#config[kind];
    if (p === 0 || !this.#kernel.chance(p, "fault")) return false;
    this.fired[kind]++;
    return true;
  }

  /** How long a delay, stall or lateness lasts: 1..delayTicksMax ticks, drawn and recorded. */
  ticks(): number {
    return 1 + this.#kernel.choose(this.#config.delayTicksMax, "fault");
  }

  /**
   * A marked place where the calling fiber may be held up: when a fault of
   * `kind` fires, it sleeps a drawn number of virtual ticks.
   */
  *wait(kind: FaultKind): Action<void> {
    if (!this.on || !this.fire(kind)) return;
    yield* Clock.of(this.#kernel).sleep(this.ticks());
  }
}

/** A configuration drawn from the seed: what `SwarmDraw` offers a scenario's swarm hook. */
export interface FaultDraw {
  /** An integer in [min, max]; the smallest for decision 0. */
  int(name: string, min: number, max: number): number;
  /** An element of `options`; the first for decision 0. */
  pick<T>(name: string, options: readonly T[]): T;
}

/** The probabilities a swarm run picks from for each fault it turns on. */
export const SWARM_FAULT_PROBABILITIES: readonly number[] = [0, 0.01, 0.05, 0.2];

/**
 * Draws a fault configuration for a swarm run (Groce et al.): each of
 * `kinds` is off or on at one of `SWARM_FAULT_PROBABILITIES`, so different
 * seeds test different mixes. Every draw shrinks toward "off".
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const zero: FaultDraw = { int: (_n, min) => min, pick: (_n, o) => o[0] };
 * assertEquals(drawFaults(zero, ["alloc"]), {});
 * ```
 */
export function drawFaults(
  draw: FaultDraw,
  kinds: readonly FaultKind[] = FAULT_KINDS,
): Partial<FaultConfig> {
  // Only what is on is written, so a printed configuration stays short;
  // the scenario's schema fills in the rest.
  const out: Partial<Record<keyof FaultConfig, number>> = {};
  for (const kind of kinds) {
    const p = draw.pick(`faults.${kind}`, SWARM_FAULT_PROBABILITIES);
    if (p > 0) out[kind] = p;
  }
  if (Object.keys(out).length > 0) out.delayTicksMax = draw.int("faults.delayTicksMax", 1, 16);
  return out;
}
