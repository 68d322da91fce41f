import type { ServerStorage, StorageWrite } from "./ports.ts";

/**
 * WriteChain is a server's one way to its storage: every write of every part goes through it, so
 * writes become durable in the order they were made, and each part learns when its own did.
 *
 * With synchronous storage (the simulator) `done` runs at once. With asynchronous storage the
 * write is handed over at once, because the storage applies batches in call order and makes
 * every batch waiting at that moment durable with one fsync (group commit); only the `done`
 * calls wait for each other, so they keep the order of the writes. Handing a write over only
 * after the previous one finished would leave the storage one batch per fsync.
 */
export class WriteChain {
  private chain: Promise<void> | undefined;

  constructor(private readonly storage: ServerStorage) {}

  /** busy tells whether a write is still on its way to being durable. */
  get busy(): boolean {
    return this.chain !== undefined;
  }

  /** persist writes durably, in order, then calls `done`. */
  persist(writes: readonly StorageWrite[], done: () => void): void {
    if (writes.length === 0) return done();
    const result = this.storage.write(writes);
    if (this.chain === undefined) {
      if (!(result instanceof Promise)) return done();
      this.chain = this.track(result.then(done));
      return;
    }
    this.chain = this.track(this.chain.then(() => result).then(done));
  }

  /** persistAsync is persist as a promise that resolves once the writes are durable. */
  persistAsync(writes: readonly StorageWrite[]): Promise<void> {
    return new Promise((resolve) => this.persist(writes, resolve));
  }

  private track(chain: Promise<void>): Promise<void> {
    const tracked: Promise<void> = chain.finally(() => {
      if (this.chain === tracked) this.chain = undefined;
    });
    return tracked;
  }
}
