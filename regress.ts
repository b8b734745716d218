/**
 * `deno task regress`: the regression suite. `--help` lists the flags.
 *
 * @module
 */
import { denoIo } from "./cli.ts";
import { regress } from "./cli/regress.ts";
import { enterInitCwd } from "./scale/init_cwd.ts";

if (import.meta.main) {
  const cwdError = enterInitCwd();
  if (cwdError !== null) console.error(cwdError);
  Deno.exit(cwdError !== null ? 2 : await regress(Deno.args, denoIo()));
}
