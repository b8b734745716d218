// The loader runs before a simulation starts, never inside one: it may read files and await.
// deno-lint-ignore-file sim/determinism
/**
 * Loading a scenario by catalog name or from a file path, and a trace with its scenario.
 *
 * A trace file is untrusted input (traces travel in bug reports), so it only
 * ever *names* its scenario: the catalog provides it, or the user names the
 * file on the command line. Nothing a trace says is ever imported.
 *
 * @module
 */
import { type AnyScenario, checkScenario, UsageError } from "../sim/scenario.ts";
import { TRACE_BYTES_MAX } from "../sim/limits.ts";
import { parseTrace, type Trace } from "../sim/trace.ts";
import { catalog, findScenario } from "./mod.ts";

export { TRACE_BYTES_MAX };

/** The directory relative paths on the command line resolve against. */
export function baseDir(): string {
  return Deno.cwd();
}

/** An absolute path for `path`, resolved against `baseDir()`. */
export function resolvePath(path: string): string {
  if (path.startsWith("/")) return path;
  const base = baseDir();
  return `${base.endsWith("/") ? base : `${base}/`}${path}`;
}

// "data:", "http:", "file:", "npm:"...; two letters at least, so a Windows
// drive ("C:\x.ts") is still a path.
const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]+:/;

/**
 * Finds a scenario by catalog name, or imports it from a local file path
 * (relative to the working directory). URLs of any scheme, `file:` included,
 * are refused; anything else unknown gives a `UsageError`.
 */
export async function loadScenario(ref: string): Promise<AnyScenario> {
  const known = findScenario(ref);
  if (known !== undefined) return known;
  if (URL_SCHEME.test(ref)) {
    const scheme = ref.slice(0, ref.indexOf(":") + 1);
    throw new UsageError(
      `cannot load scenario "${ref.slice(0, 60)}": ${scheme} URLs are never imported; ` +
        `give a catalog name or a local file path`,
    );
  }
  if (!/[\/\\]|\.[jt]s$/.test(ref)) {
    const names = catalog.map((s) => s.name).join(", ");
    throw new UsageError(`unknown scenario "${ref}"; known: ${names} (or give a file path)`);
  }
  let mod: Record<string, unknown>;
  try {
    const url = new URL(`file://${encodePath(resolvePath(ref))}`).href;
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

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/**
 * Reads a file of at most `bytesMax` bytes as text; a larger file, or one that
 * is not a regular file, gives a `UsageError` before its contents are read.
 */
export async function readTextBounded(
  file: string,
  bytesMax: number,
  what: string,
): Promise<string> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(file);
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    const info = await f.stat();
    if (!info.isFile) throw new UsageError(`cannot read ${what} ${file}: not a regular file`);
    if (info.size > bytesMax) throw tooBig(what, file, bytesMax);
    // Read at most one byte past the limit: a file that grew meanwhile is still refused.
    const buf = new Uint8Array(info.size + 1);
    let n = 0;
    while (n < buf.length) {
      const got = await f.read(buf.subarray(n));
      if (got === null) break;
      n += got;
    }
    if (n > bytesMax) throw tooBig(what, file, bytesMax);
    return new TextDecoder().decode(buf.subarray(0, n));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  } finally {
    f.close();
  }
}

function tooBig(what: string, file: string, bytesMax: number): UsageError {
  return new UsageError(
    `cannot read ${what} ${file}: larger than the limit of ${bytesMax} bytes`,
  );
}

/** How `loadTrace` finds the trace's scenario. */
export interface LoadTraceOptions {
  /** The `--scenario` the user gave (a catalog name or a file), or null. */
  readonly scenario?: string | null;
  /**
   * Scenario files the user named for many traces at once (`regress
   * --scenario FILE`): a trace recorded against one of them loads it.
   */
  readonly trusted?: readonly string[];
  /** The command, for the one printed when `--scenario` is missing. */
  readonly flag?: "--replay" | "--shrink" | "regress";
}

/**
 * Reads and validates a trace file and finds the scenario it was recorded
 * against: the one the user named with `--scenario`, else the catalog's.
 * A trace recorded against a scenario file needs `--scenario`; the file the
 * trace names is never loaded. Bad files give a `UsageError` naming the file.
 */
export async function loadTrace(
  file: string,
  options: LoadTraceOptions = {},
): Promise<{ trace: Trace; scenario: AnyScenario }> {
  const text = await readTextBounded(file, TRACE_BYTES_MAX, "trace");
  const trace = parseTrace(text, file);
  const given = options.scenario ?? null;
  if (given !== null) return { trace, scenario: await loadScenario(given) };
  if (trace.source !== null) {
    const source = trace.source;
    const flag = options.flag ?? "--replay";
    const trusted = (options.trusted ?? []).find((p) => resolvePath(p) === resolvePath(source));
    if (trusted !== undefined) return { trace, scenario: await loadScenario(trusted) };
    if (URL_SCHEME.test(trace.source)) {
      throw new UsageError(
        `${file} names ${JSON.stringify(trace.source.slice(0, 80))} as its scenario file; ` +
          `URLs are never imported: replay it with --scenario NAME|FILE of your own`,
      );
    }
    throw new UsageError(
      `${file} was recorded against the scenario file ${JSON.stringify(trace.source)}, ` +
        `and a trace never loads code itself; if you trust that file, run: ` +
        (flag === "regress"
          ? `deno task regress --scenario ${quoteArg(source)}`
          : `deno task sim ${flag} ${file} --scenario ${quoteArg(source)}`),
    );
  }
  const known = findScenario(trace.scenario);
  if (known === undefined) {
    throw new UsageError(
      `${file} is for scenario "${trace.scenario.slice(0, 60)}", which is not in the catalog; ` +
        `name its file with --scenario FILE`,
    );
  }
  return { trace, scenario: known };
}

/** A shell word for `text`: as is when plain, else single-quoted. */
function quoteArg(text: string): string {
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text)) return JSON.stringify(text);
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
