import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../engine/core/index.ts";
import { crc32 } from "../../engine/storage/fs.ts";
import type { EncodedOperation } from "../../engine/storage/codec.ts";
import { encodeBatch, utf8Bytes } from "../../engine/storage/codec.ts";
import { Compactor } from "../../engine/storage/fs-compaction.ts";
import {
  PayloadReader,
  RecordWriter,
  checkRecord,
  logMagic,
  recordBytes,
  recordHeaderBytes,
} from "../../engine/storage/fs-format.ts";
import { LogIndex } from "../../engine/storage/fs-index.ts";
import { storageLimits } from "../../engine/storage/storage.ts";

const keys = [
  "users/1",
  "",
  'quote"d',
  "back\\slash",
  "line\nbreak",
  "tab\t",
  "\u0000nul",
  "ключ",
  "𝄞",
  "\ud800lone",
  "é".repeat(70),
  "\ufeffbom",
  "\u2028\u2029",
];
const utf8 = new TextDecoder();

interface Seen {
  store: string;
  key: string;
  json: string | null;
  line: string;
}

function frame(operations: EncodedOperation[]): { bytes: Uint8Array; placements: number[] } {
  const writer = new RecordWriter(crc32);
  const placements: number[] = [];
  writer.beginRecord();
  for (const operation of operations) writer.addOperation(operation, placements);
  writer.endRecord();
  return { bytes: writer.bytes.slice(0, writer.length), placements };
}

function readBack(bytes: Uint8Array): Seen[] {
  const seen: Seen[] = [];
  const problem = new PayloadReader().read(
    bytes,
    recordHeaderBytes,
    bytes.length,
    (store, key, lineStart, lineEnd, valueStart, valueEnd) => {
      const json = valueStart < 0 ? null : utf8.decode(bytes.subarray(valueStart, valueEnd));
      seen.push({ store, key, json, line: utf8.decode(bytes.subarray(lineStart, lineEnd)) });
    },
  );
  expect(problem).toBeNull();
  return seen;
}

describe("the record checksum (zlib's CRC-32)", () => {
  it("matches the standard check value and continues across pieces", () => {
    const bytes = new TextEncoder().encode("123456789");
    expect(crc32(bytes, 0, 9)).toBe(0xcbf43926);
    expect(crc32(bytes, 4, 9, crc32(bytes, 0, 4))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0), 0, 0)).toBe(0);
  });
});

describe("the fs log's line layout", () => {
  it("frames a batch as one checksummed record of JSON, one operation per line", () => {
    const { bytes } = frame([
      { store: "documents", key: "users/1", json: '{"name":"Oren"}' },
      { store: "documents", key: "users/2", json: null },
    ]);
    expect(checkRecord(bytes, 0, crc32)).toBeNull();
    expect(recordBytes(bytes, 0)).toBe(bytes.length);
    const payload = utf8.decode(bytes.subarray(recordHeaderBytes));
    expect(payload).toBe('[\n["documents","users/1",{"name":"Oren"}],\n["documents","users/2"]\n]');
    expect(JSON.parse(payload)).toEqual([
      ["documents", "users/1", { name: "Oren" }],
      ["documents", "users/2"],
    ]);
  });

  it("reads back every key exactly, and each value's bytes where the writer said they are", () => {
    const random = new SeededRandom(3);
    const operations: EncodedOperation[] = keys.map((key, i) => ({
      store: i % 2 ? "raft-log" : "documents",
      key,
      json:
        i % 4 === 3
          ? null
          : JSON.stringify({
              key,
              text: random.pick(["a", "é", "☃", "𝄞", "\n", '"', "\\"]).repeat(i),
            }),
    }));
    const { bytes, placements } = frame(operations);
    const seen = readBack(bytes);
    expect(seen.map(({ store, key, json }) => ({ store, key, json }))).toEqual(operations);
    operations.forEach((operation, i) => {
      const [at, length] = [placements[2 * i]!, placements[2 * i + 1]!];
      if (operation.json === null) return expect(at).toBe(-1);
      expect(length).toBe(utf8Bytes(operation.json));
      expect(utf8.decode(bytes.subarray(at, at + length))).toBe(operation.json);
    });
    // Every line is valid JSON on its own: compaction copies lines, never values.
    for (const { line, key } of seen) expect((JSON.parse(line) as unknown[])[1]).toBe(key);
  });

  it("the index's live size is the bytes the live lines take, whatever the keys hold", () => {
    // Automatic compaction compares the log with this size, so it must not undercount.
    const index = new LogIndex();
    const operations: EncodedOperation[] = [...keys, "\u0007bell\u007f", "ø".repeat(9)].map(
      (key) => ({ store: "documents", key, json: '{"v":"é"}' }),
    );
    const { bytes, placements } = frame(operations);
    operations.forEach(({ store, key }, i) =>
      index.put(store, key, placements[2 * i]!, placements[2 * i + 1]!),
    );
    // The payload is "[\n", each line followed by ",\n" but the last, then "\n]".
    expect(index.liveBytes).toBe(bytes.length - recordHeaderBytes - 2);
  });

  it("says why a damaged payload is unreadable instead of guessing", () => {
    const reader = new PayloadReader();
    const bad = [
      '[["documents","k",1]]',
      '[\n["documents","k",1]]',
      '[\n["documents","k",1]\n["documents","j"]\n]',
      '[\n["documents" "k"]\n]',
      '[\n["documents","k]\n]',
    ];
    for (const payload of bad) {
      const bytes = new TextEncoder().encode(payload);
      expect(
        reader.read(bytes, 0, bytes.length, () => {}),
        payload,
      ).not.toBeNull();
    }
  });

  it("codec sizes count what the writer writes", () => {
    const batch = [
      { store: "documents", op: "put", key: "users/1", value: { name: "Oren" } },
      { store: "documents", op: "delete", key: "users/2" },
    ];
    const encoded = encodeBatch(batch, { ...storageLimits });
    const { bytes } = frame([...encoded.operations]);
    expect(encoded.chars).toBeGreaterThanOrEqual(bytes.length - recordHeaderBytes);
    expect(utf8Bytes("aé☃𝄞\ud800")).toBe(new TextEncoder().encode("aé☃𝄞\ud800").length);
  });
});

describe("compaction's byte copy", () => {
  it("copies only the live lines, and the index then points into the new log", () => {
    const index = new LogIndex();
    // An old log: users/1 written twice, users/2 written then deleted, users/3 once.
    const writer = new RecordWriter(crc32);
    writer.appendMagic();
    const logged: EncodedOperation[][] = [
      [
        { store: "documents", key: "users/1", json: '"v1"' },
        { store: "documents", key: "users/2", json: '"x"' },
      ],
      [
        { store: "documents", key: "users/1", json: '"v2"' },
        { store: "documents", key: "users/3", json: '"ключ"' },
      ],
      [{ store: "documents", key: "users/2", json: null }],
    ];
    for (const operations of logged) {
      const placements: number[] = [];
      writer.beginRecord();
      for (const operation of operations) writer.addOperation(operation, placements);
      writer.endRecord();
      operations.forEach(({ store, key, json }, i) => {
        if (json === null) index.delete(store, key);
        else index.put(store, key, placements[2 * i]!, placements[2 * i + 1]!);
      });
    }
    const old = writer.bytes.slice(0, writer.length);
    const compactor = new Compactor(index, crc32, "test.log", old.length, 1024);
    // Fed in a chunk that ends inside the second record, as fs.ts's reads may.
    const split = logMagic.length + recordBytes(old, logMagic.length) + 5;
    let at = logMagic.length;
    at += compactor.consume(old.subarray(at, split), at);
    at += compactor.consume(old.subarray(at), at);
    expect(at).toBe(old.length);
    const compacted = compactor.output().slice();
    expect(utf8.decode(compacted.subarray(logMagic.length + recordHeaderBytes))).toBe(
      '[\n["documents","users/1","v2"],\n["documents","users/3","ключ"]\n]',
    );
    index.promote();
    const values = Object.fromEntries(
      [...index.values("documents")].map(({ key, at: start, bytes }) => [
        key,
        utf8.decode(compacted.subarray(start, start + bytes)),
      ]),
    );
    expect(values).toEqual({ "users/1": '"v2"', "users/3": '"ключ"' });
  });
});
