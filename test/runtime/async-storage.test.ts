import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../engine/core/index.ts";
import { Server } from "../../engine/server/index.ts";
import type { ServerStorage, StorageWrite } from "../../engine/server/index.ts";

/**
 * A server on storage whose writes become durable later (fs, IndexedDB) must accept cluster
 * operations while its Raft node is still persisting: the worker runtime's first real storage
 * found that a proposal made during a write was refused ("bootstrap proposal refused").
 */
class SlowStorage implements ServerStorage {
  readonly stores = new Map<string, Map<string, unknown>>();
  write(batch: readonly StorageWrite[]): Promise<void> {
    return new Promise((resolve) =>
      setTimeout(() => {
        for (const w of batch) {
          let store = this.stores.get(w.store);
          if (!store) this.stores.set(w.store, (store = new Map()));
          if (w.op === "put") store.set(w.key, structuredClone(w.value));
          else store.delete(w.key);
        }
        resolve();
      }, 2),
    );
  }
  load(): Promise<ReadonlyMap<string, ReadonlyMap<string, unknown>>> {
    return Promise.resolve(new Map());
  }
}

describe("a server on asynchronous storage", () => {
  it("bootstraps and runs cluster operations while Raft writes are in flight", async () => {
    const clock = { nowMs: () => performance.now() };
    const server = await Server.start({
      url: "http://127.0.0.1:8080",
      storage: new SlowStorage(),
      transport: { send: () => {} },
      clock,
      random: new SeededRandom(1),
      timing: { tickMs: 2 },
    });
    const timer = setInterval(() => server.tick(), 2);
    try {
      const created = await server.handleRequest({ type: "create-database", name: "Spade" });
      expect(created).toMatchObject({ ok: true });
      const second = await server.handleRequest({ type: "create-database", name: "Pitchfork" });
      expect(second.ok).toBe(true);
      expect(server.tag).toBe("A");
      expect(server.hostedDatabaseNames().sort()).toEqual(["Pitchfork", "Spade"]);
    } finally {
      clearInterval(timer);
    }
  });
});

/**
 * HeldStorage keeps writes waiting until flush(), like a disk whose fsync is slow: what a server
 * hands over meanwhile is what one group commit could cover.
 */
class HeldStorage extends SlowStorage {
  holding = false;
  readonly held: { batch: readonly StorageWrite[]; resolve: () => void }[] = [];
  override write(batch: readonly StorageWrite[]): Promise<void> {
    if (!this.holding) return super.write(batch);
    return new Promise((resolve) => this.held.push({ batch, resolve }));
  }
  flush(): void {
    for (const { resolve } of this.held.splice(0)) resolve();
  }
}

describe("a server's writes to asynchronous storage", () => {
  it("are handed over at once, so concurrent transactions can share one fsync, and are acknowledged in order", async () => {
    const storage = new HeldStorage();
    const server = await Server.start({
      url: "http://127.0.0.1:8080",
      storage,
      transport: { send: () => {} },
      clock: { nowMs: () => performance.now() },
      random: new SeededRandom(1),
      timing: { tickMs: 2 },
    });
    const timer = setInterval(() => server.tick(), 2);
    try {
      expect((await server.handleRequest({ type: "create-database", name: "Spade" })).ok).toBe(
        true,
      );
      clearInterval(timer);
      storage.holding = true;
      const answered: number[] = [];
      const writes = Array.from({ length: 8 }, (_, k) =>
        server
          .handleRequest({
            type: "batch",
            database: "Spade",
            transaction: { puts: [{ id: `users/${k}`, body: { k } }] },
          })
          .then((response) => {
            expect(response.ok).toBe(true);
            answered.push(k);
          }),
      );
      await new Promise((resolve) => setImmediate(resolve));
      // All eight transactions wait on the disk together; none was acknowledged before it.
      expect(storage.held).toHaveLength(8);
      expect(answered).toEqual([]);
      storage.flush();
      await Promise.all(writes);
      expect(answered).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      clearInterval(timer);
    }
  });
});
