/**
 * The scenario catalog: every scenario the `sim` command knows by name.
 *
 * @module
 */
import type { AnyScenario } from "../sim/scenario.ts";
import { clockSync } from "./clock_sync.ts";
import { lockOrder } from "./lock_order.ts";
import { logicalTimers } from "./logical_timers.ts";
import { lostUpdate } from "./lost_update.ts";
import { zeno } from "./zeno.ts";

export { clockSync } from "./clock_sync.ts";
export { lockOrder } from "./lock_order.ts";
export { logicalTimers } from "./logical_timers.ts";
export { lostUpdate } from "./lost_update.ts";
export { zeno } from "./zeno.ts";

/** Every catalog scenario, in the order the main job runs them. */
export const catalog: readonly AnyScenario[] = [
  lostUpdate,
  lockOrder,
  logicalTimers,
  zeno,
  clockSync,
];

/** The catalog scenario called `name`, or undefined. */
export function findScenario(name: string): AnyScenario | undefined {
  return catalog.find((s) => s.name === name);
}
