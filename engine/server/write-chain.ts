import { serverBusy, serverLimits } from "./limits.ts";
import type { ServerStorage, StorageWrite } from "./ports.ts";

/**
 * WriteChain is a server's one way to its storage: every write of every part goes through it, so
 * writes become durable in the order they were made, and each part learns when its own did.
 *
 * With synchronous storage `done` runs at once. With asynchronous storage the write is handed
 * over at once, because the storage applies batches in call order and makes every batch waiting
 * at that moment durable with one fsync (group commit); only the `done` calls wait for each
 * other, so they keep the order of the writes. Handing a write over only after the previous one
 * finished would leave the storage one batch per fsync.
 *
 * A write that fails stops the chain for good: `failed` is told once, which write it was and why,
 * and no `done` runs any more, for that write or any after it, so nothing that depends on them
 * (an acknowledgement, an applied Raft entry) ever happens. The server then stops (fail-stop).
 */
export class WriteChain {
  private chain: Promise<void> | undefined;
  private inFlight = 0;
  private failure: unknown;
  private stopped = false;
  private readonly watchers: ((writes: readonly StorageWrite[]) => void)[] = [];

  constructor(
    private readonly storage: ServerStorage,
    private readonly url: string,
    private readonly failed: (error: unknown, writes: readonly StorageWrite[]) => void,
  ) {}

  /** watch tells `watcher` of every write handed to storage, as it is handed over. */
  watch(watcher: (writes: readonly StorageWrite[]) => void): void {
    this.watchers.push(watcher);
  }

  /** busy tells whether a write is still on its way to being durable. */
  get busy(): boolean {
    return this.chain !== undefined && !this.stopped;
  }

  /**
   * persist writes durably, in order, then calls `done`. With no writes it is a barrier: `done`
   * runs once every write handed over before is durable.
   */
  persist(writes: readonly StorageWrite[], done: () => void): void {
    if (this.stopped) return;
    if (writes.length === 0) {
      if (this.chain === undefined) return done();
      this.chain = this.track(this.chain.then(done));
      return;
    }
    for (const watcher of this.watchers) watcher(writes);
    let result: void | Promise<void>;
    try {
      result = this.storage.write(writes);
    } catch (error) {
      return this.fail(error, writes);
    }
    if (this.chain === undefined && !(result instanceof Promise)) return done();
    const written = Promise.resolve(result);
    this.inFlight++;
    written.then(
      () => this.inFlight--,
      (error: unknown) => this.fail(error, writes),
    );
    this.chain = this.track((this.chain ?? Promise.resolve()).then(() => written).then(done));
  }

  /**
   * admit throws ServerBusy while writesInFlightMax writes wait for the disk: a client
   * transaction asks before it changes anything, so a refused one leaves no trace.
   */
  admit(): void {
    if (this.inFlight >= serverLimits.writesInFlightMax)
      throw serverBusy(this.url, "too many writes wait for its disk", "writesInFlightMax");
  }

  /**
   * persistAsync is persist as a promise: it resolves once the writes are durable, and rejects
   * with the storage's error if they fail (the server is stopping).
   */
  persistAsync(writes: readonly StorageWrite[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.persist(writes, resolve);
      const tracked = this.chain;
      // Rejects only when this chain fails; a chain that succeeds resolves through `done`.
      tracked?.catch((error: unknown) => reject(this.failure ?? error));
      if (this.stopped) reject(this.failure);
    });
  }

  private fail(error: unknown, writes: readonly StorageWrite[]): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = error;
    this.failed(error, writes);
  }

  private track(chain: Promise<void>): Promise<void> {
    const tracked: Promise<void> = chain.finally(() => {
      if (this.chain === tracked) this.chain = undefined;
    });
    // A failed link is the failure already reported (fail); nobody else handles the rejection.
    tracked.catch(() => {});
    return tracked;
  }
}
