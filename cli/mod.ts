/**
 * The parts of the `sim` and `regress` commands that live outside `cli.ts`:
 * what happens to a failure, `--shrink`, sweeps with their reports, and the
 * regression suite.
 *
 * @module
 */
export * from "./failures.ts";
export * from "./regress.ts";
export * from "./save.ts";
export * from "./shrink_command.ts";
export * from "./sweeps.ts";
