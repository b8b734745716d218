/**
 * Swarm configurations (Groce et al., ISSTA 2012; TigerBeetle's VOPR): under
 * `--swarm` each run first draws a configuration of the scenario (sizes,
 * which faults are on and how often) and only then builds its world.
 *
 * The draws are kernel decisions on the `"config"` stream, made before any
 * fiber exists, so they are the first decisions of the trace: a replay
 * makes them again, DFS and DPOR branch on them like on any `k.choose`, and
 * the shrinker lowers them toward 0, which every draw maps to its smallest
 * value (the least integer, `false`, the first option).
 *
 * @module
 */
import type { Kernel } from "./kernel.ts";
import { type AnyScenario, UsageError } from "./scenario.ts";
import { z } from "zod";

/** What a scenario's swarm hook draws its configuration with. */
export interface SwarmDraw {
  /** An integer in [min, max]; `min` for decision 0. */
  int(name: string, min: number, max: number): number;
  /** A coin; false for decision 0. */
  bool(name: string): boolean;
  /** One of `options`; the first for decision 0. */
  pick<T>(name: string, options: readonly T[]): T;
}

/** The stream swarm draws are recorded on. */
export const CONFIG_STREAM = "config";
/** Draws a swarm hook may make in one run. */
export const SWARM_DRAWS_MAX = 64;
/** A drawn configuration is printed and stored in traces: its JSON stays this small. */
export const SWARM_CHARS_MAX = 4096;

/** A drawn configuration: the values the hook returned, as merged over the parameters. */
export type SwarmConfig = Record<string, unknown>;

/**
 * The schema of a trace's `swarm` field: a small JSON object.
 *
 * @ignore a zod schema: its type is zod's, not the package's (see `SwarmConfig`)
 */
export const SwarmConfigSchema: z.ZodType<SwarmConfig> = z.record(z.string().max(100), z.unknown())
  .refine((c) => Object.keys(c).length <= SWARM_DRAWS_MAX, {
    message: `at most ${SWARM_DRAWS_MAX} configuration values`,
  })
  .refine((c) => JSON.stringify(c).length <= SWARM_CHARS_MAX, {
    message: `at most ${SWARM_CHARS_MAX} characters of configuration`,
  });

/**
 * A `SwarmDraw` over a source of integers: `next(n)` gives a value in
 * [0, n). Names must be distinct within a run, and at most
 * `SWARM_DRAWS_MAX` draws are made.
 */
class Draws implements SwarmDraw {
  readonly #next: (n: number) => number;
  readonly #names = new Set<string>();

  constructor(next: (n: number) => number) {
    this.#next = next;
  }

  #take(name: string, n: number): number {
    if (this.#names.has(name)) {
      throw new RangeError(`Cannot draw configuration value "${name}" twice in one run`);
    }
    if (this.#names.size >= SWARM_DRAWS_MAX) {
      throw new RangeError(`Cannot draw more than ${SWARM_DRAWS_MAX} configuration values`);
    }
    this.#names.add(name);
    return n === 1 ? 0 : this.#next(n);
  }

  int(name: string, min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new RangeError(
        `Cannot draw "${name}" from [${min}, ${max}]: need integers, min <= max`,
      );
    }
    if (max - min >= 2 ** 32) {
      throw new RangeError(`Cannot draw "${name}" from [${min}, ${max}]: at most 2^32 values`);
    }
    return min + this.#take(name, max - min + 1);
  }

  bool(name: string): boolean {
    return this.#take(name, 2) === 1;
  }

  pick<T>(name: string, options: readonly T[]): T {
    if (options.length === 0 || options.length > 2 ** 32) {
      throw new RangeError(`Cannot pick "${name}" from ${options.length} options`);
    }
    return options[this.#take(name, options.length)];
  }
}

/**
 * Draws a scenario's configuration in a run, through the kernel (recorded
 * decisions on the "config" stream), and gives the parameters the run uses:
 * the drawn values over `params`, validated by the scenario's schema. A hook
 * that draws a value the schema refuses is a bug of the scenario: the
 * error names the value and zod's reason.
 */
export function drawSwarm(
  k: Kernel,
  run: SwarmRun,
): { params: Record<string, unknown>; config: SwarmConfig } {
  return swarmOf(run, (n) => k.choose(n, CONFIG_STREAM));
}

/**
 * The configuration a swarm run drew, read back from its decisions (the
 * first ones of the run): what a trace stores and a failure prints.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { channelMpmc } from "../scenarios/mod.ts";
 * import { parseParams } from "./scenario.ts";
 * const run = { scenario: channelMpmc, params: parseParams(channelMpmc, {}), variant: "correct" };
 * const zero = configOfDecisions(run, [0, 0, 0, 0, 0]);
 * assertEquals(zero.params.producers, 1);
 * ```
 */
export function configOfDecisions(
  run: SwarmRun,
  decisions: ArrayLike<number>,
): { params: Record<string, unknown>; config: SwarmConfig } {
  let i = 0;
  return swarmOf(run, (n) => {
    const v = i < decisions.length ? decisions[i++] : 0;
    return v < n ? v : 0;
  });
}

/** What a swarm draw is for: a scenario, its parameters and the variant. */
export interface SwarmRun {
  /** The scenario run. */
  readonly scenario: AnyScenario;
  /** Its parameters, before the draw is merged over them. */
  readonly params: Record<string, unknown>;
  /** The variant run. */
  readonly variant: string;
}

function swarmOf(
  { scenario, params, variant }: SwarmRun,
  next: (n: number) => number,
): { params: Record<string, unknown>; config: SwarmConfig } {
  if (scenario.swarm === undefined) {
    throw new UsageError(`${scenario.name} declares no swarm configuration`);
  }
  const config = scenario.swarm(new Draws(next), params, variant) as SwarmConfig;
  // What a trace cannot store, a run must not draw: it is refused here, not when read back.
  const bounded = SwarmConfigSchema.safeParse(config);
  if (!bounded.success) {
    throw new RangeError(
      `${scenario.name}'s swarm hook drew a configuration a trace cannot hold: ` +
        bounded.error.issues.map((i) => i.message).join("; "),
    );
  }
  const parsed = scenario.params.safeParse({ ...params, ...config });
  if (!parsed.success) {
    const why = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(params)"}: ${i.message}`)
      .join("; ");
    throw new RangeError(
      `${scenario.name}'s swarm hook drew a configuration its parameters refuse: ${why}`,
    );
  }
  return { params: parsed.data as Record<string, unknown>, config: { ...config } };
}

/**
 * The configuration as one line: `producers=2 consumers=1 faults={"delay":0.05}`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * assertEquals(formatSwarm({ workers: 2, faults: { alloc: 0.2 } }), 'workers=2 faults={"alloc":0.2}');
 * ```
 */
export function formatSwarm(config: SwarmConfig): string {
  return Object.entries(config)
    .map(([key, v]) => `${key}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(" ");
}
