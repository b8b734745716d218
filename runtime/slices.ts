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
 *   const mid = yield* slice(heap, arena, text, 1, 3);
 *   s = yield* slice(heap, arena, mid, 1, 2);
 * });
 * k.execute();
 * assertEquals(sliceContents(heap, s), [12, 13]);
 * ```
 */
export function* slice(
  heap: Heap,
  alloc: Allocator,
  of: Ref,
  offset: number,
  length: number,
): Action<Ref> {
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
  return yield* alloc.alloc({ kind: "slice", ptrs: [parent], imms: [base + offset, length] });
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
