/**
 * Messages between the worker pool and its workers.
 */
import type { Heartbeat } from "../sim/kernel.ts";
import type { Outcome } from "../sim/outcome.ts";
import type { SubtreeResult, TreeSpec } from "../sim/split.ts";

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
  /** Each run draws a swarm configuration first. */
  readonly swarm?: boolean;
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

/** Sent once per split tree (DFS, DPOR): the target, the tree and its subtrees. */
export interface TreeInitMessage {
  readonly type: "tree-init";
  readonly sweep: number;
  readonly scenario: string;
  readonly variant: string;
  readonly params: Record<string, unknown>;
  readonly cores: number;
  readonly stepsMax: number;
  /** The memory model the subtrees run under (the target's, `sc` by default). */
  readonly memory: string;
  readonly swarm?: boolean;
  readonly spec: TreeSpec;
  readonly prefixes: readonly (readonly number[])[];
  readonly seed: number;
  readonly keepGoing: boolean;
}

/** Explore subtree `index` with at most `runs` schedules. */
export interface SubtreeMessage {
  readonly type: "subtree";
  readonly sweep: number;
  readonly index: number;
  readonly runs: number;
}

/** What a subtree's exploration found. */
export interface SubtreeResultMessage {
  readonly type: "subtree-result";
  readonly sweep: number;
  readonly result: SubtreeResult;
  /** Milliseconds the worker spent exploring it (wall clock). */
  readonly ms: number;
}

/**
 * Sent once to a watched worker, before anything else: the kernel publishes
 * its steps to `heartbeat`, and `busy[0]` is 1 while a chunk or subtree runs.
 */
export interface WatchMessage {
  readonly type: "watch";
  readonly sweep: number;
  readonly heartbeat: Heartbeat;
  readonly busy: Int32Array;
}

export type ToWorker =
  | InitMessage
  | ChunkMessage
  | TreeInitMessage
  | SubtreeMessage
  | WatchMessage;
export type FromWorker =
  | ResultMessage
  | SubtreeResultMessage
  | ErrorMessage
  | { readonly type: "ready"; readonly sweep: number };
