/**
 * Memory models and the orderings of atomic operations (C11's names).
 *
 * @module
 */
import { ToolSignal } from "./outcome.ts";

/** The ordering of an atomic operation, as in C11 and Rust. */
export type Ordering = "relaxed" | "acquire" | "release" | "acq_rel" | "seq_cst";

/** Every ordering, weakest first. */
export const ORDERINGS: readonly Ordering[] = [
  "relaxed",
  "acquire",
  "release",
  "acq_rel",
  "seq_cst",
];

/**
 * The memory model of a run.
 *
 * - `sc`: sequential consistency, every access reaches memory at once.
 * - `tso`: x86-TSO, one FIFO store buffer per core.
 * - `pso`: SPARC PSO, one FIFO per core and cell, so stores to different
 *   cells reach memory out of order.
 * - `ra`: C11 release/acquire and relaxed atomics: a load may read any store
 *   its fiber's view allows (see `sim/ra.ts`).
 */
export type MemoryModel = "sc" | "tso" | "pso" | "ra";

/** Every memory model, strongest first. */
export const MEMORY_MODELS: readonly MemoryModel[] = ["sc", "tso", "pso", "ra"];

/** The kind of access an ordering is given to. */
export type AccessKind = "load" | "store" | "rmw" | "fence";

const ALLOWED: Record<AccessKind, readonly Ordering[]> = {
  load: ["relaxed", "acquire", "seq_cst"],
  store: ["relaxed", "release", "seq_cst"],
  rmw: ORDERINGS,
  fence: ["acquire", "release", "acq_rel", "seq_cst"],
};

/**
 * A scenario asked for an ordering its operation does not have (a release
 * load, an unknown name). It is a mistake in the scenario's code, not a bug
 * the scenario found, so it travels out of the run like the tool's own
 * signals and the command line reports it as bad input (exit 2).
 */
export class OrderingError extends ToolSignal {
  /** Makes the error; `message` names the ordering and the operation. */
  constructor(message: string) {
    super(message);
    this.name = "OrderingError";
  }
}

/**
 * Checks that `order` is one an access of `kind` supports; throws
 * `OrderingError` otherwise.
 *
 * @example
 * ```ts
 * import { assertThrows } from "../deps.ts";
 * checkOrdering("load", "acquire");
 * assertThrows(() => checkOrdering("load", "release"), OrderingError);
 * ```
 */
export function checkOrdering(kind: AccessKind, order: string): void {
  const allowed = ALLOWED[kind];
  if (allowed.includes(order as Ordering)) return;
  const known = (ORDERINGS as readonly string[]).includes(order);
  throw new OrderingError(
    known
      ? `Cannot use ordering "${order}" on a ${kind}: a ${kind} takes ${allowed.join(", ")}`
      : `unknown ordering "${order}"; known: ${ORDERINGS.join(", ")}`,
  );
}

/** True when `text` names a memory model. */
export function isMemoryModel(text: unknown): text is MemoryModel {
  return (MEMORY_MODELS as readonly unknown[]).includes(text);
}
