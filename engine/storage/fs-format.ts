/**
 * The fs log's bytes (no I/O here; fs.ts reads and writes them):
 *
 *   header   8 bytes  "RKYLOG01"
 *   record   marker u32 (0x4B52FEFF, bytes FF FE 52 4B) | length u32 | crc32(length, payload) u32
 *            | payload: `length` bytes of UTF-8 JSON, one write batch, one operation per line:
 *              [
 *              ["documents","users/1",{"name":"Oren"}],
 *              ["documents","users/2"]
 *              ]
 *
 * One operation per line is what makes the log cheap to index. JSON.stringify never writes a raw
 * line break, so a byte search finds the lines; a store name is a plain pattern and a key a short
 * JSON string, so both are read without touching the value. Recovery and compaction therefore
 * learn where each value's bytes sit without JSON.parse, and compaction copies live lines byte
 * for byte. The payload is still one JSON array, so a reader that JSON.parses it (older Rookery)
 * reads it too. Records written before this layout ([[…],[…]] on one line) are "legacy": recovery
 * finds them with isLegacyPayload and rewrites the log (fs.ts).
 *
 * The marker starts with 0xFF, a byte UTF-8 never contains, so no payload can look like the start
 * of a record; that is what lets recovery tell a torn tail (nothing valid after the damage) from
 * corruption in the middle (a valid record after it).
 */
import type { EncodedOperation } from "./codec.ts";

export const logMagic = new TextEncoder().encode("RKYLOG01");
export const recordMarker = 0x4b52feff;
export const recordHeaderBytes = 12;

/**
 * Crc32 computes CRC-32 over `bytes[start, end)`, continuing from `crc`. fs.ts passes zlib's,
 * since only fs.ts may import Node modules.
 */
export type Crc32 = (bytes: Uint8Array, start: number, end: number, crc?: number) => number;

const lineFeed = 0x0a;
const space = 0x20;
const quote = 0x22;
const comma = 0x2c;
const backslash = 0x5c;
const openBracket = 0x5b;
const closeBracket = 0x5d;

const utf8 = new TextEncoder();
// ignoreBOM: a key may start with U+FEFF, which a default TextDecoder would drop as a byte order mark.
const utf8Text = new TextDecoder("utf-8", { ignoreBOM: true });

export function readU32(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
  );
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = value >>> 24;
}

/** recordBytes is the whole size of the record at `offset` (header and payload), from its header. */
export function recordBytes(data: Uint8Array, offset: number): number {
  return recordHeaderBytes + readU32(data, offset + 4);
}

/** checkRecord returns why the record at `offset` is not a whole valid record, or null. */
export function checkRecord(data: Uint8Array, offset: number, crc32: Crc32): string | null {
  if (offset + recordHeaderBytes > data.length) return "the record header is incomplete";
  if (readU32(data, offset) !== recordMarker) return "no record starts there";
  // No check against batchBytesMax: a log written with a larger limit must still open.
  const length = readU32(data, offset + 4);
  if (offset + recordHeaderBytes + length > data.length) return "the record is incomplete";
  const start = offset + recordHeaderBytes;
  // The checksum covers the length too, so a damaged length cannot pass for a short record.
  const crc = crc32(data, start, start + length, crc32(data, offset + 4, offset + 8));
  if (crc !== readU32(data, offset + 8)) return "the record's checksum does not match";
  return null;
}

/** findValidRecord returns where the first valid record at or after `from` starts, or null. */
export function findValidRecord(data: Uint8Array, from: number, crc32: Crc32): number | null {
  const first = recordMarker & 0xff;
  for (let at = data.indexOf(first, from); at !== -1; at = data.indexOf(first, at + 1)) {
    if (checkRecord(data, at, crc32) === null) return at;
  }
  return null;
}

/** isLegacyPayload says whether the payload at `start` predates the one-operation-per-line layout. */
export function isLegacyPayload(data: Uint8Array, start: number): boolean {
  return data[start] !== openBracket || data[start + 1] !== lineFeed;
}

/**
 * RecordWriter frames batches as records in a buffer it grows as needed. fs.ts writes
 * `bytes.subarray(0, length)` to the log and must not call the writer again until that write has
 * completed, since the buffer is reused.
 */
export class RecordWriter {
  bytes = new Uint8Array(64 * 1024);
  length = 0;
  private recordStart = -1;
  private operationsInRecord = 0;

  constructor(private readonly crc32: Crc32) {}

  /** clear forgets what was framed; a buffer grown past `keepBytesMax` is dropped. */
  clear(keepBytesMax: number): void {
    this.length = 0;
    this.recordStart = -1;
    if (this.bytes.length > keepBytesMax) this.bytes = new Uint8Array(64 * 1024);
  }

  /** appendMagic writes the log header (the start of a new log file). */
  appendMagic(): void {
    this.ensure(logMagic.length);
    this.bytes.set(logMagic, this.length);
    this.length += logMagic.length;
  }

  /** beginRecord starts a record; operations and lines added next go into it. */
  beginRecord(): void {
    this.ensure(recordHeaderBytes + 2);
    this.recordStart = this.length;
    this.operationsInRecord = 0;
    this.length += recordHeaderBytes;
    this.bytes[this.length++] = openBracket;
    this.bytes[this.length++] = lineFeed;
  }

  /** recordOpen says whether a record is begun and not yet ended. */
  get recordOpen(): boolean {
    return this.recordStart >= 0;
  }

  /** payloadBytes is the size so far of the open record's payload. */
  get payloadBytes(): number {
    return this.length - this.recordStart - recordHeaderBytes;
  }

  /**
   * addOperation writes one operation's line and pushes two numbers onto `placements`: where its
   * value's JSON starts in the buffer and its length in bytes (-1 and 0 for a delete).
   */
  addOperation(operation: EncodedOperation, placements: number[]): void {
    const { store, key, json } = operation;
    // Room for the worst case: every key unit escaped as \uXXXX, every value unit 3 bytes.
    this.ensure(store.length + key.length * 6 + (json === null ? 0 : json.length * 3) + 16);
    const bytes = this.bytes;
    let at = this.separate();
    bytes[at++] = openBracket;
    bytes[at++] = quote;
    // Store names match storeNamePattern: lower-case ASCII that JSON never escapes.
    for (let index = 0; index < store.length; index++) bytes[at++] = store.charCodeAt(index);
    bytes[at++] = quote;
    bytes[at++] = comma;
    at = writeJsonString(key, bytes, at);
    if (json === null) {
      placements.push(-1, 0);
    } else {
      bytes[at++] = comma;
      const { written } = utf8.encodeInto(json, bytes.subarray(at));
      // JSON.stringify never writes a raw line break, but a put's trusted json may (indented
      // text): one would end the line early and make the record unreadable. In JSON it can only
      // stand between tokens, where a space means the same.
      if (json.includes("\n")) blankLineBreaks(bytes, at, at + written);
      placements.push(at, written);
      at += written;
    }
    bytes[at++] = closeBracket;
    this.length = at;
  }

  /**
   * addLine copies one operation's line, `source[start, end)` (from `[` to `]`), into the open
   * record and returns where it now starts in the buffer.
   */
  addLine(source: Uint8Array, start: number, end: number): number {
    this.ensure(end - start + 2);
    const at = this.separate();
    this.bytes.set(source.subarray(start, end), at);
    this.length = at + end - start;
    return at;
  }

  /** endRecord closes the open record: its payload's end, then its length and checksum. */
  endRecord(): void {
    this.ensure(2);
    const bytes = this.bytes;
    bytes[this.length++] = lineFeed;
    bytes[this.length++] = closeBracket;
    const start = this.recordStart;
    writeU32(bytes, start, recordMarker);
    writeU32(bytes, start + 4, this.length - start - recordHeaderBytes);
    const crc = this.crc32(
      bytes,
      start + recordHeaderBytes,
      this.length,
      this.crc32(bytes, start + 4, start + 8),
    );
    writeU32(bytes, start + 8, crc);
    this.recordStart = -1;
  }

  /** separate ends the previous line of the open record, if any, and returns where the next goes. */
  private separate(): number {
    let at = this.length;
    if (this.operationsInRecord++ > 0) {
      this.bytes[at++] = comma;
      this.bytes[at++] = lineFeed;
    }
    return at;
  }

  private ensure(bytes: number): void {
    const needed = this.length + bytes + 4; // + the record's closing "\n]" and a spare
    if (needed <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

/** blankLineBreaks turns each line feed in `bytes[start, end)` into a space. */
function blankLineBreaks(bytes: Uint8Array, start: number, end: number): void {
  for (
    let at = bytes.indexOf(lineFeed, start);
    at !== -1 && at < end;
    at = bytes.indexOf(lineFeed, at + 1)
  ) {
    bytes[at] = space;
  }
}

/**
 * writeJsonString writes `text` as a JSON string at `at` and returns where it ends. Keys are
 * nearly always printable ASCII, which is copied unit by unit; anything else goes through
 * JSON.stringify so the escaping is exactly JSON's.
 */
function writeJsonString(text: string, into: Uint8Array, at: number): number {
  let plain = true;
  for (let index = 0; index < text.length && plain; index++) {
    const unit = text.charCodeAt(index);
    plain = unit >= 0x20 && unit < 0x7f && unit !== quote && unit !== backslash;
  }
  if (!plain) return at + utf8.encodeInto(JSON.stringify(text), into.subarray(at)).written;
  into[at++] = quote;
  for (let index = 0; index < text.length; index++) into[at++] = text.charCodeAt(index);
  into[at++] = quote;
  return at;
}

/**
 * OperationVisitor receives one operation of a payload: its store and key, where its line starts
 * and ends (`[` to just after `]`), and where its value's JSON starts and ends (-1 for a delete).
 */
export type OperationVisitor = (
  store: string,
  key: string,
  lineStart: number,
  lineEnd: number,
  valueStart: number,
  valueEnd: number,
) => void;

/**
 * PayloadReader walks the operations of line-layout payloads. It remembers the last store name it
 * read, since a log holds few stores and consecutive lines nearly always share one.
 */
export class PayloadReader {
  private lastStore = "";

  /**
   * read calls `visit` for each operation of the payload `data[start, end)`, in order, and returns
   * null, or why the payload is not a well-formed line-layout batch.
   */
  read(data: Uint8Array, start: number, end: number, visit: OperationVisitor): string | null {
    if (end - start < 4 || isLegacyPayload(data, start))
      return "the payload does not start with [ and a line break";
    const last = end - 2; // the line break before the closing bracket
    if (data[last] !== lineFeed || data[end - 1] !== closeBracket)
      return "the payload does not end with a line break and ]";
    let at = start + 2;
    while (at < last) {
      const lineBreak = data.indexOf(lineFeed, at);
      let lineEnd = lineBreak;
      if (lineBreak < last) {
        if (data[lineBreak - 1] !== comma) return "operations are not separated by a comma";
        lineEnd = lineBreak - 1;
      }
      const problem = this.readLine(data, at, lineEnd, visit);
      if (problem !== null) return problem;
      at = lineBreak + 1;
    }
    return null;
  }

  private readLine(
    data: Uint8Array,
    start: number,
    end: number,
    visit: OperationVisitor,
  ): string | null {
    if (
      data[start] !== openBracket ||
      data[start + 1] !== quote ||
      data[end - 1] !== closeBracket
    ) {
      return "an operation is not [store, key, value?]";
    }
    const storeStart = start + 2;
    let storeEnd = storeStart;
    while (storeEnd < end && data[storeEnd] !== quote) storeEnd++;
    if (data[storeEnd + 1] !== comma || data[storeEnd + 2] !== quote)
      return "a store is not followed by a key";
    const keyStart = storeEnd + 3;
    let keyEnd = keyStart;
    let escaped = false;
    while (keyEnd < end) {
      const byte = data[keyEnd];
      if (byte === quote) break;
      if (byte === backslash) {
        escaped = true;
        keyEnd += 2;
      } else keyEnd++;
    }
    if (keyEnd >= end - 1) return "a key does not end";
    const store = this.storeName(data, storeStart, storeEnd);
    const key = escaped
      ? (JSON.parse(utf8Text.decode(data.subarray(keyStart - 1, keyEnd + 1))) as string)
      : text(data, keyStart, keyEnd);
    const after = keyEnd + 1;
    if (after === end - 1) {
      visit(store, key, start, end, -1, -1);
      return null;
    }
    if (data[after] !== comma || after + 1 >= end - 1)
      return "a key is not followed by a value or ]";
    visit(store, key, start, end, after + 1, end - 1);
    return null;
  }

  private storeName(data: Uint8Array, start: number, end: number): string {
    const last = this.lastStore;
    if (last.length === end - start) {
      let same = true;
      for (let index = 0; index < last.length && same; index++)
        same = data[start + index] === last.charCodeAt(index);
      if (same) return last;
    }
    this.lastStore = text(data, start, end);
    return this.lastStore;
  }
}

/** text decodes UTF-8 bytes (TextDecoder beat building short ASCII strings by hand, 2× here). */
function text(data: Uint8Array, start: number, end: number): string {
  return utf8Text.decode(data.subarray(start, end));
}

/**
 * parseLegacyPayload reads a payload of either layout with JSON.parse (legacy logs are read this
 * way once, then rewritten), giving each operation with its value's JSON text.
 */
export function parseLegacyPayload(payload: string): EncodedOperation[] {
  const parsed: unknown = JSON.parse(payload);
  if (!Array.isArray(parsed)) throw new Error("a batch is not an array");
  return parsed.map((entry: unknown) => {
    if (!Array.isArray(entry) || (entry.length !== 2 && entry.length !== 3)) {
      throw new Error("an operation is not [store, key, value?]");
    }
    const [store, key] = entry as unknown[];
    if (typeof store !== "string" || typeof key !== "string") {
      throw new Error("a store or key is not a string");
    }
    // Re-encoding what JSON.parse made of our own JSON.stringify output gives the same text.
    return { store, key, json: entry.length === 3 ? JSON.stringify(entry[2]) : null };
  });
}
