/**
 * The byte work of fs compaction (no I/O here; fs.ts reads the old log in chunks, feeds them in
 * log order, and appends what comes out to `storage.log.compacting`).
 *
 * It copies, byte for byte, the line of every operation that is still live (the key's current
 * value, as the LogIndex says) and notes in the index where the value now sits; it parses no
 * value. Writes go on while it works, appending to the old log, and it follows them to the end.
 * So a key may be copied and then written again: its newer line is copied later too, and the
 * last one wins on replay. A key may also be copied and then deleted: that is why deletes written
 * since the compaction began are copied as well (older deletes only cancel lines that were never
 * live, so they are dropped). The result replays to exactly the live state: for every key it holds
 * the key's last line of the old log (if that is a put, or a delete since the start) and no later
 * line about it.
 */
import { RookeryError } from "../core/index.ts";
import {
  PayloadReader,
  RecordWriter,
  checkRecord,
  isLegacyPayload,
  readU32,
  recordBytes,
  recordHeaderBytes,
  recordMarker,
} from "./fs-format.ts";
import type { Crc32 } from "./fs-format.ts";
import type { LogIndex } from "./fs-index.ts";

export class Compactor {
  private readonly writer: RecordWriter;
  private readonly reader = new PayloadReader();
  /** Where in the compacted log the writer's first byte goes. */
  private outputAt = 0;
  /** Records written to the compacted log. */
  records = 0;
  /** The size of the record consume() stopped at because the chunk held only part of it. */
  nextRecordBytes = 0;

  /**
   * `deletesFrom` is the old log's length when compaction began; `recordBytesMax` bounds the
   * payload of each record it writes.
   */
  constructor(
    private readonly index: LogIndex,
    private readonly crc32: Crc32,
    private readonly file: string,
    private readonly deletesFrom: number,
    private readonly recordBytesMax: number,
  ) {
    this.writer = new RecordWriter(crc32);
    this.writer.appendMagic();
  }

  /** size is the compacted log's length once everything output so far is written. */
  get size(): number {
    return this.outputAt + this.writer.length;
  }

  /**
   * consume copies the live lines of the whole records at the start of `chunk`, which sits at
   * `chunkAt` in the old log, and returns the bytes those records took. When the chunk ends inside
   * a record it stops there; if that is the first record, it returns 0 and says in
   * nextRecordBytes how large a chunk must be to hold it. Damage throws StorageCorrupt.
   */
  consume(chunk: Uint8Array, chunkAt: number): number {
    let offset = 0;
    this.nextRecordBytes = 0;
    const visit = (
      store: string,
      key: string,
      lineStart: number,
      lineEnd: number,
      valueStart: number,
    ) => {
      if (valueStart < 0) {
        if (chunkAt + lineStart >= this.deletesFrom) this.copy(chunk, lineStart, lineEnd);
        return;
      }
      const slot = this.index.liveSlot(store, key, chunkAt + valueStart);
      if (!slot) return;
      const lineAt = this.copy(chunk, lineStart, lineEnd);
      this.index.carry(slot, this.outputAt + lineAt + (valueStart - lineStart));
    };
    while (offset + recordHeaderBytes <= chunk.length) {
      if (readU32(chunk, offset) !== recordMarker)
        throw this.corrupt(chunkAt + offset, "no record starts there");
      const size = recordBytes(chunk, offset);
      if (offset + size > chunk.length) {
        this.nextRecordBytes = size;
        break;
      }
      const problem = checkRecord(chunk, offset, this.crc32);
      if (problem !== null) throw this.corrupt(chunkAt + offset, problem);
      const start = offset + recordHeaderBytes;
      // Recovery rewrote any legacy log, so every record here has the line layout.
      const unreadable = isLegacyPayload(chunk, start)
        ? "the record predates the line layout"
        : this.reader.read(chunk, start, offset + size, visit);
      if (unreadable !== null) throw this.corrupt(chunkAt + offset, unreadable);
      offset += size;
    }
    if (offset === 0 && this.nextRecordBytes === 0) this.nextRecordBytes = recordHeaderBytes;
    if (this.writer.recordOpen) this.endRecord();
    return offset;
  }

  /**
   * output is the compacted bytes produced since the last advance(), whole records only. They must
   * be written before the next consume, which reuses the buffer.
   */
  output(): Uint8Array {
    return this.writer.bytes.subarray(0, this.writer.length);
  }

  /** advance says output() has been written to the compacted log. */
  advance(keepBytesMax: number): void {
    this.outputAt += this.writer.length;
    this.writer.clear(keepBytesMax);
  }

  private copy(chunk: Uint8Array, lineStart: number, lineEnd: number): number {
    if (!this.writer.recordOpen) this.writer.beginRecord();
    const at = this.writer.addLine(chunk, lineStart, lineEnd);
    if (this.writer.payloadBytes >= this.recordBytesMax) this.endRecord();
    return at;
  }

  private endRecord(): void {
    this.writer.endRecord();
    this.records++;
  }

  private corrupt(offset: number, problem: string): RookeryError {
    return new RookeryError(
      "StorageCorrupt",
      `the storage log ${this.file} is damaged at byte offset ${offset} (${problem}); it was ` +
        "readable when opened, so the disk or another process changed it",
      { file: this.file, offset },
    );
  }
}
