/**
 * How a scenario is declared: parameters, variants, expectations, setup.
 *
 * @module
 */
import { z } from "zod";
import type { Kernel } from "./kernel.ts";
import { PCT_DEPTH_MAX, RUNS_MAX } from "./limits.ts";
import { MEMORY_MODELS, type MemoryModel } from "./ordering.ts";
import { type Verdict, VERDICTS } from "./outcome.ts";
import type { SwarmDraw } from "./swarm.ts";

/** How much exploration a variant's expectation is judged on. */
export type Budget =
  | { readonly strategy: "random"; readonly runs: number }
  | { readonly strategy: "pct"; readonly runs: number; readonly depth?: number }
  | {
    readonly strategy: "dfs";
    readonly runs: number;
    readonly preemptions?: number;
    readonly iterative?: boolean;
    readonly delays?: number;
    readonly order?: "default" | "random";
  }
  | { readonly strategy: "dpor"; readonly runs: number; readonly order?: "default" | "random" }
  | { readonly strategy: "portfolio"; readonly runs: number };

/** What a variant is expected to do within its budget. */
export interface Expectation {
  /** `pass`: every run within the budget passes. Anything else: it is found. */
  readonly verdict: Verdict;
  /** How much exploration the verdict is judged on. */
  readonly budget: Budget;
  /** For a failing verdict, the check that must be the one failing. */
  readonly check?: string;
  /**
   * For a failing verdict found by more than one end-to-end check (a stale
   * read may show as a duplicate or as a message never posted): any of these.
   */
  readonly checks?: readonly string[];
  /**
   * For a pass variant whose budget samples: DPOR exhausts it at these
   * parameters (over the defaults) within `runs` schedules, so the main job
   * reports it verified at that size, beside the sampled budget at full size.
   */
  readonly verify?: Verification;
}

/** A size at which a pass variant is verified by exhausting it with DPOR. */
export interface Verification {
  /** At most this many DPOR schedules. */
  readonly runs: number;
  /** Parameter values over the scenario's defaults. */
  readonly params?: Record<string, unknown>;
}

/** One variant of a scenario: a correct version, or a deliberately broken one. */
export interface Variant {
  /** What the variant does, for people. */
  readonly description: string;
  /** What the variant must come to. */
  readonly expect: Expectation;
  /** The memory model the variant is judged under (default `sc`); `--memory` overrides it. */
  readonly memory?: MemoryModel;
}

/**
 * A scenario's parameter schema: a zod schema such as `z.object({...})`, seen
 * through the two methods the tool calls. (Declared here rather than as zod's
 * `ZodType` so the package's documented types stay its own.)
 */
export interface ParamsSchema<P> {
  /** Validates `data` and fills defaults; throws on bad input. */
  parse(data: unknown): P;
  /** Validates `data` and fills defaults, returning the issues instead of throwing. */
  safeParse(data: unknown): ParamsParse<P>;
}

/** What `ParamsSchema.safeParse` gives: the parameters, or what is wrong with them. */
export type ParamsParse<P> =
  | { readonly success: true; readonly data: P }
  | {
    readonly success: false;
    readonly error: {
      readonly issues: readonly {
        readonly path: readonly PropertyKey[];
        readonly message: string;
      }[];
    };
  };

/**
 * A scenario: a world to build, fibers to run in it, what must hold, and the
 * verdict each variant is expected to get.
 */
export interface Scenario<P extends object = Record<string, unknown>> {
  /** The catalog name, kebab-case. */
  readonly name: string;
  /** What the scenario models, in one line. */
  readonly description: string;
  /** The parameters, with defaults. Command-line values are validated against it. */
  readonly params: ParamsSchema<P>;
  /** The variants by name: correct and deliberately broken versions. */
  readonly variants: Readonly<Record<string, Variant>>;
  /** Simulated cores; 0 or absent gives every fiber its own core. */
  cores?(params: P): number;
  /** The step limit of one run; defaults to 10,000. */
  stepsMax?(params: P): number;
  /**
   * Under `--swarm`: draws this run's configuration, before any fiber
   * exists (see `sim/swarm.ts`). The values it returns are merged over the
   * parameters and validated by `params`; cores and the step limit then
   * follow the merged parameters. Values are as the schema takes them (its
   * defaults fill in what is left out).
   */
  swarm?(draw: SwarmDraw, params: P, variant: string): { readonly [K in keyof P]?: unknown };
  /** Builds the world: cells, locks, fibers and invariants. */
  setup(kernel: Kernel, params: P, variant: string): void;
}

/** Steps a run may take unless a scenario says otherwise. */
export const STEPS_MAX_DEFAULT = 10_000;

const BudgetSchema = z.discriminatedUnion("strategy", [
  z.object({ strategy: z.literal("random"), runs: z.number().int().min(1).max(RUNS_MAX) }).strict(),
  z.object({
    strategy: z.literal("pct"),
    runs: z.number().int().min(1).max(RUNS_MAX),
    depth: z.number().int().min(1).max(PCT_DEPTH_MAX).optional(),
  }).strict(),
  z.object({
    strategy: z.literal("dfs"),
    runs: z.number().int().min(1).max(RUNS_MAX),
    preemptions: z.number().int().min(0).optional(),
    iterative: z.boolean().optional(),
    delays: z.number().int().min(0).optional(),
    order: z.enum(["default", "random"]).optional(),
  }).strict(),
  z.object({
    strategy: z.literal("dpor"),
    runs: z.number().int().min(1).max(RUNS_MAX),
    order: z.enum(["default", "random"]).optional(),
  }).strict(),
  z.object({ strategy: z.literal("portfolio"), runs: z.number().int().min(1).max(RUNS_MAX) })
    .strict(),
]);

const VariantSchema = z.object({
  description: z.string(),
  expect: z.object({
    verdict: z.enum(VERDICTS as [Verdict, ...Verdict[]]),
    budget: BudgetSchema,
    check: z.string().optional(),
    checks: z.array(z.string()).min(1).optional(),
    verify: z.object({
      runs: z.number().int().min(1),
      params: z.record(z.string(), z.unknown()).optional(),
    }).strict().optional(),
  }).strict(),
  memory: z.enum(MEMORY_MODELS as [string, ...string[]]).optional(),
}).strict();

const ScenarioSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, "kebab-case, like lost-update"),
  description: z.string(),
  params: z.custom<z.ZodType>((v) => v instanceof z.ZodType, "a zod schema"),
  variants: z.record(z.string().min(1), VariantSchema)
    .refine((v) => Object.keys(v).length > 0, "at least one variant"),
  cores: z.custom<unknown>((v) => typeof v === "function", "a function").optional(),
  stepsMax: z.custom<unknown>((v) => typeof v === "function", "a function").optional(),
  swarm: z.custom<unknown>((v) => typeof v === "function", "a function").optional(),
  setup: z.custom<unknown>((v) => typeof v === "function", "a function"),
});

/**
 * The variant a scenario gets when it declares none: it must pass 100 runs of
 * the portfolio (random and PCT at depths 1 to 5, round-robin).
 */
export const DEFAULT_VARIANT: Variant = {
  description: "the scenario as written",
  expect: { verdict: "pass", budget: { strategy: "portfolio", runs: 100 } },
};

/**
 * Checks that `value` is a well-formed scenario; `origin` names where it came
 * from in the error. A scenario without variants gets one, `default`, that
 * must pass. Gives a `UsageError` naming every field that is wrong.
 */
export function checkScenario(value: unknown, origin: string): AnyScenario {
  const withDefaults = value !== null && typeof value === "object" &&
      !("variants" in value)
    ? { ...value, variants: { default: DEFAULT_VARIANT } }
    : value;
  const parsed = ScenarioSchema.safeParse(withDefaults);
  if (!parsed.success) {
    const why = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(scenario)"}: ${i.message}`)
      .join("; ");
    throw new UsageError(`${origin} is not a valid scenario: ${why}`);
  }
  return withDefaults as AnyScenario;
}

/**
 * Declares a scenario, checking its shape at load time.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { assertEquals } from "../deps.ts";
 * const s = defineScenario({
 *   name: "noop",
 *   description: "does nothing",
 *   params: z.object({}),
 *   variants: { only: { description: "-", expect: { verdict: "pass", budget: { strategy: "random", runs: 1 } } } },
 *   setup() {},
 * });
 * assertEquals(Object.keys(s.variants), ["only"]);
 * ```
 */
export function defineScenario<P extends object>(scenario: Scenario<P>): Scenario<P> {
  checkScenario(scenario, `scenario ${scenario.name}`);
  return scenario;
}

/** A scenario of any parameter type, as the catalog holds them. */
// deno-lint-ignore no-explicit-any
export type AnyScenario = Scenario<any>;

/** Thrown for bad input a user gave: the CLI prints its message and exits 2. */
export class UsageError extends Error {
  /** Makes the error; `message` is what the user sees. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Turns a command-line `key=value` value into JSON when it parses as JSON. */
export function coerceParam(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Validates raw parameters against a scenario's schema, filling defaults.
 * Unknown names and bad values give a `UsageError` with zod's message.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { assertEquals, assertThrows } from "../deps.ts";
 * const s = defineScenario({
 *   name: "p", description: "", setup() {},
 *   params: z.object({ n: z.number().int().min(1).default(2) }),
 *   variants: { v: { description: "", expect: { verdict: "pass", budget: { strategy: "random", runs: 1 } } } },
 * });
 * assertEquals(parseParams(s, {}), { n: 2 });
 * assertThrows(() => parseParams(s, { n: 0 }));
 * assertThrows(() => parseParams(s, { m: 1 }));
 * ```
 */
export function parseParams<P extends object>(
  scenario: Scenario<P>,
  raw: Record<string, unknown>,
): P {
  const schema: ParamsSchema<P> = scenario.params;
  const shape: unknown = schema;
  if (shape instanceof z.ZodObject) {
    const known = Object.keys(shape.shape);
    for (const key of Object.keys(raw)) {
      if (!known.includes(key)) {
        const list = known.length === 0 ? "it takes none" : `known: ${known.join(", ")}`;
        throw new UsageError(`unknown parameter "${key}" for ${scenario.name}; ${list}`);
      }
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(params)"}: ${i.message}`)
      .join("; ");
    throw new UsageError(`bad parameters for ${scenario.name}: ${why}`);
  }
  return parsed.data;
}
