import { assert, assertEquals, assertMatch } from "../deps.ts";
import { Arena } from "./arena.ts";
import { CopyingCollector, type CopyStats, type SlicePolicy } from "./copying.ts";
import type { Heap, Ref } from "./heap.ts";
import { readWord, slice, sliceContents, sliceSlack } from "./slices.ts";
import { runLogged, world } from "./_testing.ts";

function* takeSlice(heap: Heap, arena: Arena, of: Ref, out: Ref[]) {
  out.push(yield* slice(heap, arena, of, { offset: 2, length: 3 }));
}

Deno.test("a slice is O(1): one small object and one step, whatever the parent's length", () => {
  for (const words of [5, 500]) {
    const { k, heap } = world();
    const arena = new Arena(heap, "a", 8 * 1024);
    const text = arena.place({ kind: "binary", imms: Array.from({ length: words }, (_, i) => i) });
    const out: Ref[] = [];
    k.spawn("t", takeSlice, heap, arena, text, out);
    const { log } = runLogged(k);
    assertEquals(log, ["t alloc a.top"]);
    assertEquals(heap.get(out[0]).bytes, 32);
    assertEquals(sliceContents(heap, out[0]), [2, 3, 4]);
  }
});

function* gcAndRead(
  heap: Heap,
  gc: CopyingCollector,
  spaces: [Arena, Arena],
  slot: Ref,
  out: { stats?: CopyStats; words: number[] },
) {
  out.stats = yield* gc.collect(spaces[0], spaces[1]);
  const s = heap.roots.slots[slot].peek();
  for (let i = 0; i < 3; i++) out.words.push(yield* readWord(heap, s, i));
}

function collectSlices(policy: SlicePolicy, keepParent: boolean) {
  const { k, heap } = world();
  const from = new Arena(heap, "from", 4096);
  const to = new Arena(heap, "to", 4096);
  const text = from.place({ kind: "binary", imms: [10, 11, 12, 13, 14, 15, 16, 17], name: "text" });
  const s1 = from.place({ kind: "slice", ptrs: [text], imms: [1, 3], name: "s1" });
  const s2 = from.place({ kind: "slice", ptrs: [text], imms: [4, 3], name: "s2" });
  heap.roots.global("a", s1);
  heap.roots.global("b", s2);
  if (keepParent) heap.roots.global("t", text);
  const out: { stats?: CopyStats; words: number[] } = { words: [] };
  k.spawn(
    "gc",
    gcAndRead,
    heap,
    new CopyingCollector(heap, { slices: policy }),
    [from, to],
    0,
    out,
  );
  return { outcome: k.execute(), heap, to, out, text };
}

Deno.test("a slice of a parent nothing else keeps is copied out; the parent is reclaimed", () => {
  const { outcome, heap, to, out } = collectSlices("copy-out", false);
  assertEquals(outcome.verdict, "pass");
  assertEquals(out.words, [11, 12, 13]);
  assertEquals(sliceContents(heap, heap.roots.slots[1].peek()), [14, 15, 16]);
  assertEquals(out.stats?.slicesCopiedOut, 2);
  // Two slices (32 bytes each) and their parts (8 + 24 each): not the 72-byte parent.
  assertEquals(to.bytesUsed, 2 * 32 + 2 * 32);
  assert(!to.space.objects.some((o) => o.imms.length === 8), "the parent was not copied");
  assertEquals(sliceSlack(heap), null);
});

Deno.test("a slice of a parent that is live anyway follows the parent's copy", () => {
  const { outcome, heap, to, out } = collectSlices("copy-out", true);
  assertEquals(outcome.verdict, "pass");
  assertEquals(out.words, [11, 12, 13]);
  assertEquals(out.stats?.slicesCopiedOut, 0);
  const parent = heap.get(heap.roots.slots[0].peek()).ptrs[0].peek();
  assertEquals(parent, heap.roots.slots[2].peek());
  assertEquals(to.bytesUsed, 2 * 32 + 72);
  assertEquals(sliceSlack(heap), null, "a strongly live parent is no slack");
});

Deno.test("pinning keeps the whole parent; not copying out leaves the slice dangling", () => {
  const pinned = collectSlices("pin", false);
  assertEquals(pinned.outcome.verdict, "pass");
  assertEquals(pinned.out.words, [11, 12, 13]);
  assertEquals(pinned.to.bytesUsed, 2 * 32 + 72);
  assertMatch(
    sliceSlack(pinned.heap) ?? "",
    /text~\d+ is kept alive only by slices, yet 2 of its 8/,
  );
  const dangling = collectSlices("no-copy-out", false);
  assertEquals([dangling.outcome.verdict, dangling.outcome.check], ["bug", "free-safety"]);
});
