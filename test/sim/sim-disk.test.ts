import { describe, expect, it } from "vitest";
import { isRookeryError, SeededRandom } from "../../engine/core/index.ts";
import { reliableStorage, SimDisk, Simulator } from "../../engine/runtime/sim/index.ts";
import type { StorageFaults } from "../../engine/runtime/sim/index.ts";
import type { StorageOperation, StorageWarning } from "../../engine/storage/index.ts";

const put = (key: string, value: number): StorageOperation => ({
  store: "documents",
  op: "put",
  key,
  value,
});

function world(faults: Partial<StorageFaults> = {}) {
  const sim = new Simulator(1);
  const disk = new SimDisk("A", sim, new SeededRandom(7), () => ({
    ...reliableStorage,
    ...faults,
  }));
  /** runs the simulator to `ms`, letting promise continuations run after every event. */
  const runTo = async (ms: number): Promise<void> => {
    while (sim.stepUntil(ms)) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { sim, disk, runTo };
}

describe("a simulated disk: the memory backend with fsyncs in virtual time", () => {
  it("writes of one instant share one fsync; a write issued during that fsync waits for the next one", async () => {
    const { sim, disk, runTo } = world({ fsyncMinMs: 1, fsyncMaxMs: 1 });
    const storage = disk.open();
    const acked: Record<string, number> = {};
    const track = (key: string) =>
      storage.write([put(key, 1)]).then(() => (acked[key] = sim.nowMs()));
    void track("a");
    void track("b");
    await runTo(0.5);
    expect(acked).toEqual({});
    void track("c");
    await runTo(5);
    expect(acked).toEqual({ a: 1, b: 1, c: 2 });
    expect(disk.stats.fsyncs).toBe(2);
    expect(storage.stats()).toMatchObject({ writes: 3, syncs: 2 });
  });

  it("a crash keeps what was synced and loses the rest; the next open recovers exactly that", async () => {
    const { disk, runTo } = world();
    const storage = disk.open();
    await Promise.all([storage.write([put("synced", 1)]), runTo(10)]);
    const lost = storage.write([put("unsynced", 2)]);
    let settled = false;
    void lost.then(
      () => (settled = true),
      () => (settled = true),
    );
    storage.crash();
    await runTo(20);
    const again = disk.open();
    expect(Object.fromEntries((await again.loadStore("documents")).entries())).toEqual({
      synced: 1,
    });
    expect(disk.durableValue("documents", "synced")).toBe(1);
    expect(disk.durableValue("documents", "unsynced")).toBeUndefined();
    // The crashed process hears nothing more about its write.
    expect(isRookeryError(await lost.catch((e: unknown) => e), "StorageClosed")).toBe(true);
    expect(settled).toBe(true);
  });

  it("a failing fsync fail-stops the storage with StorageFailed", async () => {
    const { disk, runTo } = world({ failRate: 1 });
    const storage = disk.open();
    const outcome = storage.write([put("a", 1)]).catch((e: unknown) => e);
    await runTo(10);
    const error = await outcome;
    expect(isRookeryError(error, "StorageFailed")).toBe(true);
    expect((error as Error).message).toMatch(/EIO.*simulated disk fault/);
    expect(disk.stats.failedFsyncs).toBe(1);
    expect(isRookeryError(await storage.write([]).catch((e: unknown) => e), "StorageFailed")).toBe(
      true,
    );
  });

  it("a slow fsync takes longer than a normal one", async () => {
    const { sim, disk, runTo } = world({ slowFsyncRate: 1, slowFsyncMaxMs: 200 });
    const storage = disk.open();
    let ackedAt = -1;
    void storage.write([put("a", 1)]).then(() => (ackedAt = sim.nowMs()));
    await runTo(500);
    expect(ackedAt).toBeGreaterThanOrEqual(reliableStorage.fsyncMaxMs);
    expect(disk.stats.slowFsyncs).toBe(1);
  });

  it("a crash may keep unsynced batches and tear the next one; the next open cuts it off and warns", async () => {
    const { disk } = world({ crashKeepRate: 0.5, tornTailRate: 1 });
    let kept = 0;
    const warnings: StorageWarning[] = [];
    // Over many crashes some keep a prefix of the unsynced batches, each whole, and tear the next.
    for (let round = 0; round < 20; round++) {
      const storage = disk.open();
      for (let k = 0; k < 4; k++) void storage.write([put(`r${round}-${k}`, k)]).catch(() => {});
      storage.crash();
      const reopened = disk.open((warning) => warnings.push(warning));
      const contents = await reopened.loadStore("documents");
      await reopened.close();
      const keys = [...contents.keys()].filter((key) => key.startsWith(`r${round}-`)).sort();
      expect(keys).toEqual([0, 1, 2, 3].slice(0, keys.length).map((k) => `r${round}-${k}`));
      kept += keys.length;
    }
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBe(disk.stats.keptUnsyncedBatches);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatchObject({ code: "torn-tail-cut", file: "A" });
  });
});
