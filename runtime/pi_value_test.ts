import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../deps.ts";
import { decodePi, encodePi, PiRef, type PiValue, REF, REF_BYTES, refOffsets } from "./pi_value.ts";

const leaf: fc.Arbitrary<PiValue> = fc.oneof(
  fc.maxSafeInteger(),
  fc.integer({ min: -300, max: 300 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.record({
    addr: fc.nat({ max: 2 ** 32 - 1 }),
    offset: fc.nat({ max: 2 ** 32 - 1 }),
    length: fc.nat({ max: 2 ** 32 - 1 }),
  }).map((r) => new PiRef(r.addr, r.offset, r.length)),
);

const { value } = fc.letrec<{ value: PiValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.uniqueArray(fc.tuple(fc.string({ maxLength: 6 }), tie("value")), {
      maxLength: 4,
      selector: ([k]) => k,
    }).map((pairs) => new Map(pairs)),
  ),
}));

Deno.test("every π value round-trips through its byte encoding (fast-check, seed 12)", () => {
  fc.assert(
    fc.property(value, (v) => {
      const bytes = encodePi(v);
      assertEquals(decodePi(bytes), v);
      assertEquals(encodePi(decodePi(bytes)), bytes);
    }),
    { numRuns: 2_000, seed: 12 },
  );
});

Deno.test("references use the reserved block 11100sss, 4-byte fields, found by a scan", () => {
  const bytes = encodePi([1, new PiRef(7, 2, 3), "x"]);
  const [at] = refOffsets(bytes);
  assertEquals(bytes[at] & 0xf8, REF);
  assertEquals(bytes[at] & 7, 3);
  assertEquals(refOffsets(encodePi(new PiRef(1, 0, 1))).length, 1);
  assertEquals(encodePi(new PiRef(1, 0, 1)).length, REF_BYTES);
  assertEquals(refOffsets(encodePi(["no", "refs", new Uint8Array(3)])), []);
});

Deno.test("malformed input is a one-line RangeError, never a crash or a huge allocation", () => {
  const cases: number[][] = [
    [],
    [0xf8], // an unknown tag
    [0x90, 5, 1, 2], // bytes longer than the input
    [0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // a 6-byte length past the end
    [0xa0, 2, 0xe3, 0], // a reference cut short inside a list
    [0x98, 1, 0xff], // text that is not UTF-8
    [0xa8, 2, 5, 5], // a record key that is not text
    [5, 5], // bytes after the value
  ];
  for (const c of cases) {
    const e = assertThrows(() => decodePi(Uint8Array.from(c)), RangeError);
    void e;
  }
  try {
    decodePi(Uint8Array.from([0x90, 5, 1]));
  } catch (e) {
    assert(e instanceof RangeError && !e.message.includes("\n"));
    assert(e.message.startsWith("Cannot decode a π value at byte 0"), e.message);
  }
  assertThrows(() => encodePi(1.5), RangeError);
  assertThrows(() => encodePi(2 ** 60), RangeError);
});
