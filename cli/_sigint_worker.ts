/// <reference lib="deno.worker" />
// Listens for SIGINT off the main thread, which may be busy in a long
// synchronous sweep, and raises a shared flag the sweep checks between runs.
// After the first SIGINT the listener goes, so a second one ends the process.
self.onmessage = (e: MessageEvent<SharedArrayBuffer>) => {
  const flag = new Int32Array(e.data);
  const on = () => {
    Atomics.store(flag, 0, 1);
    Deno.removeSignalListener("SIGINT", on);
    self.postMessage("interrupted");
  };
  Deno.addSignalListener("SIGINT", on);
  self.postMessage("ready");
};
