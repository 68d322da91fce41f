import { describe, expect, it } from "vitest";
import { DatabaseInstance } from "../../engine/database/index.ts";
import {
  receiveBatch,
  unpackBatch,
  type ReplicationAck,
  type ReplicationWireBatch,
  type ReplicationWireMessage,
} from "../../engine/replication/index.ts";
import { HostedDatabase } from "../../engine/server/index.ts";
import { databaseIdOf } from "./driver.ts";

const retryMs = 300;

/** A hosted Spade on A replicating to B, with every message A sends kept in `sent`. */
function hostedOnA() {
  const sent: ReplicationWireMessage[] = [];
  const a = new DatabaseInstance({
    database: "Spade",
    nodeTag: "A",
    databaseId: databaseIdOf("A"),
  });
  const b = new DatabaseInstance({
    database: "Spade",
    nodeTag: "B",
    databaseId: databaseIdOf("B"),
  });
  const hosted = new HostedDatabase(
    "Spade",
    a,
    "A",
    {
      send: (_to, message) => sent.push(message),
      persist: (_writes, done) => done(),
      batchSent: () => {},
    },
    {},
  );
  const batches = () =>
    sent.filter((m): m is ReplicationWireBatch => m.type === "replication-wire-batch");
  /** B applies a batch A sent and answers it. */
  const answer = (wire: ReplicationWireBatch): ReplicationAck =>
    receiveBatch(b, unpackBatch(wire)).ack;
  return { hosted, a, b, sent, batches, answer };
}

describe("replication acks and re-sends (defect 6: some db seeds never ended)", () => {
  it("an ack that is not for the batch in flight is ignored: nothing is sent again before the retry interval", () => {
    const { hosted, a, b, batches, answer } = hostedOnA();
    hosted.setDestinations(["B"], 0);
    hosted.receive(
      {
        type: "replication-ack",
        database: "Spade",
        from: "B",
        to: "A",
        sourceDatabaseId: a.databaseId,
        lastAcceptedEtag: b.lastEtagFrom(a.databaseId),
        changeVector: b.changeVector,
        reason: "connect",
        answers: null,
      },
      1,
      retryMs,
    );
    a.applyTransaction({ puts: [{ id: "users/1", body: { v: 1 } }] }, { nowMs: 2 });
    hosted.markDurable(a.lastEtag);
    hosted.pump(2, retryMs);
    expect(batches()).toHaveLength(1);
    const firstAck = answer(batches()[0]!);
    hosted.receive(firstAck, 5, retryMs);

    a.applyTransaction({ puts: [{ id: "users/2", body: { v: 1 } }] }, { nowMs: 6 });

    hosted.markDurable(a.lastEtag);
    hosted.pump(6, retryMs);
    expect(batches()).toHaveLength(2);

    // The network delivers the first ack again (a duplicate, or one held back): it answers a
    // batch no longer in flight, so it must not make A send the second batch again.
    hosted.receive(firstAck, 8, retryMs);
    hosted.receive(firstAck, 9, retryMs);
    expect(batches()).toHaveLength(2);
    expect(hosted.connectionStates()[0]).toMatchObject({ lastAcceptedEtag: 1, pending: true });

    // Unanswered, the batch in flight goes again once the retry interval has passed, not before.
    hosted.tick(6 + retryMs - 1, retryMs);
    expect(batches()).toHaveLength(2);
    hosted.tick(6 + retryMs, retryMs);
    expect(batches()).toHaveLength(3);
    expect(batches()[2]!.afterEtag).toBe(1);

    // Its answer moves the connection on, once, however many copies arrive.
    const secondAck = answer(batches()[2]!);
    hosted.receive(secondAck, 310, retryMs);
    hosted.receive(secondAck, 311, retryMs);
    expect(hosted.connectionStates()[0]).toMatchObject({ lastAcceptedEtag: 2, pending: false });
    expect(batches()).toHaveLength(3);
  });

  it("a late copy of a connect answer does not move a connected sender back", () => {
    const { hosted, a, b, batches, answer } = hostedOnA();
    hosted.setDestinations(["B"], 0);
    const connectAck: ReplicationAck = {
      type: "replication-ack",
      database: "Spade",
      from: "B",
      to: "A",
      sourceDatabaseId: a.databaseId,
      lastAcceptedEtag: 0,
      changeVector: b.changeVector,
      reason: "connect",
      answers: null,
    };
    hosted.receive(connectAck, 1, retryMs);
    a.applyTransaction({ puts: [{ id: "users/1", body: {} }] }, { nowMs: 2 });
    hosted.markDurable(a.lastEtag);
    hosted.pump(2, retryMs);
    hosted.receive(answer(batches()[0]!), 4, retryMs);
    hosted.receive(connectAck, 5, retryMs);
    expect(hosted.connectionStates()[0]).toMatchObject({ lastAcceptedEtag: 1, pending: false });
    expect(batches()).toHaveLength(1);
  });
});

describe("replication sends only what the sender's disk holds", () => {
  it("a write applied in memory leaves for a replica only once it is durable", () => {
    const { hosted, a, b, batches } = hostedOnA();
    hosted.setDestinations(["B"], 0);
    hosted.receive(
      {
        type: "replication-ack",
        database: "Spade",
        from: "B",
        to: "A",
        sourceDatabaseId: a.databaseId,
        lastAcceptedEtag: 0,
        changeVector: b.changeVector,
        reason: "connect",
        answers: null,
      },
      1,
      retryMs,
    );
    a.applyTransaction({ puts: [{ id: "users/1", body: {} }] }, { nowMs: 2 });
    hosted.pump(2, retryMs);
    hosted.tick(2 + retryMs, retryMs);
    expect(batches()).toHaveLength(0);
    hosted.markDurable(a.lastEtag);
    hosted.pump(3 + retryMs, retryMs);
    expect(batches()).toHaveLength(1);
    expect(batches()[0]!.lastEtag).toBe(a.lastEtag);
  });
});
