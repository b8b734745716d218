/**
 * Helpers for the runtime's unit tests: a kernel and heap ready to use.
 */
import { Kernel } from "../sim/kernel.ts";
import type { Op } from "../sim/op.ts";
import type { Outcome } from "../sim/outcome.ts";
import { RandomStrategy } from "../sim/random.ts";
import { ReplayStrategy } from "../sim/replay.ts";
import type { Strategy } from "../sim/strategy.ts";
import { Heap } from "./heap.ts";

/** A fresh kernel (random strategy by default) and an empty heap on it. */
export function world(
  seed = 1,
  options: { stepsMax?: number; strategy?: Strategy } = {},
): { k: Kernel; heap: Heap } {
  const k = new Kernel();
  k.reset(
    { cores: 0, stepsMax: options.stepsMax ?? 10_000 },
    options.strategy ?? new RandomStrategy(),
    seed,
  );
  return { k, heap: new Heap(k) };
}

/** A world whose schedule replays `decisions` (fiber ids, in order). */
export function scripted(decisions: number[]): { k: Kernel; heap: Heap } {
  return world(0, { strategy: new ReplayStrategy(decisions) });
}

/** Runs the world and records every step as "fiber kind object". */
export function runLogged(k: Kernel): { outcome: Outcome; log: string[] } {
  const log: string[] = [];
  k.observe({
    onStep(f, op: Op, kernel) {
      log.push(`${f.name} ${op.kind} ${kernel.objectName(op.obj)}`);
    },
  });
  return { outcome: k.execute(), log };
}
