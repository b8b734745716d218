/**
 * The scenario catalog: every scenario the `sim` command knows by name.
 *
 * @module
 */
import type { AnyScenario } from "../sim/scenario.ts";
import { arenaOverflow } from "./arena_overflow.ts";
import { gcCompaction } from "./gc_compaction.ts";
import { gcCopying } from "./gc_copying.ts";
import { gcFreeList } from "./gc_free_list.ts";
import { gcMarkSweep } from "./gc_mark_sweep.ts";
import { lazySlice } from "./lazy_slice.ts";
import { channelMpmc } from "./channel_mpmc.ts";
import { comms } from "./comms.ts";
import { forwarding } from "./forwarding.ts";
export { forwarding, type ForwardingParams } from "./forwarding.ts";
import { clockSync } from "./clock_sync.ts";
import { lockOrder } from "./lock_order.ts";
import { logicalTimers } from "./logical_timers.ts";
import { lostUpdate } from "./lost_update.ts";
import { pfPipeline } from "./pf_pipeline.ts";
import { reactor } from "./reactor.ts";
import { runtime } from "./runtime.ts";
import { stwSafepoint } from "./stw_safepoint.ts";
import { workStealing } from "./work_stealing.ts";

export { arenaOverflow, type ArenaOverflowParams } from "./arena_overflow.ts";
export { gcCompaction, type GcCompactionParams } from "./gc_compaction.ts";
export { gcCopying, type GcCopyingParams } from "./gc_copying.ts";
export { gcFreeList, type GcFreeListParams } from "./gc_free_list.ts";
export { gcMarkSweep, type MarkSweepParams } from "./gc_mark_sweep.ts";
export { lazySlice, type LazySliceParams } from "./lazy_slice.ts";
export { channelMpmc, type ChannelMpmcParams } from "./channel_mpmc.ts";
export { comms, type CommsParams } from "./comms.ts";
import { zeno } from "./zeno.ts";
import { atomicBank } from "./atomic_bank.ts";
import { litmus } from "./litmus.ts";
import { atomicNested } from "./atomic_nested.ts";
import { piGc } from "./pi_gc.ts";

export { clockSync, type ClockSyncParams } from "./clock_sync.ts";
export { lockOrder, type LockOrderParams } from "./lock_order.ts";
export { logicalTimers, type LogicalTimersParams } from "./logical_timers.ts";
export { lostUpdate, type LostUpdateParams } from "./lost_update.ts";
export { pfPipeline, type PfPipelineParams } from "./pf_pipeline.ts";
export { reactor, type ReactorParams } from "./reactor.ts";
export { runtime, type RuntimeParams } from "./runtime.ts";
export { stwSafepoint, type StwSafepointParams } from "./stw_safepoint.ts";
export { workStealing, type WorkStealingParams } from "./work_stealing.ts";
export { zeno, type ZenoParams } from "./zeno.ts";
export { atomicBank, type BankParams } from "./atomic_bank.ts";
export { litmus } from "./litmus.ts";
export { atomicNested, type AtomicNestedParams } from "./atomic_nested.ts";
export { piGc, type PiGcParams } from "./pi_gc.ts";

/** Every catalog scenario, in the order the main job runs them. */
export const catalog: readonly AnyScenario[] = [
  lostUpdate,
  lockOrder,
  gcMarkSweep,
  gcCopying,
  gcCompaction,
  lazySlice,
  gcFreeList,
  arenaOverflow,
  channelMpmc,
  reactor,
  runtime,
  comms,
  forwarding,
  pfPipeline,
  workStealing,
  logicalTimers,
  zeno,
  clockSync,
  atomicBank,
  litmus,
  atomicNested,
  piGc,
  stwSafepoint,
];

/** The catalog scenario called `name`, or undefined. */
export function findScenario(name: string): AnyScenario | undefined {
  return catalog.find((s) => s.name === name);
}
