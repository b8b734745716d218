/**
 * π's stored value format (seed note 004): every value is serialized inline
 * in a UTF9-like byte encoding, one tag byte then its payload. The block of
 * tags `11100sss` is reserved for π's own use: a pre-GC reference into
 * another stored value (its address, an offset and a length), so a slice
 * costs O(1) instead of a copy.
 *
 * | tag byte    | value                                                            |
 * | ----------- | ---------------------------------------------------------------- |
 * | `0xxxxxxx`  | an integer 0..127, in the tag itself                             |
 * | `10000nnn`  | a non-negative integer, n+1 bytes big-endian follow              |
 * | `10001nnn`  | a negative integer −(u+1), u in n+1 bytes                        |
 * | `10010nnn`  | bytes: length in n+1 bytes, then the bytes                       |
 * | `10011nnn`  | UTF-8 text: byte length in n+1 bytes, then the bytes             |
 * | `10100nnn`  | a list: body length in n+1 bytes, then the elements inline       |
 * | `10101nnn`  | a record: body length in n+1 bytes, then key (text), value pairs |
 * | `11100sss`  | a reference: address, offset and length, each in s+1 bytes      |
 *
 * Fields are 1 to 8 bytes; decoded integers and lengths must be safe integers.
 *
 * @module
 */

/** A reference into another stored value: the bytes [offset, offset + length) of the value at `addr`. */
export class PiRef {
  /** Makes a reference to `length` bytes at `offset` of the value at `addr`. */
  constructor(readonly addr: number, readonly offset: number, readonly length: number) {}
}

/** A decoded π value. Records keep their keys in order. */
export type PiValue =
  | number
  | string
  | Uint8Array
  | PiValue[]
  | Map<string, PiValue>
  | PiRef;

const INT = 0x80;
const NEG = 0x88;
const BYTES = 0x90;
const TEXT = 0x98;
const LIST = 0xa0;
const RECORD = 0xa8;
/** The reserved block `11100sss`. */
export const REF = 0xe0;
/** Bytes a reference takes with 4-byte fields (s = 3): what π writes, so refs rewrite in place. */
export const REF_BYTES = 13;
const FIELD_BYTES_MAX = 8;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

function width(u: number): number {
  let n = 1;
  while (n < FIELD_BYTES_MAX && u >= 2 ** (8 * n)) n++;
  return n;
}

function putUint(out: number[], u: number, n: number): void {
  for (let i = n - 1; i >= 0; i--) out.push(Math.floor(u / 2 ** (8 * i)) % 256);
}

function checkInt(v: number): void {
  if (!Number.isSafeInteger(v)) {
    throw new RangeError(`Cannot encode ${v}: π integers are safe integers`);
  }
}

function encodeInto(v: PiValue, out: number[]): void {
  if (typeof v === "number") {
    checkInt(v);
    if (v >= 0 && v < 128) return void out.push(v);
    const u = v >= 0 ? v : -v - 1;
    const n = width(u);
    out.push((v >= 0 ? INT : NEG) | (n - 1));
    return putUint(out, u, n);
  }
  if (typeof v === "string" || v instanceof Uint8Array) {
    const bytes = typeof v === "string" ? utf8.encode(v) : v;
    const n = width(bytes.length);
    out.push((typeof v === "string" ? TEXT : BYTES) | (n - 1));
    putUint(out, bytes.length, n);
    for (let i = 0; i < bytes.length; i++) out.push(bytes[i]);
    return;
  }
  if (v instanceof PiRef) {
    for (const f of [v.addr, v.offset, v.length]) {
      checkInt(f);
      if (f < 0 || f >= 2 ** 32) throw new RangeError(`Cannot encode a reference field ${f}`);
    }
    out.push(REF | 3);
    putUint(out, v.addr, 4);
    putUint(out, v.offset, 4);
    putUint(out, v.length, 4);
    return;
  }
  const body: number[] = [];
  if (Array.isArray(v)) {
    for (const e of v) encodeInto(e, body);
  } else {
    for (const [key, e] of v) {
      encodeInto(key, body);
      encodeInto(e, body);
    }
  }
  const n = width(body.length);
  out.push((Array.isArray(v) ? LIST : RECORD) | (n - 1));
  putUint(out, body.length, n);
  for (let i = 0; i < body.length; i++) out.push(body[i]);
}

/**
 * Encodes `v`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * assertEquals([...encodePi(5)], [5]);
 * assertEquals(decodePi(encodePi(["a", 300, new Map([["k", -1]])])), ["a", 300, new Map([["k", -1]])]);
 * ```
 */
export function encodePi(v: PiValue): Uint8Array {
  const out: number[] = [];
  encodeInto(v, out);
  return Uint8Array.from(out);
}

/** Where a value starts and ends in a byte array, and what it is. */
export interface PiSpan {
  /** The value's tag byte. */
  readonly tag: number;
  /** The first byte of the payload (after the tag and its length field). */
  readonly body: number;
  /** One past the last byte of the value. */
  readonly end: number;
}

function malformed(at: number, why: string): RangeError {
  return new RangeError(`Cannot decode a π value at byte ${at}: ${why}`);
}

function getUint(b: Uint8Array, at: number, n: number, end: number): number {
  if (at + n > end) throw malformed(at, `a ${n}-byte field runs past the end (${end})`);
  let u = 0;
  for (let i = 0; i < n; i++) u = u * 256 + b[at + i];
  if (u > Number.MAX_SAFE_INTEGER) throw malformed(at, "a field larger than a safe integer");
  return u;
}

/** The extent of the value encoded at `at`, checked against `end`. */
export function spanAt(b: Uint8Array, at: number, end = b.length): PiSpan {
  if (at >= end) throw malformed(at, "no value here (end of input)");
  const tag = b[at];
  if (tag < 0x80) return { tag, body: at + 1, end: at + 1 };
  const kind = tag & 0xf8;
  const n = (tag & 7) + 1;
  switch (kind) {
    case INT:
    case NEG:
      getUint(b, at + 1, n, end);
      return { tag, body: at + 1, end: at + 1 + n };
    case REF:
      if (at + 1 + 3 * n > end) throw malformed(at, "a reference runs past the end");
      return { tag, body: at + 1, end: at + 1 + 3 * n };
    case BYTES:
    case TEXT:
    case LIST:
    case RECORD: {
      const len = getUint(b, at + 1, n, end);
      const body = at + 1 + n;
      if (body + len > end) throw malformed(at, `a length of ${len} runs past the end (${end})`);
      return { tag, body, end: body + len };
    }
    default:
      throw malformed(at, `unknown tag 0x${tag.toString(16)}`);
  }
}

/** The fields of the reference whose tag is at `at`. */
export function refAt(b: Uint8Array, at: number): PiRef {
  const n = (b[at] & 7) + 1;
  return new PiRef(
    getUint(b, at + 1, n, b.length),
    getUint(b, at + 1 + n, n, b.length),
    getUint(b, at + 1 + 2 * n, n, b.length),
  );
}

/** Depth a decoder follows before refusing (nested lists and records). */
const DEPTH_MAX = 256;

function decodeAt(b: Uint8Array, at: number, end: number, depth: number): PiValue {
  if (depth > DEPTH_MAX) throw malformed(at, `nested more than ${DEPTH_MAX} deep`);
  const s = spanAt(b, at, end);
  const tag = s.tag;
  if (tag < 0x80) return tag;
  const n = (tag & 7) + 1;
  switch (tag & 0xf8) {
    case INT:
      return getUint(b, at + 1, n, end);
    case NEG:
      return -getUint(b, at + 1, n, end) - 1;
    case REF:
      return refAt(b, at);
    case BYTES:
      return b.slice(s.body, s.end);
    case TEXT:
      try {
        return utf8Strict.decode(b.subarray(s.body, s.end));
      } catch {
        throw malformed(at, "text that is not UTF-8");
      }
    case LIST: {
      const out: PiValue[] = [];
      for (let p = s.body; p < s.end; p = spanAt(b, p, s.end).end) {
        out.push(decodeAt(b, p, s.end, depth + 1));
      }
      return out;
    }
    default: {
      const out = new Map<string, PiValue>();
      for (let p = s.body; p < s.end;) {
        const key = decodeAt(b, p, s.end, depth + 1);
        if (typeof key !== "string") throw malformed(p, "a record key that is not text");
        p = spanAt(b, p, s.end).end;
        out.set(key, decodeAt(b, p, s.end, depth + 1));
        p = spanAt(b, p, s.end).end;
      }
      return out;
    }
  }
}

/** Decodes one value that must fill `b` exactly; malformed input gives a one-line `RangeError`. */
export function decodePi(b: Uint8Array): PiValue {
  const s = spanAt(b, 0);
  if (s.end !== b.length) throw malformed(s.end, `${b.length - s.end} bytes after the value`);
  return decodeAt(b, 0, b.length, 0);
}

/** Offsets of every reference tag in the value `b` (a scan: what a simple value never needs). */
export function refOffsets(b: Uint8Array, at = 0, end = b.length, out: number[] = []): number[] {
  const s = spanAt(b, at, end);
  const kind = s.tag < 0x80 ? -1 : s.tag & 0xf8;
  if (kind === REF) out.push(at);
  else if (kind === LIST || kind === RECORD) {
    for (let p = s.body; p < s.end; p = spanAt(b, p, s.end).end) refOffsets(b, p, s.end, out);
  }
  return out;
}
