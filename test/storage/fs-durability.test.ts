/**
 * What the fs backend asks the disk to make durable, seen through a recording node:fs: a crash
 * cannot show a missing fsync (the page cache keeps what a killed process wrote), so these tests
 * look at the fsync calls themselves.
 */
import { copyFileSync, mkdtempSync, realpathSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { logFileName, openFsStorage } from "../../engine/storage/node.ts";
import type { StorageOperation } from "../../engine/storage/node.ts";

const recorded = vi.hoisted(() => ({ synced: [] as string[] }));

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const paths = new Map<number, string>();
  const openSync = (...args: Parameters<typeof fs.openSync>): number => {
    const fd = fs.openSync(...args);
    paths.set(fd, String(args[0]));
    return fd;
  };
  const fsyncSync = (fd: number): void => {
    recorded.synced.push(paths.get(fd) ?? `fd ${fd}`);
    fs.fsyncSync(fd);
  };
  return { ...fs, openSync, fsyncSync, default: { ...fs, openSync, fsyncSync } };
});

const put = (key: string, value: unknown): StorageOperation =>
  ({ store: "documents", op: "put", key, value }) as StorageOperation;

describe("fs storage: what is made durable", () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "rookery-durability-"));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("a reopen fsyncs the folder before taking writes, so a log renamed in just before a crash keeps its name", async () => {
    const dir = join(root, "Data", "1");
    const file = join(dir, logFileName);
    const first = await openFsStorage({ dir });
    await first.write([put("k", 1)]);
    await first.close();
    // A compaction renamed its log over the old one, and the process died before the folder's
    // fsync: the new name is in the page cache only. A power cut before some later folder fsync
    // would bring the old log back, without whatever the next run acknowledged in the new one.
    copyFileSync(file, `${file}.compacting`);
    renameSync(`${file}.compacting`, file);
    recorded.synced.length = 0;
    const second = await openFsStorage({ dir });
    expect(recorded.synced).toContain(realpathSync(dir));
    await second.write([put("k", 2)]);
    await second.close();
  });
});
