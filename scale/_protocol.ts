/**
 * Messages between the worker pool and its workers.
 */
import type { Outcome } from "../sim/outcome.ts";

/** Sent once: what to run. */
export interface InitMessage {
  readonly type: "init";
  /** Which sweep of the pool this is: results of earlier sweeps are dropped. */
  readonly sweep: number;
  /** A catalog name or a scenario file path. */
  readonly scenario: string;
  readonly variant: string;
  readonly params: Record<string, unknown>;
  readonly cores: number;
  readonly stepsMax: number;
  readonly memory: string;
  readonly strategy: string;
  readonly depth?: number;
  readonly pctSteps?: number;
  readonly seed: number;
  readonly keepGoing: boolean;
  readonly shard: { readonly index: number; readonly of: number };
}

/** Run indices [first, first + count) of the sweep. */
export interface ChunkMessage {
  readonly type: "chunk";
  readonly sweep: number;
  readonly id: number;
  readonly first: number;
  readonly count: number;
}

/** The runs of one chunk, in order, up to its first failure unless going on. */
export interface ResultMessage {
  readonly type: "result";
  readonly sweep: number;
  readonly id: number;
  /** Seeds run, in order. */
  readonly seeds: Float64Array;
  /** Steps of each run. */
  readonly steps: Int32Array;
  readonly failures: readonly {
    readonly index: number;
    readonly seed: number;
    readonly outcome: Outcome;
    readonly decisions: readonly number[];
  }[];
}

/** A worker could not start or run. */
export interface ErrorMessage {
  readonly type: "error";
  readonly sweep: number;
  readonly message: string;
  /** True for bad input (a usage error), false for a fault. */
  readonly usage: boolean;
}

export type ToWorker = InitMessage | ChunkMessage;
export type FromWorker =
  | ResultMessage
  | ErrorMessage
  | { readonly type: "ready"; readonly sweep: number };
