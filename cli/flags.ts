/**
 * Command-line numbers, parsed strictly and checked against the limits in
 * `sim/limits.ts` before anything is allocated for them.
 *
 * @module
 */
import { SEED_MAX, WORKERS_PER_CORE_MAX } from "../sim/limits.ts";
import { seedToInt } from "../sim/rng.ts";
import { UsageError } from "../sim/scenario.ts";

/**
 * The integer value of `--name`, at least `min` and at most `max`; undefined
 * when the flag is absent. Anything else is a `UsageError` naming the range.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "../deps.ts";
 * assertEquals(intFlag("cores", "4", 0, 1024), 4);
 * assertThrows(() => intFlag("cores", "1000000000", 0, 1024), /at most 1024/);
 * assertThrows(() => intFlag("cores", "2.5", 0, 1024), /need an integer/);
 * ```
 */
export function intFlag(
  name: string,
  value: string | undefined,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
  why = "",
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || !Number.isSafeInteger(n)) {
    throw new UsageError(`bad --${name} "${short(value)}": need an integer >= ${min}`);
  }
  if (n > max) {
    throw new UsageError(`bad --${name} ${value}: at most ${max}${why === "" ? "" : ` (${why})`}`);
  }
  return n;
}

/**
 * A `--seed`: an integer of at most 15 digits, or a word, which is hashed.
 * Text that looks like a number but is not such an integer (`1.5`, `-3`,
 * `1e9`, 16 digits or more) is refused rather than hashed as a word.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "../deps.ts";
 * assertEquals(seedFlag("42"), 42);
 * assertEquals(seedFlag("nightly"), seedFlag("nightly"));
 * assertThrows(() => seedFlag("1.5"), /bad --seed/);
 * assertThrows(() => seedFlag("1234567890123456"), /bad --seed/);
 * ```
 */
export function seedFlag(text: string): number {
  if (text === "") throw new UsageError("bad --seed: empty");
  if (/^\d+$/.test(text) && text.length <= 15) return Number(text);
  if (/^[\d+\-.]/.test(text)) {
    throw new UsageError(
      `bad --seed "${short(text)}": a seed is an integer from 0 to ${SEED_MAX}, ` +
        "or a word that does not start with a digit, sign or point",
    );
  }
  return seedToInt(text);
}

/** `--workers`: at most a few per hardware core of this machine. */
export function workersFlag(value: string | undefined): number | undefined {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const why = `${WORKERS_PER_CORE_MAX} per hardware core; this machine has ${cores}`;
  return intFlag("workers", value, 1, WORKERS_PER_CORE_MAX * cores, why);
}

function short(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 40)}...`;
}
