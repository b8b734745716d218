/**
 * JSON Lines files: one JSON object per line, written as runs go by and
 * read back by `merge`.
 *
 * @module
 */

/** Lines held before a write: a sweep emits one per run. */
const BUFFER_LINES = 4096;

/**
 * Appends JSON lines to a file, in batches.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * const w = new JsonlWriter(path);
 * w.write({ a: 1 });
 * w.close();
 * assertEquals(readJsonl(Deno.readTextFileSync(path), path), [{ a: 1 }]);
 * ```
 */
export class JsonlWriter {
  /** The file written. */
  readonly path: string;
  #file: Deno.FsFile;
  #lines: string[] = [];
  readonly #enc = new TextEncoder();

  /** Creates (or truncates) `path`. */
  constructor(path: string) {
    this.path = path;
    this.#file = Deno.openSync(path, { write: true, create: true, truncate: true });
  }

  /** Adds one object as a line. */
  write(value: unknown): void {
    this.writeLine(JSON.stringify(value));
  }

  /** Adds a line already serialized. */
  writeLine(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length >= BUFFER_LINES) this.flush();
  }

  /** Writes out what is buffered. */
  flush(): void {
    if (this.#lines.length === 0) return;
    const bytes = this.#enc.encode(this.#lines.join("\n") + "\n");
    this.#lines = [];
    let off = 0;
    while (off < bytes.length) off += this.#file.writeSync(bytes.subarray(off));
  }

  /** Flushes and closes the file. */
  close(): void {
    this.flush();
    this.#file.close();
  }
}

/**
 * Parses JSON Lines text; blank lines are skipped, and a bad line gives a
 * `SyntaxError` naming the file and line number.
 */
export function readJsonl(text: string, origin: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new SyntaxError(`${origin}:${i + 1} is not JSON: ${(e as Error).message}`);
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      throw new SyntaxError(`${origin}:${i + 1} is not a JSON object`);
    }
    out.push(v as Record<string, unknown>);
  }
  return out;
}
