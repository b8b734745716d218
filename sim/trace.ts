/**
 * Trace files: the choices of one run, enough to replay it exactly.
 *
 * @module
 */
import { z } from "zod";
import meta from "../deno.json" with { type: "json" };
import { MEMORY_MODELS, type MemoryModel } from "./ordering.ts";
import { type Outcome, VERDICTS } from "./outcome.ts";
import { CORES_MAX, DECISIONS_MAX, STEPS_MAX } from "./limits.ts";
import { UsageError } from "./scenario.ts";
import { type SwarmConfig, SwarmConfigSchema } from "./swarm.ts";

/** The trace format this tool writes and reads. */
export const TRACE_FORMAT = 1;

/** The tool name and version written into every trace. */
export const TOOL = `simtest ${meta.version}`;

// Names are printed in one-line errors: a trace cannot make them megabytes long.
const NAME_CHARS_MAX = 200;
const PATH_CHARS_MAX = 4096;

const OutcomeSchema: z.ZodType<TraceOutcome> = z.object({
  verdict: z.enum(VERDICTS as [string, ...string[]]),
  check: z.string(),
  message: z.string(),
  step: z.number().int().min(0),
  fiber: z.string().nullable(),
}).strict();

/** An outcome as a trace file holds it (the verdict checked against the known ones). */
export interface TraceOutcome {
  /** The verdict's name. */
  verdict: string;
  /** Which check failed. */
  check: string;
  /** What happened. */
  message: string;
  /** The step the run ended at. */
  step: number;
  /** The fiber that failed, or null. */
  fiber: string | null;
}

/**
 * A trace file's fields as read, before the verdict and memory model are
 * narrowed. A field added to `TraceSchema` is declared here too: the package's
 * public types are written out, not inferred (JSR's "no slow types").
 */
export interface TraceFile {
  /** The trace format version. */
  format: typeof TRACE_FORMAT;
  /** The tool and version that wrote the trace. */
  tool: string;
  /** The scenario's name. */
  scenario: string;
  /** The file the scenario came from, or null for a catalog scenario. */
  source: string | null;
  /** The variant's name. */
  variant: string;
  /** The parameters of the run, defaults included. */
  params: Record<string, unknown>;
  /** Simulated cores (0: a core per fiber). */
  cores: number;
  /** The step limit of the run. */
  stepsMax: number;
  /** The strategy's name and the options it ran with. */
  strategy: { name: string; [option: string]: number | string | boolean };
  /** The seed (or schedule number) of the run. */
  seed: number;
  /** The decisions, as `encodeDecisions` writes them. */
  decisions: string;
  /** How the run ended. */
  outcome: TraceOutcome;
  /** The memory model's name, when not `sc`. */
  memory?: string | undefined;
  /** The configuration a swarm run drew (absent in traces of other runs). */
  swarm?: SwarmConfig | undefined;
}

/** The schema every trace file is validated against when read. */
const TraceSchema: z.ZodType<TraceFile> = z.object({
  format: z.literal(TRACE_FORMAT),
  tool: z.string().max(NAME_CHARS_MAX),
  scenario: z.string().min(1).max(NAME_CHARS_MAX),
  source: z.string().max(PATH_CHARS_MAX).nullable(),
  variant: z.string().min(1).max(NAME_CHARS_MAX),
  params: z.record(z.string(), z.unknown()),
  cores: z.number().int().min(0).max(CORES_MAX),
  stepsMax: z.number().int().min(1).max(STEPS_MAX),
  strategy: z.object({ name: z.string().min(1).max(NAME_CHARS_MAX) })
    .catchall(z.union([z.number(), z.string().max(NAME_CHARS_MAX), z.boolean()])),
  seed: z.number().int().min(0),
  decisions: z.string().superRefine((text, ctx) => {
    const r = scanDecisions(text);
    if (typeof r === "string") ctx.addIssue({ code: "custom", message: r });
  }),
  outcome: OutcomeSchema,
  /** The memory model, when not `sc` (absent in traces of sc runs). */
  memory: z.enum(MEMORY_MODELS as [string, ...string[]]).optional(),
  /** The configuration a swarm run drew (absent in traces of other runs). */
  swarm: SwarmConfigSchema.optional(),
}).strict();

/** A trace, as held in memory. */
export type Trace = Omit<TraceFile, "outcome" | "memory"> & {
  outcome: Outcome;
  memory?: MemoryModel;
};

/**
 * Encodes decisions compactly: comma-separated, with `n*k` for k repeats of n.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * assertEquals(encodeDecisions([0, 1, 1, 1, 2]), "0,1*3,2");
 * assertEquals(decodeDecisions("0,1*3,2"), [0, 1, 1, 1, 2]);
 * ```
 */
export function encodeDecisions(decisions: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < decisions.length;) {
    let j = i + 1;
    while (j < decisions.length && decisions[j] === decisions[i]) j++;
    parts.push(j - i > 1 ? `${decisions[i]}*${j - i}` : String(decisions[i]));
    i = j;
  }
  return parts.join(",");
}

// A decision is a fiber id or a chosen value: below 2^32 (`k.choose(n)` takes n <= 2^32).
const DECISION_MAX = 0xffffffff;
const COMMA = 44;
const STAR = 42;
const ZERO = 48;
const NINE = 57;

/**
 * Checks a decision list in one pass, without allocating: how many decisions
 * it holds, or what is wrong with it. More than `DECISIONS_MAX` decisions is
 * wrong, and the scan stops there.
 *
 * @example
 * ```ts
 * import { assertEquals, assertMatch } from "../deps.ts";
 * assertEquals(scanDecisions("0,1*3,2"), 5);
 * assertMatch(scanDecisions("1*200000000") as string, /more than 50000000 decisions/);
 * ```
 */
export function scanDecisions(text: string): number | string {
  if (text === "") return 0;
  let count = 0;
  let i = 0;
  const n = text.length;
  for (;;) {
    const at = i;
    let value = 0;
    while (i < n && text.charCodeAt(i) >= ZERO && text.charCodeAt(i) <= NINE && i - at <= 10) {
      value = value * 10 + text.charCodeAt(i++) - ZERO;
    }
    if (i === at) return malformed(text, i, "a number");
    if (value > DECISION_MAX) return malformed(text, at, `a decision below 2^32`);
    let times = 1;
    if (i < n && text.charCodeAt(i) === STAR) {
      const from = ++i;
      times = 0;
      while (i < n && text.charCodeAt(i) >= ZERO && text.charCodeAt(i) <= NINE && i - from <= 10) {
        times = times * 10 + text.charCodeAt(i++) - ZERO;
      }
      if (i === from || times < 1) return malformed(text, from, "a repeat count >= 1");
    }
    count += times;
    if (count > DECISIONS_MAX) {
      return `more than ${DECISIONS_MAX} decisions: the limit of a trace`;
    }
    if (i === n) return count;
    if (text.charCodeAt(i) !== COMMA) return malformed(text, i, "',', '*' or the end");
    i++;
  }
}

function malformed(text: string, at: number, want: string): string {
  const shown = JSON.stringify(text.slice(Math.max(0, at - 10), at + 10));
  return `malformed decision list at character ${at} (${shown}): expected ${want}; ` +
    "write comma-separated integers, n*k for k repeats of n";
}

/**
 * Decodes what `encodeDecisions` wrote into a typed array, in linear time;
 * the size is checked before the array is allocated.
 */
export function decodeDecisionArray(text: string): Uint32Array {
  const count = scanDecisions(text);
  if (typeof count === "string") throw new UsageError(count);
  const out = new Uint32Array(count);
  let k = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    let value = 0;
    while (i < n && text.charCodeAt(i) >= ZERO && text.charCodeAt(i) <= NINE) {
      value = value * 10 + text.charCodeAt(i++) - ZERO;
    }
    let times = 1;
    if (i < n && text.charCodeAt(i) === STAR) {
      i++;
      times = 0;
      while (i < n && text.charCodeAt(i) >= ZERO && text.charCodeAt(i) <= NINE) {
        times = times * 10 + text.charCodeAt(i++) - ZERO;
      }
    }
    out.fill(value, k, k + times);
    k += times;
    i++; // the comma
  }
  return out;
}

/** Decodes what `encodeDecisions` wrote. */
export function decodeDecisions(text: string): number[] {
  return Array.from(decodeDecisionArray(text));
}

/** Sorts object keys recursively so equal values serialize to equal bytes. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = canonical((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

/**
 * Serializes a trace. The same run always gives the same bytes: no times,
 * no host details, keys in a fixed order.
 */
export function serializeTrace(trace: Trace): string {
  const ordered = {
    format: trace.format,
    tool: trace.tool,
    scenario: trace.scenario,
    source: trace.source,
    variant: trace.variant,
    params: canonical(trace.params),
    cores: trace.cores,
    stepsMax: trace.stepsMax,
    strategy: canonical(trace.strategy),
    seed: trace.seed,
    decisions: trace.decisions,
    outcome: {
      verdict: trace.outcome.verdict,
      check: trace.outcome.check,
      message: trace.outcome.message,
      step: trace.outcome.step,
      fiber: trace.outcome.fiber,
    },
    ...(trace.memory === undefined ? {} : { memory: trace.memory }),
    ...(trace.swarm === undefined ? {} : { swarm: canonical(trace.swarm) }),
  };
  return JSON.stringify(ordered, null, 2) + "\n";
}

/**
 * Parses and validates trace text. Anything malformed gives a `UsageError`
 * that says which field is wrong, never a stack trace.
 */
export function parseTrace(text: string, origin = "trace"): Trace {
  const depth = nestingOf(text, JSON_DEPTH_MAX);
  if (depth > JSON_DEPTH_MAX) {
    throw new UsageError(
      `${origin} is not a valid trace: nested deeper than ${JSON_DEPTH_MAX} levels`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${origin} is not JSON: ${(e as Error).message}`);
  }
  const parsed = TraceSchema.safeParse(json);
  if (!parsed.success) {
    const why = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`)
      .join("; ");
    throw new UsageError(`${origin} is not a valid trace: ${why}`);
  }
  return parsed.data as Trace;
}

// A trace is a few levels deep; JSON.parse takes seconds on millions of levels.
const JSON_DEPTH_MAX = 32;

/** How deeply `text`'s JSON nests, counting past `max` only up to `max + 1`. */
function nestingOf(text: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 91 || c === 123) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > max) return deepest;
    } else if (c === 93 || c === 125) {
      depth--;
    }
  }
  return deepest;
}
