import { isRookeryError } from "../core/index.ts";
import type { Clock } from "../core/index.ts";
import type { ServerResponse } from "../transport/index.ts";
import { failure as refusal } from "./context.ts";
import type { ServerFailure, StorageWrite, TraceEvent } from "./ports.ts";

/** Keys of a failed write named in its error, at most. */
const describedKeysMax = 3;

/**
 * FailStop is how a server stops after a storage write failed, as RavenDB does on an I/O error:
 * what memory holds may not be on disk, so the server serves nothing more. It remembers which
 * write failed and why, says so in the trace, and tells the runtime (onFailStop), which reports
 * the server crashed; a restart recovers from what is durable.
 */
export class FailStop {
  private failed: ServerFailure | undefined;

  constructor(
    private readonly url: string,
    private readonly clock: Clock,
    private readonly trace: (event: TraceEvent) => void,
    private readonly onFailStop: (failure: ServerFailure) => void,
  ) {}

  /** failure is why the server stopped, once it did. */
  get failure(): ServerFailure | undefined {
    return this.failed;
  }

  /** stop records the first failed write (later ones follow from it) and tells the runtime. */
  readonly stop = (error: unknown, writes: readonly StorageWrite[]): void => {
    if (this.failed) return;
    const reason = error instanceof Error ? error.message : String(error);
    const failed: ServerFailure = {
      code: isRookeryError(error) ? error.code : "StorageFailed",
      message: `could not write ${describeWrites(writes)}: ${reason}`,
      atMs: this.clock.nowMs(),
    };
    this.failed = failed;
    this.trace({
      type: "server",
      atMs: failed.atMs,
      url: this.url,
      text: `stopped: ${failed.message}`,
    });
    this.onFailStop(failed);
  };

  /** refusal answers a request that reaches a stopped server (a runtime that has not ended it yet). */
  refusal(): ServerResponse {
    const failed = this.failed!;
    return refusal(
      failed.code,
      `${this.url} stopped after a failed write and serves nothing more; restart it (it ` +
        `recovers what is durable). ${failed.message}`,
    );
  }
}

/** describeWrites names a batch by its first keys: "3 operations (db-documents spade|users/2, …)". */
function describeWrites(writes: readonly StorageWrite[]): string {
  const named = writes.slice(0, describedKeysMax).map((write) => `${write.store} ${write.key}`);
  const more = writes.length > describedKeysMax ? ", …" : "";
  return `${writes.length} operation${writes.length === 1 ? "" : "s"} (${named.join(", ")}${more})`;
}
