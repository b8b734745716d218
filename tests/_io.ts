/**
 * Test helper: runs a command entry point with output captured and a fake clock.
 */
import type { Io } from "../cli.ts";

/** What a command printed and how it exited. */
export interface Ran {
  code: number;
  out: string[];
  err: string[];
}

/** Runs `command(args, io)` with stdout and stderr captured; time advances 1 ms per reading. */
export async function captured(
  command: (args: string[], io: Io) => Promise<number>,
  args: string[],
): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  let t = 0;
  const code = await command(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    errRaw: () => {},
    isTerminal: false,
    now: () => (t += 1),
  });
  return { code, out, err };
}
