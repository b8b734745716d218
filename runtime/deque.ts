/**
 * The Chase-Lev work-stealing deque (Chase and Lev, SPAA 2005), with the
 * orderings and fences of Lê, Pop, Cohen and Zappa Nardelli's C11 version
 * (PPoPP 2013). Under sequential consistency the orderings change nothing
 * and the fences are no steps, so it is the sequentially consistent form.
 *
 * @module
 */
import type { Cell } from "../sim/cell.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import type { StateSource, StateWriter } from "../sim/state.ts";

/**
 * A deliberate bug of the deque.
 *
 * - `no-cas-last`: `take` claims the last element by writing top + 1 instead
 *   of a compare-and-swap on top, so the owner and a thief can both get it.
 * - `steal-read-after-cas`: a thief claims an element by its CAS on top and
 *   only then reads the slot; by then the owner may have pushed a new element
 *   into the same slot of the circular array.
 * - `take-no-fence`: `take` has no seq_cst fence between publishing the
 *   smaller bottom and reading top. Under sequential consistency nothing is
 *   lost; on x86-TSO the store of bottom can wait in the owner's store
 *   buffer while a thief reads the old bottom, and both take the same
 *   element.
 */
export type DequeFlaw = "no-cas-last" | "steal-read-after-cas" | "take-no-fence";

/** How a deque is built. */
export interface DequeOptions {
  /** Slots of the first circular array; a power of two. */
  readonly capacity: number;
  /** The array doubles when full, up to this many slots (a power of two). */
  readonly capacityMax?: number;
  /** A deliberate bug for a broken variant, or null for the correct deque. */
  readonly flaw?: DequeFlaw | null;
}

/** What `take` gives. */
export type Taken<T> = { readonly tag: "ok"; readonly value: T } | { readonly tag: "empty" };
/** What `steal` gives; `abort` means another fiber won the race for the top element. */
export type Stolen<T> = Taken<T> | { readonly tag: "abort" };

const EMPTY: { readonly tag: "empty" } = Object.freeze({ tag: "empty" });
const ABORT: { readonly tag: "abort" } = Object.freeze({ tag: "abort" });
const CAPACITY_MAX_DEFAULT = 1024;

/** One circular array: its slots are cells, indexed by position modulo the size. */
class CircularArray<T> {
  readonly size: number;
  readonly #mask: number;
  readonly slots: Cell<T | undefined>[] = [];
  readonly #name: string;

  constructor(k: Kernel, name: string, size: number) {
    this.size = size;
    this.#name = name;
    this.#mask = size - 1;
    for (let i = 0; i < size; i++) {
      this.slots.push(k.cell<T | undefined>(`${name}[${i}]`, undefined));
    }
  }

  at(i: number): Cell<T | undefined> {
    return this.slots[i & this.#mask];
  }

  /** How the `array` cell shows in reports. */
  toJSON(): string {
    return `${this.#name} (${this.size} slots)`;
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/**
 * A work-stealing deque. One owner fiber pushes and takes at the bottom;
 * any number of thieves steal at the top. `top`, `bottom` and the current
 * array are cells, and so is every slot of every array, so the explorer sees
 * each access of the algorithm as its own scheduling point.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * function* owner(d: Deque<number>, out: unknown[]) {
 *   for (let i = 0; i < 3; i++) yield* d.push(i); // the third push grows the array
 *   out.push(yield* d.take(), yield* d.steal(), yield* d.take(), yield* d.take());
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 1);
 * const d = new Deque<number>(k, "dq", { capacity: 2 });
 * const out: unknown[] = [];
 * k.spawn("owner", owner, d, out);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(out, [
 *   { tag: "ok", value: 2 }, { tag: "ok", value: 0 }, { tag: "ok", value: 1 }, { tag: "empty" },
 * ]);
 * assertEquals(d.peekSize(), 4);
 * ```
 */
export class Deque<T> implements StateSource {
  /** The deque's name, which prefixes its cells' names. */
  readonly name: string;
  /** The deliberate bug this deque has, or null. */
  readonly flaw: DequeFlaw | null;
  readonly #k: Kernel;
  readonly #capacityMax: number;
  readonly #top: Cell<number>;
  readonly #bottom: Cell<number>;
  readonly #array: Cell<CircularArray<T>>;
  #arrays = 0;

  /** Makes a deque and its cells (in setup). */
  constructor(kernel: Kernel, name: string, options: DequeOptions) {
    const capacityMax = options.capacityMax ?? CAPACITY_MAX_DEFAULT;
    if (!isPowerOfTwo(options.capacity) || !isPowerOfTwo(capacityMax)) {
      throw new RangeError(
        `Cannot create deque ${name} with capacity ${options.capacity} and capacityMax ` +
          `${capacityMax}: both must be powers of two`,
      );
    }
    if (capacityMax < options.capacity) {
      throw new RangeError(`Cannot create deque ${name}: capacityMax is below capacity`);
    }
    this.#k = kernel;
    this.name = name;
    this.flaw = options.flaw ?? null;
    this.#capacityMax = capacityMax;
    this.#top = kernel.cell(`${name}.top`, 0);
    this.#bottom = kernel.cell(`${name}.bottom`, 0);
    this.#array = kernel.cell(`${name}.array`, this.#newArray(options.capacity));
    kernel.describe(this);
  }

  /** For reports: top, bottom, the current array's size and the items from top to bottom. */
  describeState(out: StateWriter): void {
    const top = this.#top.peek();
    const bottom = this.#bottom.peek();
    const a = this.#array.peek();
    const items: unknown[] = [];
    for (let i = top; i < bottom && items.length < a.size; i++) items.push(a.at(i).peek());
    out.put("deque", this.name, { top, bottom, size: a.size, items });
  }

  #newArray(size: number): CircularArray<T> {
    return new CircularArray<T>(this.#k, `${this.name}.a${this.#arrays++}`, size);
  }

  /** Owner only: pushes `value` at the bottom, growing the array when full. */
  *push(value: T): Action<void> {
    const b = yield* this.#bottom.read("relaxed");
    const t = yield* this.#top.read("acquire");
    let a = yield* this.#array.read("relaxed");
    if (b - t > a.size - 1) a = yield* this.#grow(a, b, t);
    yield* a.at(b).write(value, "relaxed");
    // The element must be visible before the bottom that covers it.
    yield* this.#k.fence("release");
    yield* this.#bottom.write(b + 1, "relaxed");
  }

  *#grow(old: CircularArray<T>, b: number, t: number): Action<CircularArray<T>> {
    const size = old.size * 2;
    if (size > this.#capacityMax) {
      throw new RangeError(
        `deque ${this.name} holds ${old.size} elements and may not grow past ` +
          `capacityMax ${this.#capacityMax}`,
      );
    }
    const a = this.#newArray(size);
    // The copy needs no scheduling points: only the owner ever writes the old
    // slots (thieves only read them), and nobody can see the new array before
    // it is published below. Interleavings inside the copy change nothing.
    for (let i = t; i < b; i++) a.at(i).poke(old.at(i).peek());
    yield* this.#array.write(a, "release");
    return a;
  }

  /** Owner only: takes the element at the bottom (the newest). */
  *take(): Action<Taken<T>> {
    const b = (yield* this.#bottom.read("relaxed")) - 1;
    const a = yield* this.#array.read("relaxed");
    yield* this.#bottom.write(b, "relaxed");
    // Thieves must see the smaller bottom before the owner reads top: a
    // store-load order, which only a seq_cst fence gives (mfence on x86).
    if (this.flaw !== "take-no-fence") yield* this.#k.fence("seq_cst");
    const t = yield* this.#top.read("relaxed");
    if (t > b) {
      yield* this.#bottom.write(b + 1, "relaxed");
      return EMPTY;
    }
    const value = (yield* a.at(b).read("relaxed")) as T;
    if (t < b) return { tag: "ok", value };
    // The last element: the owner races the thieves for it through top.
    let won: boolean;
    if (this.flaw === "no-cas-last") {
      yield* this.#top.write(t + 1, "seq_cst");
      won = true;
    } else {
      won = yield* this.#top.cas(t, t + 1, "seq_cst");
    }
    yield* this.#bottom.write(b + 1, "relaxed");
    return won ? { tag: "ok", value } : EMPTY;
  }

  /** Any fiber: steals the element at the top (the oldest). */
  *steal(): Action<Stolen<T>> {
    const t = yield* this.#top.read("acquire");
    yield* this.#k.fence("seq_cst");
    const b = yield* this.#bottom.read("acquire");
    if (t >= b) return EMPTY;
    // Lê et al. read the array with consume, which C11 implementations treat as acquire.
    const a = yield* this.#array.read("acquire");
    if (this.flaw === "steal-read-after-cas") {
      if (!(yield* this.#top.cas(t, t + 1, "seq_cst"))) return ABORT;
      return { tag: "ok", value: (yield* a.at(t).read("relaxed")) as T };
    }
    const value = (yield* a.at(t).read("relaxed")) as T;
    if (!(yield* this.#top.cas(t, t + 1, "seq_cst"))) return ABORT;
    return { tag: "ok", value };
  }

  /** The id of the bottom cell, which every push writes: what idle thieves watch. */
  get bottomId(): number {
    return this.#bottom.id;
  }

  /** The id of the top cell, which steals and the owner's last take write. */
  get topId(): number {
    return this.#top.id;
  }

  /** Elements in the deque now, for checks: not a scheduling point. */
  peekLength(): number {
    return Math.max(0, this.#bottom.peek() - this.#top.peek());
  }

  /** Slots of the current array, for checks: not a scheduling point. */
  peekSize(): number {
    return this.#array.peek().size;
  }
}
