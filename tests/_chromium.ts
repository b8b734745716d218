/**
 * A headless Chromium driven over the DevTools protocol, for tests that
 * must see a page as a browser does. Uses Debian's `chromium` package (the
 * CI script installs it); nothing is downloaded.
 */

/** The first Chromium on PATH, or null. */
export function findChromium(): string | null {
  const names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    for (const name of names) {
      try {
        if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
      } catch {
        // not here
      }
    }
  }
  return null;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** One DevTools protocol connection. */
class Cdp {
  readonly #ws: WebSocket;
  #id = 0;
  readonly #pending = new Map<number, { resolve(v: Json): void; reject(e: Error): void }>();
  readonly events: { method: string; params: Json }[] = [];
  readonly #waiters: { method: string; resolve(p: Json): void }[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data));
      if (m.id !== undefined) {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.error) p?.reject(new Error(`${m.error.message} (${JSON.stringify(m.error)})`));
        else p?.resolve(m.result);
        return;
      }
      this.events.push({ method: m.method, params: m.params });
      for (let i = this.#waiters.length - 1; i >= 0; i--) {
        if (this.#waiters[i].method === m.method) this.#waiters.splice(i, 1)[0].resolve(m.params);
      }
    };
  }

  static connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }

  send(method: string, params: Json = {}): Promise<Json> {
    const id = ++this.#id;
    this.#ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }

  waitFor(method: string): Promise<Json> {
    return new Promise((resolve) => this.#waiters.push({ method, resolve }));
  }

  close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#ws.onclose = () => resolve();
      this.#ws.close();
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** What loading a page showed. */
export interface PageVisit {
  /** Console errors, uncaught exceptions and browser log errors. */
  readonly errors: string[];
  /** The value of `expression`, evaluated in the loaded page (JSON-serializable). */
  readonly value: Json;
}

/** A loaded page: send DevTools commands, evaluate expressions. */
export interface Page {
  /** Sends a DevTools protocol command to the page. */
  send(method: string, params?: Json): Promise<Json>;
  /** Evaluates `expression` in the page and returns its value (JSON-serializable). */
  evaluate(expression: string): Promise<Json>;
  /** Console errors, uncaught exceptions and browser log errors so far. */
  errors(): string[];
}

/**
 * Opens `url` in a fresh headless Chromium, waits for the load event,
 * evaluates `expression`, and reports every console error on the way.
 */
export function visit(chromium: string, url: string, expression: string): Promise<PageVisit> {
  return withPage(chromium, url, async (page) => {
    const value = await page.evaluate(expression);
    return { errors: page.errors(), value };
  });
}

/**
 * Opens `url` in a fresh headless Chromium (a 1400×1300 window), waits for
 * the load event, runs `body` with the page, and closes everything.
 */
export async function withPage<T>(
  chromium: string,
  url: string,
  body: (page: Page) => Promise<T>,
): Promise<T> {
  const profile = await Deno.makeTempDir({ prefix: "simtest-chromium-" });
  const proc = new Deno.Command(chromium, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      "--window-size=1400,1300",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = proc.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let browser: Cdp | null = null;
  let page: Cdp | null = null;
  try {
    let seen = "";
    const endpoint = await withTimeout(
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`chromium exited before listening:\n${seen}`);
          seen += value;
          const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
          if (m !== null) return m[1];
        }
      })(),
      30_000,
      "chromium start",
    );
    // Keep draining stderr so chromium never blocks on a full pipe.
    (async () => {
      try {
        while (!(await reader.read()).done) { /* drain */ }
      } catch { /* closed */ }
    })();
    browser = await Cdp.connect(endpoint);
    const { targetId } = await browser.send("Target.createTarget", { url: "about:blank" });
    const port = new URL(endpoint).port;
    const cdp = page = await Cdp.connect(`ws://127.0.0.1:${port}/devtools/page/${targetId}`);
    await cdp.send("Runtime.enable");
    await cdp.send("Log.enable");
    await cdp.send("Page.enable");
    await cdp.send("Emulation.setDeviceMetricsOverride", {
      width: 1400,
      height: 1300,
      deviceScaleFactor: 1,
      mobile: false,
    });
    const loaded = cdp.waitFor("Page.loadEventFired");
    await cdp.send("Page.navigate", { url });
    await withTimeout(loaded, 30_000, `loading ${url}`);
    return await body({
      send: (method, params = {}) => withTimeout(cdp.send(method, params), 30_000, method),
      async evaluate(expression) {
        const r = await withTimeout(
          cdp.send("Runtime.evaluate", { expression, returnByValue: true }),
          30_000,
          "evaluate",
        );
        if (r.exceptionDetails) {
          throw new Error(`evaluation threw: ${JSON.stringify(r.exceptionDetails)}`);
        }
        return r.result.value;
      },
      errors: () => errorsOf(cdp.events),
    });
  } finally {
    await page?.close();
    await browser?.close();
    try {
      proc.kill("SIGKILL");
    } catch { /* already gone */ }
    await proc.status;
    await reader.cancel().catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

function errorsOf(events: readonly { method: string; params: Json }[]): string[] {
  const errors: string[] = [];
  for (const e of events) {
    if (e.method === "Runtime.exceptionThrown") {
      errors.push(`exception: ${JSON.stringify(e.params.exceptionDetails)}`);
    } else if (
      e.method === "Runtime.consoleAPICalled" && ["error", "assert"].includes(e.params.type)
    ) {
      errors.push(`console.${e.params.type}: ${JSON.stringify(e.params.args)}`);
    } else if (e.method === "Log.entryAdded" && e.params.entry.level === "error") {
      errors.push(`log: ${e.params.entry.text} (${e.params.entry.url ?? ""})`);
    }
  }
  return errors;
}
