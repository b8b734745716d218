/**
 * Shards: a deterministic split of a sweep over machines.
 *
 * @module
 */
import { UsageError } from "../sim/scenario.ts";

/** Shard `index` of `of`: run i of a sweep belongs to it when `i % of === index`. */
export interface Shard {
  /** This shard's index, from 0. */
  readonly index: number;
  /** How many shards. */
  readonly of: number;
}

/** The largest shard count accepted. */
export const SHARDS_MAX = 100_000;

/**
 * Parses `i/n` (0 <= i < n), as a Kubernetes Indexed Job's completion index
 * gives it.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "../deps.ts";
 * assertEquals(parseShard("2/8"), { index: 2, of: 8 });
 * assertThrows(() => parseShard("8/8"));
 * ```
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (m === null) throw new UsageError(`bad --shard "${text}": write I/N, like 0/4`);
  const index = Number(m[1]);
  const of = Number(m[2]);
  if (of < 1 || of > SHARDS_MAX || index >= of) {
    throw new UsageError(
      `bad --shard "${text}": need 0 <= I < N <= ${SHARDS_MAX} (shards count from 0)`,
    );
  }
  return { index, of };
}

/** "i/n". */
export function shardText(s: Shard): string {
  return `${s.index}/${s.of}`;
}
