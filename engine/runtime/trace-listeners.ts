import { quote, RookeryError } from "../core/index.ts";
import type { TraceEvent } from "../server/index.ts";

/** TraceListener receives trace events in batches, as a runtime delivers them. */
export type TraceListener = (events: readonly TraceEvent[]) => void;

/** TraceListeners is the `on("trace", …)` registry every runtime's ClusterHandle keeps. */
export class TraceListeners {
  private readonly listeners: TraceListener[] = [];

  /** on adds a listener for `event` ("trace") and returns the function that removes it. */
  on(event: "trace", listener: TraceListener): () => void {
    if (event !== "trace")
      throw new RookeryError("InvalidEvent", `unknown event ${quote(String(event))}; use "trace"`);
    this.listeners.push(listener);
    return () => {
      const k = this.listeners.indexOf(listener);
      if (k >= 0) this.listeners.splice(k, 1);
    };
  }

  emit(events: readonly TraceEvent[]): void {
    for (const listener of this.listeners) listener(events);
  }
}
