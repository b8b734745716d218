/**
 * The modeled runtime, built on the kernel's primitives only.
 *
 * Memory: the heap and its oracle (`heap.ts`), the arena allocator
 * (`arena.ts`), per-fiber free lists with a local sweep (`freelist.ts`),
 * the copying collector (`copying.ts`), compaction guarded by a
 * reader-writer lock (`compaction.ts`), lazy slices (`slices.ts`) and the
 * concurrent mark-and-sweep (`mark_sweep.ts`).
 *
 * @module
 */
export * from "./arena.ts";
export * from "./compaction.ts";
export * from "./copying.ts";
export * from "./freelist.ts";
export * from "./heap.ts";
export * from "./mark_sweep.ts";
export * from "./slices.ts";
