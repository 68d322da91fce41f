/**
 * What one replicated write costs a hosted database beyond the write itself: the disk syncs and
 * messages that sit between a client's write and its acknowledgement, or that stall the node's
 * thread while the next write waits (measured with `npm run bench -- http`).
 */
import { describe, expect, it } from "vitest";
import { DatabaseInstance } from "../../engine/database/index.ts";
import {
  OutgoingReplication,
  receiveBatch,
  unpackBatch,
  type ReplicationAck,
  type ReplicationWireBatch,
  type ReplicationWireMessage,
} from "../../engine/replication/index.ts";
import { HostedDatabase } from "../../engine/server/index.ts";
import type { StorageWrite } from "../../engine/server/index.ts";
import type { ServerResponse } from "../../engine/transport/index.ts";
import { ClusterNode } from "../../engine/server/cluster-node.ts";
import { DatabaseHosting } from "../../engine/server/database-hosting.ts";
import { etagsReservedAtOnce } from "../../engine/server/hosted-database.ts";
import { LocalRequests } from "../../engine/server/local-requests.ts";
import { databaseIdOf } from "../replication/driver.ts";
import { clusterStateOf, DiskNow, parts, urlA, urlB } from "./parts.ts";

/**
 * HeldDisk is a disk whose writes, while `holding`, become durable only when the test releases
 * them, in order, as a slow fsync would; `crash` drops what was not released.
 */
class HeldDisk extends DiskNow {
  holding = false;
  private readonly held: { batch: readonly StorageWrite[]; done: () => void }[] = [];

  override write(batch: readonly StorageWrite[]): void | Promise<void> {
    if (!this.holding) return super.write(batch);
    return new Promise<void>((done) => this.held.push({ batch, done }));
  }

  get waiting(): number {
    return this.held.length;
  }

  release(): void {
    for (const { batch, done } of this.held.splice(0)) {
      super.write(batch);
      done();
    }
  }
}

/**
 * spadeDisk is node A's disk in a cluster of A and B that put Spade on both: what it kept after
 * the cluster applied that (a Raft snapshot of the state).
 */
function spadeDisk(): HeldDisk {
  const disk = new HeldDisk();
  const state = clusterStateOf([
    { type: "bootstrap", url: urlA, topologyId: "cluster1" },
    { type: "addNode", url: urlB },
    { type: "createDatabase", name: "Spade", nodes: ["A", "B"] },
  ]);
  disk.write([
    { store: "server", op: "put", key: "tag", value: "A" },
    { store: "server", op: "put", key: "topologyId", value: "cluster1" },
    { store: "raft", op: "put", key: "hard", value: { term: 2, vote: "A", commit: 3 } },
    {
      store: "raft",
      op: "put",
      key: "snapshot",
      value: {
        index: 3,
        term: 2,
        membership: { voters: ["A", "B"], learners: [] },
        data: JSON.stringify(state),
      },
    },
  ]);
  return disk;
}

/** Lets every promise continuation that is ready run (no timers, no time passes). */
async function settle(): Promise<void> {
  for (let k = 0; k < 50; k++) await Promise.resolve();
}

/**
 * nodeA hosts Spade on A with B as its one sibling, on `disk`, with replicateBeforeDurable as a
 * process server has it; B's answer to A's connect has arrived.
 */
function nodeA(disk: HeldDisk, b = instance("B")) {
  const p = parts({ storage: disk });
  const context = { ...p.context, replicateBeforeDurable: true };
  let hosting: DatabaseHosting | undefined;
  const node = new ClusterNode(context, {
    applied: (_command, state) => hosting?.reconcile(state),
    restored: (state) => hosting?.reconcile(state),
    roleChanged: () => {},
  });
  hosting = new DatabaseHosting(context, node, {});
  hosting.recover(disk.load());
  node.recover(disk.load());
  const db = hosting.get("Spade")!;
  hosting.receive({
    type: "replication-ack",
    database: "Spade",
    from: "B",
    to: "A",
    sourceDatabaseId: db.instance.databaseId,
    lastAcceptedEtag: b.lastEtagFrom(db.instance.databaseId),
    changeVector: b.changeVector,
    reason: "connect",
    answers: null,
  });
  const local = new LocalRequests(context, node, hosting);
  const batches = () =>
    p.sent.flatMap((s) =>
      s.message.type === "replication" && s.message.message.type === "replication-wire-batch"
        ? [s.message.message]
        : [],
    );
  /** B applies the batch A sent last and its ack reaches A. */
  const bAnswers = () => hosting.receive(receiveBatch(b, unpackBatch(batches().at(-1)!)).ack);
  let answered: ServerResponse | undefined;
  const write = (id: string) => {
    answered = undefined;
    void local
      .answer({
        type: "batch",
        database: "Spade",
        transaction: { puts: [{ id, body: { id } }] },
        writeAssurance: { replicas: 1, timeoutMs: 5_000 },
      })
      .then((response) => (answered = response));
  };
  return { db, b, batches, bAnswers, write, answer: () => answered };
}

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

  it("a process server sends a write to its siblings while its own disk syncs it, and answers only once both have it", async () => {
    const disk = spadeDisk();
    const a = nodeA(disk);
    disk.holding = true;

    // The first write reserves etags as it goes to disk: it leaves only once that is durable.
    a.write("users/1");
    await settle();
    expect(a.batches()).toHaveLength(0);
    disk.release();
    await settle();
    expect(a.batches()).toHaveLength(1);
    a.bAnswers();
    await settle();
    expect(a.answer()).toMatchObject({ ok: true, result: { lastEtag: 1, replicas: 1 } });

    // The second is on its way to B before A's disk has it; B's durable ack alone does not answer.
    a.write("users/2");
    await settle();
    expect(disk.waiting).toBe(1);
    expect(a.batches()).toHaveLength(2);
    expect(a.batches()[1]).toMatchObject({ afterEtag: 1, lastEtag: 2 });
    a.bAnswers();
    await settle();
    expect(a.answer()).toBeUndefined();
    disk.release();
    await settle();
    expect(a.answer()).toMatchObject({ ok: true, result: { lastEtag: 2, replicas: 1 } });

    // And the other way round: A's disk first, then B's ack.
    a.write("users/3");
    await settle();
    disk.release();
    await settle();
    expect(a.answer()).toBeUndefined();
    a.bAnswers();
    await settle();
    expect(a.answer()).toMatchObject({ ok: true, result: { lastEtag: 3, replicas: 1 } });
  });

  it("after a crash that lost a write a sibling already holds, the restarted node never gives that write's etag to another write", async () => {
    const disk = spadeDisk();
    const a = nodeA(disk);
    disk.holding = true;
    a.write("users/1");
    await settle();
    disk.release();
    await settle();
    a.bAnswers();
    await settle();
    expect(a.answer()).toMatchObject({ ok: true, result: { lastEtag: 1 } });
    a.write("users/lost");
    await settle();
    a.bAnswers(); // B holds A's etag 2 (users/lost), durably
    expect(a.b.get("users/lost")).toBeDefined();
    expect(a.answer()).toBeUndefined(); // never acknowledged: A's disk did not sync it

    // A crashes: its held write is gone. Restarted from its disk, it writes again.
    const afterCrash = new HeldDisk();
    for (const [name, store] of disk.stores) afterCrash.stores.set(name, new Map(store));
    const restarted = nodeA(afterCrash, a.b);
    expect(restarted.db.instance.get("users/lost")).toBeUndefined();
    restarted.write("users/next");
    await settle();
    // B said it holds A's etags up to 2, so A sends what follows; its new write is past them all.
    const batch = restarted.batches().at(-1)!;
    expect(batch.afterEtag).toBe(2);
    expect(batch.lastEtag).toBeGreaterThan(etagsReservedAtOnce);
    restarted.bAnswers();
    await settle();
    expect(a.b.get("users/next")).toBeDefined();
    expect(restarted.answer()).toMatchObject({ ok: true, result: { replicas: 1 } });
  });
});
