/**
 * The modeled runtime, built on the kernel's primitives only.
 *
 * Memory: the heap and its oracle (`heap.ts`), the arena allocator
 * (`arena.ts`), per-fiber free lists with a local sweep (`freelist.ts`),
 * the copying collector (`copying.ts`), compaction guarded by a
 * reader-writer lock (`compaction.ts`), lazy slices (`slices.ts`) and the
 * concurrent mark-and-sweep (`mark_sweep.ts`).
 *
 * Communication and scheduling: channels (`channel.ts`), messages between
 * contexts (`comms.ts`), futures and process
 * functions (`future.ts`, `process.ts`), the Chase-Lev deque (`deque.ts`),
 * load balancing (`balance.ts`), parking idle workers (`park.ts`) and the
 * reactor (`reactor.ts`). Safepoints and stop-the-world collections
 * (`safepoint.ts`).
 *
 * The composed runtime (`system.ts`): every part above wired into one system.
 *
 * Atomic regions: transactions (`atomic.ts`) and their independent checks
 * (`atomic_check.ts`). π: the byte encoding of values (`pi_value.ts`) and
 * the three tiers with copying and generational collectors (`pi_heap.ts`).
 *
 * @module
 */
export * from "./arena.ts";
export * from "./atomic.ts";
export * from "./atomic_check.ts";
export * from "./balance.ts";
export * from "./channel.ts";
export * from "./comms.ts";
export * from "./compaction.ts";
export * from "./copying.ts";
export * from "./deque.ts";
export * from "./faults.ts";
export * from "./freelist.ts";
export * from "./future.ts";
export * from "./handshake.ts";
// Processes moving between contexts: the message set of the parallel-runtime seed note.
export * from "./forwarding.ts";
export * from "./heap.ts";
export * from "./mark_sweep.ts";
export * from "./park.ts";
export * from "./pi_heap.ts";
export * from "./pi_value.ts";
export * from "./process.ts";
export * from "./reactor.ts";
export * from "./regions.ts";
export * from "./safepoint.ts";
export * from "./slices.ts";
export * from "./system.ts";
