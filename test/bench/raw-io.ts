import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * appendGroups is the I/O ceiling the storage benches compare against: for `runMs`, append
 * `records` 1 KB records with one writeSync and one fdatasync per group. It returns the records
 * per second and each group's time in ms. The file is removed afterwards.
 */
export function appendGroups(
  dir: string,
  records: number,
  runMs: number,
): { recordsPerSecond: number; samplesMs: number[] } {
  const file = join(dir, `raw-group-${records}.log`);
  const fd = openSync(file, "w");
  const group = new Uint8Array(records * 1024).fill(0x62);
  const samplesMs: number[] = [];
  let position = 0;
  const started = performance.now();
  while (performance.now() - started < runMs) {
    const t = performance.now();
    writeSync(fd, group, 0, group.length, position);
    fdatasyncSync(fd);
    position += group.length;
    samplesMs.push(performance.now() - t);
  }
  const elapsedMs = performance.now() - started;
  closeSync(fd);
  // A second of this writes about a gigabyte; removed at once, it leaves no page cache to write
  // back behind the measurements that follow.
  rmSync(file, { force: true });
  return { recordsPerSecond: (samplesMs.length * records) / (elapsedMs / 1000), samplesMs };
}
