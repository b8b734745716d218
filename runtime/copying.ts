/**
 * The copying collector (Cheney): evacuates everything reachable from the
 * roots out of one arena into another, leaving forwarding addresses behind,
 * then frees the old arena. Used to compact the start-up heap into the fixed
 * global heap, and as a semispace collector.
 *
 * @module
 */
import type { Cell } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import type { Arena } from "./arena.ts";
import { type Heap, NULL, type Ref, type Shape } from "./heap.ts";
import { SLICE_LENGTH, SLICE_OFFSET, SLICE_PARENT, sliceContents } from "./slices.ts";

/**
 * What the collector does with a lazy slice whose parent nothing else keeps
 * alive. `copy-out` (correct): copy the slice's part into a new binary and
 * let the parent go. `pin`: keep the whole parent (correct, wastes space).
 * `no-copy-out` (broken): let the parent go and leave the slice dangling.
 */
export type SlicePolicy = "copy-out" | "pin" | "no-copy-out";

/** How a copying collector behaves. */
export interface CopyingOptions {
  /** Lazy slices: `copy-out` by default. */
  readonly slices?: SlicePolicy;
  /**
   * Leave forwarding addresses (default true). Without them (a broken
   * variant) an object reached twice is copied twice: sharing is lost and
   * cycles never end.
   */
  readonly forwarding?: boolean;
}

/** What one collection did. */
export interface CopyStats {
  /** Objects evacuated (copied out of from-space). */
  objectsCopied: number;
  /** Bytes copied to to-space. */
  bytesCopied: number;
  /** Copied objects whose pointer fields the scan walked. */
  scanned: number;
  /** Copied pointer-free (simple) objects the scan skipped. */
  skippedSimple: number;
  /** Slices whose part was copied out because their parent was not live. */
  slicesCopiedOut: number;
  /** Bytes the from-space held before it was freed. */
  bytesFreed: number;
}

/**
 * Cheney's algorithm with scheduling points on every field it reads or
 * writes. The scan pointer walks to-space objects in address order; the
 * free pointer is the to-space arena's bump pointer. After each collection
 * it checks, on the oracle, that the reachable value graph is isomorphic to
 * the one before (`copy-isomorphic`), that no root or live object points
 * into from-space (`no-from-space-pointer`), and it fails at once when an
 * object is copied twice (`copied-once`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import { Arena } from "./arena.ts";
 * import { Heap, NULL } from "./heap.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 1);
 * const heap = new Heap(k);
 * const startup = new Arena(heap, "startup", 1024);
 * const global = new Arena(heap, "global", 1024);
 * const text = startup.place({ kind: "binary", imms: [7, 8] });
 * startup.place({ imms: [0] }); // garbage
 * const root = heap.roots.global("g", startup.place({ ptrs: [text, NULL], mutable: true }));
 * const gc = new CopyingCollector(heap);
 * let stats: CopyStats | undefined;
 * k.spawn("gc", function* () {
 *   stats = yield* gc.collect(startup, global);
 * });
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals([stats?.objectsCopied, stats?.scanned, stats?.skippedSimple], [2, 1, 1]);
 * assertEquals(heap.get(root.peek()).space, global.space);
 * ```
 */
export class CopyingCollector {
  /** The heap collected. */
  readonly heap: Heap;
  /** Where the collector pauses between slices. */
  readonly slices: SlicePolicy;
  /** Whether it leaves forwarding pointers in from-space. */
  readonly forwarding: boolean;
  #from: Arena | null = null;
  #to: Arena | null = null;
  /** How often each from-space object was copied in this collection. */
  readonly #copies = new Map<number, number>();
  #stats: CopyStats = emptyStats();

  /** Makes a collector over `heap` (in setup). */
  constructor(heap: Heap, options: CopyingOptions = {}) {
    this.heap = heap;
    this.slices = options.slices ?? "copy-out";
    this.forwarding = options.forwarding ?? true;
  }

  /**
   * Evacuates everything reachable from `roots` (every root slot of the heap
   * by default) out of `from` into `to`, rewrites the roots, then resets
   * `from`. The caller makes sure nobody else touches the heap meanwhile
   * (see `Compaction`).
   */
  *collect(
    from: Arena,
    to: Arena,
    roots: readonly Cell<number>[] = this.heap.roots.slots,
  ): Action<CopyStats> {
    if (from === to) throw new RangeError(`Cannot copy ${from.name} into itself`);
    const heap = this.heap;
    this.#from = from;
    this.#to = to;
    this.#copies.clear();
    const stats = this.#stats = emptyStats();
    const before = valueGraph(heap, roots.map((c) => c.peek()));
    const scanStart = to.space.objects.length;

    for (const slot of roots) {
      const v = yield* slot.read();
      const nv = yield* this.#forward(v);
      if (nv !== v) yield* slot.write(nv);
    }
    const slices: Ref[] = [];
    const objects = to.space.objects;
    for (let scan = scanStart; scan < objects.length; scan++) {
      const obj = objects[scan];
      if (obj.simple) {
        stats.skippedSimple++;
        continue;
      }
      stats.scanned++;
      for (let i = 0; i < obj.ptrs.length; i++) {
        if (obj.kind === "slice" && i === SLICE_PARENT && this.slices !== "pin") {
          slices.push(obj.id);
          continue;
        }
        const v = yield* heap.load(obj.id, i);
        const nv = yield* this.#forward(v);
        if (nv !== v) yield* heap.store(obj.id, i, nv);
      }
    }
    for (const s of slices) yield* this.#fixSlice(s);

    this.#verify(before, roots);
    stats.bytesFreed = yield* from.reset();
    this.#from = null;
    this.#to = null;
    return stats;
  }

  /** The statistics of the last collection. */
  get stats(): Readonly<CopyStats> {
    return this.#stats;
  }

  // Returns where `ref` lives after the collection, copying it if needed.
  *#forward(ref: Ref): Action<Ref> {
    if (ref === NULL) return ref;
    const heap = this.heap;
    const obj = heap.get(ref);
    if (obj.space !== (this.#from as Arena).space) return ref;
    if (this.forwarding) {
      const fwd = yield* obj.header.read();
      if (fwd !== NULL) return fwd;
    }
    const ptrs: Ref[] = [];
    const imms: number[] = [];
    for (let i = 0; i < obj.ptrs.length; i++) ptrs.push(yield* heap.load(ref, i));
    for (let i = 0; i < obj.imms.length; i++) imms.push(yield* heap.readImm(ref, i));
    const n = (this.#copies.get(ref) ?? 0) + 1;
    this.#copies.set(ref, n);
    if (n > 1) {
      throw new Violation("copied-once", `${obj.name} was copied ${n} times in one collection`);
    }
    const copy = this.#place(
      { kind: obj.kind, ptrs, imms, mutable: obj.mutable, name: copyName(heap, obj.origin) },
      ref,
    );
    this.#stats.objectsCopied++;
    this.#stats.bytesCopied += obj.bytes;
    if (this.forwarding) yield* obj.header.write(copy);
    return copy;
  }

  #place(shape: Shape, origin: Ref): Ref {
    return (this.#to as Arena).place(shape, origin);
  }

  // A slice in to-space still points at its parent in from-space. If the
  // parent was copied (something else keeps it alive), follow it; otherwise
  // copy the slice's part out and let the parent go.
  *#fixSlice(s: Ref): Action<void> {
    const heap = this.heap;
    const parent = yield* heap.load(s, SLICE_PARENT);
    if (parent === NULL || heap.get(parent).space !== (this.#from as Arena).space) return;
    const fwd = yield* heap.get(parent).header.read();
    if (fwd !== NULL) {
      yield* heap.store(s, SLICE_PARENT, fwd);
      return;
    }
    if (this.slices === "no-copy-out") return;
    const offset = yield* heap.readImm(s, SLICE_OFFSET);
    const length = yield* heap.readImm(s, SLICE_LENGTH);
    const words: number[] = [];
    for (let i = 0; i < length; i++) words.push(yield* heap.readImm(parent, offset + i));
    const part = this.#place({ kind: "binary", imms: words, name: copyName(heap, parent) }, parent);
    this.#stats.slicesCopiedOut++;
    this.#stats.bytesCopied += heap.get(part).bytes;
    yield* heap.store(s, SLICE_PARENT, part);
    yield* heap.writeImm(s, SLICE_OFFSET, 0);
  }

  #verify(before: readonly unknown[], roots: readonly Cell<number>[]): void {
    const heap = this.heap;
    const from = (this.#from as Arena).space;
    const after = roots.map((c) => c.peek());
    for (let i = 0; i < roots.length; i++) {
      if (after[i] !== NULL && heap.get(after[i]).space === from) {
        throw new Violation(
          "no-from-space-pointer",
          `root ${roots[i].name} still points into ${from.name}`,
        );
      }
    }
    const seen = new Set<number>();
    const stack = after.filter((r) => r !== NULL);
    while (stack.length > 0) {
      const obj = heap.get(stack.pop() as number);
      if (seen.has(obj.id)) continue;
      seen.add(obj.id);
      obj.ptrs.forEach((p, i) => {
        const v = p.peek();
        if (v === NULL || v !== v) return;
        const dangling = this.slices === "no-copy-out" && obj.kind === "slice" &&
          i === SLICE_PARENT;
        if (heap.get(v).space === from && !dangling) {
          throw new Violation(
            "no-from-space-pointer",
            `${obj.name}.p${i} still points into ${from.name} (at ${heap.get(v).name})`,
          );
        }
        stack.push(v);
      });
    }
    const now = valueGraph(heap, after);
    const diff = firstDifference(before, now);
    if (diff !== null) {
      throw new Violation(
        "copy-isomorphic",
        `the reachable graph changed in the copy: ${diff}`,
      );
    }
  }
}

function emptyStats(): CopyStats {
  return {
    objectsCopied: 0,
    bytesCopied: 0,
    scanned: 0,
    skippedSimple: 0,
    slicesCopiedOut: 0,
    bytesFreed: 0,
  };
}

function copyName(heap: Heap, origin: Ref): string {
  return `${heap.get(heap.get(origin).origin).name}~${heap.objectCount}`;
}

/**
 * A canonical description of the values reachable from `roots`: objects
 * numbered in breadth-first order from the roots, each listed with its kind,
 * immediates and the numbers of its pointer targets. A slice is listed by the
 * words it denotes, not by its parent. Two heaps whose descriptions are equal
 * hold isomorphic graphs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import { Heap } from "./heap.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 10 }, new RandomStrategy(), 1);
 * const heap = new Heap(k);
 * const s = heap.space("s", 1024);
 * const leaf = heap.place(s, { kind: "binary", imms: [5] }).id;
 * const a = heap.place(s, { ptrs: [leaf, leaf] }).id;
 * const b = heap.place(s, { ptrs: [heap.place(s, { kind: "binary", imms: [5] }).id, leaf] }).id;
 * assertEquals(valueGraph(heap, [a]).length > 0, true);
 * // a shares its leaf, b does not: not isomorphic
 * assertEquals(JSON.stringify(valueGraph(heap, [a])) === JSON.stringify(valueGraph(heap, [b])), false);
 * ```
 */
export function valueGraph(heap: Heap, roots: readonly Ref[]): unknown[] {
  const index = new Map<number, number>();
  const order: number[] = [];
  const number = (r: Ref): number => {
    if (r === NULL || r !== r) return -1;
    let n = index.get(r);
    if (n === undefined) {
      n = order.length;
      index.set(r, n);
      order.push(r);
    }
    return n;
  };
  const out: unknown[] = [roots.map(number)];
  for (let q = 0; q < order.length; q++) {
    const obj = heap.get(order[q]);
    if (obj.kind === "slice") {
      out.push(["slice", sliceContents(heap, obj.id)]);
      continue;
    }
    out.push([obj.kind, obj.imms.map((c) => c.peek()), obj.ptrs.map((p) => number(p.peek()))]);
  }
  return out;
}

function firstDifference(a: readonly unknown[], b: readonly unknown[]): string | null {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = JSON.stringify(a[i]);
    const y = JSON.stringify(b[i]);
    if (x !== y) {
      return i === 0 ? `roots ${x} became ${y}` : `object #${i - 1} was ${x}, is ${y}`;
    }
  }
  return null;
}
