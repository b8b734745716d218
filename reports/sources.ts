/**
 * Source lines of steps: where in the scenario or runtime code each step's
 * operation was yielded. Used only in a report's replay.
 *
 * A fiber yields an operation from inside `yield*` chains of generators
 * (`yield* gc.store(...)` → `yield* heap.swap(...)` → `yield* cell.swap(...)`).
 * Once it has yielded, its frames are gone from the stack. But every level
 * of such a chain calls the next generator's `next` while the callers are
 * still running, so a stack captured in `next` shows the whole chain. While
 * a `SourceTracker` is installed, the generator prototype's `next` captures
 * one (cheaply: V8 formats it only when read). The original is put back by
 * `uninstall`; ordinary runs never see the wrapper.
 *
 * @module
 */
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel, StepObserver } from "../sim/kernel.ts";
import type { Op } from "../sim/op.ts";

type Next = (this: Generator, value?: unknown) => IteratorResult<unknown, unknown>;

const GeneratorPrototype = Object.getPrototypeOf(function* () {}.prototype) as {
  next: Next;
};

/** The project root, to show paths relative to it. */
const ROOT = new URL("../", import.meta.url).href;
/** The kernel's own frames: not where a step came from, and past the fiber's outermost frame. */
const KERNEL = `${ROOT}sim/`;
/** This file's frames: the wrapper around `next`. */
const HERE = import.meta.url;
/** Frames shown per step: the innermost runtime frame out to the scenario's. */
const FRAMES_SHOWN = 3;
const STACK_FRAMES = 16;
/**
 * Steps of a run that get source lines at most: as many as a report draws.
 * A step's source line costs about 0.1 ms (most of it V8 working out the
 * stack's frames), so 20,000 steps cost about 2 s of a report's replay.
 */
export const SOURCE_STEPS_MAX = 20_000;
/** Capturing starts this many steps before a range, so its first steps know their sites. */
const LEAD_STEPS = 100;

/**
 * Captures, for every generator that yields while installed, the stack at
 * its innermost `next` call, and turns it into `file:line` text.
 */
export class SourceTracker {
  readonly #sites = new WeakMap<object, Error>();
  readonly #texts = new WeakMap<Error, string | null>();
  #original: Next | null = null;
  #stackLimit = 10;
  /**
   * Capturing is on: a stack costs tens of microseconds to read, so a run
   * captures only around the steps that get source lines (see `StepSources`).
   */
  active = true;

  /** Wraps the generator prototype's `next`. Call `uninstall` in a `finally`. */
  install(): void {
    if (this.#original !== null) return;
    const original = GeneratorPrototype.next;
    this.#original = original;
    const sites = this.#sites;
    // deno-lint-ignore no-this-alias
    const tracker = this;
    let found: Error | null = null;
    GeneratorPrototype.next = function (this: Generator, value?: unknown) {
      if (!tracker.active) return original.call(this, value);
      found = null;
      const r = original.call(this, value);
      if (r.done) {
        found = null;
      } else {
        // The innermost yielding call takes the stack once its generator has
        // yielded: the frames above this one are its callers, as they were
        // when it was called. Outer levels keep that site, so a step costs
        // one stack capture however deep its `yield*` chain is.
        found ??= new Error();
        sites.set(this, found);
      }
      return r;
    };
    this.#stackLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = STACK_FRAMES;
  }

  /** Puts the original `next` back. */
  uninstall(): void {
    if (this.#original === null) return;
    GeneratorPrototype.next = this.#original;
    this.#original = null;
    Error.stackTraceLimit = this.#stackLimit;
  }

  /**
   * Where `fiber` yielded its pending operation ("runtime/heap.ts:321 ←
   * scenarios/gc_mark_sweep.ts:40"), or null when unknown (a fiber body
   * that yields an operation directly, or one done).
   */
  siteOf(fiber: Fiber): Error | null {
    return fiber.gen === null ? null : this.#sites.get(fiber.gen) ?? null;
  }

  /** The text of a site from `siteOf`. */
  text(site: Error | null): string | null {
    if (site === null) return null;
    let t = this.#texts.get(site);
    if (t === undefined) {
      t = formatFrames(callSites(site));
      this.#texts.set(site, t);
    }
    return t;
  }
}

/** A V8 call site: enough of it to name a file and a line. */
interface CallSite {
  getFileName(): string | null | undefined;
  getLineNumber(): number | null;
}

type ErrorWithHook = ErrorConstructor & {
  prepareStackTrace?: (e: Error, sites: CallSite[]) => unknown;
};

/**
 * The call sites of `e`, read through V8's `prepareStackTrace` hook: about
 * half the cost of formatting the stack as text, which is most of what
 * source lines cost.
 */
function callSites(e: Error): CallSite[] {
  const E = Error as ErrorWithHook;
  const saved = E.prepareStackTrace;
  E.prepareStackTrace = (_e, sites) => sites;
  try {
    const sites = e.stack as unknown;
    return Array.isArray(sites) ? sites as CallSite[] : [];
  } finally {
    E.prepareStackTrace = saved;
  }
}

/** The project frames of call sites, innermost first, as `path:line`, joined by " ← ". */
function formatFrames(sites: readonly CallSite[]): string | null {
  const shown: string[] = [];
  for (let i = 1; i < sites.length; i++) {
    const site = sites[i];
    const file = site.getFileName();
    if (file === null || file === undefined) continue;
    const url = file.startsWith("/") ? `file://${file}` : file;
    if (url === HERE || !/^(file|https?):/.test(url)) continue;
    if (url.startsWith(KERNEL)) {
      if (shown.length > 0) break;
      continue;
    }
    // Only for frames shown: working out a line is most of a frame's cost.
    const line = site.getLineNumber();
    if (line === null) continue;
    const where = `${relative(url)}:${line}`;
    if (shown.at(-1) === where) continue;
    shown.push(where);
    if (shown.length === FRAMES_SHOWN) break;
  }
  return shown.length === 0 ? null : shown.join(" ← ");
}

function relative(url: string): string {
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  return url.startsWith("file://") ? decodeURIComponent(url.slice("file://".length)) : url;
}

/** A range of steps, first and last (from 1, inclusive). */
export type StepRange = readonly [first: number, last: number];

/**
 * A step observer giving each step the site its operation was yielded at:
 * a fiber's pending operation was yielded in its previous step (or when it
 * was spawned), so the site is taken then and used when the operation runs.
 */
export class StepSources implements StepObserver {
  readonly #sites = new Map<number, Error | null>();
  readonly #tracker: SourceTracker;
  readonly #pending: (Error | null)[] = [];
  readonly #ranges: readonly StepRange[];
  #known = 0;

  /**
   * Sites are kept for the steps in `ranges` (capturing starts a little
   * before each); other steps get none.
   */
  constructor(tracker: SourceTracker, ranges: readonly StepRange[]) {
    this.#tracker = tracker;
    this.#ranges = ranges.filter(([first, last]) => first <= last);
  }

  /** Takes the sites of the fibers setup spawned. */
  start(kernel: Kernel): void {
    this.#tracker.active = this.#capturing(kernel.step);
    this.#spawned(kernel);
  }

  onStep(fiber: Fiber, _op: Op, kernel: Kernel): void {
    const step = kernel.step;
    if (this.#kept(step)) this.#sites.set(step, this.#pending[fiber.id] ?? null);
    // A site is the fiber's only if it was captured in this step: while
    // capturing was off, its generator kept the site of an earlier yield.
    this.#pending[fiber.id] = this.#tracker.active ? this.#tracker.siteOf(fiber) : null;
    this.#spawned(kernel);
    this.#tracker.active = this.#capturing(step + 1);
  }

  #spawned(kernel: Kernel): void {
    for (; this.#known < kernel.fiberCount; this.#known++) {
      this.#pending[this.#known] = this.#tracker.active
        ? this.#tracker.siteOf(kernel.fiber(this.#known) as Fiber)
        : null;
    }
  }

  /** Whether step `step` keeps its site. */
  #kept(step: number): boolean {
    return this.#ranges.some(([first, last]) => step >= first && step <= last);
  }

  /**
   * Whether step `step` (0: setup) captures: the site it yields is used by a
   * later step of the same fiber, which may be kept.
   */
  #capturing(step: number): boolean {
    return this.#ranges.some(([first, last]) => step >= first - LEAD_STEPS && step < last);
  }

  /** The site text of step `step` (from 1), or null. */
  textOf(step: number): string | null {
    return this.#tracker.text(this.#sites.get(step) ?? null);
  }
}
