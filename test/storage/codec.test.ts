import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../engine/core/index.ts";
import type { Random } from "../../engine/core/index.ts";
import { decodeValue, encodeValue } from "../../engine/storage/index.ts";

function randomValue(random: Random, depth: number): unknown {
  const kind = random.int(depth > 3 ? 5 : 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.chance(0.5) ? random.between(-1e6, 1e6) : (random.next() - 0.5) * 1e12;
    case 3:
      return Array.from({ length: random.int(12) }, () =>
        random.pick(["a", "é", "☃", "𝄞", "\u0000", "\\u0000", '"', "\n", "{}"]),
      ).join("");
    case 4:
      return new Uint8Array(Array.from({ length: random.int(9) }, () => random.int(256)));
    case 5:
      return Array.from({ length: random.int(4) }, () => randomValue(random, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = random.int(4); i > 0; i--) {
        out[random.pick(["a", "b", "\u0000", "u8", "v", "o", "__proto__x"])] = randomValue(
          random,
          depth + 1,
        );
      }
      return out;
    }
  }
}

describe("the value encoding every backend shares", () => {
  it("any storable value reads back equal, bytes and escape-like keys too (500 seeded)", () => {
    const random = new SeededRandom(7);
    for (let i = 0; i < 500; i++) {
      const value = randomValue(random, 0);
      expect(decodeValue(encodeValue(value, "test", 64)), JSON.stringify(value)).toEqual(value);
    }
  });

  it("plain JSON is stored as plain JSON text", () => {
    expect(encodeValue({ a: [1, "x", null, true] }, "t", 8)).toBe('{"a":[1,"x",null,true]}');
  });

  it("a value nested deeper than the limit is refused with its path", () => {
    expect(() => encodeValue({ a: { b: { c: 1 } } }, "documents/d", 2)).toThrow(
      /cannot store documents\/d: at \$\.a\.b, the value nests deeper than 2/,
    );
  });
});

describe("where platform code lives", () => {
  const folder = join(import.meta.dirname, "../../engine/storage");
  const files = readdirSync(folder)
    .filter((file) => file.endsWith(".ts"))
    .map((file) => ({ file, text: readFileSync(join(folder, file), "utf8") }));

  it("in storage, only fs.ts imports Node modules, and only indexeddb.ts touches IndexedDB", () => {
    const nodeImporters = files.filter(({ text }) => /from "node:/.test(text));
    expect(nodeImporters.map(({ file }) => file)).toEqual(["fs.ts"]);
    const idbUsers = files.filter(({ text }) => /\bindexedDB\b|from "idb"/.test(text));
    expect(idbUsers.map(({ file }) => file)).toEqual(["indexeddb.ts"]);
  });

  it("the storage barrel a browser imports never reaches the fs backend", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(join(folder, file), "utf8");
      for (const [, target] of text.matchAll(/from "\.\/([\w-]+\.ts)"/g)) visit(target!);
    };
    visit("index.ts");
    expect(seen.has("fs.ts")).toBe(false);
    expect(seen.has("node.ts")).toBe(false);
    expect([...seen].sort()).toEqual([
      "codec.ts",
      "index.ts",
      "indexeddb.ts",
      "memory.ts",
      "storage.ts",
    ]);
  });
});
