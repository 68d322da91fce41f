/**
 * The storage conformance suite: the contract of the Storage port (engine/storage/storage.ts),
 * run against every backend. A backend test file calls runStorageConformance with a harness that
 * opens one server's storage — fresh the first time, the same storage on every later open.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isRookeryError } from "../../engine/core/index.ts";
import type { Storage, StorageLimits, StorageOperation } from "../../engine/storage/index.ts";

/** StorageHarness opens one server's storage, again and again, as restarts would. */
export interface StorageHarness {
  /** open returns the server's storage: empty the first time, what survived afterwards. */
  open(limits?: Partial<StorageLimits>): Promise<Storage>;
  /** cleanup removes what the harness created (temp folders, databases). */
  cleanup(): Promise<void>;
}

/** StorageBackendTraits say which optional behaviours a backend promises. */
export interface StorageBackendTraits {
  /** Concurrent writes share sync points, so stats().syncs ends up below stats().writes. */
  readonly groupsConcurrentWrites: boolean;
}

type Op = StorageOperation;

const put = (store: string, key: string, value: unknown): Op =>
  ({ store, op: "put", key, value }) as Op;
const del = (store: string, key: string): Op => ({ store, op: "delete", key });

/** plain turns load() output into nested plain objects, for readable comparisons. */
export function plain(
  contents: Map<string, Map<string, unknown>>,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [store, keys] of contents) out[store] = Object.fromEntries(keys);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function settle(promise: Promise<unknown>): Promise<"ok" | "rejected"> {
  try {
    await promise;
    return "ok";
  } catch {
    return "rejected";
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/** runStorageConformance registers the contract's tests for one backend. */
export function runStorageConformance(
  name: string,
  makeHarness: () => StorageHarness | Promise<StorageHarness>,
  traits: StorageBackendTraits,
): void {
  describe(`Storage contract: ${name}`, () => {
    let harness: StorageHarness;
    const opened: Storage[] = [];
    const open = async (limits?: Partial<StorageLimits>): Promise<Storage> => {
      const storage = await harness.open(limits);
      opened.push(storage);
      return storage;
    };

    beforeEach(async () => {
      harness = await makeHarness();
    });
    afterEach(async () => {
      for (const storage of opened.splice(0)) storage.crash();
      await harness.cleanup();
    });

    it("a new storage is empty", async () => {
      const storage = await open();
      expect(plain(await storage.load())).toEqual({});
      expect((await storage.loadStore("documents")).size).toBe(0);
    });

    it("puts and deletes land in their own store and nowhere else", async () => {
      const storage = await open();
      await storage.write([
        put("documents", "users/1", { name: "Oren" }),
        put("revisions", "users/1", { name: "old" }),
        put("raft-state", "hard", { term: 3, vote: "A", commit: 7 }),
      ]);
      await storage.write([
        del("revisions", "users/1"),
        put("documents", "users/2", { name: "Ayende" }),
      ]);
      await storage.write([del("documents", "never-there")]);
      expect(plain(await storage.load())).toEqual({
        documents: { "users/1": { name: "Oren" }, "users/2": { name: "Ayende" } },
        "raft-state": { hard: { term: 3, vote: "A", commit: 7 } },
      });
      expect(Object.fromEntries(await storage.loadStore("documents"))).toEqual({
        "users/1": { name: "Oren" },
        "users/2": { name: "Ayende" },
      });
      expect((await storage.loadStore("revisions")).size).toBe(0);
    });

    it("store names that share a prefix stay apart", async () => {
      const storage = await open();
      await storage.write([
        put("raft", "a", 1),
        put("raft-log", "a", 2),
        put("raft-log-x", "a", 3),
      ]);
      expect(Object.fromEntries(await storage.loadStore("raft"))).toEqual({ a: 1 });
      expect(Object.fromEntries(await storage.loadStore("raft-log"))).toEqual({ a: 2 });
    });

    it("values read back exactly as written, bytes included, after a restart too", async () => {
      const value = {
        text: "naïve ☃ 𝄞 \u0000 nul and \\u0000 text",
        numbers: [0, -1, 1.5, 1e21, -2.5e-8, Number.MAX_SAFE_INTEGER],
        flags: [true, false, null],
        nested: { deep: { deeper: [[], {}, [{ a: [1] }]] } },
        bytes: new Uint8Array([0, 1, 2, 250, 255]),
        emptyBytes: new Uint8Array(0),
        "\u0000": "a key that looks like the codec's escape",
        escaped: { "\u0000": "u8", b: "AAEC" },
        "": "empty key",
      };
      const storage = await open();
      await storage.write([put("attachments", "a/1", value), put("meta", "", "empty key works")]);
      const check = async (s: Storage) => {
        const stored = (await s.loadStore("attachments")).get("a/1");
        expect(stored).toEqual(value);
        expect((stored as { bytes: unknown }).bytes).toBeInstanceOf(Uint8Array);
        expect((await s.loadStore("meta")).get("")).toBe("empty key works");
      };
      await check(storage);
      await storage.close();
      await check(await open());
    });

    it("a put that carries its value's JSON reads back equal to the value, after a restart too", async () => {
      const value = {
        name: "Oren",
        tags: ["a", "é", "𝄞"],
        nested: { n: 1.5, ok: true, none: null },
      };
      const storage = await open();
      await storage.write([
        { store: "documents", op: "put", key: "users/1", value, json: JSON.stringify(value) },
        {
          store: "documents",
          op: "put",
          key: 'quote"d/ключ',
          value: "text",
          json: JSON.stringify("text"),
        },
        put("documents", "plain", { also: "checked and stringified" }),
      ]);
      const expected = {
        "users/1": value,
        'quote"d/ключ': "text",
        plain: { also: "checked and stringified" },
      };
      expect(Object.fromEntries(await storage.loadStore("documents"))).toEqual(expected);
      await storage.close();
      expect(Object.fromEntries(await (await open()).loadStore("documents"))).toEqual(expected);
    });

    it("a put's json is trusted, but must be a string, and its store and key are still checked", async () => {
      const storage = await open();
      // The caller promises json is JSON.stringify(value): the backend stores the text unchecked.
      await storage.write([
        { store: "documents", op: "put", key: "k", value: { a: 1 }, json: '{"a":2}' },
      ]);
      expect((await storage.loadStore("documents")).get("k")).toEqual({ a: 2 });
      const notText = {
        store: "documents",
        op: "put",
        key: "k",
        value: 1,
        json: 1,
      } as unknown as Op;
      expect(isRookeryError(await rejection(storage.write([notText])), "InvalidStorageBatch")).toBe(
        true,
      );
      const badStore = { store: "Documents", op: "put", key: "k", value: 1, json: "1" } as Op;
      expect(isRookeryError(await rejection(storage.write([badStore])), "InvalidStoreName")).toBe(
        true,
      );
      const longKey = {
        store: "documents",
        op: "put",
        key: "k".repeat(2000),
        value: 1,
        json: "1",
      } as Op;
      expect(isRookeryError(await rejection(storage.write([longKey])), "InvalidStorageKey")).toBe(
        true,
      );
    });

    it("a put's json printed with indentation reads back as what it parses to, after a restart too", async () => {
      // Trusted text that breaks the promise is stored anyway (StorageOperation); line breaks
      // between tokens are still JSON, and must not make the storage unreadable.
      const value = { name: "Oren", tags: ["a", "b"] };
      const storage = await open();
      await storage.write([
        {
          store: "documents",
          op: "put",
          key: "pretty",
          value,
          json: JSON.stringify(value, null, 2),
        },
        { store: "documents", op: "put", key: "crlf", value: [1], json: "[\r\n1\r\n]" },
      ]);
      await storage.write([put("documents", "after", 1)]);
      const expected = { pretty: value, crlf: [1], after: 1 };
      expect(Object.fromEntries(await storage.loadStore("documents"))).toEqual(expected);
      await storage.close();
      expect(Object.fromEntries(await (await open()).loadStore("documents"))).toEqual(expected);
    });

    it("later operations on the same key in one batch win", async () => {
      const storage = await open();
      await storage.write([
        put("documents", "k", 1),
        del("documents", "k"),
        put("documents", "k", 3),
      ]);
      await storage.write([
        put("documents", "j", 1),
        put("documents", "j", 2),
        del("documents", "j"),
      ]);
      expect(plain(await storage.load())).toEqual({ documents: { k: 3 } });
    });

    it("a batch with one bad operation stores nothing of it and says what was wrong", async () => {
      const storage = await open();
      await storage.write([put("documents", "before", 0)]);
      const bad: [unknown, string, RegExp][] = [
        [{ when: new Date(0) }, "InvalidStorageValue", /at \$\.when, a Date cannot be stored/],
        [{ n: Number.NaN }, "InvalidStorageValue", /at \$\.n, NaN is not a finite number/],
        [{ u: undefined }, "InvalidStorageValue", /at \$\.u, undefined cannot be stored/],
        [new Map(), "InvalidStorageValue", /a Map cannot be stored/],
        [[1, , 3], "InvalidStorageValue", /arrays cannot have holes/],
        [undefined, "InvalidStorageValue", /documents\/bad/],
      ];
      const cyclic: Record<string, unknown> = {};
      cyclic["self"] = cyclic;
      bad.push([cyclic, "InvalidStorageValue", /contains a cycle/]);
      for (const [value, code, message] of bad) {
        const error = await rejection(
          storage.write([put("documents", "good", 1), put("documents", "bad", value)]),
        );
        expect(isRookeryError(error, code), String(error)).toBe(true);
        expect((error as Error).message).toMatch(message);
      }
      const wrongShape: [Op, string][] = [
        [put("Documents", "k", 1), "InvalidStoreName"],
        [put("", "k", 1), "InvalidStoreName"],
        [{ store: "documents", op: "put", key: 7 } as unknown as Op, "InvalidStorageKey"],
        [{ store: "documents", op: "upsert", key: "k" } as unknown as Op, "InvalidStorageBatch"],
        [{ store: "documents", op: "put", key: "k" } as unknown as Op, "InvalidStorageBatch"],
      ];
      for (const [op, code] of wrongShape) {
        const error = await rejection(storage.write([put("documents", "good", 1), op]));
        expect(isRookeryError(error, code), String(error)).toBe(true);
      }
      expect(plain(await storage.load())).toEqual({ documents: { before: 0 } });
    });

    it("a value changed by the caller after write or after load does not change what is stored", async () => {
      const storage = await open();
      const value = { list: [1, 2], inner: { a: 1 } };
      const done = storage.write([put("documents", "d", value)]);
      value.list.push(3);
      value.inner.a = 99;
      await done;
      const loaded = (await storage.loadStore("documents")).get("d") as typeof value;
      expect(loaded).toEqual({ list: [1, 2], inner: { a: 1 } });
      loaded.inner.a = 42;
      expect((await storage.loadStore("documents")).get("d")).toEqual({
        list: [1, 2],
        inner: { a: 1 },
      });
    });

    it("a write acknowledged before a crash is there after restart", async () => {
      const first = await open();
      await first.write([put("raft-log", "00000001", { term: 1, data: "x" })]);
      await first.write([put("raft-state", "hard", { term: 1, vote: "A", commit: 1 })]);
      first.crash();
      const second = await open();
      expect(plain(await second.load())).toEqual({
        "raft-log": { "00000001": { term: 1, data: "x" } },
        "raft-state": { hard: { term: 1, vote: "A", commit: 1 } },
      });
    });

    it("a crash keeps every acknowledged batch and never half of any batch", async () => {
      const first = await open();
      await first.write([put("documents", "base", 0)]);
      const outcomes = Array.from({ length: 20 }, (_, i) =>
        settle(first.write([put("documents", `a${i}`, i), put("revisions", `a${i}`, i)])),
      );
      first.crash();
      const settled = await Promise.all(outcomes);
      const second = await open();
      const documents = await second.loadStore("documents");
      const revisions = await second.loadStore("revisions");
      expect(documents.get("base")).toBe(0);
      settled.forEach((outcome, i) => {
        expect(documents.has(`a${i}`), `batch ${i} is whole`).toBe(revisions.has(`a${i}`));
        if (outcome === "ok") expect(documents.get(`a${i}`), `acknowledged batch ${i}`).toBe(i);
      });
    });

    it("a clean close keeps every write issued before it", async () => {
      const first = await open();
      const writes = Array.from({ length: 50 }, (_, i) =>
        first.write([put("documents", `d${i}`, i)]),
      );
      await first.close();
      await Promise.all(writes);
      const second = await open();
      expect((await second.loadStore("documents")).size).toBe(50);
    });

    it("reopen shows exactly what was acknowledged, again and again", async () => {
      const expected: Record<string, unknown> = {};
      for (let round = 0; round < 4; round++) {
        const storage = await open();
        expect(Object.fromEntries(await storage.loadStore("documents"))).toEqual(expected);
        await storage.write([
          put("documents", `r${round}`, round),
          del("documents", `r${round - 2}`),
        ]);
        expected[`r${round}`] = round;
        delete expected[`r${round - 2}`];
        if (round % 2 === 0) await storage.close();
        else storage.crash();
      }
    });

    it("many concurrent writes are all durable and applied in call order", async () => {
      const storage = await open();
      const acknowledged: number[] = [];
      const writes = Array.from({ length: 300 }, (_, i) =>
        storage
          .write([put("documents", "last", i), put("cursors", `c${i % 7}`, i)])
          .then(() => acknowledged.push(i)),
      );
      await Promise.all(writes);
      expect(acknowledged).toEqual(Array.from({ length: 300 }, (_, i) => i));
      const check = async (s: Storage) => {
        expect((await s.loadStore("documents")).get("last")).toBe(299);
        const cursors = await s.loadStore("cursors");
        for (let k = 0; k < 7; k++) expect(cursors.get(`c${k}`)).toBe(299 - ((299 - k) % 7));
      };
      await check(storage);
      storage.crash();
      await check(await open());
    });

    if (traits.groupsConcurrentWrites) {
      it("concurrent writers share durability points (group commit)", async () => {
        const storage = await open();
        const writes = Array.from({ length: 100 }, (_, i) =>
          storage.write([put("documents", `g${i}`, i)]),
        );
        await Promise.all(writes);
        const stats = storage.stats();
        expect(stats.writes).toBe(100);
        expect(stats.syncs).toBeGreaterThan(0);
        expect(stats.syncs).toBeLessThan(stats.writes);
      });
    }

    it("an empty batch resolves after the writes before it", async () => {
      const storage = await open();
      const order: string[] = [];
      const a = storage.write([put("documents", "a", 1)]).then(() => order.push("a"));
      const empty = storage.write([]).then(() => order.push("empty"));
      await Promise.all([a, empty]);
      expect(order).toEqual(["a", "empty"]);
    });

    it("large values and large batches survive a restart", async () => {
      const storage = await open();
      const big = "x".repeat(2 * 1024 * 1024);
      const bytes = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
      const many = Array.from({ length: 10_000 }, (_, i) =>
        put("revisions", `r/${i}`, { i, body: "y".repeat(50) }),
      );
      await storage.write([put("documents", "big", { big }), put("attachments", "bin", bytes)]);
      await storage.write(many);
      storage.crash();
      const again = await open();
      expect(((await again.loadStore("documents")).get("big") as { big: string }).big).toBe(big);
      // A byte loop, because toEqual walks a megabyte of elements very slowly.
      const bin = (await again.loadStore("attachments")).get("bin");
      expect(bin).toBeInstanceOf(Uint8Array);
      expect(sameBytes(bin as Uint8Array, bytes)).toBe(true);
      const revisions = await again.loadStore("revisions");
      expect(revisions.size).toBe(10_000);
      expect(revisions.get("r/9999")).toEqual({ i: 9999, body: "y".repeat(50) });
    });

    it("a batch larger than batchBytesMax is refused with a message saying to split it", async () => {
      const storage = await open({ batchBytesMax: 1000, batchOperationsMax: 10 });
      const error = await rejection(storage.write([put("documents", "d", "z".repeat(2000))]));
      expect(isRookeryError(error, "StorageBatchTooLarge")).toBe(true);
      expect((error as Error).message).toMatch(/more than batchBytesMax \(1000\); split it/);
      const tooMany = Array.from({ length: 11 }, (_, i) => put("documents", `k${i}`, i));
      expect(isRookeryError(await rejection(storage.write(tooMany)), "StorageBatchTooLarge")).toBe(
        true,
      );
      const longKey = await rejection(storage.write([put("documents", "k".repeat(2000), 1)]));
      expect(isRookeryError(longKey, "InvalidStorageKey")).toBe(true);
      expect(plain(await storage.load())).toEqual({});
    });

    it("a closed storage refuses calls, and a storage cannot be opened twice at once", async () => {
      const storage = await open();
      const twice = await rejection(harness.open());
      expect(isRookeryError(twice, "StorageAlreadyOpen"), String(twice)).toBe(true);
      await storage.close();
      await storage.close();
      const write = await rejection(storage.write([put("documents", "k", 1)]));
      expect(isRookeryError(write, "StorageClosed")).toBe(true);
      expect((write as Error).message).toMatch(/open it again/);
      expect(isRookeryError(await rejection(storage.load()), "StorageClosed")).toBe(true);
      expect(isRookeryError(await rejection(storage.loadStore("documents")), "StorageClosed")).toBe(
        true,
      );
      await open();
    });

    it("writes rejected by a crash say so", async () => {
      const storage = await open();
      const pending = storage.write([put("documents", "k", 1)]);
      storage.crash();
      const outcome = await settle(pending);
      if (outcome === "rejected") {
        expect(isRookeryError(await rejection(pending), "StorageClosed")).toBe(true);
      }
      expect(isRookeryError(await rejection(storage.write([])), "StorageClosed")).toBe(true);
    });

    it("stats count acknowledged writes and operations", async () => {
      const storage = await open();
      await storage.write([put("documents", "a", 1), put("documents", "b", 2)]);
      await storage.write([del("documents", "a")]);
      const stats = storage.stats();
      expect(stats.writes).toBe(2);
      expect(stats.operations).toBe(3);
      expect(stats.bytes).toBeGreaterThan(0);
      expect(stats.syncs).toBeGreaterThanOrEqual(1);
    });
  });
}
