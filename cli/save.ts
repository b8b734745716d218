/**
 * The regression folder: failing traces kept in the repository, each
 * replayed by `deno task regress` and required to fail exactly as recorded.
 *
 * @module
 */
import { fromRoot } from "../scale/init_cwd.ts";
import { writeAtomic } from "./output.ts";
import { UsageError } from "../sim/scenario.ts";
import { parseTrace, serializeTrace, type Trace } from "../sim/trace.ts";

/** Where stored failing traces live, relative to the project root. */
export const REGRESS_DIR = "regress/traces";

/** A stable, content-derived file name for a stored trace. */
export function storedName(trace: Trace): string {
  const text = serializeTrace(trace);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  const hash = (h >>> 0).toString(16).padStart(8, "0");
  const name = `${trace.scenario}.${trace.variant}.${trace.outcome.check}.${hash}.json`;
  return name.replace(/[^A-Za-z0-9._-]/g, "_");
}

/**
 * Copies the failing trace in `file` into the regression folder `dir` and
 * returns its new path. A passing trace is refused: only failures are kept.
 */
export function saveTrace(file: string, dir: string = fromRoot(REGRESS_DIR)): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read trace ${file}: ${(e as Error).message}`);
  }
  const trace = parseTrace(text, file);
  if (trace.outcome.verdict === "pass") {
    throw new UsageError(`${file} is a passing run: the regression folder keeps failing traces`);
  }
  const path = `${dir}/${storedName(trace)}`;
  writeAtomic(path, serializeTrace(trace));
  return path;
}
