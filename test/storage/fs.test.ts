import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SeededRandom, isRookeryError } from "../../engine/core/index.ts";
import { logFileName, openFsStorage } from "../../engine/storage/node.ts";
import type {
  FsStorage,
  FsStorageOptions,
  StorageLimits,
  StorageOperation,
  StorageWarning,
} from "../../engine/storage/node.ts";
import { plain, runStorageConformance } from "./conformance.ts";

function tempFolder(): string {
  return mkdtempSync(join(tmpdir(), "rookery-storage-"));
}

runStorageConformance(
  "fs",
  () => {
    const root = tempFolder();
    const dir = join(root, "Data", "1");
    return {
      open: (limits?: Partial<StorageLimits>) =>
        openFsStorage({ dir, limits, onWarning: () => {} }),
      cleanup: async () => rmSync(root, { recursive: true, force: true }),
    };
  },
  { groupsConcurrentWrites: true },
);

const put = (key: string, value: unknown): StorageOperation =>
  ({ store: "documents", op: "put", key, value }) as StorageOperation;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the promise to reject");
}

describe("fs storage: recovery, compaction, group commit", () => {
  let root: string;
  let dir: string;
  let file: string;
  let warnings: StorageWarning[];
  const open: FsStorage[] = [];

  const openHere = async (options: Partial<FsStorageOptions> = {}): Promise<FsStorage> => {
    const storage = await openFsStorage({ dir, onWarning: (w) => warnings.push(w), ...options });
    open.push(storage);
    return storage;
  };

  /** writeRecords writes n one-key batches and closes, returning each record's end offset. */
  const writeRecords = async (n: number): Promise<number[]> => {
    const storage = await openHere();
    const ends: number[] = [];
    for (let i = 0; i < n; i++) {
      await storage.write([put(`users/${i}`, { name: `user ${i}`, i })]);
      ends.push(storage.logBytes);
    }
    await storage.close();
    return ends;
  };

  beforeEach(() => {
    root = tempFolder();
    dir = join(root, "Data", "1");
    file = join(dir, logFileName);
    warnings = [];
  });
  afterEach(() => {
    for (const storage of open.splice(0)) storage.crash();
    rmSync(root, { recursive: true, force: true });
  });

  it("keeps one folder per server with one log file in it", async () => {
    await writeRecords(2);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file).subarray(0, 8).toString()).toBe("RKYLOG01");
  });

  it("a torn last record is cut off and said, and everything before it is kept", async () => {
    const ends = await writeRecords(5);
    const size = statSync(file).size;
    // A crash in the middle of appending record 6: its first half reached the disk.
    const storage = await openHere();
    await storage.write([put("users/5", { name: "torn" })]);
    await storage.close();
    const tornAt = ends[4]!;
    truncateSync(file, tornAt + Math.floor((statSync(file).size - tornAt) / 2));
    const reopened = await openHere();
    expect(warnings).toHaveLength(1);
    const [warning] = warnings;
    expect(warning).toMatchObject({ code: "torn-tail-cut", file: reopened.file, offset: size });
    expect(warning!.message).toBe(
      `cut ${warning!.bytes} bytes of torn tail at offset ${size} in ${reopened.file}: the last ` +
        "record was incomplete (a crash while it was written, so it was never acknowledged); the " +
        "5 records before it are kept",
    );
    expect(reopened.recovery).toMatchObject({
      records: 5,
      bytes: size,
      tornTail: { offset: size },
    });
    expect(statSync(file).size).toBe(size);
    const documents = await reopened.loadStore("documents");
    expect([...documents.keys()]).toEqual(["users/0", "users/1", "users/2", "users/3", "users/4"]);
    // Writing goes on after the cut, and the next start is clean.
    await reopened.write([put("users/6", { name: "after" })]);
    await reopened.close();
    const third = await openHere();
    expect(warnings).toHaveLength(1);
    expect((await third.loadStore("documents")).get("users/6")).toEqual({ name: "after" });
  });

  it("garbage appended after the last record is cut off and said", async () => {
    await writeRecords(3);
    const size = statSync(file).size;
    appendFileSync(file, Buffer.from("half a record of garbage \x00\x01\x02"));
    const storage = await openHere();
    expect(warnings.map((w) => [w.offset, w.bytes])).toEqual([[size, 28]]);
    expect((await storage.loadStore("documents")).size).toBe(3);
  });

  it("a tail of zeros (file grown, data never written) is cut off as torn", async () => {
    await writeRecords(3);
    const size = statSync(file).size;
    appendFileSync(file, Buffer.alloc(4096));
    const storage = await openHere();
    expect(warnings.map((w) => [w.offset, w.bytes])).toEqual([[size, 4096]]);
    expect((await storage.loadStore("documents")).size).toBe(3);
  });

  it("a record cut inside its header is cut off as torn", async () => {
    const ends = await writeRecords(3);
    truncateSync(file, ends[1]! + 5);
    const storage = await openHere();
    expect(warnings.map((w) => [w.offset, w.bytes])).toEqual([[ends[1], 5]]);
    expect((await storage.loadStore("documents")).size).toBe(2);
  });

  it("a corrupt record in the middle stops the start with the file and offset", async () => {
    const ends = await writeRecords(5);
    const before = readFileSync(file);
    const damaged = Buffer.from(before);
    const recordStart = ends[1]!; // record 3 starts where record 2 ends
    damaged[recordStart + 20] = damaged[recordStart + 20]! ^ 0x40; // a flipped bit in its payload
    writeFileSync(file, damaged);
    const error = await rejection(openHere());
    expect(isRookeryError(error, "StorageCorrupt"), String(error)).toBe(true);
    expect(error.message).toContain(
      `the storage log ${join(dir, logFileName)} is corrupt at byte offset ${recordStart}`,
    );
    expect(error.message).toContain("checksum does not match");
    expect(error.message).toContain(`a valid record follows at byte ${ends[2]}`);
    expect(error.message).toMatch(/Restore .* from a backup, or move .* aside/);
    // Starting empty makes it a new server: its old node must be removed and it added again.
    expect(error.message).toContain("remove that node from the cluster and add this server again");
    expect((error as unknown as { details: object }).details).toMatchObject({
      offset: recordStart,
      recordsBefore: 2,
    });
    // Nothing was cut or rewritten: the operator gets the file as it was.
    expect(readFileSync(file).equals(damaged)).toBe(true);
    expect(warnings).toEqual([]);
    // And the folder is free for a retry once the file is fixed.
    writeFileSync(file, before);
    expect((await (await openHere()).loadStore("documents")).size).toBe(5);
  });

  it("a damaged length in the middle is corruption, not a torn tail", async () => {
    const ends = await writeRecords(4);
    const damaged = readFileSync(file);
    damaged.writeUInt32LE(500_000, ends[0]! + 4); // record 2 now claims to run past the end
    writeFileSync(file, damaged);
    const error = await rejection(openHere());
    expect(isRookeryError(error, "StorageCorrupt")).toBe(true);
    expect(error.message).toContain(`corrupt at byte offset ${ends[0]}`);
  });

  it("a log written with a larger batch limit still opens under a smaller one", async () => {
    const storage = await openHere();
    await storage.write([put("big", "b".repeat(5000))]);
    await storage.close();
    const again = await openHere({ limits: { batchBytesMax: 1000 } });
    expect(warnings).toEqual([]);
    expect((await again.loadStore("documents")).get("big")).toBe("b".repeat(5000));
  });

  it("a file that is not a Rookery log is refused, not overwritten", async () => {
    await writeRecords(1);
    writeFileSync(file, "hello, I am somebody's notes\n");
    const error = await rejection(openHere());
    expect(isRookeryError(error, "StorageUnknownFormat")).toBe(true);
    expect(error.message).toContain(file);
    expect(readFileSync(file, "utf8")).toBe("hello, I am somebody's notes\n");
  });

  it("compaction then reopen gives the same state in a smaller file", async () => {
    const storage = await openHere({ autoCompact: false });
    for (let round = 0; round < 20; round++) {
      await storage.write(
        Array.from({ length: 10 }, (_, i) => put(`users/${i}`, { round, pad: "p".repeat(100) })),
      );
    }
    await storage.write([
      { store: "documents", op: "delete", key: "users/9" },
      { store: "meta", op: "put", key: "m", value: new Uint8Array([7]) },
    ]);
    const before = plain(await storage.load());
    const sizeBefore = storage.logBytes;
    const report = await storage.compact();
    expect(report.bytesBefore).toBe(sizeBefore);
    expect(report.bytesAfter).toBe(storage.logBytes);
    expect(report.bytesAfter).toBeLessThan(sizeBefore / 10);
    expect(statSync(file).size).toBe(report.bytesAfter);
    expect(plain(await storage.load())).toEqual(before);
    await storage.write([put("after", 1)]);
    storage.crash();
    const again = await openHere();
    expect(plain(await again.load())).toEqual({
      ...before,
      documents: { ...before["documents"], after: 1 },
    });
    expect(existsSync(file + ".compacting")).toBe(false);
  });

  it("writes queued around a compaction all land, in order", async () => {
    const storage = await openHere({ autoCompact: false });
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) writes.push(storage.write([put("k", i), put(`k${i}`, i)]));
    writes.push(storage.compact());
    for (let i = 30; i < 60; i++) writes.push(storage.write([put("k", i), put(`k${i}`, i)]));
    await Promise.all(writes);
    storage.crash();
    const documents = await (await openHere()).loadStore("documents");
    expect(documents.get("k")).toBe(59);
    expect(documents.size).toBe(61);
  });

  it("compaction runs by itself once the log is twice the live data", async () => {
    const storage = await openHere({ autoCompact: { logBytesMin: 20_000, growthRatio: 2 } });
    for (let i = 0; i < 200; i++) await storage.write([put("same", { i, pad: "q".repeat(200) })]);
    await storage.whenIdle(); // compaction runs alongside the writes; wait for the last one
    expect(storage.stats().syncs).toBeGreaterThan(200); // two compactions, one fsync each
    expect(storage.logBytes).toBeLessThan(20_000 + 400);
    storage.crash();
    expect((await (await openHere()).loadStore("documents")).get("same")).toMatchObject({ i: 199 });
  });

  it("a log that is all live data is not compacted, however large", async () => {
    const storage = await openHere({ autoCompact: { logBytesMin: 20_000, growthRatio: 2 } });
    for (let i = 0; i < 200; i++) await storage.write([put(`k${i}`, { i, pad: "q".repeat(200) })]);
    await storage.whenIdle();
    expect(storage.stats().syncs).toBe(200);
    expect(storage.logBytes).toBeGreaterThan(50_000);
  });

  it("a log that is all live data under non-ASCII or escaped keys is not compacted either", async () => {
    // The live size must count a key's bytes as the log holds them (UTF-8, JSON escapes), or a
    // log of long such keys looks twice its live data even right after a compaction.
    const storage = await openHere({ autoCompact: { logBytesMin: 20_000, growthRatio: 2 } });
    for (let i = 0; i < 150; i++) {
      await storage.write([put(`${"文".repeat(50)}${i}`, i), put(`${"\u0001".repeat(40)}${i}`, i)]);
    }
    await storage.whenIdle();
    expect(storage.logBytes).toBeGreaterThan(40_000);
    expect(storage.stats().syncs).toBe(150);
  });

  it("writes, overwrites and deletes made while compaction runs all land, and survive a crash", async () => {
    // Small read steps make compaction take many turns, so writes interleave with every stage.
    const storage = await openHere({ autoCompact: false, compactReadBytes: 512 });
    const random = new SeededRandom(11);
    const model = new Map<string, unknown>();
    const apply = async (round: number, steps: number) => {
      for (let step = 0; step < steps; step++) {
        const key = `k${random.int(40)}`;
        if (random.chance(0.25)) {
          await storage.write([{ store: "documents", op: "delete", key }]);
          model.delete(key);
        } else {
          const value = { round, step, pad: "é".repeat(random.int(300)) };
          await storage.write([put(key, value)]);
          model.set(key, value);
        }
      }
    };
    for (let round = 0; round < 6; round++) {
      await apply(round, 60);
      const compacted = storage.compact();
      let done = false;
      void compacted.then(() => (done = true));
      for (let step = 0; !done && step < 2000; step++) await apply(round, 1);
      await compacted;
      expect(Object.fromEntries(await storage.loadStore("documents"))).toEqual(
        Object.fromEntries(model),
      );
    }
    storage.crash();
    const reopened = await openHere();
    expect(Object.fromEntries(await reopened.loadStore("documents"))).toEqual(
      Object.fromEntries(model),
    );
    // And once more, compacting the reopened log.
    await reopened.compact();
    reopened.crash();
    expect(Object.fromEntries(await (await openHere()).loadStore("documents"))).toEqual(
      Object.fromEntries(model),
    );
  });

  it("a key that starts with U+FEFF keeps it through compaction and reopen, apart from the key without it", async () => {
    // TextDecoder drops a leading byte order mark unless told not to; a key is data, not a stream.
    const storage = await openHere({ autoCompact: false });
    await storage.write([put("\ufeffbom", 1), put("bom", 2), put("\ufeff", 3)]);
    const expected = { "\ufeffbom": 1, bom: 2, "\ufeff": 3 };
    expect(Object.fromEntries(await storage.loadStore("documents"))).toEqual(expected);
    await storage.compact();
    expect(Object.fromEntries(await storage.loadStore("documents"))).toEqual(expected);
    storage.crash();
    expect(Object.fromEntries(await (await openHere()).loadStore("documents"))).toEqual(expected);
  });

  it("a record larger than compaction's read step is copied whole", async () => {
    const storage = await openHere({ autoCompact: false, compactReadBytes: 256 });
    const big = "b".repeat(5000);
    await storage.write([put("big", big), put("small", 1)]);
    await storage.write([put("small", 2)]);
    await storage.compact();
    storage.crash();
    expect(plain(await (await openHere()).load())).toEqual({ documents: { big, small: 2 } });
  });

  it("a crash while compaction runs leaves the old log or the new one, each complete", async () => {
    let crashedAfterSwap = 0;
    for (let stage = 0; stage < 40; stage++) {
      const here = join(root, `stage${stage}`);
      const storage = await openFsStorage({ dir: here, autoCompact: false, compactReadBytes: 600 });
      open.push(storage);
      for (let i = 0; i < 30; i++) await storage.write([put(`k${i % 10}`, { stage, i })]);
      let swapped = false;
      void storage.compact().then(
        () => (swapped = true),
        () => {},
      );
      // Compaction's steps run on the thread pool; give it `stage` round trips there, then crash.
      for (let trip = 0; trip < stage; trip++) await stat(here);
      if (swapped) crashedAfterSwap++;
      storage.crash();
      const reopened = await openFsStorage({ dir: here });
      open.push(reopened);
      const documents = await reopened.loadStore("documents");
      expect(documents.size).toBe(10);
      for (let k = 0; k < 10; k++) expect(documents.get(`k${k}`)).toEqual({ stage, i: 20 + k });
      expect(existsSync(join(here, `${logFileName}.compacting`))).toBe(false);
      await reopened.close();
    }
    expect(crashedAfterSwap).toBeGreaterThan(0);
    expect(crashedAfterSwap).toBeLessThan(40);
  });

  it("a compaction that never got renamed in is ignored and removed", async () => {
    await writeRecords(2);
    writeFileSync(file + ".compacting", "half-written compaction");
    const storage = await openHere();
    expect((await storage.loadStore("documents")).size).toBe(2);
    expect(existsSync(file + ".compacting")).toBe(false);
  });

  it("concurrent writes share one fsync (group commit), and say how many", async () => {
    const storage = await openHere();
    await Promise.all(Array.from({ length: 200 }, (_, i) => storage.write([put(`g${i}`, i)])));
    expect(storage.stats()).toMatchObject({ writes: 200, syncs: 1 });
    await storage.write([put("alone", 1)]);
    expect(storage.stats().syncs).toBe(2);
  });

  it("a group written on the thread pool is acknowledged in order and keeps later writes whole", async () => {
    const storage = await openHere({ syncGroupBytesMax: 0 });
    const order: number[] = [];
    const writes = Array.from({ length: 50 }, (_, i) =>
      storage.write([put(`p${i}`, i), put("last", i)]).then(() => order.push(i)),
    );
    await Promise.all(writes);
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await storage.write([put("after", 1)]);
    storage.crash();
    const documents = await (await openHere()).loadStore("documents");
    expect(documents.get("last")).toBe(49);
    expect(documents.get("after")).toBe(1);
  });

  it("a crash with a group on the thread pool loses it whole or keeps it whole, and reopens cleanly", async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const storage = await openHere({ syncGroupBytesMax: 0 });
      await storage.write([put("base", attempt)]);
      const inFlight = storage.write([
        put(`a${attempt}`, 1),
        put(`b${attempt}`, "x".repeat(50_000)),
      ]);
      void inFlight.catch(() => {});
      await new Promise((resolve) => setImmediate(resolve)); // the group is now on the pool
      storage.crash();
      const error = await rejection(inFlight);
      expect(isRookeryError(error, "StorageClosed")).toBe(true);
      // The reopen waits for the dead storage's write to land (or not), never racing it.
      const reopened = await openHere();
      const documents = await reopened.loadStore("documents");
      expect(documents.get("base")).toBe(attempt);
      expect(documents.has(`a${attempt}`)).toBe(documents.has(`b${attempt}`));
      await reopened.write([put("after", attempt)]);
      await reopened.close();
      expect((await (await openHere()).loadStore("documents")).get("after")).toBe(attempt);
      open.splice(0).forEach((s) => s.crash());
    }
  });

  it("close waits for a group on the thread pool and leaves no file open", async () => {
    const fds = () => (existsSync("/proc/self/fd") ? readdirSync("/proc/self/fd").length : 0);
    const before = fds();
    const storage = await openHere({ syncGroupBytesMax: 0 });
    const writes = Array.from({ length: 20 }, (_, i) =>
      storage.write([put(`c${i}`, "z".repeat(10_000))]),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await storage.close();
    await Promise.all(writes);
    expect(fds()).toBe(before);
    expect((await (await openHere()).loadStore("documents")).size).toBe(20);
  });

  it("close lets a running compaction finish and leaves no file open", async () => {
    const fds = () => (existsSync("/proc/self/fd") ? readdirSync("/proc/self/fd").length : 0);
    const before = fds();
    const storage = await openHere({ autoCompact: false, compactReadBytes: 300 });
    for (let i = 0; i < 30; i++) await storage.write([put(`k${i % 5}`, i)]);
    const compacted = storage.compact();
    await storage.close();
    expect((await compacted).bytesAfter).toBeLessThan((await compacted).bytesBefore);
    expect(fds()).toBe(before);
    expect(existsSync(file + ".compacting")).toBe(false);
    expect((await (await openHere()).loadStore("documents")).get("k4")).toBe(29);
  });

  it("a log written in the older one-line layout is read and rewritten in the line layout", async () => {
    // Two records as the previous version wrote them: [[store, key, value?], …] on one line.
    mkdirSync(dir, { recursive: true });
    const record = (payload: string): Buffer => {
      const body = Buffer.from(payload, "utf8");
      const head = Buffer.alloc(12);
      head.writeUInt32LE(0x4b52feff, 0);
      head.writeUInt32LE(body.length, 4);
      head.writeUInt32LE(crc32(body, crc32(head.subarray(4, 8))), 8);
      return Buffer.concat([head, body]);
    };
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from("RKYLOG01"),
        record('[["documents","users/1",{"name":"Oren"}],["documents","users/2",{"name":"x"}]]'),
        record('[["documents","users/2"],["meta","m",{"\\u0000":"u8","b":"Bw=="}]]'),
      ]),
    );
    const storage = await openHere();
    expect(storage.recovery).toMatchObject({ records: 2, rewritten: true, tornTail: null });
    const expected = {
      documents: { "users/1": { name: "Oren" } },
      meta: { m: new Uint8Array([7]) },
    };
    expect(plain(await storage.load())).toEqual(expected);
    expect(readFileSync(file).toString("utf8")).toContain(
      '[\n["documents","users/1",{"name":"Oren"}]',
    );
    await storage.write([put("users/3", 3)]);
    storage.crash();
    const again = await openHere();
    expect(again.recovery.rewritten).toBe(false);
    expect(plain(await again.load())).toEqual({
      ...expected,
      documents: { ...expected.documents, "users/3": 3 },
    });
  });

  it("a group commit window gathers writes issued over several turns", async () => {
    const storage = await openHere({ groupCommitWindowMs: 100 });
    const first = storage.write([put("a", 1)]);
    await new Promise((resolve) => setImmediate(resolve));
    const second = storage.write([put("b", 2)]);
    await Promise.all([first, second]);
    expect(storage.stats()).toMatchObject({ writes: 2, syncs: 1 });
  });

  it("a data folder that is a file is refused with a clear error", async () => {
    writeFileSync(join(root, "file"), "x");
    const error = await rejection(openFsStorage({ dir: join(root, "file") }));
    expect(isRookeryError(error, "StorageNotDirectory")).toBe(true);
    expect(error.message).toMatch(/is not a directory .*point dataDir at a folder/);
    const below = await rejection(openFsStorage({ dir: join(root, "file", "Data") }));
    expect(isRookeryError(below, "StorageNotDirectory"), String(below)).toBe(true);
  });

  it("a data folder that is not writable is refused with a clear error", async () => {
    // Root may write anywhere permissions say no, so as root use a folder the kernel refuses.
    const asRoot = process.getuid?.() === 0;
    const readOnly = asRoot ? "/proc/sys/kernel" : join(root, "readonly");
    if (!asRoot) mkdirSync(readOnly, { mode: 0o500 });
    const error = await rejection(openFsStorage({ dir: readOnly }));
    expect(isRookeryError(error, "StorageNotWritable"), String(error)).toBe(true);
    expect(error.message).toMatch(/is not writable .*give this process write permission/);
  });
});
