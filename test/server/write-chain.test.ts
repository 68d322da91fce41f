import { describe, expect, it } from "vitest";
import type { ServerStorage, StorageWrite } from "../../engine/server/index.ts";
import { WriteChain } from "../../engine/server/write-chain.ts";
import { DiskNow } from "./parts.ts";

/** HeldDisk keeps every write waiting until released (or failed), in any order the test chooses. */
class HeldDisk implements ServerStorage {
  readonly handed: {
    batch: readonly StorageWrite[];
    release: () => void;
    refuse: (error: Error) => void;
  }[] = [];
  write(batch: readonly StorageWrite[]): Promise<void> {
    return new Promise((release, refuse) => this.handed.push({ batch, release, refuse }));
  }
  fail(index: number, error: Error): void {
    this.handed[index]!.refuse(error);
  }
  load(): ReadonlyMap<string, ReadonlyMap<string, unknown>> {
    return new Map();
  }
}

const put = (key: string): StorageWrite[] => [{ store: "s", op: "put", key, value: key }];
const url = "http://127.0.0.1:8080";
const unexpected = (error: unknown): void => {
  throw new Error(`no write should fail here: ${String(error)}`);
};
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe("the write chain (a server's ordered writes to storage)", () => {
  it("with synchronous storage, a write is done the moment it is made", () => {
    const disk = new DiskNow();
    const chain = new WriteChain(disk, url, unexpected);
    const done: string[] = [];
    chain.persist(put("a"), () => done.push("a"));
    expect(done).toEqual(["a"]);
    expect(disk.stores.get("s")?.get("a")).toBe("a");
    expect(chain.busy).toBe(false);
  });

  it("an empty write is done at once and never reaches storage", () => {
    const disk = new HeldDisk();
    const chain = new WriteChain(disk, url, unexpected);
    let done = false;
    chain.persist([], () => (done = true));
    expect(done).toBe(true);
    expect(disk.handed).toHaveLength(0);
  });

  it("an empty write is a barrier: done once every write handed over before is durable", async () => {
    const disk = new HeldDisk();
    const chain = new WriteChain(disk, url, unexpected);
    const done: string[] = [];
    chain.persist(put("a"), () => done.push("a"));
    chain.persist([], () => done.push("barrier"));
    await settle();
    expect(done).toEqual([]);
    expect(disk.handed).toHaveLength(1);
    disk.handed[0]!.release();
    await settle();
    expect(done).toEqual(["a", "barrier"]);
  });

  it("a write that fails stops the chain: nothing after it is done, the failure is told once, and persistAsync rejects", async () => {
    const disk = new HeldDisk();
    const failures: { error: unknown; keys: string[] }[] = [];
    const chain = new WriteChain(disk, url, (error, writes) =>
      failures.push({ error, keys: writes.map((write) => write.key) }),
    );
    const done: string[] = [];
    chain.persist(put("a"), () => done.push("a"));
    chain.persist(put("b"), () => done.push("b"));
    const c = chain.persistAsync(put("c")).catch((error: unknown) => error);
    chain.persist([], () => done.push("barrier"));
    // The disk fails the second write: the first completes, the rest never do.
    disk.handed[0]!.release();
    await settle();
    expect(done).toEqual(["a"]);
    const failing = new Error("EIO: i/o error");
    disk.fail(1, failing);
    disk.fail(2, failing);
    await settle();
    expect(done).toEqual(["a"]);
    expect(failures).toEqual([{ error: failing, keys: ["b"] }]);
    expect(await c).toBe(failing);
    expect(chain.busy).toBe(false);
    chain.persist(put("d"), () => done.push("d"));
    expect(disk.handed).toHaveLength(3);
    expect(done).toEqual(["a"]);
  });

  it("hands every write to storage at once, so one fsync can cover them all", () => {
    const disk = new HeldDisk();
    const chain = new WriteChain(disk, url, unexpected);
    chain.persist(put("a"), () => {});
    chain.persist(put("b"), () => {});
    chain.persist(put("c"), () => {});
    expect(disk.handed.map((h) => h.batch[0]!.key)).toEqual(["a", "b", "c"]);
    expect(chain.busy).toBe(true);
  });

  it("reports writes done in the order they were made, even when storage finishes them out of order", async () => {
    const disk = new HeldDisk();
    const chain = new WriteChain(disk, url, unexpected);
    const done: string[] = [];
    for (const key of ["a", "b", "c"]) chain.persist(put(key), () => done.push(key));
    disk.handed[2]!.release();
    disk.handed[1]!.release();
    await settle();
    expect(done).toEqual([]);
    disk.handed[0]!.release();
    await settle();
    expect(done).toEqual(["a", "b", "c"]);
    expect(chain.busy).toBe(false);
  });

  it("persistAsync resolves once its write is durable", async () => {
    const disk = new HeldDisk();
    const chain = new WriteChain(disk, url, unexpected);
    let durable = false;
    const written = chain.persistAsync(put("a")).then(() => (durable = true));
    await settle();
    expect(durable).toBe(false);
    disk.handed[0]!.release();
    await written;
    expect(durable).toBe(true);
  });
});
