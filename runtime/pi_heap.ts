/**
 * π's three tiers and its collectors (seed note 004): an operand stack, a
 * stack of frames with local variables, and a heap of values stored in the
 * byte encoding of `pi_value.ts`. Values are immutable, so the live-set
 * size of each is known when it is made (its own bytes plus what its
 * references pin), and a generational collector needs no write barrier: an
 * old value can only refer to values older than itself.
 *
 * The collectors copy. A simple value (no reference inside) moves as bytes,
 * never scanned; a complex one is traced and its references rewritten, or,
 * when a reference's target would otherwise die (or always, with
 * `presimplify`), the referenced bytes are copied out in its place: π's lazy
 * slices.
 *
 * @module
 */
import type { Kernel } from "../sim/kernel.ts";
import { Op } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import { decodePi, encodePi, PiRef, type PiValue, refAt, refOffsets, spanAt } from "./pi_value.ts";
import { Faults } from "./faults.ts";

/** How the collector is built; the broken variants turn a knob. */
export interface PiGcOptions {
  /** `generational`: nursery collections, a full one every `majorEvery`; `full-copy`: every collection is full. */
  readonly mode: "generational" | "full-copy";
  /** Full collections are every this many (generational); default 3. */
  readonly majorEvery?: number;
  /** Copy every reference out at collection, not only those whose target dies. */
  readonly presimplify?: boolean;
  /** Bug: a list built from a complex value is flagged simple (`scan-simple-skip`). */
  readonly misclassify?: boolean;
  /** Values the heap may hold at once (a bound, not a budget). */
  readonly valuesMax?: number;
}

/** What the collector did. */
export interface PiGcStats {
  /** Collections run. */
  collections: number;
  /** Of them, minor. */
  minor: number;
  /** Of them, major. */
  major: number;
  /** Bytes of values moved (simple and complex). */
  bytesCopied: number;
  /** Complex values traced (decoded and rewritten). */
  valuesScanned: number;
  /** Values moved as bytes without a scan. */
  valuesMovedSimple: number;
  /** References replaced by a copy of the bytes they pointed at. */
  copiedOut: number;
  /** Bytes copied out of the young space. */
  bytesCopiedOut: number;
  /** Bytes held by the heap after each collection, summed (divide by collections). */
  bytesAfterGc: number;
  /** The live-set sum after each collection, summed: against `bytesAfterGc`, its accuracy. */
  liveSetAfterGc: number;
}

interface Stored {
  /** Replaced only by `mutate`, the in-place write of a byte-like value. */
  bytes: Uint8Array;
  /** The flag the collector trusts: no reference inside. */
  simple: boolean;
  young: boolean;
  /** Bytes this value keeps alive: its own and, through its references, its targets'. */
  obligation: number;
  /** A byte-like value: the only kind that may change in place. */
  readonly mutable: boolean;
  /** The encoded length it was made with (an in-place write keeps its storage). */
  readonly size: number;
}

const NONE = 0;

/**
 * A π machine: the three tiers as roots, the heap, and the collector. Each
 * public generator is one scheduling point on the heap (`op`); checks read
 * it with `peek`-like methods and are no scheduling points.
 */
export class PiMachine {
  /** How the machine was built. */
  readonly options: PiGcOptions;
  /** What the collector did so far in the run. */
  readonly stats: PiGcStats = {
    collections: 0,
    minor: 0,
    major: 0,
    bytesCopied: 0,
    valuesScanned: 0,
    valuesMovedSimple: 0,
    copiedOut: 0,
    bytesCopiedOut: 0,
    bytesAfterGc: 0,
    liveSetAfterGc: 0,
  };
  /** The operand stack: addresses. */
  readonly stack: number[] = [];
  /** Frames of locals: addresses, 0 for an empty local. */
  readonly frames: number[][] = [[]];
  /** Shared immutable values other fibers read: addresses. */
  readonly globals: number[] = [];
  /**
   * The live-set size of the roots, kept up to date at every push, pop,
   * store and collection by adding and subtracting the obligations of
   * values: the note's "summing the stored size for each register or stack
   * entry". `liveSetOracle` recomputes it.
   */
  liveSetBytes = 0;
  readonly #values = new Map<number, Stored>();
  /** Where each freed address went, for messages. */
  readonly #freedBy = new Map<number, string>();
  #next = 1;
  readonly #writeOp: Op;
  readonly #readOp: Op;
  readonly #collectOp: Op;
  readonly #valuesMax: number;
  readonly #faults: Faults;

  /** Makes a machine and its heap (in setup). */
  constructor(kernel: Kernel, options: PiGcOptions, name = "pi") {
    this.options = options;
    this.#valuesMax = options.valuesMax ?? 10_000;
    // Mutator instructions touch the heap and the roots; readers only the
    // shared globals, which nothing but a collection moves.
    const heap = kernel.newObject(`${name}.heap`);
    const globals = kernel.newObject(`${name}.globals`);
    this.#writeOp = new Op("pi", heap, true);
    this.#readOp = new Op("pi-read", globals, false);
    this.#collectOp = new Op("collect", heap, true, null, 1, -1, globals);
    this.#faults = Faults.of(kernel);
  }

  // ---- the heap ----------------------------------------------------------

  /** Stores `v` as a new young value and gives its address (not a step: setup, or inside one). */
  alloc(v: PiValue, simple: boolean = !hasRef(v)): number {
    if (this.#values.size >= this.#valuesMax) {
      throw new RangeError(`Cannot allocate: ${this.#valuesMax} π values is the limit`);
    }
    const bytes = encodePi(v);
    const addr = this.#next++;
    this.#values.set(addr, {
      bytes,
      simple,
      young: this.options.mode === "generational",
      obligation: this.#obligationOf(bytes),
      mutable: bytes[0] >= 0x90 && bytes[0] < 0x98,
      size: bytes.length,
    });
    return addr;
  }

  /** Stores `v` as a shared global (setup): a root that readers read. */
  addGlobal(v: PiValue): number {
    const addr = this.alloc(v);
    this.globals.push(addr);
    this.liveSetBytes += this.#get(addr, "global").obligation;
    return addr;
  }

  /** The stored bytes at `addr` (for checks). */
  bytesAt(addr: number): Uint8Array | undefined {
    return this.#values.get(addr)?.bytes;
  }

  /** Bytes the heap holds now. */
  get heapBytes(): number {
    let n = 0;
    for (const v of this.#values.values()) n += v.bytes.length;
    return n;
  }

  /** Values the heap holds now. */
  get heapValues(): number {
    return this.#values.size;
  }

  // ---- the mutator's instructions, one step each ---------------------------

  /** Pushes a new value. */
  *push(v: PiValue): Generator<Op, number, void> {
    yield this.#writeOp;
    const addr = this.alloc(v);
    this.#pushAddr(addr);
    return addr;
  }

  /** Pops the top entry. */
  *pop(): Generator<Op, void, void> {
    yield this.#writeOp;
    this.#popAddr();
  }

  /** Replaces the top `n` entries by a list of their values, serialized inline. */
  *build(n: number): Generator<Op, void, void> {
    yield this.#writeOp;
    const elems: PiValue[] = [];
    let simple = true;
    for (let i = this.stack.length - n; i < this.stack.length; i++) {
      const s = this.#get(this.stack[i], "build");
      simple &&= s.simple;
      elems.push(decodePi(s.bytes));
    }
    for (let i = 0; i < n; i++) this.#popAddr();
    // The misclassification: a list of complex values flagged simple.
    this.#pushAddr(this.alloc(elems, simple || this.options.misclassify === true));
  }

  /** Pushes a reference to element `k` of the list on top: a lazy O(1) slice. */
  *slice(k: number): Generator<Op, void, void> {
    yield this.#writeOp;
    const addr = this.stack[this.stack.length - 1];
    const b = this.#get(addr, "slice").bytes;
    const list = spanAt(b, 0);
    if ((list.tag & 0xf8) !== 0xa0) throw new Error("slice: the top of the stack is not a list");
    let p = list.body;
    for (let i = 0; i < k; i++) p = spanAt(b, p, list.end).end;
    const elem = spanAt(b, p, list.end);
    this.#pushAddr(this.alloc(new PiRef(addr, p, elem.end - p)));
  }

  /** Pops the top entry into local `j` of the current frame. */
  *store(j: number): Generator<Op, void, void> {
    yield this.#writeOp;
    const frame = this.frames[this.frames.length - 1];
    const addr = this.#popAddr();
    this.#setLocal(frame, j, addr);
  }

  /** Pushes local `j`. */
  *load(j: number): Generator<Op, void, void> {
    yield this.#writeOp;
    const addr = this.frames[this.frames.length - 1][j] ?? NONE;
    if (addr === NONE) throw new Error(`load of empty local ${j}`);
    this.#pushAddr(addr);
  }

  /** Empties local `j`. */
  *clear(j: number): Generator<Op, void, void> {
    yield this.#writeOp;
    this.#setLocal(this.frames[this.frames.length - 1], j, NONE);
  }

  /** Pushes a frame (a call) or pops one (a return, its locals die). */
  *call(): Generator<Op, void, void> {
    yield this.#writeOp;
    this.frames.push([]);
  }

  /** Pops the current frame (a return): its locals die. */
  *ret(): Generator<Op, void, void> {
    yield this.#writeOp;
    const frame = this.frames.pop() as number[];
    for (const addr of frame) {
      if (addr !== NONE) this.liveSetBytes -= this.#get(addr, "ret").obligation;
    }
  }

  /**
   * Writes into the byte-like value in local `j` in place. With `ref`, the
   * bytes become a reference to the top entry: the bug of `mutable-pointer`
   * (byte-like values never hold references, so the collector keeps moving
   * them unscanned and the generational one assumes nothing old points at
   * anything young). Without it, restores plain bytes.
   */
  *mutate(j: number, ref: boolean): Generator<Op, void, void> {
    yield this.#writeOp;
    const addr = this.frames[this.frames.length - 1][j];
    const s = this.#get(addr, "mutate");
    if (!s.mutable) throw new Error("mutate: only byte-like values change in place");
    const size = s.size;
    const before = s.obligation;
    if (ref) {
      const top = this.stack[this.stack.length - 1];
      const r = encodePi(new PiRef(top, 0, this.#get(top, "mutate").bytes.length));
      if (r.length > size) throw new Error("mutate: the byte value is too short for a reference");
      s.bytes = r;
    } else {
      s.bytes = encodePi(new Uint8Array(size - 2));
    }
    // The size obligation follows the new contents, for every root naming it.
    s.obligation = this.#obligationOf(s.bytes);
    for (const a of this.roots()) if (a === addr) this.liveSetBytes += s.obligation - before;
  }

  /** A reader's step: the value of global `g`, decoded with its references followed. */
  *readGlobal(g: number): Generator<Op, unknown, void> {
    yield this.#readOp;
    return this.resolve(this.globals[g]);
  }

  // ---- the collector -----------------------------------------------------

  /**
   * One collection, one step (the world is stopped for it): minor or full.
   * A marked place: a `collect` fault runs the full collection early.
   */
  *collect(): Generator<Op, void, void> {
    yield this.#collectOp;
    const o = this.options;
    const major = o.mode === "full-copy" ||
      (this.stats.collections + 1) % (o.majorEvery ?? 3) === 0 ||
      (this.#faults.on && this.#faults.fire("collect"));
    this.#collect(major);
  }

  #collect(major: boolean): void {
    const stats = this.stats;
    stats.collections++;
    if (major) stats.major++;
    else stats.minor++;
    // Values a root names are strongly live; a reference alone keeps only
    // its bytes, copied out once the target would die.
    const strong = new Set<number>();
    const eachRoot = (f: (addr: number) => number): void => {
      for (let i = 0; i < this.stack.length; i++) this.stack[i] = f(this.stack[i]);
      for (const frame of this.frames) {
        for (let i = 0; i < frame.length; i++) if (frame[i] !== NONE) frame[i] = f(frame[i]);
      }
      for (let i = 0; i < this.globals.length; i++) this.globals[i] = f(this.globals[i]);
    };
    eachRoot((a) => (strong.add(a), a));
    const moves = (a: number): boolean => major || (this.#values.get(a)?.young ?? false);
    const forward = new Map<number, number>();
    for (const a of strong) if (moves(a)) forward.set(a, this.#next++);
    const from = this.#values;
    const moved = new Map<number, Stored>();
    for (const [a, to] of forward) {
      const s = from.get(a) as Stored;
      let bytes = s.bytes;
      let simple = s.simple;
      stats.bytesCopied += bytes.length;
      if (s.simple) {
        stats.valuesMovedSimple++;
        bytes = bytes.slice();
      } else {
        stats.valuesScanned++;
        const v = this.#rewrite(decodePi(bytes), forward, (t) => strong.has(t) || !moves(t));
        bytes = encodePi(v);
        simple = !hasRef(v);
      }
      moved.set(to, {
        bytes,
        simple,
        young: false,
        obligation: 0,
        mutable: s.mutable,
        size: s.mutable ? s.size : bytes.length,
      });
    }
    // Free what moved or died: everything young, and in a full collection everything.
    for (const a of [...from.keys()]) {
      if (moves(a)) {
        from.delete(a);
        this.#freedBy.set(a, forward.has(a) ? `moved to ${forward.get(a)}` : "collected");
      }
    }
    for (const [a, s] of moved) from.set(a, s);
    for (const s of moved.values()) s.obligation = this.#obligationOf(s.bytes);
    // The roots follow their values, and the live-set sum follows the
    // obligations that copy-out changed.
    let live = 0;
    eachRoot((a) => {
      const to = forward.get(a) ?? a;
      live += this.#get(to, "collect").obligation;
      return to;
    });
    this.liveSetBytes = live;
    stats.bytesAfterGc += this.heapBytes;
    stats.liveSetAfterGc += live;
  }

  // A reference to a value that survives (a strongly live one, or an old one
  // in a minor collection) follows it; any other, or every one with
  // presimplify, is replaced by the value it points at, itself rewritten.
  #rewrite(v: PiValue, forward: Map<number, number>, survives: (a: number) => boolean): PiValue {
    if (v instanceof PiRef) {
      if (!this.options.presimplify && survives(v.addr)) {
        const to = forward.get(v.addr);
        return to === undefined ? v : new PiRef(to, v.offset, v.length);
      }
      const target = this.#get(v.addr, "copy-out").bytes;
      this.stats.copiedOut++;
      this.stats.bytesCopiedOut += v.length;
      const part = decodePi(target.subarray(v.offset, v.offset + v.length));
      return this.#rewrite(part, forward, survives);
    }
    if (Array.isArray(v)) return v.map((e) => this.#rewrite(e, forward, survives));
    if (v instanceof Map) {
      return new Map([...v].map(([k, e]) => [k, this.#rewrite(e, forward, survives)]));
    }
    return v;
  }

  // ---- checks: they scan bytes and trust no flag ---------------------------

  /** The value at `addr` with every reference replaced by what it points at. */
  resolve(addr: number): unknown {
    return this.#resolveBytes(this.#get(addr, "resolve").bytes, 0);
  }

  #resolveBytes(b: Uint8Array, depth: number): unknown {
    if (depth > 64) throw new Violation("no-dangling", "a cycle of references");
    return deref(decodePi(b), (r) => {
      const target = this.#values.get(r.addr);
      if (target === undefined) {
        throw new Violation(
          "no-dangling",
          `a reference points at address ${r.addr}, which was ${
            this.#freedBy.get(r.addr) ?? "never used"
          }`,
        );
      }
      if (r.offset + r.length > target.bytes.length) {
        throw new Violation("no-dangling", `a reference runs past the value at ${r.addr}`);
      }
      return this.#resolveBytes(target.bytes.subarray(r.offset, r.offset + r.length), depth + 1);
    });
  }

  /** Every root address, in order: stack, frames, globals. */
  roots(): number[] {
    return [...this.stack, ...this.frames.flat().filter((a) => a !== NONE), ...this.globals];
  }

  /**
   * Null when every reference inside an old value points at an old value
   * (the generational invariant that lets π skip write barriers); else the
   * first that does not: to a young value, or to one already gone.
   */
  oldToYoung(): string | null {
    for (const [a, s] of this.#values) {
      if (s.young) continue;
      for (const at of refOffsets(s.bytes)) {
        const r = refAt(s.bytes, at);
        const t = this.#values.get(r.addr);
        if (t === undefined || t.young) {
          const what = t === undefined
            ? `address ${r.addr}, which was ${this.#freedBy.get(r.addr) ?? "never used"}`
            : `young value ${r.addr}`;
          return `old value ${a} refers to ${what} (no write barrier, no remembered set)`;
        }
      }
    }
    return null;
  }

  /** The roots' live-set size, recomputed from the bytes. */
  liveSetOracle(): number {
    let n = 0;
    for (const a of this.roots()) n += this.#obligationOf(this.#get(a, "oracle").bytes);
    return n;
  }

  // ---- bookkeeping -------------------------------------------------------

  #obligationOf(b: Uint8Array, depth = 0): number {
    let n = b.length;
    if (depth > 64) return n;
    for (const at of refOffsets(b)) {
      const r = refAt(b, at);
      const t = this.#values.get(r.addr);
      if (t !== undefined) n += this.#obligationOf(t.bytes, depth + 1);
    }
    return n;
  }

  #get(addr: number, what: string): Stored {
    const s = this.#values.get(addr);
    if (s === undefined) {
      throw new Violation(
        "no-dangling",
        `${what} used address ${addr}, which was ${this.#freedBy.get(addr) ?? "never used"}`,
      );
    }
    return s;
  }

  #pushAddr(addr: number): void {
    this.stack.push(addr);
    this.liveSetBytes += this.#get(addr, "push").obligation;
  }

  #popAddr(): number {
    const addr = this.stack.pop();
    if (addr === undefined) throw new Error("pop of an empty operand stack");
    this.liveSetBytes -= this.#get(addr, "pop").obligation;
    return addr;
  }

  #setLocal(frame: number[], j: number, addr: number): void {
    const old = frame[j] ?? NONE;
    if (old !== NONE) this.liveSetBytes -= this.#get(old, "store").obligation;
    while (frame.length <= j) frame.push(NONE);
    frame[j] = addr;
    if (addr !== NONE) this.liveSetBytes += this.#get(addr, "store").obligation;
  }
}

/** True when `v` holds a reference anywhere. */
export function hasRef(v: PiValue): boolean {
  if (v instanceof PiRef) return true;
  if (Array.isArray(v)) return v.some(hasRef);
  if (v instanceof Map) return [...v.values()].some(hasRef);
  return false;
}

function deref(v: PiValue, follow: (r: PiRef) => unknown): unknown {
  if (v instanceof PiRef) return follow(v);
  if (Array.isArray(v)) return v.map((e) => deref(e, follow));
  if (v instanceof Map) return new Map([...v].map(([k, e]) => [k, deref(e, follow)]));
  return v;
}
