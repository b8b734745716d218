// The loader runs before a simulation starts, never inside one: it may read files and await.
// deno-lint-ignore-file sim/determinism
/**
 * Loading a scenario by catalog name or from a file path, and a trace with its scenario.
 *
 * @module
 */
import { type AnyScenario, checkScenario, UsageError } from "../sim/scenario.ts";
import { parseTrace, type Trace } from "../sim/trace.ts";
import { catalog, findScenario } from "./mod.ts";

/**
 * Finds a scenario by catalog name, or imports it from a file path (relative
 * to the working directory). Anything else gives a `UsageError`.
 */
export async function loadScenario(ref: string): Promise<AnyScenario> {
  const known = findScenario(ref);
  if (known !== undefined) return known;
  if (!/[\/\\]|\.[jt]s$/.test(ref)) {
    const names = catalog.map((s) => s.name).join(", ");
    throw new UsageError(`unknown scenario "${ref}"; known: ${names} (or give a file path)`);
  }
  let mod: Record<string, unknown>;
  try {
    const url = new URL(ref, `file://${Deno.cwd()}/`).href;
    mod = await import(url);
  } catch (e) {
    throw new UsageError(`cannot load scenario file ${ref}: ${(e as Error).message}`);
  }
  const value = mod.default ?? mod.scenario;
  if (value === undefined) {
    throw new UsageError(`${ref} exports no scenario: export it as default or as "scenario"`);
  }
  return checkScenario(value, ref);
}

/**
 * Reads and validates a trace file and loads the scenario it was recorded
 * against. Bad files give a `UsageError` naming the file.
 */
export async function loadTrace(file: string): Promise<{ trace: Trace; scenario: AnyScenario }> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new UsageError(`cannot read trace ${file}: ${(e as Error).message}`);
  }
  const trace = parseTrace(text, file);
  return { trace, scenario: await loadScenario(trace.source ?? trace.scenario) };
}
