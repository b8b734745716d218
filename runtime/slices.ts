/**
 * Lazy slices (seed note on π's GC): taking a slice is O(1) and refers to the
 * parent; a copying collector copies the slice's part out only when the
 * parent would otherwise be collected.
 *
 * @module
 */
import type { Action } from "../sim/op.ts";
import { type Allocator, type Heap, NULL, type Ref } from "./heap.ts";

/** Pointer field of a slice holding its parent binary. */
export const SLICE_PARENT = 0;
/** Immediate field of a slice holding its offset into the parent, in words. */
export const SLICE_OFFSET = 0;
/** Immediate field of a slice holding its length, in words. */
export const SLICE_LENGTH = 1;

/** Which words a slice takes. */
export interface SliceRange {
  /** The first word, counted from the start of what is sliced. */
  readonly offset: number;
  /** How many words. */
  readonly length: number;
  /** The slice object's name in reports. */
  readonly name?: string;
}

/**
 * Takes words [offset, offset + length) of `of`, a binary or a slice, in
 * O(1): one small slice object whatever the length. A slice of a slice
 * refers to the underlying binary, so parents never chain.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import { Arena } from "./arena.ts";
 * import { Heap } from "./heap.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 1);
 * const heap = new Heap(k);
 * const arena = new Arena(heap, "a", 1024);
 * const text = arena.place({ kind: "binary", imms: [10, 11, 12, 13, 14] });
 * let s = -1;
 * k.spawn("t", function* () {
 *   const mid = yield* slice(heap, arena, text, { offset: 1, length: 3 });
 *   s = yield* slice(heap, arena, mid, { offset: 1, length: 2 });
 * });
 * k.execute();
 * assertEquals(sliceContents(heap, s), [12, 13]);
 * ```
 */
export function* slice(heap: Heap, alloc: Allocator, of: Ref, range: SliceRange): Action<Ref> {
  const { offset, length } = range;
  const obj = heap.get(of);
  let parent = of;
  let base = 0;
  let size = obj.imms.length;
  if (obj.kind === "slice") {
    parent = yield* heap.load(of, SLICE_PARENT);
    base = yield* heap.readImm(of, SLICE_OFFSET);
    size = yield* heap.readImm(of, SLICE_LENGTH);
  } else if (obj.kind !== "binary") {
    throw new TypeError(`Cannot slice ${obj.name}: it is a ${obj.kind}, not a binary`);
  }
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`Cannot slice [${offset}, +${length}) of ${obj.name}`);
  }
  if (offset + length > size) {
    throw new RangeError(
      `Cannot slice [${offset}, ${offset + length}) of ${obj.name}: it has ${size} words`,
    );
  }
  return yield* alloc.alloc({
    kind: "slice",
    ptrs: [parent],
    imms: [base + offset, length],
    name: range.name,
  });
}

/** Reads word `i` of a binary or slice. */
export function* readWord(heap: Heap, ref: Ref, i: number): Action<number> {
  const obj = heap.get(ref);
  if (obj.kind === "binary") return yield* heap.readImm(ref, i);
  if (obj.kind !== "slice") throw new TypeError(`Cannot read words of ${obj.name}: a ${obj.kind}`);
  const length = yield* heap.readImm(ref, SLICE_LENGTH);
  if (!Number.isInteger(i) || i < 0 || i >= length) {
    throw new RangeError(`Cannot read word ${i} of ${obj.name}: it has ${length}`);
  }
  const parent = yield* heap.load(ref, SLICE_PARENT);
  const offset = yield* heap.readImm(ref, SLICE_OFFSET);
  return yield* heap.readImm(parent, offset + i);
}

/** The words a binary or slice denotes, for checks (no scheduling points). */
export function sliceContents(heap: Heap, ref: Ref): number[] {
  const obj = heap.get(ref);
  if (obj.kind === "binary") return obj.imms.map((c) => c.peek());
  if (obj.kind !== "slice") throw new TypeError(`${obj.name} is a ${obj.kind}, not a binary`);
  const parent = obj.ptrs[SLICE_PARENT].peek();
  const offset = obj.imms[SLICE_OFFSET].peek();
  const length = obj.imms[SLICE_LENGTH].peek();
  if (parent === NULL || parent !== parent) return [];
  return heap.get(parent).imms.slice(offset, offset + length).map((c) => c.peek());
}

/**
 * The check that lazy slices let their parents go: a binary that only slices
 * keep alive must hold no word that none of them covers (else the whole
 * parent was kept for a small slice). Returns a message naming the first
 * such binary, or null. Strong references come from the roots and the local
 * references; a slice's parent pointer is the only weak edge.
 */
export function sliceSlack(heap: Heap): string | null {
  const strong = new Set<number>();
  const covered = new Map<number, Uint8Array>();
  const stack: number[] = [];
  const reach = (r: Ref) => {
    if (r >= 0 && !strong.has(r)) {
      strong.add(r);
      stack.push(r);
    }
  };
  for (const c of heap.roots.slots) reach(c.peek());
  for (const l of heap.roots.localSets) for (const r of l.refs) reach(r);
  while (stack.length > 0) {
    const obj = heap.get(stack.pop() as number);
    if (obj.freed) continue;
    if (obj.kind !== "slice") {
      for (const p of obj.ptrs) reach(p.peek());
      continue;
    }
    const parent = obj.ptrs[SLICE_PARENT].peek();
    if (parent < 0 || parent !== parent) continue;
    const words = heap.get(parent).imms.length;
    const mask = covered.get(parent) ?? new Uint8Array(words);
    covered.set(parent, mask);
    const offset = obj.imms[SLICE_OFFSET].peek();
    mask.fill(1, offset, offset + obj.imms[SLICE_LENGTH].peek());
  }
  for (const [parent, mask] of covered) {
    if (strong.has(parent)) continue;
    const unused = mask.reduce((n, b) => n + (b === 0 ? 1 : 0), 0);
    if (unused > 0) {
      const p = heap.get(parent);
      return `${p.name} is kept alive only by slices, yet ${unused} of its ${mask.length} words ` +
        "are in no slice (the parent was kept instead of copying the slices out)";
    }
  }
  return null;
}
