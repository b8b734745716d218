/**
 * Trace files: the choices of one run, enough to replay it exactly.
 *
 * @module
 */
import { z } from "zod";
import meta from "../deno.json" with { type: "json" };
import { type Outcome, VERDICTS } from "./outcome.ts";
import { UsageError } from "./scenario.ts";

/** The trace format this tool writes and reads. */
export const TRACE_FORMAT = 1;

/** The tool name and version written into every trace. */
export const TOOL = `simtest ${meta.version}`;

const DECISIONS = /^(\d+(\*\d+)?(,\d+(\*\d+)?)*)?$/;

const OutcomeSchema = z.object({
  verdict: z.enum(VERDICTS as [string, ...string[]]),
  check: z.string(),
  message: z.string(),
  step: z.number().int().min(0),
  fiber: z.string().nullable(),
}).strict();

/** The schema every trace file is validated against when read. */
export const TraceSchema = z.object({
  format: z.literal(TRACE_FORMAT),
  tool: z.string(),
  scenario: z.string().min(1),
  source: z.string().nullable(),
  variant: z.string().min(1),
  params: z.record(z.string(), z.unknown()),
  cores: z.number().int().min(0),
  stepsMax: z.number().int().min(1),
  strategy: z.object({ name: z.string().min(1) })
    .catchall(z.union([z.number(), z.string(), z.boolean()])),
  seed: z.number().int().min(0),
  decisions: z.string().regex(DECISIONS, "a comma-separated list of integers, n*k for runs"),
  outcome: OutcomeSchema,
}).strict();

/** A trace, as held in memory. */
export type Trace = Omit<z.infer<typeof TraceSchema>, "outcome"> & { outcome: Outcome };

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

/** Decodes what `encodeDecisions` wrote. */
export function decodeDecisions(text: string): number[] {
  if (!DECISIONS.test(text)) throw new UsageError(`malformed decision list "${text}"`);
  const out: number[] = [];
  if (text === "") return out;
  for (const part of text.split(",")) {
    const [value, times] = part.split("*");
    const n = times === undefined ? 1 : Number(times);
    for (let i = 0; i < n; i++) out.push(Number(value));
  }
  return out;
}

/** Sorts object keys recursively so equal values serialize to equal bytes. */
function canonical(value: unknown): unknown {
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
  };
  return JSON.stringify(ordered, null, 2) + "\n";
}

/**
 * Parses and validates trace text. Anything malformed gives a `UsageError`
 * that says which field is wrong, never a stack trace.
 */
export function parseTrace(text: string, origin = "trace"): Trace {
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
