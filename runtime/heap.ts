/**
 * The modeled heap: objects whose fields are shared cells, the spaces they
 * live in, the roots, and a reachability oracle for checks.
 *
 * Every field of every object is its own kernel cell, so each load and store
 * is a scheduling point with a precise footprint. Freeing an object poisons
 * each of its fields (writes `POISON` into it), so a later use of the object
 * touches a cell the free wrote: the explorer always orders the two, and the
 * use sees the poison and fails as `use-after-free`.
 *
 * @module
 */
import type { Cell, Kernel } from "../sim/kernel.ts";
import { type Action, type Footprint, Op } from "../sim/op.ts";
import { readsAs } from "../sim/memory.ts";
import type { Ordering } from "../sim/ordering.ts";
import { Violation } from "../sim/outcome.ts";
import type { StateSource, StateWriter } from "../sim/state.ts";

/** A pointer: the id of an object, or `NULL`. */
export type Ref = number;

/** The null pointer. */
export const NULL: Ref = -1;

/** What every field of a freed object holds: a use of it is a use-after-free. */
export const POISON: number = NaN;

/** Bytes in a field. */
export const WORD_BYTES = 8;

/** Bytes in an object header (kind, size, forwarding address). */
export const HEADER_BYTES = 8;

/**
 * What an object is. `record`: pointer and immediate fields. `binary`: a
 * pointer-free value (bytes, text), moved by a copying collector without
 * being scanned. `slice`: a lazy slice of a binary (see `slices.ts`).
 */
export type ObjectKind = "record" | "binary" | "slice";

/** The fields and initial values of an object to allocate. */
export interface Shape {
  /** What the object is, for reports (default `data`). */
  readonly kind?: ObjectKind;
  /** Initial pointer fields; their count is the object's pointer-field count. */
  readonly ptrs?: readonly Ref[];
  /** Initial immediate fields (finite numbers). */
  readonly imms?: readonly number[];
  /** A name for reports and the run's final state; `o<id>` by default. */
  readonly name?: string;
  /**
   * True for objects the program will store into (mark-and-sweep nodes).
   * Only immutable values carry a live-set size.
   */
  readonly mutable?: boolean;
}

/** The size in bytes of an object of `shape`. */
export function shapeBytes(shape: Shape): number {
  return HEADER_BYTES + WORD_BYTES * ((shape.ptrs?.length ?? 0) + (shape.imms?.length ?? 0));
}

/** Anything that allocates objects: an arena, a free list. */
export interface Allocator {
  /** Allocates an object of `shape` (a scheduling point); may raise `HeapExhausted`. */
  alloc(shape: Shape): Action<Ref>;
}

/**
 * A resumable allocation failure: the allocator had no room, and nothing was
 * written. The allocating code catches it, drops its work and carries on
 * (the seed notes' long-jump out of a job).
 */
export class HeapExhausted extends Error {
  /** The allocator that had no room ("w0.arena"). */
  readonly allocator: string;
  /** The bytes asked for. */
  readonly bytesWanted: number;
  /** The bytes that were left. */
  readonly bytesFree: number;
  /** True when an `alloc` fault (runtime/faults.ts) failed an allocation that would have fit. */
  readonly injected: boolean;

  /** Makes the error for an allocation of `bytesWanted` bytes that found `bytesFree` (`injected`: a fault). */
  constructor(allocator: string, bytesWanted: number, bytesFree: number, injected = false) {
    super(
      injected
        ? `${allocator} failed an allocation of ${bytesWanted} bytes (injected fault, ${bytesFree} free)`
        : `${allocator} is exhausted: ${bytesWanted} bytes wanted, ${bytesFree} free`,
    );
    this.name = "HeapExhausted";
    this.allocator = allocator;
    this.bytesWanted = bytesWanted;
    this.bytesFree = bytesFree;
    this.injected = injected;
  }
}

/** An object in the heap. Its fields are cells; everything else is fixed at allocation. */
export class HeapObject {
  /** Its identity and the pointer value that refers to it. Never reused within a heap. */
  readonly id: number;
  /** The object's name, unique in its heap. */
  readonly name: string;
  /** What the object is. */
  readonly kind: ObjectKind;
  /** The space the object was placed in. */
  readonly space: Space;
  /** Byte offset within its space. */
  readonly addr: number;
  /** Its size in bytes. */
  readonly bytes: number;
  /** Its pointer fields. */
  readonly ptrs: readonly Cell<number>[];
  /** Its immediate (non-pointer) fields. */
  readonly imms: readonly Cell<number>[];
  /** Whether its fields may be written after allocation. */
  readonly mutable: boolean;
  /**
   * The live-set obligation of this value (seed note on immutability): its
   * own bytes plus the obligations of its children, summed when it was
   * built. Shared children count once per reference, so this is an upper
   * bound of the bytes it keeps alive. -1 for mutable objects.
   */
  readonly liveBytes: number;
  /** The id of the object this one was first allocated as (its own id for originals). */
  readonly origin: number;
  /** True once freed (for the oracle; the cells hold `POISON`). */
  freed = false;
  #header: Cell<number> | null = null;
  readonly #kernel: Kernel;

  /** Makes an object; `Heap.place` does this. */
  constructor(
    kernel: Kernel,
    init: {
      id: number;
      name: string;
      kind: ObjectKind;
      space: Space;
      addr: number;
      ptrs: Cell<number>[];
      imms: Cell<number>[];
      mutable: boolean;
      liveBytes: number;
      origin: number;
    },
  ) {
    this.#kernel = kernel;
    this.id = init.id;
    this.name = init.name;
    this.kind = init.kind;
    this.space = init.space;
    this.addr = init.addr;
    this.ptrs = init.ptrs;
    this.imms = init.imms;
    this.bytes = HEADER_BYTES + WORD_BYTES * (init.ptrs.length + init.imms.length);
    this.mutable = init.mutable;
    this.liveBytes = init.liveBytes;
    this.origin = init.origin;
  }

  /** True when the object holds no pointer fields: a copy moves it without scanning it. */
  get simple(): boolean {
    return this.ptrs.length === 0;
  }

  /**
   * The header cell holding the forwarding address (`NULL` until a copying
   * collector moves the object). Created on first use: only copied objects
   * need one.
   */
  get header(): Cell<number> {
    return this.#header ??= this.#kernel.cell(`${this.name}.fwd`, NULL);
  }

  /** The forwarding address, or null when the object has no header cell yet: for reports. */
  get forwarding(): Ref | null {
    return this.#header === null ? null : this.#header.peek();
  }

  /** The object's name. */
  toString(): string {
    return this.name;
  }
}

/**
 * A region of the heap: the start-up arena, a worker's arena, a semispace,
 * the fixed global heap. Allocators decide how its bytes are handed out;
 * the space only knows which objects it holds.
 */
export class Space {
  /** The space's name. */
  readonly name: string;
  /** Its capacity in bytes. */
  readonly bytesMax: number;
  /** Objects placed here and not freed, in placement (address) order. */
  readonly objects: HeapObject[] = [];
  /** Bytes of the objects placed here and not freed. */
  bytesLive = 0;
  /** The end of the last placement: where the next object goes by default. */
  top = 0;
  /** A sealed space takes no more objects: the fixed global heap after compaction. */
  sealed = false;

  /** Makes an empty space of `bytesMax` bytes; `Heap.space` does this. */
  constructor(name: string, bytesMax: number) {
    if (!Number.isInteger(bytesMax) || bytesMax < 0) {
      throw new RangeError(`Cannot create space ${name} of ${bytesMax} bytes`);
    }
    this.name = name;
    this.bytesMax = bytesMax;
  }

  /** True when `obj` lives here (and is not freed). */
  holds(obj: HeapObject): boolean {
    return obj.space === this && !obj.freed;
  }
}

/**
 * The roots of a heap: global slots and each fiber's stack slots, all shared
 * cells a collector reads (and a moving collector rewrites), plus each
 * fiber's local references, which only the oracle sees.
 */
export class Roots {
  readonly #kernel: Kernel;
  readonly #slots: Cell<number>[] = [];
  readonly #locals: LocalRefs[] = [];

  /** Makes the roots of a heap; `Heap` does this. */
  constructor(kernel: Kernel) {
    this.#kernel = kernel;
  }

  /** A global root slot. */
  global(name: string, init: Ref = NULL): Cell<number> {
    const c = this.#kernel.cell(name, init);
    this.#slots.push(c);
    return c;
  }

  /** `count` stack slots of `owner` (a fiber's registers), initially `NULL`. */
  stack(owner: string, count: number): Cell<number>[] {
    const out: Cell<number>[] = [];
    for (let i = 0; i < count; i++) out.push(this.global(`${owner}.r${i}`));
    return out;
  }

  /**
   * `count` local reference slots of `owner`: refs a fiber holds privately
   * (a reader's position in a message it reads in place). No collector sees
   * them; the safety oracle does.
   */
  locals(owner: string, count: number): LocalRefs {
    const l = new LocalRefs(owner, count);
    this.#locals.push(l);
    return l;
  }

  /** Every root slot (globals and stacks), in creation order. */
  get slots(): readonly Cell<number>[] {
    return this.#slots;
  }

  /** Every local-reference set, in creation order. */
  get localSets(): readonly LocalRefs[] {
    return this.#locals;
  }
}

/** A fiber's private references, visible to the safety oracle only. */
export class LocalRefs {
  /** The fiber that holds the references. */
  readonly owner: string;
  /** The references, which a fiber reads and writes freely. */
  readonly refs: Ref[];

  /** Makes `count` empty (`NULL`) references for `owner`. */
  constructor(owner: string, count: number) {
    this.owner = owner;
    this.refs = new Array(count).fill(NULL);
  }

  /** Holds `ref` in slot `i`. */
  set(i: number, ref: Ref): void {
    this.refs[i] = ref;
  }

  /** Drops every reference. */
  clear(): void {
    this.refs.fill(NULL);
  }
}

/** One node of `Heap.placeGraph`: a shape whose pointers name other nodes (null for `NULL`). */
export interface GraphNode {
  /** What the object is, for reports (default `data`). */
  readonly kind?: ObjectKind;
  /** Pointer fields, by the name of the node each points to. */
  readonly ptrs?: readonly (string | null)[];
  /** Initial immediate fields (finite numbers). */
  readonly imms?: readonly number[];
  /** True for objects the program will store into; only these may form cycles. */
  readonly mutable?: boolean;
}

/** Where `Heap.place` puts an object. */
export interface PlaceOptions {
  /**
   * Create the object's header cell (its forwarding slot) now, as setup
   * does for a heap a copying collector will move, rather than on first use
   * in the middle of a run.
   */
  readonly header?: boolean;
  /** Byte offset in the space; the space's top by default. */
  readonly addr?: number;
  /** The object this one is a copy of. */
  readonly origin?: Ref;
}

/** Limits of a heap. */
export interface HeapOptions {
  /** Objects a run may allocate in total; past it allocation is a crash (runaway allocation?). */
  readonly objectsMax?: number;
}

const OBJECTS_MAX_DEFAULT = 10_000;

/**
 * The read footprint of a free's reachability check: the root slots and the
 * pointer fields of every object reachable now. While the free waits it is
 * recomputed whenever a step has run since it was last read, so a pending
 * free always names what its check would read; `fix` freezes it when the
 * free runs, so the step's record keeps what the check did read. A store
 * that changes the reachable set writes a slot of the current set, so DPOR
 * sees it as dependent before the set can go stale.
 */
class ReachReads implements Footprint {
  readonly #heap: Heap;
  readonly #except: Cell<number>;
  #objs: number[] = [];
  #writes: boolean[] = [];
  #at = -1;
  #fixed = false;

  constructor(heap: Heap, except: Cell<number>) {
    this.#heap = heap;
    this.#except = except;
  }

  get objs(): readonly number[] {
    this.#refresh();
    return this.#objs;
  }

  get writes(): readonly boolean[] {
    this.#refresh();
    return this.#writes;
  }

  fix(): void {
    this.#at = -1;
    this.#refresh();
    this.#fixed = true;
  }

  #refresh(): void {
    const step = this.#heap.kernel.step;
    if (this.#fixed || step === this.#at) return;
    this.#at = step;
    const objs: number[] = [];
    const except = this.#except;
    for (const c of this.#heap.roots.slots) if (c !== except) objs.push(c.id);
    const marks = this.#heap.reachable();
    const all = this.#heap.objects;
    for (let id = 0; id < all.length; id++) {
      if (marks[id] !== 1 || all[id].freed) continue;
      for (const c of all[id].ptrs) if (c !== except) objs.push(c.id);
    }
    this.#objs = objs;
    this.#writes = objs.map(() => false);
  }
}

/**
 * The heap of one run: spaces, objects, roots, field access with checks, and
 * the reachability oracle. Field access is a scheduling point; placing an
 * object is not (an allocator places objects inside its own operation).
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 1);
 * const heap = new Heap(k);
 * const space = heap.space("s", 1024);
 * const leaf = heap.place(space, { kind: "binary", imms: [1, 2] });
 * const pair = heap.place(space, { ptrs: [leaf.id, leaf.id] });
 * heap.roots.global("g", pair.id);
 * assertEquals(heap.isReachable(leaf.id), true);
 * assertEquals(pair.liveBytes, pair.bytes + 2 * leaf.bytes);
 * ```
 */
export class Heap implements StateSource {
  /** The kernel of the run. */
  readonly kernel: Kernel;
  /** The global and per-fiber roots. */
  readonly roots: Roots;
  /** The most objects it may hold. */
  readonly objectsMax: number;
  readonly #objects: HeapObject[] = [];
  readonly #spaces: Space[] = [];
  #marks = new Uint8Array(64);
  #stack: number[] = [];

  /** Makes an empty heap (in setup). */
  constructor(kernel: Kernel, options: HeapOptions = {}) {
    this.kernel = kernel;
    this.roots = new Roots(kernel);
    this.objectsMax = options.objectsMax ?? OBJECTS_MAX_DEFAULT;
    kernel.describe(this);
  }

  /**
   * For reports: every object (`heap/<name>`: id, space, fields, freed,
   * forwarding) and every root (`root/<name>`: the id it holds).
   */
  describeState(out: StateWriter): void {
    for (const o of this.#objects) {
      const fwd = o.forwarding;
      out.put("heap", o.name, {
        id: o.id,
        space: o.space.name,
        kind: o.kind,
        ptrs: o.ptrs.map((c) => c.peek()),
        imms: o.imms.map((c) => c.peek()),
        freed: o.freed,
        ...(fwd === null || fwd === NULL ? {} : { fwd }),
      });
    }
    for (const c of this.roots.slots) out.put("root", c.name, c.peek());
    for (const l of this.roots.localSets) {
      l.refs.forEach((r, i) => out.put("root", `${l.owner}.local${i}`, r));
    }
  }

  /** A new space of `bytesMax` bytes. */
  space(name: string, bytesMax: number): Space {
    const s = new Space(name, bytesMax);
    this.#spaces.push(s);
    return s;
  }

  /** Every space, in creation order. */
  get spaces(): readonly Space[] {
    return this.#spaces;
  }

  /** How many objects were ever allocated. */
  get objectCount(): number {
    return this.#objects.length;
  }

  /** Every object ever allocated, freed or not, by id. */
  get objects(): readonly HeapObject[] {
    return this.#objects;
  }

  /**
   * Creates an object in `space` with `shape`'s fields. Not a scheduling
   * point: allocators call it inside their own operation, and setup calls it
   * to build the initial heap. By default the object goes at the space's
   * top; `at.origin` links a copy to the object it copies.
   */
  place(space: Space, shape: Shape, at: PlaceOptions = {}): HeapObject {
    if (space.sealed) {
      throw new RangeError(`Cannot allocate in ${space.name}: it is sealed (a fixed heap)`);
    }
    const addr = at.addr ?? space.top;
    const bytes = shapeBytes(shape);
    if (addr + bytes > space.bytesMax) {
      throw new RangeError(
        `Cannot place ${bytes} bytes at ${addr} in ${space.name}: it has ${space.bytesMax}`,
      );
    }
    const origin = at.origin ?? NULL;
    const id = this.#objects.length;
    if (id >= this.objectsMax) {
      throw new RangeError(
        `Cannot allocate object ${id}: ${this.objectsMax} objects is the limit (runaway allocation?)`,
      );
    }
    const name = shape.name ?? `o${id}`;
    const k = this.kernel;
    const ptrInit = shape.ptrs ?? [];
    const immInit = shape.imms ?? [];
    const ptrs: Cell<number>[] = [];
    const imms: Cell<number>[] = [];
    let liveBytes = shape.mutable ? -1 : shapeBytes(shape);
    for (let i = 0; i < ptrInit.length; i++) {
      const r = ptrInit[i];
      this.#checkRef(r, `${name}.p${i}`);
      if (liveBytes >= 0 && r !== NULL) {
        const child = this.#objects[r].liveBytes;
        liveBytes = child < 0 ? -1 : liveBytes + child;
      }
      ptrs.push(k.cell(`${name}.p${i}`, r));
    }
    for (let i = 0; i < immInit.length; i++) {
      checkImmediate(immInit[i], `${name}.i${i}`);
      imms.push(k.cell(`${name}.i${i}`, immInit[i]));
    }
    const obj = new HeapObject(k, {
      id,
      name,
      kind: shape.kind ?? "record",
      space,
      addr,
      ptrs,
      imms,
      mutable: shape.mutable ?? false,
      liveBytes,
      origin: origin === NULL ? id : this.#objects[origin].origin,
    });
    if (at.header === true) void obj.header;
    this.#objects.push(obj);
    space.objects.push(obj);
    space.bytesLive += obj.bytes;
    if (addr + bytes > space.top) space.top = addr + bytes;
    if (this.#marks.length < this.#objects.length) {
      this.#marks = new Uint8Array(this.#objects.length * 2);
    }
    return obj;
  }

  /**
   * Places a whole object graph given in any order: pointers name other
   * nodes, children are placed before their parents (so immutable values get
   * their live-set sizes), and a cycle through mutable objects is closed
   * after both ends exist. Objects get ids in the order they are placed:
   * depth-first from the nodes in the order given. Returns the objects by
   * node name.
   *
   * @example
   * ```ts
   * import { assertEquals } from "../deps.ts";
   * import { Kernel } from "../sim/kernel.ts";
   * import { RandomStrategy } from "../sim/random.ts";
   * const k = new Kernel();
   * k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 1);
   * const heap = new Heap(k);
   * const g = heap.placeGraph(heap.space("s", 1024), {
   *   root: { ptrs: ["a", "b"], mutable: true },
   *   a: { ptrs: ["b"], mutable: true },
   *   b: { ptrs: ["a"], mutable: true }, // a cycle
   * });
   * assertEquals(g.a.ptrs[0].peek(), g.b.id);
   * assertEquals(g.b.ptrs[0].peek(), g.a.id);
   * ```
   */
  placeGraph(
    space: Space,
    nodes: Readonly<Record<string, GraphNode>>,
    options: { readonly headers?: boolean } = {},
  ): Record<string, HeapObject> {
    const placed: Record<string, HeapObject> = {};
    const visiting = new Set<string>();
    const closeLater: { from: string; field: number; to: string }[] = [];
    const visit = (name: string, from: string) => {
      if (Object.hasOwn(placed, name)) return;
      const node = nodes[name];
      if (!Object.hasOwn(nodes, name)) {
        throw new RangeError(
          `Cannot place ${from}: it points to ${name}, which is not in the graph`,
        );
      }
      visiting.add(name);
      const ptrs: Ref[] = [];
      const names = node.ptrs ?? [];
      for (let i = 0; i < names.length; i++) {
        const to = names[i];
        if (to === null) {
          ptrs.push(NULL);
        } else if (visiting.has(to)) {
          if (!node.mutable) {
            throw new RangeError(
              `Cannot place ${name}: it closes a cycle through ${to}, and immutable values cannot`,
            );
          }
          ptrs.push(NULL);
          closeLater.push({ from: name, field: i, to });
        } else {
          visit(to, name);
          ptrs.push(placed[to].id);
        }
      }
      visiting.delete(name);
      const shape = { kind: node.kind, ptrs, imms: node.imms, name, mutable: node.mutable };
      placed[name] = this.place(space, shape, { header: options.headers });
    };
    for (const name of Object.keys(nodes)) visit(name, name);
    for (const c of closeLater) placed[c.from].ptrs[c.field].poke(placed[c.to].id);
    return placed;
  }

  /** The object `ref` points to. A ref to no object is a crash of the model. */
  get(ref: Ref): HeapObject {
    const obj = this.#objects[ref];
    if (obj === undefined) throw new RangeError(`Cannot follow pointer ${ref}: no such object`);
    return obj;
  }

  #checkRef(r: Ref, where: string): void {
    if (r !== NULL && this.#objects[r] === undefined) {
      throw new RangeError(`Cannot store pointer ${r} into ${where}: no such object`);
    }
  }

  // ---- field access: scheduling points -----------------------------------

  /** Reads pointer field `i` of `ref` (with a C11 ordering under a weak memory model). */
  *load(ref: Ref, i: number, order?: Ordering): Action<Ref> {
    const obj = this.#field(ref, i, true);
    const v = yield* obj.ptrs[i].read(order);
    if (v !== v) throw useAfterFree(obj, `load ${obj.name}.p${i}`);
    return v;
  }

  /** Writes `value` into pointer field `i` of `ref`. */
  *store(ref: Ref, i: number, value: Ref): Action<void> {
    yield* this.swap(ref, i, value);
  }

  /**
   * Writes `value` into pointer field `i` of `ref` with a plain store, not a
   * read-modify-write: under a buffered memory model it waits in the store
   * buffer like any store. It cannot see a use-after-free (it reads nothing):
   * load the field first where that matters.
   */
  *write(ref: Ref, i: number, value: Ref, order?: Ordering): Action<void> {
    const obj = this.#field(ref, i, true);
    this.#checkRef(value, `${obj.name}.p${i}`);
    yield* obj.ptrs[i].write(value, order);
  }

  /** Writes `value` into pointer field `i` of `ref` and returns what was there. */
  *swap(ref: Ref, i: number, value: Ref): Action<Ref> {
    const obj = this.#field(ref, i, true);
    this.#checkRef(value, `${obj.name}.p${i}`);
    const old = yield* obj.ptrs[i].swap(value);
    if (old !== old) throw useAfterFree(obj, `store into ${obj.name}.p${i}`);
    return old;
  }

  /** Reads immediate field `i` of `ref`. */
  *readImm(ref: Ref, i: number): Action<number> {
    const obj = this.#field(ref, i, false);
    const v = yield* obj.imms[i].read();
    if (v !== v) throw useAfterFree(obj, `read ${obj.name}.i${i}`);
    return v;
  }

  /** Writes immediate field `i` of `ref`. */
  *writeImm(ref: Ref, i: number, value: number): Action<void> {
    const obj = this.#field(ref, i, false);
    checkImmediate(value, `${obj.name}.i${i}`);
    const old = yield* obj.imms[i].swap(value);
    if (old !== old) throw useAfterFree(obj, `write ${obj.name}.i${i}`);
  }

  #field(ref: Ref, i: number, ptr: boolean): HeapObject {
    if (ref === NULL) throw new TypeError(`Cannot access field ${i} of a null pointer`);
    const obj = this.get(ref);
    const n = ptr ? obj.ptrs.length : obj.imms.length;
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new RangeError(
        `Cannot access ${ptr ? "pointer" : "immediate"} field ${i} of ${obj.name}: it has ${n}`,
      );
    }
    return obj;
  }

  /**
   * Frees `ref`: checks that no root and no local reference reaches it
   * (safety, check `free-safety`), then poisons each field, one scheduling
   * point per field. A header-only object is freed in one step on its header.
   */
  *free(ref: Ref): Action<void> {
    const obj = this.get(ref);
    // The first step checks reachability: it reads every root and the
    // pointer fields of every reachable object. Its footprint names exactly
    // those (recomputed while the free waits, fixed when it runs), so DPOR
    // orders the free against every store that changes what is reachable.
    const first = obj.ptrs[0] ?? obj.imms[0] ?? obj.header;
    const reads = new ReachReads(this, first);
    yield new Op("free", first.id, true, null, this.kernel.costOf("rmw"), -1, -1, reads);
    reads.fix();
    const old = first.peek();
    if (first !== obj.header) first.poke(POISON);
    this.#release(obj, old);
    for (let i = 1; i < obj.ptrs.length; i++) yield* obj.ptrs[i].swap(POISON);
    for (let i = obj.ptrs.length === 0 ? 1 : 0; i < obj.imms.length; i++) {
      yield* obj.imms[i].swap(POISON);
    }
  }

  // The free takes effect at its first step: checked there, then recorded.
  #release(obj: HeapObject, old = 0): void {
    if (obj.freed || old !== old) {
      throw new Violation("double-free", `${obj.name} freed twice`);
    }
    if (this.reachable()[obj.id] === 1) {
      const path = this.pathTo(obj.id);
      throw new Violation("free-safety", `freed ${obj.name}, which is still reachable: ${path}`);
    }
    obj.freed = true;
    const s = obj.space;
    s.bytesLive -= obj.bytes;
    const at = s.objects.indexOf(obj);
    if (at >= 0) s.objects.splice(at, 1);
  }

  // ---- the oracle: no scheduling points ----------------------------------

  /**
   * Marks, by object id, everything reachable from the roots, the local
   * references and `extra`. The array is reused by the next call.
   */
  reachable(extra: readonly Ref[] = []): Uint8Array {
    const marks = this.#marks;
    marks.fill(0);
    const stack = this.#stack;
    stack.length = 0;
    const push = (r: number) => {
      if (r >= 0 && r === r && marks[r] === 0) {
        marks[r] = 1;
        stack.push(r);
      }
    };
    for (const c of this.roots.slots) push(c.peek());
    for (const l of this.roots.localSets) for (const r of l.refs) push(r);
    for (const r of extra) push(r);
    while (stack.length > 0) {
      const obj = this.#objects[stack.pop() as number];
      if (obj.freed) continue;
      for (const p of obj.ptrs) push(p.peek());
    }
    return marks;
  }

  /**
   * Like `reachable`, but under a store-buffer memory model (`tso`, `pso`)
   * an object counts as reachable when any fiber's core reaches it: through
   * memory or through the stores that core still buffers (a register the
   * mutator just wrote is live before memory sees it). Garbage is what no
   * core can reach. A fresh array; under `sc` and `ra` it equals `reachable`.
   */
  reachableFromAnyCore(): Uint8Array {
    const k = this.kernel;
    const live = this.reachable().slice();
    if (!k.weak || k.memory === "ra") return live;
    for (const f of k.fibers) {
      const seen = readsAs(f, () => this.reachable());
      for (let i = 0; i < seen.length; i++) live[i] |= seen[i];
    }
    return live;
  }

  /** True when a root or local reference reaches `ref`. */
  isReachable(ref: Ref): boolean {
    return this.reachable()[ref] === 1;
  }

  /**
   * A path from a root or local reference to `ref` ("g0 → A.p0 → C"), or
   * null when nothing reaches it: for failure messages.
   */
  pathTo(ref: Ref): string | null {
    const from = new Map<number, string>();
    const queue: number[] = [];
    const visit = (r: number, how: string) => {
      if (r >= 0 && r === r && !from.has(r)) {
        from.set(r, how);
        queue.push(r);
      }
    };
    for (const c of this.roots.slots) visit(c.peek(), c.name);
    for (const l of this.roots.localSets) {
      l.refs.forEach((r, i) => visit(r, `${l.owner}.local${i}`));
    }
    for (let q = 0; q < queue.length && !from.has(ref); q++) {
      const obj = this.#objects[queue[q]];
      if (obj.freed) continue;
      obj.ptrs.forEach((p, i) => visit(p.peek(), `${from.get(obj.id)} → ${obj.name}.p${i}`));
    }
    const how = from.get(ref);
    return how === undefined ? null : `${how} → ${this.#objects[ref].name}`;
  }

  /** Bytes of the objects reachable from `refs` (each counted once): the exact live set. */
  reachableBytes(refs: readonly Ref[]): number {
    const seen = new Set<number>();
    const stack = refs.filter((r) => r !== NULL);
    let bytes = 0;
    while (stack.length > 0) {
      const r = stack.pop() as number;
      if (seen.has(r)) continue;
      seen.add(r);
      const obj = this.#objects[r];
      bytes += obj.bytes;
      for (const p of obj.ptrs) {
        const v = p.peek();
        if (v >= 0) stack.push(v);
      }
    }
    return bytes;
  }

  /**
   * The live-set size as the seed note computes it: the sum of the stored
   * obligations of `refs`, with no traversal. -1 when one is mutable.
   */
  liveBytesOf(refs: readonly Ref[]): number {
    let sum = 0;
    for (const r of refs) {
      if (r === NULL) continue;
      const b = this.#objects[r].liveBytes;
      if (b < 0) return -1;
      sum += b;
    }
    return sum;
  }

  /**
   * A message naming a freed object that a root or local reference still
   * reaches (a dangling pointer), or null when there is none.
   */
  dangling(): string | null {
    const marks = this.reachable();
    for (let id = 0; id < this.#objects.length; id++) {
      if (marks[id] === 1 && this.#objects[id].freed) {
        return `${this.#objects[id].name} is freed but reachable: ${this.pathTo(id)}`;
      }
    }
    return null;
  }
}

function checkImmediate(v: number, where: string): void {
  if (!Number.isFinite(v)) {
    throw new RangeError(`Cannot store ${v} into ${where}: immediates are finite numbers`);
  }
}

function useAfterFree(obj: HeapObject, what: string): Violation {
  return new Violation("use-after-free", `${what}: ${obj.name} was freed`);
}
