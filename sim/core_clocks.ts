/**
 * Per-core clocks: each simulated core reads its own clock, which runs at its
 * own rate (drift) from its own starting point (offset).
 *
 * @module
 */
import type { Kernel } from "./kernel.ts";

/** Bounds of the draws, and which cores get a clock. */
export interface CoreClockOptions {
  /** Cores 0..cores-1 get a clock. */
  readonly cores: number;
  /** Each core's rate error is drawn from [-driftPpmMax, driftPpmMax] parts per million. */
  readonly driftPpmMax: number;
  /** Each core's starting reading is drawn from [0, offsetMax] ticks. */
  readonly offsetMax: number;
  /** The recorded-choice stream the draws come from. */
  readonly stream?: string;
}

const PPM = 1_000_000;
const CORES_MAX = 4096;
/** Recorded choices are int32: an offset is drawn from at most 2^31 - 1 values. */
const OFFSET_MAX = 2 ** 31 - 2;

/**
 * The clocks of the cores. Drift and offset of every core are drawn with
 * `kernel.choose` when the clocks are made (during setup), so they come from
 * the seed, are written into the trace, and a replay reads the same values.
 *
 * A core's reading at global time t is `offset + t + floor(t * driftPpm / 1e6)`:
 * integer, never decreasing on its own, jumping only when `set` or `adjust`
 * moves it. Reading is not a scheduling point: it is what the core sees
 * during the step that reads it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "./kernel.ts";
 * import { RandomStrategy } from "./random.ts";
 * const k = new Kernel();
 * k.reset({ cores: 2, stepsMax: 10 }, new RandomStrategy(), 7);
 * const clocks = new CoreClocks(k, { cores: 2, driftPpmMax: 0, offsetMax: 0 });
 * k.now = 1000;
 * assertEquals(clocks.read(1), 1000);
 * clocks.set(1, 5);
 * k.now = 1010;
 * assertEquals(clocks.read(1), 15);
 * ```
 */
export class CoreClocks {
  readonly #kernel: Kernel;
  readonly #driftPpm: Int32Array;
  readonly #offset: Float64Array;

  /** Draws every core's drift and offset (in setup). */
  constructor(kernel: Kernel, options: CoreClockOptions) {
    const { cores, driftPpmMax, offsetMax } = options;
    if (!Number.isInteger(cores) || cores < 1 || cores > CORES_MAX) {
      throw new RangeError(`Cannot make clocks for ${cores} cores: need 1..${CORES_MAX}`);
    }
    if (!Number.isInteger(driftPpmMax) || driftPpmMax < 0 || driftPpmMax >= PPM) {
      throw new RangeError(`Cannot draw drift up to ${driftPpmMax} ppm: need 0..${PPM - 1}`);
    }
    if (!Number.isInteger(offsetMax) || offsetMax < 0 || offsetMax > OFFSET_MAX) {
      throw new RangeError(`Cannot draw offsets up to ${offsetMax}: need 0..${OFFSET_MAX}`);
    }
    const stream = options.stream ?? "clock";
    this.#kernel = kernel;
    this.#driftPpm = new Int32Array(cores);
    this.#offset = new Float64Array(cores);
    for (let c = 0; c < cores; c++) {
      this.#driftPpm[c] = kernel.choose(2 * driftPpmMax + 1, stream) - driftPpmMax;
      this.#offset[c] = kernel.choose(offsetMax + 1, stream);
    }
  }

  /** How many cores have a clock. */
  get cores(): number {
    return this.#offset.length;
  }

  /** The reading of `core`'s clock now; by default the current fiber's core. */
  read(core: number = this.#currentCore()): number {
    this.#check(core);
    return this.#offset[core] + this.#elapsed(core, this.#kernel.now);
  }

  /** Sets `core`'s clock so that it reads `value` now; its rate stays. */
  set(core: number, value: number): void {
    this.#check(core);
    if (!Number.isFinite(value)) throw new RangeError(`Cannot set a clock to ${value}`);
    this.#offset[core] = value - this.#elapsed(core, this.#kernel.now);
  }

  /** Moves `core`'s clock by `delta` ticks. */
  adjust(core: number, delta: number): void {
    this.set(core, this.read(core) + delta);
  }

  /** `core`'s rate error in parts per million. */
  driftPpm(core: number): number {
    this.#check(core);
    return this.#driftPpm[core];
  }

  #elapsed(core: number, t: number): number {
    return t + Math.floor((t * this.#driftPpm[core]) / PPM);
  }

  #currentCore(): number {
    const f = this.#kernel.current;
    if (f === null) throw new Error("Cannot read the current core's clock outside a fiber");
    return f.core;
  }

  #check(core: number): void {
    if (!Number.isInteger(core) || core < 0 || core >= this.#offset.length) {
      throw new RangeError(`No clock for core ${core}: cores are 0..${this.#offset.length - 1}`);
    }
  }
}
