/**
 * A simulated server's disk: the product's memory backend (engine/storage/memory.ts) behind the
 * same asynchronous Storage port every runtime uses, with its fsyncs driven in virtual time. Like
 * the fs backend, a write that finds the disk idle starts a group at the end of the current
 * instant; the group's fsync takes a latency drawn from the seed, and every write issued
 * meanwhile waits for the next group. Seeds also choose faults: a slow fsync, an fsync that fails
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

  /** durableValue reads what a crash would keep of one key (checkers use it). */
  durableValue(store: string, key: string): unknown {
    return this.disk.durable.get(store, key);
  }

  /** pendingBatches counts batches written and not yet synced on the open storage. */
  get pendingBatches(): number {
    return this.current?.memory.pendingBatches ?? 0;
  }

  /** @internal how long the next fsync takes, and whether it fails. */
  drawFsync(): { readonly latencyMs: number; readonly fails: boolean } {
    const faults = this.faults();
    const slow = faults.slowFsyncRate > 0 && this.random.chance(faults.slowFsyncRate);
    const [low, high] = slow
      ? [faults.fsyncMaxMs, faults.slowFsyncMaxMs]
      : [faults.fsyncMinMs, faults.fsyncMaxMs];
    const fails = faults.failRate > 0 && this.random.chance(faults.failRate);
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
  private groupScheduled = false;
  private fsyncInFlight = false;
  private closed = false;

  constructor(
    readonly memory: MemoryStorage,
    private readonly owner: SimDisk,
  ) {}

  write(batch: readonly StorageOperation[]): Promise<void> {
    const written = this.memory.write(batch);
    this.scheduleGroup();
    return written;
  }

  /** A group starts at the end of this instant, so every write of the instant joins it. */
  private scheduleGroup(): void {
    if (this.groupScheduled || this.fsyncInFlight || this.closed) return;
    this.groupScheduled = true;
    this.owner.simulator.schedule(0, () => {
      this.groupScheduled = false;
      this.startFsync();
    });
  }

  private startFsync(): void {
    if (this.closed || this.fsyncInFlight || this.memory.failed) return;
    const group = this.memory.pendingBatches;
    if (group === 0) return;
    this.fsyncInFlight = true;
    const { latencyMs, fails } = this.owner.drawFsync();
    this.owner.simulator.schedule(latencyMs, () => {
      this.fsyncInFlight = false;
      if (this.closed) return;
      if (fails) {
        this.memory.fail("EIO: i/o error, fdatasync (a simulated disk fault)");
        return;
      }
      this.memory.sync(group);
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
    return this.memory.close();
  }

  crash(): void {
    if (this.closed) return;
    this.closed = true;
    this.memory.crash(this.owner.drawCrash(this.memory.pendingBatches));
  }
}
