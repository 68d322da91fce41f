/**
 * The memory backend, for the simulator and unit tests. A MemoryDisk stands for one server's disk
 * and outlives the MemoryStorage opened on it, the way a folder outlives a process: a crash drops
 * what was written but not yet synced, and a reopen sees exactly what the disk kept.
 *
 * It is deterministic: no timers and no clock. When a write becomes durable is the caller's
 * choice (`sync`), or at once, or at the end of the current job (a microtask), which models group
 * commit without time.
 */
import { RookeryError } from "../core/index.ts";
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
   * sync makes every pending batch durable, in order, and acknowledges them; it returns how many
   * there were. One call is one sync point in stats.
   */
  sync(): number {
    if (this.closed) throw closedError(this.disk.name, "sync");
    const batches = this.pending;
    if (batches.length === 0) return 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.commit(batches);
    return batches.length;
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
    return Promise.resolve(this.visible().contents<S>());
  }

  loadStore<K extends StoreName<S>>(store: K): Promise<Map<string, S[K]>> {
    if (this.closed) return Promise.reject(closedError(this.disk.name, "load"));
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

  /** close syncs pending batches (a clean shutdown flushes), then releases the disk. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.sync();
    this.release();
    return Promise.resolve();
  }

  /**
   * crash drops every pending batch except the first `keepUnsyncedBatches` (which reached the disk
   * before the power went: still each whole, still in order), rejects all pending writes and
   * releases the disk for a reopen.
   */
  crash(options: { readonly keepUnsyncedBatches?: number } = {}): void {
    if (this.closed) return;
    const kept = this.pending.slice(0, Math.max(0, options.keepUnsyncedBatches ?? 0));
    for (const { batch } of kept) this.disk.durable.apply(batch.operations);
    this.disk.syncedBatches += kept.length;
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
