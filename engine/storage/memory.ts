/**
 * The memory backend, for the simulator and unit tests. A MemoryDisk stands for one server's disk
 * and outlives the MemoryStorage opened on it, the way a folder outlives a process: a crash drops
 * what was written but not yet synced, and a reopen sees exactly what the disk kept.
 *
 * It is deterministic: no timers and no clock. When a write becomes durable is the caller's
 * choice (`sync`), or at once, or at the end of the current job (a microtask), which models group
 * commit without time. The simulator drives "manual" mode in virtual time: it syncs groups after
 * a seeded fsync latency, fails a sync (`fail`, a fail-stop like fs after an I/O error), and
 * crashes with some unsynced batches on the disk and the next one torn.
 */
import { assert, RookeryError } from "../core/index.ts";
import { LiveState, checkStoreName, closedError, encodeBatch, overloaded } from "./codec.ts";
import type { EncodedBatch } from "./codec.ts";
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

/**
 * MemoryDisk is what survives a simulated crash: the synced state of one server's storage. At
 * most one MemoryStorage is open on it at a time.
 */
export class MemoryDisk {
  /** The synced contents. */
  readonly durable = new LiveState();
  /** Batches made durable over the disk's life, across opens. */
  syncedBatches = 0;
  /** The storage open on this disk, if any. */
  holder: object | null = null;
  /**
   * A record torn by the last crash (part of a batch reached the disk), which the next open cuts
   * off and reports, as fs recovery does; null when the disk ends cleanly.
   */
  tornTail: { readonly chars: number } | null = null;

  constructor(readonly name = "memory") {}
}

/**
 * MemorySyncMode says when a write becomes durable:
 * - "immediate": inside `write` itself (one sync per write);
 * - "microtask": when the current job ends, so every write issued in one synchronous run shares
 *   one sync, like group commit;
 * - "manual": when the caller calls `sync()`; until then, `crash()` may drop it.
 */
export type MemorySyncMode = "immediate" | "microtask" | "manual";

/** MemoryStorageOptions configures openMemoryStorage. */
export interface MemoryStorageOptions {
  /** The disk to open; a fresh empty one when omitted. Pass the same disk to reopen. */
  readonly disk?: MemoryDisk;
  /** When writes become durable; "immediate" by default. */
  readonly sync?: MemorySyncMode;
  /**
   * unsafeAcknowledgeBeforeSync resolves `write` before the batch is synced, modelling a disk
   * that lies about fsync. It breaks the port's promise on purpose, for fault injection: checkers
   * that guard "no acknowledged write is lost" must catch it.
   */
  readonly unsafeAcknowledgeBeforeSync?: boolean;
  readonly limits?: Partial<StorageLimits>;
  /** Told what recovery fixed on open: a torn last record cut off. */
  readonly onWarning?: (warning: StorageWarning) => void;
}

/** MemoryCrashOptions say what reached the disk before the power went (see crash). */
export interface MemoryCrashOptions {
  /** The first this many unsynced batches reached the disk whole (still in order). */
  readonly keepUnsyncedBatches?: number;
  /** The batch after those reached it in part: a torn record, cut off on the next open. */
  readonly tornTail?: boolean;
}

interface Pending {
  readonly batch: EncodedBatch;
  readonly resolve: (() => void) | null;
  readonly reject: ((error: unknown) => void) | null;
}

/** openMemoryStorage opens `options.disk` (or a new disk); it refuses a disk already open. */
export function openMemoryStorage<S extends object = AnySchema>(
  options: MemoryStorageOptions = {},
): MemoryStorage<S> {
  const disk = options.disk ?? new MemoryDisk();
  if (disk.holder) {
    throw new RookeryError(
      "StorageAlreadyOpen",
      `the memory disk "${disk.name}" is already open; close or crash the other storage first`,
      { storage: disk.name },
    );
  }
  const storage = new MemoryStorage<S>(disk, options);
  disk.holder = storage;
  const torn = disk.tornTail;
  if (torn) {
    disk.tornTail = null;
    options.onWarning?.({
      code: "torn-tail-cut",
      message:
        `the last record of the memory disk "${disk.name}" was torn by a crash (${torn.chars} ` +
        "characters of a batch never acknowledged); it was cut off",
      file: disk.name,
      offset: disk.syncedBatches,
      bytes: torn.chars,
    });
  }
  return storage;
}

/** MemoryStorage is the Storage port over a MemoryDisk; see MemorySyncMode for durability. */
export class MemoryStorage<S extends object = AnySchema> implements Storage<S> {
  private readonly limits: StorageLimits;
  private readonly mode: MemorySyncMode;
  private readonly lying: boolean;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private syncScheduled = false;
  private closed = false;
  /** Set by fail: every later call is refused with it, as fs refuses after an I/O error. */
  private failure: RookeryError | null = null;
  private readonly counters: StorageStats = { writes: 0, operations: 0, bytes: 0, syncs: 0 };

  /** Use openMemoryStorage, which guards against two storages on one disk. */
  constructor(
    readonly disk: MemoryDisk,
    options: MemoryStorageOptions = {},
  ) {
    this.limits = { ...storageLimits, ...options.limits };
    this.mode = options.sync ?? "immediate";
    this.lying = options.unsafeAcknowledgeBeforeSync ?? false;
  }

  /** pendingBatches counts batches written but not yet synced (what a crash would drop). */
  get pendingBatches(): number {
    return this.pending.length;
  }

  write(batch: readonly StorageOperation<S>[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.disk.name, "write"));
    if (this.failure) return Promise.reject(this.failure);
    let encoded: EncodedBatch;
    try {
      encoded = encodeBatch(batch, this.limits);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.mode === "immediate") {
      this.commit([{ batch: encoded, resolve: null, reject: null }]);
      return Promise.resolve();
    }
    if (this.pendingBytes + encoded.chars > this.limits.queueBytesMax) {
      return Promise.reject(overloaded(this.disk.name, this.limits.queueBytesMax));
    }
    this.pendingBytes += encoded.chars;
    if (this.mode === "microtask" && !this.syncScheduled) {
      this.syncScheduled = true;
      queueMicrotask(() => {
        this.syncScheduled = false;
        if (!this.closed) this.sync();
      });
    }
    if (this.lying) {
      this.pending.push({ batch: encoded, resolve: null, reject: null });
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ batch: encoded, resolve, reject });
    });
  }

  /**
   * sync makes the pending batches durable, in order, and acknowledges them: all of them, or the
   * first `batchesMax` (the group an fsync took when it started; later writes wait for the next
   * one). It returns how many it synced. One call is one sync point in stats.
   */
  sync(batchesMax = Infinity): number {
    if (this.closed) throw closedError(this.disk.name, "sync");
    if (this.failure) throw this.failure;
    const count = Math.min(this.pending.length, batchesMax);
    if (count === 0) return 0;
    const batches = this.pending.splice(0, count);
    for (const { batch } of batches) this.pendingBytes -= batch.chars;
    this.commit(batches);
    return count;
  }

  /**
   * fail stops the storage the way fs does after a failed write or fsync: every pending batch is
   * rejected with a StorageFailed error naming `cause` (none reached the disk), and every later
   * call is refused with it. Only closing and opening the disk again goes on, from what it kept.
   */
  fail(cause: string): RookeryError {
    assert(!this.closed, "fail needs an open storage");
    this.failure ??= new RookeryError(
      "StorageFailed",
      `could not write to the memory disk "${this.disk.name}": ${cause}. Nothing after the last ` +
        "acknowledged write is known to be on disk; close this storage and open it again to recover",
      { storage: this.disk.name, cause },
    );
    const lost = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const { reject } of lost) reject?.(this.failure);
    return this.failure;
  }

  /** failed is the error that stopped this storage (see fail), or null. */
  get failed(): RookeryError | null {
    return this.failure;
  }

  private commit(batches: readonly Pending[]): void {
    for (const { batch } of batches) {
      this.disk.durable.apply(batch.operations);
      this.counters.writes++;
      this.counters.operations += batch.operations.length;
      this.counters.bytes += batch.chars;
    }
    this.disk.syncedBatches += batches.length;
    this.counters.syncs++;
    for (const { resolve } of batches) resolve?.();
  }

  load(): Promise<StorageContents<S>> {
    if (this.closed) return Promise.reject(closedError(this.disk.name, "load"));
    if (this.failure) return Promise.reject(this.failure);
    return Promise.resolve(this.visible().contents<S>());
  }

  loadStore<K extends StoreName<S>>(store: K): Promise<Map<string, S[K]>> {
    if (this.closed) return Promise.reject(closedError(this.disk.name, "load"));
    if (this.failure) return Promise.reject(this.failure);
    try {
      checkStoreName(store);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(this.visible().store(store) as Map<string, S[K]>);
  }

  /** visible is what a read sees: the synced state with pending batches on top (a page cache). */
  private visible(): LiveState {
    if (this.pending.length === 0) return this.disk.durable;
    const state = new LiveState();
    state.apply([...this.disk.durable.entries()]);
    for (const { batch } of this.pending) state.apply(batch.operations);
    return state;
  }

  stats(): StorageStats {
    return { ...this.counters };
  }

  /**
   * close syncs pending batches (a clean shutdown flushes), then releases the disk; a failed
   * storage has nothing left to flush and rejects with its failure, as fs does.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const failure = this.failure;
    if (!failure) this.sync();
    this.release();
    return failure ? Promise.reject(failure) : Promise.resolve();
  }

  /**
   * crash drops every pending batch except the first `keepUnsyncedBatches` (which reached the disk
   * before the power went: still each whole, still in order); with `tornTail`, the batch after
   * those reached it in part, and the next open cuts it off and warns. It rejects all pending
   * writes and releases the disk for a reopen.
   */
  crash(options: MemoryCrashOptions = {}): void {
    if (this.closed) return;
    const kept = this.pending.slice(0, Math.max(0, options.keepUnsyncedBatches ?? 0));
    for (const { batch } of kept) this.disk.durable.apply(batch.operations);
    this.disk.syncedBatches += kept.length;
    const torn = options.tornTail ? this.pending[kept.length] : undefined;
    if (torn) this.disk.tornTail = { chars: torn.batch.chars };
    const lost = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.release();
    const error = closedError(this.disk.name, "finish a write (it crashed)");
    for (const { reject } of lost) reject?.(error);
  }

  private release(): void {
    this.closed = true;
    if (this.disk.holder === this) this.disk.holder = null;
  }
}
