import { batchDocumentIds } from "../replication/index.ts";
import type { TraceEvent } from "../server/index.ts";
import type { Envelope } from "../transport/index.ts";

/**
 * droppedEvent turns a peer message the network did not deliver into the trace event the book
 * shows (a failed send, dimmed, with its reason): replication always, Raft messages only while
 * they are being traced (they are many: every heartbeat to a dead server). Other peer traffic
 * (health reports, forwarded requests) has its own timeouts and stays out of the trace.
 */
export function droppedEvent(
  envelope: Extract<Envelope, { kind: "peer" }>,
  reason: string,
  atMs: number,
  raftTraced: boolean,
): TraceEvent | null {
  const message = envelope.message;
  if (message.type === "replication") {
    const inner = message.message;
    const batch = inner.type === "replication-wire-batch";
    return {
      type: "message-dropped",
      atMs,
      kind: "replication",
      from: inner.from,
      to: inner.to,
      database: inner.database,
      ...(batch ? { ids: batchDocumentIds(inner) } : {}),
      what: batch ? "batch" : inner.type === "replication-ack" ? "ack" : "connect",
      reason,
    };
  }
  if (message.type === "raft" && raftTraced)
    return {
      type: "message-dropped",
      atMs,
      kind: "raft",
      from: message.message.from,
      to: message.message.to,
      what: message.message.type,
      reason,
    };
  return null;
}
