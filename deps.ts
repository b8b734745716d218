/**
 * The one place where standard-library functionality enters the project.
 *
 * JSR (and so `jsr:@std/*`) is not reachable from the machines this project is
 * built on, so the Node built-ins Deno ships stand in for it. Switching to
 * `@std/cli` and `@std/assert` later changes only this file.
 *
 * @module
 */
export { parseArgs } from "node:util";
export { cpuUsage } from "node:process";
export {
  AssertionError,
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notStrictEqual as assertNotEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert";
export { getHeapStatistics } from "node:v8";
