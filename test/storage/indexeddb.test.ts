import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import {
  deleteIndexedDbStorage,
  indexedDbName,
  openIndexedDbStorage,
} from "../../engine/storage/index.ts";
import type { StorageLimits, StorageOperation } from "../../engine/storage/index.ts";
import { plain, runStorageConformance } from "./conformance.ts";

// A fresh factory per test is a fresh browser profile: nothing leaks between tests.
runStorageConformance(
  "indexeddb (fake-indexeddb)",
  () => {
    const factory = new IDBFactory();
    return {
      open: (limits?: Partial<StorageLimits>) =>
        openIndexedDbStorage({ cluster: "book", server: "http://127.0.0.1:8080", factory, limits }),
      cleanup: async () => {},
    };
  },
  { groupsConcurrentWrites: true },
);

const put = (key: string, value: unknown): StorageOperation =>
  ({ store: "documents", op: "put", key, value }) as StorageOperation;

describe("indexeddb storage", () => {
  it("keeps one database per server, named after the cluster and the server", async () => {
    const factory = new IDBFactory();
    const a = await openIndexedDbStorage({ cluster: "book", server: "A", factory });
    const b = await openIndexedDbStorage({ cluster: "book", server: "B", factory });
    await a.write([put("users/1", { on: "A" })]);
    await b.write([put("users/1", { on: "B" })]);
    expect(a.name).toBe("rookery-book-A");
    expect(indexedDbName("book", "http://127.0.0.1:8080")).toBe(
      "rookery-book-http://127.0.0.1:8080",
    );
    const names = (await factory.databases()).map((d) => d.name).sort();
    expect(names).toEqual(["rookery-book-A", "rookery-book-B"]);
    expect(plain(await a.load())).toEqual({ documents: { "users/1": { on: "A" } } });
    expect(plain(await b.load())).toEqual({ documents: { "users/1": { on: "B" } } });
    await a.close();
    await b.close();
  });

  it("batches written together share one readwrite transaction", async () => {
    const factory = new IDBFactory();
    const storage = await openIndexedDbStorage({ cluster: "c", server: "A", factory });
    await Promise.all(Array.from({ length: 50 }, (_, i) => storage.write([put(`d${i}`, i)])));
    expect(storage.stats()).toMatchObject({ writes: 50, syncs: 1 });
    await storage.close();
  });

  it("a deleted database starts empty, and deleting one that is open closes it with a reason", async () => {
    const factory = new IDBFactory();
    const storage = await openIndexedDbStorage({ cluster: "c", server: "A", factory });
    await storage.write([put("d", 1)]);
    await deleteIndexedDbStorage("c", "A", factory);
    const error = await storage.write([put("e", 2)]).catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(/deleted or upgraded elsewhere; reopen it/);
    const fresh = await openIndexedDbStorage({ cluster: "c", server: "A", factory });
    expect(plain(await fresh.load())).toEqual({});
    await fresh.close();
  });
});
