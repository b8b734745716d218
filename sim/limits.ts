/**
 * Every limit on user input in one place. Each is checked before anything is
 * allocated for it, and exceeding one is a one-line usage error (exit 2).
 *
 * The numbers are far above what a useful run needs and far below what would
 * exhaust a machine: a run never grows past them, so neither can input that
 * names them.
 *
 * @module
 */
/** Simulated cores of one run (`--cores`; a trace's `cores`). */
export const CORES_MAX = 1024;

/** Deno Workers per hardware core (`--workers`): more only adds overhead. */
export const WORKERS_PER_CORE_MAX = 4;

/** PCT bug depth (`--depth`): d - 1 priority change points per run. */
export const PCT_DEPTH_MAX = 1000;

/** Runs of a sweep, or schedules of an exhaustive search (`--runs`). */
export const RUNS_MAX = 1_000_000_000;

/** Steps of one run (`--max-steps`; a trace's `stepsMax`; a scenario's `stepsMax`). */
export const STEPS_MAX = 20_000_000;

/**
 * Decisions in one run or trace: what a replay holds in memory (4 bytes
 * each). Above `STEPS_MAX`, so a run that reaches its step limit still has
 * room for its `k.choose` values.
 */
export const DECISIONS_MAX = 50_000_000;

/** Live fibers of one run, unless a run asks for fewer. */
export const FIBERS_MAX = 10_000;

/** `k.choose(n)` takes n up to 2^32: every decision fits in 32 bits. */
export const CHOOSE_MAX = 2 ** 32;

/** Bytes of a trace file. */
export const TRACE_BYTES_MAX = 64 * 1024 * 1024;

/** The largest integer seed: 15 digits, so that seed + run index stays exact. */
export const SEED_MAX = 999_999_999_999_999;

/** Steps PCT spreads its change points over (`--pct-steps`), and DFS preemptions. */
export const PCT_STEPS_MAX = STEPS_MAX;
