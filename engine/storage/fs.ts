/**
 * The filesystem backend (Node only; the one file that imports node:fs). One folder per server,
 * like the chapter's `Data/1`, holding one append-only log, `storage.log`:
 *
 *   header   8 bytes  "RKYLOG01"
 *   record   marker u32 (0x4B52FEFF, bytes FF FE 52 4B) | length u32 | crc32(length, payload) u32
 *            | payload: `length` bytes of UTF-8 JSON, one write batch: [[store, key, value?], …]
 *
 * A batch is one record, so a crash keeps a batch whole or loses it whole. The marker starts with
 * 0xFF, a byte UTF-8 never contains, so no payload can look like the start of a record; that is
 * what lets recovery tell a torn tail (nothing valid after the damage) from corruption in the
 * middle (a valid record after it): the first is cut off and reported, the second stops the
 * open.
 *
 * Group commit: `write` only queues; the queue is written with one writeSync and made durable with
 * one fdatasync at the next turn of the event loop (or after groupCommitWindowMs), so every write
 * issued meanwhile shares that fsync. The calls are synchronous on purpose: on this machine a
 * sync fsync costs ~70 µs against ~130 µs through fs.promises (reference/baselines.md), and the
 * backend runs in a server's own worker, where blocking for one fsync blocks nobody else.
 *
 * The backend keeps no copy of the data in memory (the engine already holds its working state):
 * `load` reads the log back, which recovery does once. The state replayed at open is kept until
 * the first write, so open-then-load reads the file only once.
 *
 * Compaction replays the log, writes the live state to `storage.log.compacting`, fsyncs it,
 * renames it over the log and fsyncs the folder: a crash at any point leaves either the old log
 * or the new one. It runs by itself when the log has doubled since it was last compacted (the
 * Redis AOF rule), which needs no bookkeeping per key.
 */
import {
  accessSync,
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { RookeryError, isRookeryError } from "../core/index.ts";
import * as zlib from "node:zlib";
import { crc32 as crc32Js } from "./crc32.ts";
import { LiveState, admitBatch, checkStoreName, closedError } from "./codec.ts";
import type { EncodedBatch, EncodedOperation } from "./codec.ts";
import { storageLimits } from "./storage.ts";
import type {
  AnySchema,
  Storage,
  StorageContents,
  StorageLimits,
  StorageOperation,
  StorageStats,
  StorageWarning,
  StoreName,
} from "./storage.ts";

/** fsStorageTuning holds the fs backend's defaults; the unit is the last word of each name. */
export const fsStorageTuning = {
  /**
   * How long the first queued write waits for company before the group is written. 0 means the
   * next turn of the event loop: writes issued in the same turn share one fsync, and a lone write
   * pays no extra latency.
   */
  groupCommitWindowMs: 0,
  /** Log size below which automatic compaction never runs. */
  compactLogBytesMin: 64 * 1024 * 1024,
  /** Automatic compaction runs when the log has grown this many times its compacted size. */
  compactGrowthRatio: 2,
  /** Payload bytes per record when compaction writes the live state out. */
  compactRecordBytesMax: 1024 * 1024,
} as const;

/** logFileName is the log's name inside the data folder. */
export const logFileName = "storage.log";
const compactingSuffix = ".compacting";
const magic = new TextEncoder().encode("RKYLOG01");
const marker = 0x4b52feff;
const recordHeaderBytes = 12;
// The group write buffer is reused; one larger than this is dropped after use.
const scratchBytesKeep = 4 * 1024 * 1024;

/** FsStorageOptions configures openFsStorage. */
export interface FsStorageOptions {
  /** The server's data folder; created if missing. */
  readonly dir: string;
  /** See fsStorageTuning.groupCommitWindowMs. */
  readonly groupCommitWindowMs?: number;
  /**
   * Automatic compaction thresholds, or false to compact only when `compact()` is called.
   * Defaults from fsStorageTuning.
   */
  readonly autoCompact?:
    | false
    | { readonly logBytesMin?: number; readonly growthRatio?: number };
  readonly limits?: Partial<StorageLimits>;
  /** Receives what recovery fixed (a torn tail cut off); console.warn by default. */
  readonly onWarning?: (warning: StorageWarning) => void;
}

/** FsRecoveryReport says what opening the log found. */
export interface FsRecoveryReport {
  readonly file: string;
  /** Records replayed. */
  readonly records: number;
  /** Bytes of the log kept (the file's length after any cut). */
  readonly bytes: number;
  /** The torn tail cut off, if there was one. */
  readonly tornTail: { readonly offset: number; readonly bytes: number } | null;
}

/** FsCompactionReport says what one compaction did. */
export interface FsCompactionReport {
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly records: number;
}

type Job =
  | {
      readonly kind: "write";
      readonly batch: EncodedBatch;
      readonly resolve: () => void;
      readonly reject: (error: unknown) => void;
    }
  | {
      readonly kind: "compact";
      readonly resolve: ((report: FsCompactionReport) => void) | null;
      readonly reject: ((error: unknown) => void) | null;
    };

// Folders open in this thread: a second open of the same folder would interleave two logs.
const openFolders = new Set<string>();

/**
 * openFsStorage opens (or creates) the storage in `options.dir` and replays its log. It fails with
 * a RookeryError when the folder is not a writable directory (StorageNotDirectory,
 * StorageNotWritable), already open in this thread (StorageAlreadyOpen), not a Rookery log
 * (StorageUnknownFormat), or damaged before its last record (StorageCorrupt).
 */
export async function openFsStorage<S extends object = AnySchema>(
  options: FsStorageOptions,
): Promise<FsStorage<S>> {
  const dir = prepareFolder(options.dir);
  if (openFolders.has(dir)) {
    throw new RookeryError(
      "StorageAlreadyOpen",
      `the storage folder ${dir} is already open in this process; close or crash it first`,
      { dir },
    );
  }
  const limits: StorageLimits = { ...storageLimits, ...options.limits };
  const file = join(dir, logFileName);
  let data: Uint8Array;
  try {
    rmSync(file + compactingSuffix, { force: true }); // a compaction that never got renamed in
    if (!exists(file)) writeLogFile(file, dir, []);
    data = readFileSync(file);
  } catch (error) {
    throw logError(file, "open", error);
  }
  const live = new LiveState();
  const replay = replayLog(data, file, dir, live);
  let tornTail: FsRecoveryReport["tornTail"] = null;
  if (replay.end < data.length) {
    tornTail = { offset: replay.end, bytes: data.length - replay.end };
    try {
      cutTail(file, replay.end);
    } catch (error) {
      throw logError(file, `cut the torn tail at offset ${replay.end} of`, error);
    }
    const warning: StorageWarning = {
      code: "torn-tail-cut",
      message:
        `cut ${tornTail.bytes} bytes of torn tail at offset ${tornTail.offset} in ${file}: the ` +
        "last record was incomplete (a crash while it was written, so it was never " +
        "acknowledged); " +
        `the ${replay.records} records before it are kept`,
      file,
      offset: tornTail.offset,
      bytes: tornTail.bytes,
    };
    (options.onWarning ?? ((w: StorageWarning) => console.warn(w.message)))(warning);
  }
  const recovery: FsRecoveryReport = { file, records: replay.records, bytes: replay.end, tornTail };
  let storage: FsStorage<S>;
  try {
    storage = new FsStorage<S>(dir, file, live, recovery, limits, options);
  } catch (error) {
    throw logError(file, "open", error);
  }
  openFolders.add(dir);
  return storage;
}

function prepareFolder(path: string): string {
  let stats;
  try {
    stats = statSync(path, { throwIfNoEntry: false });
    if (!stats) {
      mkdirSync(path, { recursive: true });
      syncFolder(dirname(path)); // so the new folder itself survives a crash
      stats = statSync(path);
    }
  } catch (error) {
    throw folderError(path, error);
  }
  if (!stats.isDirectory()) {
    throw new RookeryError(
      "StorageNotDirectory",
      `the data folder ${path} is not a directory (it is a file); point dataDir at a folder, or ` +
        "remove the file",
      { dir: path },
    );
  }
  try {
    accessSync(path, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw notWritable(path, error);
  }
  return realpathSync(path);
}

function logError(file: string, verb: string, error: unknown): RookeryError {
  const code = errorCode(error);
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return notWritable(file, error, "storage log");
  }
  return new RookeryError(
    "StorageFailed",
    `cannot ${verb} the storage log ${file}: ${messageOf(error)}`,
    { file, cause: code },
  );
}

function folderError(path: string, error: unknown): RookeryError {
  const code = errorCode(error);
  if (code === "ENOTDIR" || code === "EEXIST") {
    return new RookeryError(
      "StorageNotDirectory",
      `the data folder ${path} cannot be created: part of its path is a file, not a directory; ` +
        "point dataDir at a folder",
      { dir: path, cause: code },
    );
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") return notWritable(path, error);
  return new RookeryError(
    "StorageFailed",
    `the data folder ${path} cannot be used: ${messageOf(error)}`,
    { dir: path, cause: code },
  );
}

function notWritable(path: string, error: unknown, what = "data folder"): RookeryError {
  return new RookeryError(
    "StorageNotWritable",
    `the ${what} ${path} is not writable (${errorCode(error) ?? messageOf(error)}); give this ` +
      "process write permission on it, or point dataDir at another folder",
    { path, cause: errorCode(error) },
  );
}

function exists(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false }) !== undefined;
}

const utf8 = new TextEncoder();

/**
 * crc32 is zlib's CRC-32 where Node has it (20.15 and later: native, several times faster than
 * the portable one over a group's bytes), else the portable one; both compute the same checksum.
 */
const zlibCrc32: ((data: Uint8Array, value?: number) => number) | undefined = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
function crc32(bytes: Uint8Array, start: number, end: number, crc = 0): number {
  return zlibCrc32 ? zlibCrc32(bytes.subarray(start, end), crc) : crc32Js(bytes, start, end, crc);
}

/** frameBytesMax is the room frame() may need for `payload` (UTF-8 is ≤ 3 bytes per unit). */
function frameBytesMax(payload: string): number {
  return recordHeaderBytes + payload.length * 3;
}

/**
 * frame writes one record (marker, length, checksum, payload as UTF-8) into `into` at `at`,
 * which must have frameBytesMax(payload) bytes of room, and returns where the record ends.
 */
function frame(payload: string, into: Uint8Array, at: number): number {
  const start = at + recordHeaderBytes;
  const { written } = utf8.encodeInto(payload, into.subarray(start, start + payload.length * 3));
  const view = new DataView(into.buffer, into.byteOffset + at, recordHeaderBytes);
  view.setUint32(0, marker, true);
  view.setUint32(4, written, true);
  // The checksum covers the length too, so a damaged length cannot pass for a short record.
  view.setUint32(8, crc32(into, start, start + written, crc32(into, at + 4, at + 8)), true);
  return start + written;
}

interface Replay {
  /** Where the valid records end; anything after is a torn tail. */
  readonly end: number;
  readonly records: number;
}

function replayLog(data: Uint8Array, file: string, dir: string, live: LiveState): Replay {
  if (data.length < magic.length || magic.some((byte, index) => data[index] !== byte)) {
    throw new RookeryError(
      "StorageUnknownFormat",
      `${file} is not a Rookery storage log (it does not start with "RKYLOG01"); move it aside ` +
        `or point dataDir at another folder than ${dir}`,
      { file },
    );
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let offset = magic.length;
  let records = 0;
  while (offset < data.length) {
    const problem = checkRecord(data, view, offset);
    if (problem !== null) {
      const next = findValidRecord(data, view, offset + 1);
      if (next === null) return { end: offset, records }; // a torn tail: nothing valid after it
      throw corrupt(file, dir, offset, problem, next, records);
    }
    const length = view.getUint32(offset + 4, true);
    const start = offset + recordHeaderBytes;
    let operations: EncodedOperation[];
    try {
      operations = parsePayload(decoder.decode(data.subarray(start, start + length)));
    } catch (error) {
      // The checksum matched, so these bytes are what was written: a bug or a foreign writer.
      const problem = `the record's content is unreadable (${messageOf(error)})`;
      throw corrupt(file, dir, offset, problem, null, records);
    }
    live.apply(operations);
    records++;
    offset = start + length;
  }
  return { end: offset, records };
}

/** checkRecord returns why the record at `offset` is not a whole valid record, or null. */
function checkRecord(data: Uint8Array, view: DataView, offset: number): string | null {
  if (offset + recordHeaderBytes > data.length) return "the record header is incomplete";
  if (view.getUint32(offset, true) !== marker) return "no record starts there";
  // No check against batchBytesMax: a log written with a larger limit must still open.
  const length = view.getUint32(offset + 4, true);
  if (offset + recordHeaderBytes + length > data.length) return "the record is incomplete";
  const start = offset + recordHeaderBytes;
  const crc = crc32(data, start, start + length, crc32(data, offset + 4, offset + 8));
  if (crc !== view.getUint32(offset + 8, true)) return "the record's checksum does not match";
  return null;
}

function findValidRecord(data: Uint8Array, view: DataView, from: number): number | null {
  const first = marker & 0xff;
  for (let at = data.indexOf(first, from); at !== -1; at = data.indexOf(first, at + 1)) {
    if (checkRecord(data, view, at) === null) return at;
  }
  return null;
}

function corrupt(
  file: string,
  dir: string,
  offset: number,
  problem: string,
  next: number | null,
  records: number,
): RookeryError {
  const why =
    next === null
      ? ""
      : `, yet a valid record follows at byte ${next}, so this is damage, not a write cut short ` +
        "by a crash";
  return new RookeryError(
    "StorageCorrupt",
    `the storage log ${file} is corrupt at byte offset ${offset}: ${problem}${why}. Rookery did ` +
      `not start with part of the data (${records} records before it were readable). Restore ` +
      `${dir} from a backup, or move ${file} aside to start this server empty and let it catch ` +
      "up from the cluster",
    { file, offset, nextValidOffset: next, recordsBefore: records },
  );
}

function parsePayload(text: string): EncodedOperation[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error("a batch is not an array");
  return parsed.map((entry: unknown) => {
    if (!Array.isArray(entry) || (entry.length !== 2 && entry.length !== 3)) {
      throw new Error("an operation is not [store, key, value?]");
    }
    const [store, key] = entry as unknown[];
    if (typeof store !== "string" || typeof key !== "string") {
      throw new Error("a store or key is not a string");
    }
    // Re-encoding what JSON.parse made of our own JSON.stringify output gives the same text.
    return { store, key, json: entry.length === 3 ? JSON.stringify(entry[2]) : null };
  });
}

function cutTail(file: string, length: number): void {
  const fd = openSync(file, "r+");
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** writeLogFile writes a complete log (header and records) to `file` via a synced temp file. */
function writeLogFile(
  file: string,
  dir: string,
  payloads: Iterable<string>,
): { bytes: number; records: number } {
  const temp = file + compactingSuffix;
  const fd = openSync(temp, "w");
  let bytes = 0;
  let records = 0;
  try {
    bytes += writeAll(fd, magic, bytes);
    for (const payload of payloads) {
      const buffer = new Uint8Array(frameBytesMax(payload));
      bytes += writeAll(fd, buffer.subarray(0, frame(payload, buffer, 0)), bytes);
      records++;
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, file);
  syncFolder(dir);
  return { bytes, records };
}

function writeAll(fd: number, bytes: Uint8Array, position: number): number {
  let written = 0;
  while (written < bytes.length) {
    written += writeSync(fd, bytes, written, bytes.length - written, position + written);
  }
  return written;
}

/** livePayloads cuts the live state into record payloads of about compactRecordBytesMax. */
function* livePayloads(live: LiveState): Iterable<string> {
  let parts: string[] = [];
  let chars = 0;
  for (const { store, key, json } of live.entries()) {
    const part = `[${JSON.stringify(store)},${JSON.stringify(key)},${json}]`;
    if (parts.length > 0 && chars + part.length > fsStorageTuning.compactRecordBytesMax) {
      yield `[${parts.join(",")}]`;
      parts = [];
      chars = 0;
    }
    parts.push(part);
    chars += part.length;
  }
  if (parts.length > 0) yield `[${parts.join(",")}]`;
}

/** syncFolder makes a rename durable; Windows cannot open a folder for fsync and needs none. */
function syncFolder(dir: string): void {
  if (process.platform === "win32") return;
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** FsStorage is the Storage port over one data folder; see the file comment for the format. */
export class FsStorage<S extends object = AnySchema> implements Storage<S> {
  private fd: number;
  private size: number;
  private readonly jobs: Job[] = [];
  private queuedBytes = 0;
  private scratch = new Uint8Array(0);
  private scheduled = false;
  private closed = false;
  private failure: RookeryError | null = null;
  private readonly windowMs: number;
  private readonly compactLogBytesMin: number;
  private readonly compactGrowthRatio: number;
  /** The log's size after open or the last compaction: auto-compaction measures growth from it. */
  private baseSize: number;
  /** The state replayed at open, until the first write makes it stale. */
  private cache: LiveState | null;
  private readonly counters: StorageStats = { writes: 0, operations: 0, bytes: 0, syncs: 0 };

  /** Use openFsStorage, which recovers the log first. */
  constructor(
    readonly dir: string,
    readonly file: string,
    live: LiveState,
    readonly recovery: FsRecoveryReport,
    private readonly limits: StorageLimits,
    options: FsStorageOptions,
  ) {
    this.fd = openSync(file, "r+");
    this.size = recovery.bytes;
    this.windowMs = options.groupCommitWindowMs ?? fsStorageTuning.groupCommitWindowMs;
    const auto = options.autoCompact ?? {};
    this.compactLogBytesMin =
      auto === false ? Infinity : (auto.logBytesMin ?? fsStorageTuning.compactLogBytesMin);
    this.compactGrowthRatio =
      auto === false ? Infinity : (auto.growthRatio ?? fsStorageTuning.compactGrowthRatio);
    this.baseSize = this.size;
    this.cache = live;
  }

  /** logBytes is the log file's current length. */
  get logBytes(): number {
    return this.size;
  }

  write(batch: readonly StorageOperation<S>[]): Promise<void> {
    let encoded: EncodedBatch;
    try {
      encoded = admitBatch(this.refusal("write"), batch, this.limits, this.queuedBytes, this.dir);
    } catch (error) {
      return Promise.reject(error);
    }
    this.queuedBytes += encoded.payload.length;
    return new Promise<void>((resolve, reject) => {
      this.jobs.push({ kind: "write", batch: encoded, resolve, reject });
      this.schedule();
    });
  }

  /**
   * compact rewrites the log as the live state alone and swaps it in atomically; it runs in turn
   * with writes (those queued before it are in the new log).
   */
  compact(): Promise<FsCompactionReport> {
    const refused = this.refusal("compact");
    if (refused) return Promise.reject(refused);
    return new Promise<FsCompactionReport>((resolve, reject) => {
      this.jobs.push({ kind: "compact", resolve, reject });
      this.schedule();
    });
  }

  private refusal(verb: string): RookeryError | null {
    if (this.closed) return closedError(this.dir, verb);
    return this.failure;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.drain();
    };
    if (this.windowMs > 0) setTimeout(run, this.windowMs);
    else setImmediate(run);
  }

  /** drain runs every queued job now: groups of writes share one fsync; compactions run alone. */
  private drain(): void {
    while (this.jobs.length > 0 && !this.closed && !this.failure) {
      if (this.jobs[0]!.kind === "compact") this.runCompaction();
      else this.commitGroup();
    }
  }

  private commitGroup(): void {
    const group: Extract<Job, { kind: "write" }>[] = [];
    let chars = 0;
    let room = 0;
    for (const job of this.jobs) {
      if (job.kind !== "write") break;
      const length = job.batch.payload.length;
      if (group.length > 0 && chars + length > this.limits.groupBytesMax) break;
      group.push(job);
      chars += length;
      // An empty batch writes nothing; it only waits for the writes before it.
      if (job.batch.operations.length > 0) room += frameBytesMax(job.batch.payload);
    }
    this.jobs.splice(0, group.length);
    this.queuedBytes -= chars;
    let at = 0;
    if (room > 0) {
      if (this.scratch.length < room) this.scratch = new Uint8Array(room);
      for (const job of group) {
        if (job.batch.operations.length > 0) at = frame(job.batch.payload, this.scratch, at);
      }
      try {
        writeAll(this.fd, this.scratch.subarray(0, at), this.size);
        fdatasyncSync(this.fd);
      } catch (error) {
        this.fail(error, "write to", group);
        return;
      }
      this.size += at;
      this.counters.syncs++;
      this.counters.bytes += at;
    }
    if (this.scratch.length > scratchBytesKeep) this.scratch = new Uint8Array(0);
    if (at > 0) this.cache = null;
    for (const job of group) {
      this.counters.writes++;
      this.counters.operations += job.batch.operations.length;
    }
    for (const job of group) job.resolve();
    if (
      this.size >= this.compactLogBytesMin &&
      this.size >= this.baseSize * this.compactGrowthRatio &&
      !this.jobs.some((job) => job.kind === "compact")
    ) {
      this.jobs.push({ kind: "compact", resolve: null, reject: null });
    }
  }

  private runCompaction(): void {
    const job = this.jobs.shift() as Extract<Job, { kind: "compact" }>;
    const bytesBefore = this.size;
    let result: { bytes: number; records: number };
    try {
      result = writeLogFile(this.file, this.dir, livePayloads(this.readState()));
    } catch (error) {
      // Whether or not the rename happened, the file at this.file holds the live state (old log
      // or new); reopen it by name so later writes never go to an unlinked old log.
      this.reopen();
      const failed = new RookeryError(
        "StorageCompactionFailed",
        `compacting ${this.file} failed (${messageOf(error)}); the log still holds everything. ` +
          "Free disk space or fix permissions, then compact again",
        { file: this.file, cause: errorCode(error) },
      );
      if (job.reject) job.reject(failed);
      else console.warn(failed.message);
      return;
    }
    this.reopen();
    if (this.failure) {
      job.reject?.(this.failure);
      return;
    }
    this.counters.syncs++;
    this.baseSize = this.size;
    job.resolve?.({ bytesBefore, bytesAfter: result.bytes, records: result.records });
  }

  private reopen(): void {
    try {
      closeSync(this.fd);
      this.fd = openSync(this.file, "r+");
      this.size = fstatSync(this.fd).size;
    } catch (error) {
      this.fail(error, "reopen", []);
    }
  }

  /** readState replays the whole log (or returns the state replayed at open, if still fresh). */
  private readState(): LiveState {
    if (this.cache) return this.cache;
    const data = readFileSync(this.file);
    const live = new LiveState();
    const replay = replayLog(data, this.file, this.dir, live);
    if (replay.end !== data.length) {
      throw new RookeryError(
        "StorageCorrupt",
        `the storage log ${this.file} changed while open: it ends with ` +
          `${data.length - replay.end} unreadable bytes at offset ${replay.end}; another ` +
          `process may be writing to ${this.dir}`,
        { file: this.file, offset: replay.end },
      );
    }
    return live;
  }

  /**
   * fail stops the storage after an I/O error: after a failed fsync the page cache cannot be
   * trusted (what is on disk is unknown), so the only safe way on is to reopen and recover.
   */
  private fail(
    error: unknown,
    verb: string,
    group: readonly { reject: (error: unknown) => void }[],
  ): void {
    this.failure = isRookeryError(error)
      ? error
      : new RookeryError(
          "StorageFailed",
          `could not ${verb} ${this.file}: ${messageOf(error)}. Nothing after the last ` +
            "acknowledged write is known to be on disk; close this storage and open it again to " +
            "recover (free disk space first if the disk is full)",
          { file: this.file, cause: errorCode(error) },
        );
    for (const job of group) job.reject(this.failure);
    for (const job of this.jobs.splice(0)) job.reject?.(this.failure);
    this.queuedBytes = 0;
  }

  load(): Promise<StorageContents<S>> {
    const refused = this.refusal("load");
    if (refused) return Promise.reject(refused);
    try {
      return Promise.resolve(this.readState().contents<S>());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  loadStore<K extends StoreName<S>>(store: K): Promise<Map<string, S[K]>> {
    const refused = this.refusal("load");
    if (refused) return Promise.reject(refused);
    try {
      checkStoreName(store);
      return Promise.resolve(this.readState().store(store) as Map<string, S[K]>);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  stats(): StorageStats {
    return { ...this.counters };
  }

  /** close writes and syncs everything queued, then closes the file. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.drain();
    this.release();
    return this.failure ? Promise.reject(this.failure) : Promise.resolve();
  }

  /** crash closes the file at once; queued writes never reach it and are rejected. */
  crash(): void {
    if (this.closed) return;
    const lost = this.jobs.splice(0);
    this.queuedBytes = 0;
    this.release();
    for (const job of lost) job.reject?.(closedError(this.dir, "finish a write (it crashed)"));
  }

  private release(): void {
    this.closed = true;
    openFolders.delete(this.dir);
    try {
      closeSync(this.fd);
    } catch {
      // Already closed by a failed compaction; nothing is lost by ignoring it.
    }
  }
}
