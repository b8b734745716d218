/**
 * `deno task regress`: the regression suite. `--help` lists the flags.
 *
 * @module
 */
import { denoIo } from "./cli.ts";
import { regress } from "./cli/regress.ts";

if (import.meta.main) {
  Deno.exit(await regress(Deno.args, denoIo()));
}
