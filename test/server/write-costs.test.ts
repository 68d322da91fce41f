/**
 * What one replicated write costs a hosted database beyond the write itself: the disk syncs and
 * messages that sit between a client's write and its acknowledgement, or that stall the node's
 * thread while the next write waits (measured with `npm run bench -- http`).
 */
import { describe, expect, it } from "vitest";
import { DatabaseInstance } from "../../engine/database/index.ts";
import {
  OutgoingReplication,
  unpackBatch,
  type ReplicationAck,
  type ReplicationWireBatch,
  type ReplicationWireMessage,
} from "../../engine/replication/index.ts";
import { HostedDatabase } from "../../engine/server/index.ts";
import type { StorageWrite } from "../../engine/server/index.ts";
import { databaseIdOf } from "../replication/driver.ts";

const retryMs = 300;

function instance(tag: string): DatabaseInstance {
  return new DatabaseInstance({ database: "Spade", nodeTag: tag, databaseId: databaseIdOf(tag) });
}

/**
 * node hosts Spade on `tag` with the given destinations; its storage writes are kept in `writes`
 * and durable at once, and what it sends is kept in `sent`.
 */
function node(tag: string, destinations: readonly string[]) {
  const db = instance(tag);
  const writes: (readonly StorageWrite[])[] = [];
  const sent: ReplicationWireMessage[] = [];
  const hosted = new HostedDatabase(
    "Spade",
    db,
    tag,
    {
      send: (_to, message) => sent.push(message),
      persist: (batch, done) => {
        if (batch.length > 0) writes.push(batch);
        done();
      },
      batchSent: () => {},
      batchApplied: () => {},
    },
    {},
  );
  hosted.setDestinations(destinations, 0);
  const acks = () => sent.filter((m): m is ReplicationAck => m.type === "replication-ack");
  return { db, hosted, writes, sent, acks };
}

/** batchFrom builds what `source` sends `to` after `afterEtag`, in its wire form. */
function batchFrom(source: DatabaseInstance, to: string, afterEtag = 0): ReplicationWireBatch {
  const outgoing = new OutgoingReplication({
    database: "Spade",
    from: source.nodeTag,
    to,
    cursor: {
      kind: "replication-cursor",
      database: "Spade",
      destination: to,
      lastAcceptedEtag: afterEtag,
    },
  });
  const batch = outgoing.nextBatch(source)!;
  return outgoing.wireOf(batch);
}

describe("what a replicated write costs a hosted database", () => {
  it("a batch that brings something new is acknowledged only after its storage write", () => {
    const a = instance("A");
    a.applyTransaction({ puts: [{ id: "users/1", body: {} }] }, { nowMs: 1 });
    let durable: (() => void) | undefined;
    const sent: ReplicationWireMessage[] = [];
    const b = new HostedDatabase(
      "Spade",
      instance("B"),
      "B",
      {
        send: (_to, message) => sent.push(message),
        persist: (_writes, done) => (durable = done),
        batchSent: () => {},
        batchApplied: () => {},
      },
      {},
    );
    b.receive(batchFrom(a, "B"), 2, retryMs);
    expect(sent.filter((m) => m.type === "replication-ack")).toEqual([]);
    durable!();
    expect(sent.filter((m) => m.type === "replication-ack")).toHaveLength(1);
  });

  it("moved replication cursors are saved at most once per replicationCursorSaveMs, not on every tick", () => {
    const a = node("A", ["B"]);
    const b = instance("B");
    const cursorWrites = () =>
      a.writes.filter((batch) => batch.some((w) => w.store === "replication-cursors")).length;
    a.hosted.receive(
      {
        type: "replication-ack",
        database: "Spade",
        from: "B",
        to: "A",
        sourceDatabaseId: a.db.databaseId,
        lastAcceptedEtag: 0,
        changeVector: "",
        reason: "connect",
        answers: null,
      },
      1,
      retryMs,
    );
    const cursorSaveMs = 1_000;
    // One write every 10 ms for 3 s, each replicated and acknowledged, a tick after each.
    for (let at = 10; at <= 3_000; at += 10) {
      a.db.applyTransaction({ puts: [{ id: `users/${at}`, body: {} }] }, { nowMs: at });
      a.hosted.markDurable(a.db.lastEtag);
      a.hosted.pump(at, retryMs);
      const wire = a.sent.at(-1) as ReplicationWireBatch;
      const ack = { ...b.applyReplicatedBatch(unpackBatch(wire)) };
      a.hosted.receive(
        {
          type: "replication-ack",
          database: "Spade",
          from: "B",
          to: "A",
          sourceDatabaseId: a.db.databaseId,
          lastAcceptedEtag: ack.lastAcceptedEtag,
          changeVector: b.changeVector,
          reason: "applied",
          answers: { afterEtag: wire.afterEtag, lastEtag: wire.lastEtag },
        },
        at + 1,
        retryMs,
      );
      a.hosted.tick(at + 5, retryMs, cursorSaveMs);
    }
    // 300 acknowledged batches; the cursor is saved at the first tick and once a second after.
    expect(cursorWrites()).toBe(3);
    expect(a.hosted.acceptedEtags()).toEqual({ B: 300 });
  });
});
