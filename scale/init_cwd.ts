/**
 * Where relative paths on a command line resolve: the directory the user
 * typed the command in. `deno task` runs every task in the project root and
 * passes the user's directory as `INIT_CWD`; the entry points move there
 * before they read any argument.
 *
 * @module
 */

/**
 * Changes into `INIT_CWD` when it is set (and readable), so `--scenario`,
 * `--out`, `--replay` and every other relative path resolve against the
 * directory the command was typed in. Returns an error line, or null.
 */
export function enterInitCwd(): string | null {
  const env = { name: "env", variable: "INIT_CWD" } as const;
  // Asking only when allowed: an ungranted read would prompt on a terminal.
  if (Deno.permissions.querySync(env).state !== "granted") return null;
  const dir = Deno.env.get("INIT_CWD");
  if (dir === undefined || dir === "") return null;
  try {
    Deno.chdir(dir);
  } catch (e) {
    return `error: cannot enter INIT_CWD ${dir}: ${(e as Error).message}`;
  }
  return null;
}

/** The project root, where the default folders (`regress/traces`) live. */
export const PROJECT_ROOT: string = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** `path` inside the project root: relative when the working directory is the root. */
export function fromRoot(path: string): string {
  const cwd = Deno.cwd().replace(/\/?$/, "/");
  return cwd === PROJECT_ROOT ? path : `${PROJECT_ROOT}${path}`;
}
