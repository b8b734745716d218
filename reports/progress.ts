/**
 * A progress line for long runs, on a terminal only.
 *
 * @module
 */

/** Where progress goes and how time is read: injected so tests can drive it. */
export interface ProgressSink {
  /** Whether output is a terminal (progress shows only there). */
  readonly isTerminal: boolean;
  /** Writes `text` as is. */
  write(text: string): void;
  /** The time in milliseconds. */
  now(): number;
}

/**
 * Shows "label: done/total runs, rate/s, failures, ETA" on one rewritten line,
 * starting only after a second and at most five times a second, and only on
 * a terminal.
 */
export class Progress {
  readonly #sink: ProgressSink;
  readonly #label: string;
  readonly #total: number;
  readonly #start: number;
  #last = 0;
  #shown = false;

  /** Starts showing progress of `total` runs under `label`. */
  constructor(sink: ProgressSink, label: string, total: number) {
    this.#sink = sink;
    this.#label = label;
    this.#total = total;
    this.#start = sink.now();
  }

  /** Reports `done` runs so far and `failures` among them. */
  update(done: number, failures: number, unit = "runs"): void {
    if (!this.#sink.isTerminal) return;
    const now = this.#sink.now();
    if (now - this.#start < 1000 || now - this.#last < 200) return;
    this.#last = now;
    const secs = (now - this.#start) / 1000;
    const rate = done / secs;
    const total = this.#total > 0 ? `/${this.#total}` : "";
    const eta = this.#total > 0 && rate > 0
      ? `, ETA ${Math.ceil((this.#total - done) / rate)} s`
      : "";
    const text = `${this.#label}: ${done}${total} ${unit}, ${Math.round(rate)}/s, ` +
      `${failures} failing${eta}`;
    this.#sink.write(`\r\x1b[2K${text}`);
    this.#shown = true;
  }

  /** Clears the line. */
  done(): void {
    if (this.#shown) this.#sink.write("\r\x1b[2K");
  }
}
