/**
 * The state of a run at each step, for reports: every cell, every fiber, and
 * whatever the runtime's describers add (heap objects, mark colours, locks,
 * queues). Recorded only in a report's replay, as deltas against the
 * previous step, so ordinary runs pay nothing.
 *
 * State is a flat map from `section/name` keys to values as JSON text:
 * `cell/counter` → `2`, `fiber/m0` → `{"state":"blocked",...}`. Flat keys
 * make deltas trivial and let a report group by section.
 *
 * @module
 */
import type { Fiber } from "./fiber.ts";
import type { Kernel, StepObserver } from "./kernel.ts";
import type { Op } from "./op.ts";

/** Where a describer puts its state. */
export interface StateWriter {
  /** Sets `section/name` to `value` (anything JSON can show; NaN and undefined are kept as text). */
  put(section: string, name: string, value: unknown): void;
}

/** Something that can describe its state: a heap, a lock, a channel. */
export interface StateSource {
  /** Adds this object's state to `out`. Called after setup and after every step. */
  describeState(out: StateWriter): void;
}

/** The state at one moment: `section/name` → value as JSON text, in a stable order. */
export type StateMap = Map<string, string>;

/** Longest value text kept; longer ones are cut and shown as a string. */
const VALUE_CHARS_MAX = 2_000;

function replacer(_key: string, v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (v === undefined) return "undefined";
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "function";
  return v;
}

/**
 * A value as JSON text, as the state shows it: NaN (a poisoned cell) and
 * undefined become strings, cycles and huge values a cut string.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * assertEquals(encodeValue({ a: [1, NaN] }), '{"a":[1,"NaN"]}');
 * assertEquals(encodeValue(undefined), '"undefined"');
 * ```
 */
export function encodeValue(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v, replacer) ?? "null";
  } catch {
    text = JSON.stringify(String(v));
  }
  if (text.length > VALUE_CHARS_MAX) {
    text = JSON.stringify(`${text.slice(0, VALUE_CHARS_MAX)}… (${text.length} chars)`);
  }
  return text;
}

class MapWriter implements StateWriter {
  readonly map: StateMap = new Map();
  put(section: string, name: string, value: unknown): void {
    this.map.set(`${section}/${name}`, encodeValue(value));
  }
}

/** What a fiber is doing, as the state shows it. */
export interface FiberState {
  readonly core: number;
  /** `ready`, `blocked` or `done`. */
  readonly state: "ready" | "blocked" | "done";
  /** Its pending operation, "kind object", or "" when done. */
  readonly op: string;
  /** Why it waits, when blocked. */
  readonly waits?: string;
  /** The fibers it waits for, when its guard can tell (lock holders, a joined fiber). */
  readonly on?: readonly string[];
}

/** The state of fiber `f` of `kernel`. */
export function fiberState(kernel: Kernel, f: Fiber): FiberState {
  const op = f.pending;
  if (f.done || op === null) return { core: f.core, state: "done", op: "" };
  const what = op.obj >= 0 ? `${op.kind} ${kernel.objectName(op.obj)}` : op.kind;
  const g = op.guard;
  if (g === null || g.ready(f)) return { core: f.core, state: "ready", op: what };
  const on = g.blockers?.(f).map((b) => b.name);
  return {
    core: f.core,
    state: "blocked",
    op: what,
    waits: g.waitReason(f),
    ...(on === undefined ? {} : { on }),
  };
}

/**
 * The whole state of `kernel` now: fibers, cells, then each describer's part.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "./kernel.ts";
 * import { RandomStrategy } from "./random.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 10 }, new RandomStrategy(), 1);
 * const c = k.cell("c", 0);
 * k.spawn("w", function* () { yield* c.write(1); });
 * assertEquals(captureState(k).get("cell/c"), "0");
 * assertEquals(JSON.parse(captureState(k).get("fiber/w")!).op, "write c");
 * ```
 */
export function captureState(kernel: Kernel): StateMap {
  const w = new MapWriter();
  const n = kernel.fiberCount;
  for (let i = 0; i < n; i++) {
    const f = kernel.fiber(i) as Fiber;
    w.put("fiber", f.name, fiberState(kernel, f));
  }
  w.put("clock", "virtual time", kernel.now);
  const cells = kernel.snapshot();
  for (const name in cells) w.put("cell", name, cells[name]);
  for (const d of kernel.describers) d.describeState(w);
  return w.map;
}

/** One change: a key index and its new value as JSON text, or null when the key went away. */
export type Change = readonly [key: number, value: string | null];

/** The recorded states of one run: a base state and one list of changes per step. */
export interface StateRecording {
  /** Every key seen, indexed by the changes. */
  readonly keys: readonly string[];
  /** The step `base` describes: 0 (after setup) unless the cap cut the start. */
  readonly from: number;
  /** The state at step `from`. */
  readonly base: readonly Change[];
  /** `deltas[i]` turns the state at step `from + i` into the state at step `from + i + 1`. */
  readonly deltas: readonly (readonly Change[])[];
  /** Steps the run took. */
  readonly steps: number;
  /** True when early steps were dropped to stay under the size cap. */
  readonly capped: boolean;
  /** The approximate size of the recording as JSON, in bytes. */
  readonly bytes: number;
}

/** The default cap on a recording's size: big runs keep their last steps. */
export const STATE_BYTES_MAX_DEFAULT = 1_500_000;

/**
 * A step observer that records the state after setup and after every step,
 * as deltas. Attach it before setup (it calls `startDescribing`) and call
 * `start` once setup is done.
 */
export class StateRecorder implements StepObserver {
  readonly #keys: string[] = [];
  readonly #index = new Map<string, number>();
  #prev: StateMap = new Map();
  #base: Change[] = [];
  readonly #deltas: Change[][] = [];
  readonly #bytesMax: number;

  constructor(bytesMax = STATE_BYTES_MAX_DEFAULT) {
    this.#bytesMax = bytesMax;
  }

  /** Makes `kernel` collect describers; call after `reset`, before setup. */
  attach(kernel: Kernel): void {
    kernel.startDescribing();
    kernel.observe(this);
  }

  /** Records the state after setup. */
  start(kernel: Kernel): void {
    this.#prev = captureState(kernel);
    this.#base = [];
    for (const [k, v] of this.#prev) this.#base.push([this.#key(k), v]);
  }

  onStep(_fiber: Fiber, _op: Op, kernel: Kernel): void {
    const next = captureState(kernel);
    const prev = this.#prev;
    const delta: Change[] = [];
    for (const [k, v] of next) {
      if (prev.get(k) !== v) delta.push([this.#key(k), v]);
    }
    for (const k of prev.keys()) if (!next.has(k)) delta.push([this.#key(k), null]);
    this.#deltas.push(delta);
    this.#prev = next;
  }

  #key(k: string): number {
    let i = this.#index.get(k);
    if (i === undefined) {
      i = this.#keys.push(k) - 1;
      this.#index.set(k, i);
    }
    return i;
  }

  /**
   * The recording. When it is over the cap, the earliest steps are dropped
   * and the base becomes the state at the first step kept: the last steps,
   * where a run fails, are always there.
   */
  result(): StateRecording {
    const size = (cs: readonly Change[]) => {
      let b = 2;
      for (const [k, v] of cs) b += String(k).length + (v === null ? 0 : v.length) + 4;
      return b;
    };
    const sizes = this.#deltas.map(size);
    const keysBytes = this.#keys.reduce((s, k) => s + k.length + 3, 0);
    let total = keysBytes + size(this.#base) + sizes.reduce((a, b) => a + b, 0);
    if (total <= this.#bytesMax) {
      return {
        keys: this.#keys,
        from: 0,
        base: this.#base,
        deltas: this.#deltas,
        steps: this.#deltas.length,
        capped: false,
        bytes: total,
      };
    }
    // Keep the longest tail that fits beside a base state of its first step.
    const entry = (k: number, v: string) => String(k).length + v.length + 4;
    const state = new Map<number, string>();
    let baseBytes = 2;
    const set = (k: number, v: string | null) => {
      const old = state.get(k);
      if (old !== undefined) baseBytes -= entry(k, old);
      if (v === null) {
        state.delete(k);
      } else {
        state.set(k, v);
        baseBytes += entry(k, v);
      }
    };
    for (const [k, v] of this.#base) set(k, v);
    let from = 0;
    let tail = total - keysBytes - size(this.#base);
    while (from < this.#deltas.length) {
      for (const [k, v] of this.#deltas[from]) set(k, v);
      tail -= sizes[from];
      from++;
      total = keysBytes + tail + baseBytes;
      if (total <= this.#bytesMax) break;
    }
    return {
      keys: this.#keys,
      from,
      base: [...state].map(([k, v]) => [k, v] as Change),
      deltas: this.#deltas.slice(from),
      steps: this.#deltas.length,
      capped: true,
      bytes: total,
    };
  }
}

/**
 * The state at step `step` of a recording, rebuilt from its base and
 * deltas; null when the step was not recorded (cut by the cap, or past the end).
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const rec = { keys: ["cell/c"], from: 0, base: [[0, "0"]] as const, deltas: [[[0, "1"]]] as const,
 *   steps: 1, capped: false, bytes: 0 };
 * assertEquals(stateAt(rec, 1)?.get("cell/c"), "1");
 * assertEquals(stateAt(rec, 2), null);
 * ```
 */
export function stateAt(rec: StateRecording, step: number): StateMap | null {
  if (!Number.isInteger(step) || step < rec.from || step > rec.from + rec.deltas.length) {
    return null;
  }
  const state = new Map<number, string>();
  for (const [k, v] of rec.base) if (v !== null) state.set(k, v);
  for (let i = 0; i < step - rec.from; i++) {
    for (const [k, v] of rec.deltas[i]) v === null ? state.delete(k) : state.set(k, v);
  }
  const out: StateMap = new Map();
  for (const [k, v] of state) out.set(rec.keys[k], v);
  return out;
}
