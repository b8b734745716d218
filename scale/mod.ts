/**
 * Scale: sweeps on Deno Workers, shards for clusters, merging shard results.
 *
 * @module
 */
export * from "./merge.ts";
export * from "./shard.ts";
export * from "./workers.ts";
