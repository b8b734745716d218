/**
 * The scenario catalog: every scenario the `sim` command knows by name.
 *
 * @module
 */
import type { AnyScenario } from "../sim/scenario.ts";
import { channelMpmc } from "./channel_mpmc.ts";
import { comms } from "./comms.ts";
import { lockOrder } from "./lock_order.ts";
import { lostUpdate } from "./lost_update.ts";
import { pfPipeline } from "./pf_pipeline.ts";
import { reactor } from "./reactor.ts";
import { workStealing } from "./work_stealing.ts";

export { channelMpmc } from "./channel_mpmc.ts";
export { comms } from "./comms.ts";
export { lockOrder } from "./lock_order.ts";
export { lostUpdate } from "./lost_update.ts";
export { pfPipeline } from "./pf_pipeline.ts";
export { reactor } from "./reactor.ts";
export { workStealing } from "./work_stealing.ts";

/** Every catalog scenario, in the order the main job runs them. */
export const catalog: readonly AnyScenario[] = [
  lostUpdate,
  lockOrder,
  channelMpmc,
  reactor,
  comms,
  pfPipeline,
  workStealing,
];

/** The catalog scenario called `name`, or undefined. */
export function findScenario(name: string): AnyScenario | undefined {
  return catalog.find((s) => s.name === name);
}
