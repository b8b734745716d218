/**
 * Ctrl-C during a sweep: the sweep stops between runs, and `runs.jsonl` and
 * `summary.md` end with an `interrupted` line instead of a verdict.
 *
 * @module
 */

/** Whether the user asked the command to stop. */
export interface Interrupts {
  /** True once SIGINT arrived. */
  readonly requested: boolean;
  /** Stops listening. */
  close(): void;
}

/** Thrown out of a sweep's callbacks when an interrupt was requested. */
export class Interrupted extends Error {
  constructor() {
    super("interrupted");
    this.name = "Interrupted";
  }
}

/**
 * Listens for SIGINT on a small worker, so the flag rises even while the
 * main thread runs a long synchronous sweep. Resolves once the listener is
 * in place. A second SIGINT ends the process as usual.
 */
export async function watchInterrupts(): Promise<Interrupts> {
  const buffer = new SharedArrayBuffer(4);
  const flag = new Int32Array(buffer);
  const worker = new Worker(new URL("./_sigint_worker.ts", import.meta.url), { type: "module" });
  await new Promise<void>((resolve) => {
    worker.onmessage = (e) => {
      if (e.data === "ready") resolve();
    };
    worker.postMessage(buffer);
  });
  return {
    get requested() {
      return Atomics.load(flag, 0) === 1;
    },
    close: () => worker.terminate(),
  };
}
