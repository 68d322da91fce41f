/**
 * The filesystem backend (Node only; the one file that does I/O). One folder per server, like the
 * chapter's `Data/1`, holding one append-only log, `storage.log`, whose bytes fs-format.ts
 * describes: a header, then one checksummed record per write batch, one operation per line.
 * A batch is one record, so a crash keeps a batch whole or loses it whole; recovery cuts a torn
 * tail off (and says so) and stops at corruption in the middle (naming file and offset).
 *
 * Group commit: `write` only queues. At the next turn of the event loop (setImmediate, or after
 * groupCommitWindowMs) the queue becomes one group: its records are framed into one buffer, written
 * and made durable with one fdatasync, and every write issued meanwhile shares that fsync. One
 * group is in flight at a time, which keeps batches in call order; what queues while it syncs
 * forms the next group. A large group is written and synced on libuv's thread pool, so this
 * thread keeps applying and encoding requests meanwhile; a smaller one synchronously, which
 * measured faster (see fsStorageTuning.syncGroupBytesMax).
 *
 * The backend keeps no values in memory (the engine already holds its working state), only a
 * LogIndex: where each live key's latest value sits in the log. `load` decodes just those bytes;
 * recovery does it once. The log read at open is kept until the first write, so open-then-load
 * reads the file only once.
 *
 * Compaction copies the live lines into `storage.log.compacting` (fs-compaction.ts: no parsing,
 * in slices of compactReadBytes read on the thread pool, while writes go on), follows the writes
 * made meanwhile to the end with writes paused, fsyncs, renames it over the log and fsyncs the
 * folder: a crash at any point leaves either the old log or the new one, each complete. It runs by
 * itself when the log is growthRatio times the live data (see fsStorageTuning).
 */
import {
  accessSync,
  close,
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  open,
  openSync,
  read,
  readFileSync,
  readSync,
  realpathSync,
  rename,
  renameSync,
  rmSync,
  statSync,
  write,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { crc32 as zlibCrc32 } from "node:zlib";
import { RookeryError, isRookeryError } from "../core/index.ts";
import { admitBatch, checkStoreName, closedError, decodeValue, takeGroup } from "./codec.ts";
import type { EncodedBatch, EncodedOperation } from "./codec.ts";
import { Compactor } from "./fs-compaction.ts";
import {
  errorCode,
  folderError,
  logEndsEarly,
  logError,
  messageOf,
  notWritable,
} from "./fs-errors.ts";
import { RecordWriter, logMagic } from "./fs-format.ts";
import { LogIndex } from "./fs-index.ts";
import { replayLegacy, replayLog } from "./fs-replay.ts";
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
   * next turn of the event loop (setImmediate, not a timer, so no 1 ms clamp): writes issued in
   * the same turn share one fsync, and a lone write pays no extra latency.
   */
  groupCommitWindowMs: 0,
  /**
   * A group of at most this many bytes is written and fdatasynced synchronously; a larger one on
   * libuv's thread pool, so the thread keeps applying and encoding requests while it syncs.
   * Measured here (2 busy cores, ext4 on virtio), the pool loses below this size: its two thread
   * hops add ~40–80 µs to a ~100–300 µs fsync, which slows a lone write (0.13 against 0.16–0.22
   * ms), the server's 100-document transactions (fs 27–33k against 24–26k docs/s) and even
   * 8 writers sharing 800 KB groups (39–41k against 34k docs/s): the thread is rarely busy
   * enough to use the time, and under load the pool thread competes for the same cores. What a
   * synchronous write costs is a stall of every other request for as long as the disk takes,
   * which grows with the group: a few ms per megabyte. So groups up to this size (nearly every
   * group: a 100-document transaction is ~120 KB) take the cheaper synchronous path, and larger
   * ones (bulk loads, catch-up) the pool, which bounds that stall to a few ms.
   */
  syncGroupBytesMax: 1024 * 1024,
  /** Log size below which automatic compaction never runs. */
  compactLogBytesMin: 64 * 1024 * 1024,
  /**
   * Automatic compaction runs when the log is this many times the live data (LogIndex.liveBytes).
   * That is the Redis AOF rule (the log has doubled since it was compacted) without its blind
   * spot: a log that is all live data, however large, is never rewritten for nothing, and the
   * cost of each compaction (proportional to the live data) is paid for by as much garbage.
   */
  compactGrowthRatio: 2,
  /** Payload bytes per record when compaction writes the live lines out. */
  compactRecordBytesMax: 1024 * 1024,
  /**
   * Bytes of the old log compaction reads per step; each step's CPU work (checksum, finding live
   * lines, copying them) is about a millisecond per megabyte, so this bounds how long it holds
   * the thread at once.
   */
  compactReadBytes: 1024 * 1024,
  /**
   * When no more than this many bytes written during compaction remain to be copied, compaction
   * pauses writes, copies the rest and swaps logs; writes wait (they do not stall the thread)
   * only for that last stretch and the fsync, rename and folder fsync.
   */
  compactPauseTailBytes: 1024 * 1024,
  /** Passes over the writes made meanwhile before compaction pauses writes however far behind. */
  compactCatchUpPassesMax: 8,
} as const;

/** logFileName is the log's name inside the data folder. */
export const logFileName = "storage.log";
const compactingSuffix = ".compacting";
// The write buffers are reused; one grown larger than this is dropped after use.
const scratchBytesKeep = 4 * 1024 * 1024;

/** FsStorageOptions configures openFsStorage. */
export interface FsStorageOptions {
  /** The server's data folder; created if missing. */
  readonly dir: string;
  /** See fsStorageTuning.groupCommitWindowMs. */
  readonly groupCommitWindowMs?: number;
  /** See fsStorageTuning.syncGroupBytesMax (0: always on the thread pool). */
  readonly syncGroupBytesMax?: number;
  /** See fsStorageTuning.compactReadBytes; tests shrink it to make compaction take many steps. */
  readonly compactReadBytes?: number;
  /**
   * Automatic compaction thresholds, or false to compact only when `compact()` is called.
   * Defaults from fsStorageTuning.
   */
  readonly autoCompact?: false | { readonly logBytesMin?: number; readonly growthRatio?: number };
  readonly limits?: Partial<StorageLimits>;
  /** Receives what recovery fixed (a torn tail cut off); console.warn by default. */
  readonly onWarning?: (warning: StorageWarning) => void;
}

/** FsRecoveryReport says what opening the log found. */
export interface FsRecoveryReport {
  readonly file: string;
  /** Records replayed. */
  readonly records: number;
  /** Bytes of the log kept (the file's length after any cut or rewrite). */
  readonly bytes: number;
  /** The torn tail cut off, if there was one. */
  readonly tornTail: { readonly offset: number; readonly bytes: number } | null;
  /** Whether the log held records of the older one-line layout and was rewritten. */
  readonly rewritten: boolean;
}

/** FsCompactionReport says what one compaction did. */
export interface FsCompactionReport {
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly records: number;
}

interface WriteJob {
  readonly batch: EncodedBatch;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface CompactionWaiter {
  readonly resolve: (report: FsCompactionReport) => void;
  readonly reject: (error: unknown) => void;
}

/** CompactionRun is the compaction in progress; `paused` holds new groups back while it swaps. */
interface CompactionRun {
  readonly waiters: CompactionWaiter[];
  paused: boolean;
}

// Folders open in this thread: a second open of the same folder would interleave two logs.
const openFolders = new Set<string>();
/**
 * Folders whose storage crashed with I/O still on the thread pool: an open waits for it to land,
 * as a restarted process finds a dead one's last writes done (or not) but never still running.
 */
const settling = new Map<string, Promise<void>>();

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
  refuseIfOpen(dir);
  await settling.get(dir);
  refuseIfOpen(dir);
  openFolders.add(dir);
  try {
    const limits: StorageLimits = { ...storageLimits, ...options.limits };
    const { index, data, recovery } = recover(dir, options);
    return new FsStorage<S>(dir, recovery.file, index, data, recovery, limits, options);
  } catch (error) {
    openFolders.delete(dir);
    throw error;
  }
}

function refuseIfOpen(dir: string): void {
  if (!openFolders.has(dir)) return;
  throw new RookeryError(
    "StorageAlreadyOpen",
    `the storage folder ${dir} is already open in this process; close or crash it first`,
    { dir },
  );
}

/**
 * recover reads and replays the log, cutting a torn tail and rewriting a legacy log, and makes the
 * log's name durable before anything is appended to it.
 */
function recover(
  dir: string,
  options: FsStorageOptions,
): { index: LogIndex; data: Uint8Array; recovery: FsRecoveryReport } {
  const file = join(dir, logFileName);
  let data: Uint8Array;
  try {
    rmSync(file + compactingSuffix, { force: true }); // a compaction that never got renamed in
    if (!exists(file)) writeLogFile(file, dir, []);
    data = readFileSync(file);
  } catch (error) {
    throw logError(file, "open", error);
  }
  let index = new LogIndex();
  const replay = replayLog(data, file, dir, index, crc32);
  let tornTail: FsRecoveryReport["tornTail"] = null;
  if (replay.end < data.length) {
    tornTail = { offset: replay.end, bytes: data.length - replay.end };
    try {
      cutTail(file, replay.end);
    } catch (error) {
      throw logError(file, `cut the torn tail at offset ${replay.end} of`, error);
    }
    data = data.subarray(0, replay.end);
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
  if (replay.legacy) {
    try {
      writeLogFile(file, dir, replayLegacy(data, file, dir).entries());
      data = readFileSync(file);
    } catch (error) {
      throw isRookeryError(error) ? error : logError(file, "rewrite", error);
    }
    index = new LogIndex();
    replayLog(data, file, dir, index, crc32);
  } else {
    // The log may be a compaction's, renamed in just before a crash that came ahead of the
    // folder's fsync (swapLog). Its name must be durable before anything is appended to it, or a
    // power cut could bring the old log back without the writes this run acknowledges.
    try {
      syncFolder(dir);
    } catch (error) {
      throw logError(file, "fsync the folder holding", error);
    }
  }
  const recovery: FsRecoveryReport = {
    file,
    records: replay.records,
    bytes: data.length,
    tornTail,
    rewritten: replay.legacy,
  };
  return { index, data, recovery };
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

function exists(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false }) !== undefined;
}

/**
 * crc32 is zlib's CRC-32 (native; Node 20.15 and later, and Rookery needs 20.19) over
 * `bytes[start, end)`, continuing from `crc`: the checksum of every record in the log.
 */
export function crc32(bytes: Uint8Array, start: number, end: number, crc = 0): number {
  return zlibCrc32(bytes.subarray(start, end), crc);
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

/** writeLogFile writes a complete log of `operations` to `file` via a synced temp file. */
function writeLogFile(file: string, dir: string, operations: Iterable<EncodedOperation>): void {
  const temp = file + compactingSuffix;
  const fd = openSync(temp, "w");
  const writer = new RecordWriter(crc32);
  const placements: number[] = [];
  let position = 0;
  const flush = () => {
    if (writer.recordOpen) writer.endRecord();
    writeAll(fd, writer.bytes.subarray(0, writer.length), position);
    position += writer.length;
    writer.clear(scratchBytesKeep);
  };
  try {
    writer.appendMagic();
    for (const operation of operations) {
      if (!writer.recordOpen) writer.beginRecord();
      writer.addOperation(operation, placements);
      placements.length = 0;
      if (writer.payloadBytes >= fsStorageTuning.compactRecordBytesMax) flush();
    }
    flush();
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, file);
  syncFolder(dir);
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let written = 0;
  while (written < bytes.length) {
    written += writeSync(fd, bytes, written, bytes.length - written, position + written);
  }
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

/** Thrown inside compaction when the storage closed, crashed or failed under it. */
class CompactionStopped extends Error {}

/** FsStorage is the Storage port over one data folder; see the file comment for the format. */
export class FsStorage<S extends object = AnySchema> implements Storage<S> {
  private fd: number;
  private size: number;
  private readonly jobs: WriteJob[] = [];
  private queuedChars = 0;
  private readonly writer = new RecordWriter(crc32);
  /** Two numbers per operation of the group in flight: where its value sits in `writer`, and its bytes. */
  private readonly placements: number[] = [];
  private scheduled = false;
  /** A group is being written and synced on the thread pool. */
  private inFlight = false;
  /** close() was called: new calls are refused while queued work finishes. */
  private closing: Promise<void> | null = null;
  /** Released (closed or crashed): nothing more happens. */
  private closed = false;
  private failure: RookeryError | null = null;
  private compaction: CompactionRun | null = null;
  /** Calls waiting for the group in flight to finish (compaction, before it swaps logs). */
  private readonly quietWaiters: (() => void)[] = [];
  /** Calls waiting until nothing is queued or running (close). */
  private readonly idleWaiters: (() => void)[] = [];
  /** fs calls on the thread pool: the log's fd stays open until they are done. */
  private ioPending = 0;
  private settled: (() => void) | null = null;
  private readonly windowMs: number;
  private readonly syncGroupBytesMax: number;
  private readonly compactReadBytes: number;
  private readonly compactLogBytesMin: number;
  private readonly compactGrowthRatio: number;
  /** The log as read at open, until the first write: open-then-load reads the file once. */
  private openedLog: Uint8Array | null;
  private readonly counters: StorageStats = { writes: 0, operations: 0, bytes: 0, syncs: 0 };

  /** Use openFsStorage, which recovers the log first. */
  constructor(
    readonly dir: string,
    readonly file: string,
    private readonly index: LogIndex,
    log: Uint8Array,
    readonly recovery: FsRecoveryReport,
    private readonly limits: StorageLimits,
    options: FsStorageOptions,
  ) {
    try {
      this.fd = openSync(file, "r+");
    } catch (error) {
      throw logError(file, "open", error);
    }
    this.size = log.length;
    this.openedLog = log;
    this.windowMs = options.groupCommitWindowMs ?? fsStorageTuning.groupCommitWindowMs;
    this.syncGroupBytesMax = options.syncGroupBytesMax ?? fsStorageTuning.syncGroupBytesMax;
    this.compactReadBytes = options.compactReadBytes ?? fsStorageTuning.compactReadBytes;
    const auto = options.autoCompact ?? {};
    this.compactLogBytesMin =
      auto === false ? Infinity : (auto.logBytesMin ?? fsStorageTuning.compactLogBytesMin);
    this.compactGrowthRatio =
      auto === false ? Infinity : (auto.growthRatio ?? fsStorageTuning.compactGrowthRatio);
  }

  /** logBytes is the log file's current length (what is durable). */
  get logBytes(): number {
    return this.size;
  }

  write(batch: readonly StorageOperation<S>[]): Promise<void> {
    let encoded: EncodedBatch;
    try {
      encoded = admitBatch(this.refusal("write"), batch, this.limits, this.queuedChars, this.dir);
    } catch (error) {
      return Promise.reject(error);
    }
    this.queuedChars += encoded.chars;
    return new Promise<void>((resolve, reject) => {
      this.jobs.push({ batch: encoded, resolve, reject });
      this.schedule(false);
    });
  }

  /**
   * compact rewrites the log as the live state alone and swaps it in atomically. Writes go on
   * meanwhile, and every write (before, during or after) ends up in the new log. A call while a
   * compaction runs waits for that one.
   */
  compact(): Promise<FsCompactionReport> {
    const refused = this.refusal("compact");
    if (refused) return Promise.reject(refused);
    return new Promise<FsCompactionReport>((resolve, reject) => {
      this.startCompaction().waiters.push({ resolve, reject });
    });
  }

  private refusal(verb: string): RookeryError | null {
    if (this.closed || this.closing) return closedError(this.dir, verb);
    return this.failure;
  }

  /** schedule drains the queue at the next turn (or after the window, for a first write). */
  private schedule(again: boolean): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.drain();
    };
    // After a group, what queued meanwhile has waited already: no second window.
    if (this.windowMs > 0 && !again) setTimeout(run, this.windowMs);
    else setImmediate(run);
  }

  /** drain commits queued writes, one group at a time, unless a group is in flight. */
  private drain(): void {
    while (this.jobs.length > 0 && this.canCommit()) this.commitGroup();
    this.checkIdle();
  }

  private canCommit(): boolean {
    return !this.inFlight && !this.closed && !this.failure && !this.compaction?.paused;
  }

  private commitGroup(): void {
    const { group, chars } = takeGroup(this.jobs, this.limits.groupBytesMax);
    this.queuedChars -= chars;
    this.writer.clear(scratchBytesKeep);
    this.placements.length = 0;
    for (const job of group) {
      // An empty batch writes nothing; it only waits for the writes before it.
      if (job.batch.operations.length === 0) continue;
      this.writer.beginRecord();
      for (const operation of job.batch.operations)
        this.writer.addOperation(operation, this.placements);
      this.writer.endRecord();
    }
    const bytes = this.writer.bytes.subarray(0, this.writer.length);
    if (bytes.length > this.syncGroupBytesMax) {
      this.appendOnPool(group, bytes);
      return;
    }
    let error: unknown = null;
    if (bytes.length > 0) {
      try {
        writeAll(this.fd, bytes, this.size);
        fdatasyncSync(this.fd);
      } catch (caught) {
        error = caught;
      }
    }
    this.groupDone(group, bytes.length, error);
  }

  /**
   * appendOnPool writes `bytes` at the log's end and fdatasyncs, on libuv's thread pool; `bytes`
   * (the writer's buffer) stays untouched until groupDone, since no group starts meanwhile.
   */
  private appendOnPool(group: readonly WriteJob[], bytes: Uint8Array): void {
    this.inFlight = true;
    this.ioPending++;
    const fd = this.fd;
    const position = this.size;
    const finish = (error: Error | null) => {
      this.inFlight = false;
      this.groupDone(group, bytes.length, error);
      for (const waiter of this.quietWaiters.splice(0)) waiter();
      if (this.jobs.length > 0 && !this.closed) this.schedule(true);
      this.ioDone(); // last: once the storage is released, this closes the fd
    };
    const step = (offset: number) => {
      write(fd, bytes, offset, bytes.length - offset, position + offset, (error, written) => {
        if (error) finish(error);
        else if (offset + written < bytes.length) step(offset + written);
        else if (this.closed)
          finish(null); // crashed meanwhile: nobody waits for this fsync
        else fdatasync(fd, finish);
      });
    };
    step(0);
  }

  /** groupDone acknowledges a group once durable (or rejects it), and updates the index. */
  private groupDone(group: readonly WriteJob[], bytes: number, error: unknown): void {
    if (this.closed) {
      // Crashed while the group was in flight: a killed process never hears back.
      const lost = closedError(this.dir, "finish a write (it crashed)");
      for (const job of group) job.reject(lost);
      return;
    }
    if (error) {
      this.fail(error, "write to", group);
      return;
    }
    const base = this.size;
    if (bytes > 0) {
      this.size += bytes;
      this.counters.syncs++;
      this.counters.bytes += bytes;
      this.openedLog = null;
    }
    let placement = 0;
    for (const job of group) {
      for (const { store, key, json } of job.batch.operations) {
        if (json === null) this.index.delete(store, key);
        else
          this.index.put(
            store,
            key,
            base + this.placements[placement]!,
            this.placements[placement + 1]!,
          );
        placement += 2;
      }
      this.counters.writes++;
      this.counters.operations += job.batch.operations.length;
    }
    for (const job of group) job.resolve();
    if (
      !this.compaction &&
      this.size >= this.compactLogBytesMin &&
      this.size >= this.index.liveBytes * this.compactGrowthRatio
    ) {
      this.startCompaction();
    }
  }

  private startCompaction(): CompactionRun {
    if (this.compaction) return this.compaction;
    const run: CompactionRun = { waiters: [], paused: false };
    this.compaction = run;
    void this.compactLog(run);
    return run;
  }

  /** compactLog runs one compaction to the end; see the file comment and fs-compaction.ts. */
  private async compactLog(run: CompactionRun): Promise<void> {
    const bytesBefore = this.size;
    const temp = this.file + compactingSuffix;
    let out: number | null = null;
    try {
      out = await this.pool<number>((done) => open(temp, "w", done));
      const compactor = new Compactor(
        this.index,
        crc32,
        this.file,
        bytesBefore,
        fsStorageTuning.compactRecordBytesMax,
      );
      let readAt = logMagic.length;
      for (let passes = 1; ; passes++) {
        readAt = await this.copyLive(compactor, out, readAt);
        if (run.paused) break;
        const behind = this.size - readAt;
        if (
          behind <= fsStorageTuning.compactPauseTailBytes ||
          passes >= fsStorageTuning.compactCatchUpPassesMax
        ) {
          run.paused = true;
          await this.quiet();
        }
      }
      // What is left: the log's header, if the old log held no live line at all.
      const rest = compactor.output();
      await this.writeFully(out, rest, compactor.size - rest.length);
      const fd = out;
      await this.pool<void>((done) => fdatasync(fd, done));
      out = null;
      await this.pool<void>((done) => close(fd, done));
      this.stopIfEnded();
      await this.pool<void>((done) => rename(temp, this.file, done));
      await this.swapLog(compactor);
      run.waiters.forEach((waiter) =>
        waiter.resolve({ bytesBefore, bytesAfter: this.size, records: compactor.records }),
      );
    } catch (error) {
      if (out !== null) closeQuietly(out);
      // Removing the half-written file may fail too (it may be what failed); the compaction's
      // own error is what gets reported, so a failed cleanup must not swallow it.
      if (!this.closed)
        try {
          rmSync(temp, { force: true });
        } catch {
          // Left for the next open, which removes a stale compaction file.
        }
      this.compactionFailed(run, error);
    } finally {
      this.compaction = null;
      if (!this.closed && this.jobs.length > 0) this.schedule(true);
      this.checkIdle();
    }
  }

  /**
   * copyLive is one pass: it feeds the old log from `readAt` to where it ends now through
   * `compactor`, and returns where it stopped (writes may have added more meanwhile).
   */
  private async copyLive(compactor: Compactor, out: number, readAt: number): Promise<number> {
    let chunk = new Uint8Array(this.compactReadBytes);
    const end = this.size;
    while (readAt < end) {
      this.stopIfEnded();
      const wanted = Math.max(Math.min(chunk.length, end - readAt), compactor.nextRecordBytes);
      // Whole records end exactly at `end`, so a record claiming more has a damaged length.
      if (wanted > end - readAt) throw logEndsEarly(this.file, end);
      if (wanted > chunk.length) chunk = new Uint8Array(wanted);
      const view = chunk.subarray(0, wanted);
      await this.readFully(view, readAt);
      this.stopIfEnded();
      readAt += compactor.consume(view, readAt);
      const output = compactor.output();
      if (output.length > 0) {
        await this.writeFully(out, output, compactor.size - output.length);
        compactor.advance(scratchBytesKeep);
      }
    }
    return readAt;
  }

  /**
   * swapLog makes the renamed, compacted log current. Its rename must be durable before anything
   * is written to it, so the folder is fsynced first; if that fails the storage stops.
   */
  private async swapLog(compactor: Compactor): Promise<void> {
    let fd: number;
    try {
      if (process.platform !== "win32") {
        const folder = await this.pool<number>((done) => open(this.dir, "r", done));
        try {
          await this.pool<void>((done) => fsync(folder, done));
        } finally {
          closeQuietly(folder);
        }
      }
      fd = await this.pool<number>((done) => open(this.file, "r+", done));
    } catch (error) {
      // The rename may not survive a crash, and the old fd names an unlinked file: the only safe
      // way on is a reopen, which recovers whichever log the folder holds.
      if (!this.closed) this.fail(error, "swap in the compacted log of", []);
      throw new CompactionStopped();
    }
    if (this.closed) {
      closeQuietly(fd);
      throw new CompactionStopped();
    }
    // Closing the old log frees its blocks (the rename unlinked it): tens of ms for a large log,
    // so it happens on the pool. Nothing uses that fd any more.
    const old = this.fd;
    void this.pool<void>((done) => close(old, done)).catch(() => {});
    this.fd = fd;
    this.size = compactor.size;
    this.index.promote();
    this.openedLog = null;
    this.counters.syncs++;
  }

  private compactionFailed(run: CompactionRun, error: unknown): void {
    let failed: unknown;
    if (this.closed) failed = closedError(this.dir, "finish compacting (it was closed)");
    else if (this.failure) failed = this.failure;
    else {
      failed = new RookeryError(
        "StorageCompactionFailed",
        `compacting ${this.file} failed (${messageOf(error)}); the log still holds everything. ` +
          "Free disk space or fix permissions, then compact again",
        { file: this.file, cause: errorCode(error) },
      );
    }
    if (run.waiters.length === 0) {
      if (!this.closed && !(error instanceof CompactionStopped))
        console.warn((failed as Error).message);
    } else run.waiters.forEach((waiter) => waiter.reject(failed));
  }

  private stopIfEnded(): void {
    if (this.closed || this.failure) throw new CompactionStopped();
  }

  /** quiet resolves once no group is in flight (at once, if none is). */
  private quiet(): Promise<void> {
    if (!this.inFlight) return Promise.resolve();
    return new Promise<void>((resolve) => this.quietWaiters.push(resolve));
  }

  /** pool runs one fs call on libuv's thread pool, counted so the fd outlives it. */
  private pool<T>(call: (done: (error: Error | null, value?: T) => void) => void): Promise<T> {
    this.ioPending++;
    return new Promise<T>((resolve, reject) => {
      call((error, value) => {
        this.ioDone();
        if (error) reject(error);
        else resolve(value as T);
      });
    });
  }

  private async readFully(into: Uint8Array, position: number): Promise<void> {
    for (let done = 0; done < into.length;) {
      const fd = this.fd;
      const got = await this.pool<number>((finish) =>
        read(fd, into, done, into.length - done, position + done, finish),
      );
      if (got === 0) throw logEndsEarly(this.file, position + done);
      done += got;
    }
  }

  private async writeFully(fd: number, bytes: Uint8Array, position: number): Promise<void> {
    for (let done = 0; done < bytes.length;) {
      done += await this.pool<number>((finish) =>
        write(fd, bytes, done, bytes.length - done, position + done, finish),
      );
    }
  }

  private ioDone(): void {
    this.ioPending--;
    if (this.ioPending === 0 && !this.closed) this.checkIdle();
    if (this.ioPending === 0 && this.closed && this.settled) {
      closeQuietly(this.fd);
      settling.delete(this.dir);
      this.settled();
      this.settled = null;
    }
  }

  /**
   * fail stops the storage after an I/O error: after a failed fsync the page cache cannot be
   * trusted (what is on disk is unknown), so the only safe way on is to reopen and recover.
   */
  private fail(error: unknown, verb: string, group: readonly WriteJob[]): void {
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
    for (const job of this.jobs.splice(0)) job.reject(this.failure);
    this.queuedChars = 0;
    this.checkIdle();
  }

  load(): Promise<StorageContents<S>> {
    const refused = this.refusal("load");
    if (refused) return Promise.reject(refused);
    try {
      const log = this.readLog();
      const out = new Map<string, Map<string, unknown>>();
      for (const store of this.index.storeNames()) out.set(store, this.decodeStore(log, store));
      return Promise.resolve(out as StorageContents<S>);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  loadStore<K extends StoreName<S>>(store: K): Promise<Map<string, S[K]>> {
    const refused = this.refusal("load");
    if (refused) return Promise.reject(refused);
    try {
      checkStoreName(store);
      return Promise.resolve(this.decodeStore(this.readLog(), store) as Map<string, S[K]>);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private decodeStore(log: Uint8Array, store: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    // ignoreBOM: the bytes are exactly the value's JSON, and a leading U+FEFF is part of them.
    const text = new TextDecoder("utf-8", { ignoreBOM: true });
    for (const { key, at, bytes } of this.index.values(store)) {
      out.set(key, decodeValue(text.decode(log.subarray(at, at + bytes))));
    }
    return out;
  }

  /** readLog returns the durable log's bytes (what was read at open, if nothing was written since). */
  private readLog(): Uint8Array {
    if (this.openedLog) return this.openedLog;
    const log = new Uint8Array(this.size);
    try {
      for (let done = 0; done < log.length;) {
        const got = readSync(this.fd, log, done, log.length - done, done);
        if (got === 0) throw logEndsEarly(this.file, done);
        done += got;
      }
    } catch (error) {
      throw isRookeryError(error) ? error : logError(this.file, "read", error);
    }
    return log;
  }

  stats(): StorageStats {
    return { ...this.counters };
  }

  /**
   * close writes and syncs everything queued, lets a running compaction finish, then closes the
   * file; calls made meanwhile are refused.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closing ??= this.finishAndRelease();
    return this.closing;
  }

  private async finishAndRelease(): Promise<void> {
    this.drain();
    await this.whenIdle();
    this.release();
    if (this.failure) throw this.failure;
  }

  /**
   * whenIdle resolves once no write is queued or in flight and no compaction runs (at once after
   * close or crash), so a test or benchmark can wait for automatic compaction without a timer.
   */
  whenIdle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  private checkIdle(): void {
    const idle =
      this.closed ||
      this.failure ||
      (this.jobs.length === 0 && !this.inFlight && !this.compaction && this.ioPending === 0);
    if (idle) for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  /**
   * crash stops at once, as a killed process would: queued writes are rejected and never reach the
   * file; a group already on the thread pool lands or not (recovery cuts a torn tail) and is
   * rejected; a compaction stops before its rename, or has already renamed a complete log.
   */
  crash(): void {
    if (this.closed) return;
    const lost = this.jobs.splice(0);
    this.queuedChars = 0;
    this.release();
    for (const job of lost) job.reject(closedError(this.dir, "finish a write (it crashed)"));
    for (const waiter of this.quietWaiters.splice(0)) waiter();
    this.checkIdle();
  }

  private release(): void {
    if (this.closed) return;
    this.closed = true;
    openFolders.delete(this.dir);
    if (this.ioPending === 0) {
      closeQuietly(this.fd);
      return;
    }
    settling.set(this.dir, new Promise<void>((resolve) => (this.settled = resolve)));
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closing is the last thing done with this fd; an error here loses nothing.
  }
}
