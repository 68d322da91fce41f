import { describe, expect, it } from "vitest";
import { isRookeryError } from "../../engine/core/index.ts";
import { MemoryDisk, openMemoryStorage } from "../../engine/storage/index.ts";
import type { MemorySyncMode, StorageOperation } from "../../engine/storage/index.ts";
import { plain, runStorageConformance } from "./conformance.ts";

function harness(sync: MemorySyncMode) {
  return () => {
    const disk = new MemoryDisk("server-A");
    return {
      open: async (limits?: object) => openMemoryStorage({ disk, sync, limits }),
      cleanup: async () => {},
    };
  };
}

runStorageConformance("memory, durable at once", harness("immediate"), {
  groupsConcurrentWrites: false,
});
runStorageConformance("memory, synced once per job", harness("microtask"), {
  groupsConcurrentWrites: true,
});

const put = (key: string, value: number): StorageOperation => ({
  store: "documents",
  op: "put",
  key,
  value,
});

describe("memory storage under the simulator's control", () => {
  it("a write in manual mode is acknowledged only when the caller syncs", async () => {
    const storage = openMemoryStorage({ sync: "manual" });
    let acknowledged = false;
    const done = storage.write([put("a", 1)]).then(() => (acknowledged = true));
    await Promise.resolve();
    expect(acknowledged).toBe(false);
    expect(storage.pendingBatches).toBe(1);
    // A read sees the write already, as a page cache would.
    expect((await storage.loadStore("documents")).get("a")).toBe(1);
    expect(storage.sync()).toBe(1);
    await done;
    expect(acknowledged).toBe(true);
    expect(storage.stats()).toMatchObject({ writes: 1, syncs: 1 });
  });

  it("a crash drops unsynced writes only, and rejects them", async () => {
    const disk = new MemoryDisk("A");
    const storage = openMemoryStorage({ disk, sync: "manual" });
    const synced = storage.write([put("kept", 1)]);
    storage.sync();
    await synced;
    const lost = storage.write([put("lost", 2)]);
    storage.crash();
    const error = await lost.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isRookeryError(error, "StorageClosed")).toBe(true);
    const again = openMemoryStorage({ disk, sync: "manual" });
    expect(plain(await again.load())).toEqual({ documents: { kept: 1 } });
  });

  it("a crash may keep a prefix of unsynced batches, each whole, in order", async () => {
    const disk = new MemoryDisk("A");
    const storage = openMemoryStorage({ disk, sync: "manual" });
    const writes = [1, 2, 3].map((n) =>
      storage.write([put(`x${n}`, n), put(`y${n}`, n)]).catch(() => "rejected"),
    );
    storage.crash({ keepUnsyncedBatches: 2 });
    // None was acknowledged, even the kept ones: the process died before hearing back.
    expect(await Promise.all(writes)).toEqual(["rejected", "rejected", "rejected"]);
    const again = openMemoryStorage({ disk });
    expect(plain(await again.load())).toEqual({ documents: { x1: 1, y1: 1, x2: 2, y2: 2 } });
    expect(disk.syncedBatches).toBe(2);
  });

  it("microtask mode shares one sync among the writes of one synchronous run", async () => {
    const storage = openMemoryStorage({ sync: "microtask" });
    await Promise.all([
      storage.write([put("a", 1)]),
      storage.write([put("b", 2)]),
      storage.write([put("c", 3)]),
    ]);
    await storage.write([put("d", 4)]);
    expect(storage.stats()).toMatchObject({ writes: 4, syncs: 2 });
  });

  it("a disk that lies about sync loses acknowledged writes on a crash (fault injection)", async () => {
    const disk = new MemoryDisk("liar");
    const storage = openMemoryStorage({ disk, sync: "manual", unsafeAcknowledgeBeforeSync: true });
    await storage.write([put("acknowledged", 1)]);
    storage.crash();
    expect(plain(await openMemoryStorage({ disk }).load())).toEqual({});
  });

  it("a write past queueBytesMax is refused until earlier writes sync", async () => {
    const storage = openMemoryStorage({ sync: "manual", limits: { queueBytesMax: 100 } });
    const first = storage.write([put("a", 1)]);
    const error = await storage
      .write([{ store: "documents", op: "put", key: "b", value: "x".repeat(200) }])
      .catch((e: unknown) => e);
    expect(isRookeryError(error, "StorageOverloaded")).toBe(true);
    storage.sync();
    await first;
  });

  it("a sync takes the group an fsync started with; later writes wait for the next one", async () => {
    const storage = openMemoryStorage({ sync: "manual" });
    const order: string[] = [];
    const first = storage.write([put("a", 1)]).then(() => order.push("a"));
    const second = storage.write([put("b", 2)]).then(() => order.push("b"));
    const group = storage.pendingBatches;
    const late = storage.write([put("c", 3)]).then(() => order.push("c"));
    expect(storage.sync(group)).toBe(2);
    await Promise.all([first, second]);
    expect(order).toEqual(["a", "b"]);
    expect(storage.pendingBatches).toBe(1);
    expect(storage.sync()).toBe(1);
    await late;
    expect(storage.stats()).toMatchObject({ writes: 3, syncs: 2 });
  });

  it("a failed write stops the storage like fs after an I/O error: pending writes fail, later calls are refused, a reopen recovers what was synced", async () => {
    const disk = new MemoryDisk("A");
    const storage = openMemoryStorage({ disk, sync: "manual" });
    const kept = storage.write([put("kept", 1)]);
    storage.sync();
    await kept;
    const pending = storage.write([put("lost", 2)]).catch((e: unknown) => e);
    const failure = storage.fail("EIO: i/o error, fdatasync");
    expect(failure.code).toBe("StorageFailed");
    expect(failure.message).toMatch(/could not write to the memory disk "A": EIO.*open it again/);
    expect(await pending).toBe(failure);
    expect(storage.failed).toBe(failure);
    expect(await storage.write([put("after", 3)]).catch((e: unknown) => e)).toBe(failure);
    expect(await storage.load().catch((e: unknown) => e)).toBe(failure);
    expect(await storage.close().catch((e: unknown) => e)).toBe(failure);
    expect(plain(await openMemoryStorage({ disk }).load())).toEqual({ documents: { kept: 1 } });
  });

  it("a crash can tear the batch after the kept ones; the next open cuts it off and says so", async () => {
    const disk = new MemoryDisk("A");
    const storage = openMemoryStorage({ disk, sync: "manual" });
    for (const n of [1, 2, 3]) void storage.write([put(`x${n}`, n)]).catch(() => {});
    storage.crash({ keepUnsyncedBatches: 1, tornTail: true });
    const warnings: unknown[] = [];
    const again = openMemoryStorage({ disk, onWarning: (warning) => warnings.push(warning) });
    expect(plain(await again.load())).toEqual({ documents: { x1: 1 } });
    expect(warnings).toEqual([
      expect.objectContaining({ code: "torn-tail-cut", file: "A", offset: 1 }),
    ]);
    again.crash();
    const warned: unknown[] = [];
    openMemoryStorage({ disk, onWarning: (warning) => warned.push(warning) });
    expect(warned).toEqual([]);
  });

  it("the same writes and crashes give the same disk, run after run", async () => {
    const run = async () => {
      const disk = new MemoryDisk("A");
      let storage = openMemoryStorage({ disk, sync: "manual" });
      for (let i = 0; i < 30; i++) {
        void storage.write([put(`k${i % 5}`, i)]).catch(() => {});
        if (i % 4 === 0) storage.sync();
        if (i % 7 === 0) {
          storage.crash({ keepUnsyncedBatches: i % 2 });
          storage = openMemoryStorage({ disk, sync: "manual" });
        }
      }
      storage.crash();
      return plain(await openMemoryStorage({ disk }).load());
    };
    expect(await run()).toEqual(await run());
  });
});

describe("a declared schema", () => {
  interface RaftSchema {
    "raft-log": { term: number; data: string };
    "raft-state": { term: number; vote: string | null; commit: number };
  }

  it("types each store's values for writes and loads", async () => {
    const storage = openMemoryStorage<RaftSchema>();
    await storage.write([
      { store: "raft-log", op: "put", key: "00000001", value: { term: 1, data: "x" } },
      { store: "raft-state", op: "put", key: "hard", value: { term: 1, vote: "A", commit: 1 } },
    ]);
    const wrong = storage.write([
      // @ts-expect-error a raft-state value needs vote and commit
      { store: "raft-state", op: "put", key: "hard", value: { term: 2 } },
    ]);
    await wrong;
    // @ts-expect-error there is no such store in the schema
    await storage.write([{ store: "documents", op: "delete", key: "x" }]).catch(() => {});
    const log: Map<string, { term: number; data: string }> = await storage.loadStore("raft-log");
    expect(log.get("00000001")?.term).toBe(1);
  });
});
