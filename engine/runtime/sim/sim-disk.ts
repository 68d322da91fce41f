/**
 * A simulated server's disk: the product's memory backend (engine/storage/memory.ts) behind the
 * same asynchronous Storage port every runtime uses, with its fsyncs driven in virtual time. Like
 * the fs backend, a write that finds the disk idle starts a group, which takes every write of that
 * instant; the group's fsync takes a latency drawn from the seed, and every write issued later
 * waits for the next group. Seeds also choose faults: a slow fsync, an fsync that fails
 * (the storage fail-stops, and so does its server), and on a crash, unsynced batches that reached
 * the disk anyway and a torn record after them.
 */
import type { Random } from "../../core/index.ts";
import { MemoryDisk, openMemoryStorage } from "../../storage/index.ts";
import type {
  MemoryStorage,
  Storage,
  StorageContents,
  StorageOperation,
  StorageStats,
  StorageValue,
  StorageWarning,
} from "../../storage/index.ts";
import type { Simulator } from "./simulator.ts";

/** StorageFaults describe how a simulated disk behaves; every draw comes from the seed. */
export interface StorageFaults {
  /** An fsync takes a latency drawn uniformly from [fsyncMinMs, fsyncMaxMs] … */
  fsyncMinMs: number;
  fsyncMaxMs: number;
  /** … or, with this probability, from [fsyncMaxMs, slowFsyncMaxMs]: a slow disk. */
  slowFsyncRate: number;
  slowFsyncMaxMs: number;
  /** Probability that an fsync fails with an I/O error; the storage then fail-stops. */
  failRate: number;
  /** On a crash, the probability that each unsynced batch (in order) reached the disk anyway. */
  crashKeepRate: number;
  /** On a crash, the probability that the next unsynced batch reached the disk in part (torn). */
  tornTailRate: number;
}

/**
 * reliableStorage is a healthy disk: fsyncs of 0.1–1 ms (baselines.md measures 0.1–0.3 ms on
 * this machine's disk), nothing fails, and a crash loses exactly what was not yet synced.
 */
export const reliableStorage: StorageFaults = {
  fsyncMinMs: 0.1,
  fsyncMaxMs: 1,
  slowFsyncRate: 0,
  slowFsyncMaxMs: 1,
  failRate: 0,
  crashKeepRate: 0,
  tornTailRate: 0,
};

/** randomStorageFaults draws a disk for one seed of a sweep. */
export function randomStorageFaults(random: Random): StorageFaults {
  const fsyncMinMs = random.pick([0.05, 0.1, 0.5]);
  const fsyncMaxMs = fsyncMinMs + random.pick([0.2, 1, 4]);
  return {
    fsyncMinMs,
    fsyncMaxMs,
    slowFsyncRate: random.pick([0, 0.005, 0.05]),
    slowFsyncMaxMs: fsyncMaxMs + random.between(20, 400),
    failRate: random.pick([0, 0, 0.0003, 0.002]),
    crashKeepRate: random.pick([0, 0.5, 0.9]),
    tornTailRate: random.pick([0, 0.5]),
  };
}

/** SimDiskStats counts what a disk's faults did, for sweeps and tests. */
export interface SimDiskStats {
  fsyncs: number;
  slowFsyncs: number;
  failedFsyncs: number;
  crashes: number;
  keptUnsyncedBatches: number;
  tornTails: number;
}

/** SimDiskWatcher hears, synchronously, what the open storage's fsyncs did. */
export interface SimDiskWatcher {
  /** `batches` more batches (the oldest pending ones) are durable. */
  durable(batches: number): void;
  /** The fsync failed: the storage stopped, every pending batch was rejected with `error`. */
  failed(error: Error): void;
}

/**
 * SimDisk is one server's disk for its whole life: it outlives every storage opened on it, and
 * a crash loses what that storage had not synced yet.
 */
export class SimDisk {
  readonly disk: MemoryDisk;
  readonly stats: SimDiskStats = {
    fsyncs: 0,
    slowFsyncs: 0,
    failedFsyncs: 0,
    crashes: 0,
    keptUnsyncedBatches: 0,
    tornTails: 0,
  };
  private current: VirtualTimeStorage | undefined;
  private failNext = false;
  /**
   * Told inside the simulator's event when a group became durable or the disk failed: for a
   * synchronous harness (the Rachis one) that cannot wait for promise continuations.
   */
  watcher: SimDiskWatcher | undefined;

  constructor(
    name: string,
    private readonly sim: Simulator,
    private readonly random: Random,
    private readonly faults: () => StorageFaults,
  ) {
    this.disk = new MemoryDisk(name);
  }

  /** open opens the memory backend on this disk; recovery warnings go to `onWarning`. */
  open(onWarning: (warning: StorageWarning) => void = () => {}): Storage {
    const memory = openMemoryStorage({ disk: this.disk, sync: "manual", onWarning });
    this.current = new VirtualTimeStorage(memory, this);
    return this.current;
  }

  /**
   * openDurableAtOnce opens the memory backend with every write synced inside write(), for
   * scripted scenarios that want no fsync to wait for.
   */
  openDurableAtOnce(): Storage {
    return openMemoryStorage({ disk: this.disk, sync: "immediate" });
  }

  /**
   * contents is what the disk holds, for a harness that recovers synchronously; it is what the
   * storage's load returns once no write is pending (after a crash, or before the first open).
   */
  contents(): StorageContents {
    return this.disk.durable.contents();
  }

  /** durableValue reads what a crash would keep of one key (checkers use it). */
  durableValue(store: string, key: string): unknown {
    return this.disk.durable.get(store, key);
  }

  /** pendingBatches counts batches written and not yet synced on the open storage. */
  get pendingBatches(): number {
    return this.current?.memory.pendingBatches ?? 0;
  }

  /** failNextFsync makes the next fsync fail with an I/O error, whatever the faults say. */
  failNextFsync(): void {
    this.failNext = true;
  }

  /** @internal how long the next fsync takes, and whether it fails. */
  drawFsync(): { readonly latencyMs: number; readonly fails: boolean } {
    const faults = this.faults();
    const slow = faults.slowFsyncRate > 0 && this.random.chance(faults.slowFsyncRate);
    const [low, high] = slow
      ? [faults.fsyncMaxMs, faults.slowFsyncMaxMs]
      : [faults.fsyncMinMs, faults.fsyncMaxMs];
    const fails = this.failNext || (faults.failRate > 0 && this.random.chance(faults.failRate));
    this.failNext = false;
    this.stats.fsyncs++;
    if (slow) this.stats.slowFsyncs++;
    if (fails) this.stats.failedFsyncs++;
    return { latencyMs: low + this.random.next() * (high - low), fails };
  }

  /** @internal what of the unsynced batches reaches the disk when the power goes. */
  drawCrash(pending: number): { readonly keepUnsyncedBatches: number; readonly tornTail: boolean } {
    const faults = this.faults();
    let kept = 0;
    while (kept < pending && faults.crashKeepRate > 0 && this.random.chance(faults.crashKeepRate))
      kept++;
    const tornTail =
      kept < pending && faults.tornTailRate > 0 && this.random.chance(faults.tornTailRate);
    this.stats.crashes++;
    this.stats.keptUnsyncedBatches += kept;
    if (tornTail) this.stats.tornTails++;
    return { keepUnsyncedBatches: kept, tornTail };
  }

  /** @internal the simulator the disk's fsyncs run on. */
  get simulator(): Simulator {
    return this.sim;
  }
}

/**
 * VirtualTimeStorage is the Storage port over a MemoryStorage in manual mode: it starts a group
 * commit when a write finds the disk idle, and syncs (or fails) that group when its fsync is done.
 */
class VirtualTimeStorage implements Storage {
  /** When each pending batch was written, oldest first (the memory backend's queue order). */
  private readonly writtenAtMs: number[] = [];
  private fsyncInFlight = false;
  private closed = false;

  constructor(
    readonly memory: MemoryStorage,
    private readonly owner: SimDisk,
  ) {}

  write(batch: readonly StorageOperation[]): Promise<void> {
    const before = this.memory.pendingBatches;
    const written = this.memory.write(batch);
    if (this.memory.pendingBatches > before) {
      this.writtenAtMs.push(this.owner.simulator.nowMs());
      this.startFsync();
    }
    return written;
  }

  /**
   * startFsync starts a group commit when the disk is idle. The group is every batch written up
   * to the instant it starts, the writes of that instant included (fs gathers the writes of one
   * turn the same way); a batch written later waits for the next fsync.
   */
  private startFsync(): void {
    if (this.closed || this.fsyncInFlight || this.memory.failed) return;
    if (this.writtenAtMs.length === 0) return;
    this.fsyncInFlight = true;
    const startedAtMs = this.owner.simulator.nowMs();
    const { latencyMs, fails } = this.owner.drawFsync();
    this.owner.simulator.schedule(latencyMs, () => {
      this.fsyncInFlight = false;
      if (this.closed) return;
      if (fails) {
        this.writtenAtMs.length = 0;
        const error = this.memory.fail("EIO: i/o error, fdatasync (a simulated disk fault)");
        this.owner.watcher?.failed(error);
        return;
      }
      let group = 0;
      while (group < this.writtenAtMs.length && this.writtenAtMs[group]! <= startedAtMs) group++;
      this.writtenAtMs.splice(0, group);
      this.memory.sync(group);
      this.owner.watcher?.durable(group);
      // What queued during this fsync has waited already: the next group starts at once.
      this.startFsync();
    });
  }

  load(): Promise<StorageContents> {
    return this.memory.load();
  }

  loadStore(store: string): Promise<Map<string, StorageValue>> {
    return this.memory.loadStore(store);
  }

  stats(): StorageStats {
    return this.memory.stats();
  }

  close(): Promise<void> {
    this.closed = true;
    this.writtenAtMs.length = 0;
    return this.memory.close();
  }

  crash(): void {
    if (this.closed) return;
    this.closed = true;
    this.writtenAtMs.length = 0;
    this.memory.crash(this.owner.drawCrash(this.memory.pendingBatches));
  }
}
