import { describe, expect, it } from "vitest";
import { describe as describeValue } from "../../engine/core/index.ts";
import {
  buildBatch,
  isReplicationAck,
  isReplicationBatch,
  isReplicationConnect,
  isReplicationMessage,
  OutgoingReplication,
  answerConnect,
  receiveBatch,
} from "../../engine/replication/index.ts";
import { Group } from "./driver.ts";

describe("replication between instances of a database group", () => {
  it("a document written on A arrives on B with the same change vector", () => {
    const group = new Group(["A", "B"]);
    group.write("A", { puts: [{ id: "users/1", body: { name: "Oren" } }] }, 10);
    const batch = group.replicateOnce("A", "B");
    expect(batch?.transactions).toHaveLength(1);
    const onA = group.node("A").get("users/1")!;
    const onB = group.node("B").get("users/1")!;
    expect(onB.body).toEqual({ name: "Oren" });
    expect(onB.metadata).toEqual(onA.metadata);
    expect(group.node("B").changeVector).toBe("A:1-dbAid");
    expect(group.connection("A", "B").lastAcceptedEtag).toBe(1);
  });

  it("deletes, attachments and revisions replicate, attachments before their document", () => {
    const group = new Group(["A", "B"], {
      settings: { revisions: { default: { enabled: true } } },
    });
    group.write(
      "A",
      {
        puts: [
          { id: "users/1", body: { v: 1 } },
          { id: "users/2", body: {} },
        ],
      },
      1,
    );
    group.write(
      "A",
      { attachmentPuts: [{ documentId: "users/1", name: "cv.pdf", content: "pdf!" }] },
      2,
    );
    group.write("A", { deletes: [{ id: "users/2" }] }, 3);
    group.replicateAll("A", "B");
    const items = group.log.flatMap((batch) => batch.transactions.flatMap((tx) => tx.items));
    const attachmentAt = items.findIndex((item) => item.kind === "attachment");
    const documentAt = items.findIndex((item) => item.kind === "document" && item.id === "users/1");
    expect(attachmentAt).toBeGreaterThanOrEqual(0);
    expect(attachmentAt).toBeLessThan(documentAt);
    const b = group.node("B");
    expect(new TextDecoder().decode(b.getAttachment("users/1", "cv.pdf")?.content)).toBe("pdf!");
    expect(b.get("users/2")).toBeUndefined();
    expect(
      [...b.itemsAfterEtag(0)].some((item) => item.kind === "tombstone" && item.id === "users/2"),
    ).toBe(true);
    expect(b.revisionsOf("users/1").map((revision) => revision.changeVector)).toEqual(
      group
        .node("A")
        .revisionsOf("users/1")
        .map((revision) => revision.changeVector),
    );
  });

  it("only the current state travels: a document changed three times is sent once", () => {
    const group = new Group(["A", "B"]);
    for (let v = 1; v <= 3; v++) group.write("A", { puts: [{ id: "users/1", body: { v } }] }, v);
    const batch = group.replicateOnce("A", "B")!;
    expect(batch.transactions.map((tx) => tx.items.map((item) => item.etag))).toEqual([[3]]);
    expect(group.node("B").get("users/1")?.body).toEqual({ v: 3 });
  });

  it("a batch never splits a transaction, however small the limits", () => {
    const group = new Group(["A", "B"], { limits: { batchItemsMax: 2, batchBytesMax: 10 } });
    const puts = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `${prefix}/${i}`, body: { i } }));
    group.write("A", { puts: puts("a", 3) }, 1);
    group.write("A", { puts: puts("b", 1) }, 2);
    group.write("A", { puts: puts("c", 1) }, 3);
    group.replicateAll("A", "B");
    expect(group.log.map((batch) => batch.transactions.map((tx) => tx.items.length))).toEqual([
      [3],
      [1],
      [1],
    ]);
    const roomy = new Group(["A", "B"], { limits: { batchItemsMax: 4 } });
    roomy.write("A", { puts: puts("a", 3) }, 1);
    roomy.write("A", { puts: puts("b", 1) }, 2);
    roomy.write("A", { puts: puts("c", 1) }, 3);
    roomy.replicateAll("A", "B");
    expect(roomy.log.map((batch) => batch.transactions.map((tx) => tx.items.length))).toEqual([
      [3, 1],
      [1],
    ]);
  });

  it("a batch renders as one line naming the database, the nodes, the etags and the counts", () => {
    const group = new Group(["A", "B"]);
    group.write("A", { puts: [{ id: "x/1", body: {} }] }, 1);
    group.replicateOnce("A", "B");
    group.write(
      "A",
      {
        puts: [
          { id: "x/2", body: {} },
          { id: "x/3", body: {} },
        ],
      },
      2,
    );
    group.write("A", { puts: [{ id: "x/4", body: {} }] }, 3);
    const batch = group.send("A", "B")!;
    expect(describeValue(batch)).toBe("replicate Spade A→B etags 2..4 (2 tx, 3 items)");
    const ack = group.deliver(batch);
    expect(describeValue(ack)).toBe("ack Spade B→A etag 4 (applied)");
    expect(isReplicationBatch(batch) && isReplicationAck(ack) && isReplicationMessage(ack)).toBe(
      true,
    );
    expect(isReplicationBatch(ack) || isReplicationAck(batch) || isReplicationConnect(batch)).toBe(
      false,
    );
    expect(structuredClone(batch)).toEqual(batch);
  });

  it("a duplicated or old batch changes nothing and is acknowledged again", () => {
    const group = new Group(["A", "B"]);
    group.write("A", { puts: [{ id: "users/1", body: { v: 1 } }] }, 1);
    const first = group.send("A", "B")!;
    group.acknowledge(group.deliver(first));
    group.write("A", { puts: [{ id: "users/1", body: { v: 2 } }] }, 2);
    group.replicateOnce("A", "B");
    const before = group.node("B").snapshot();
    const ack = group.deliver(first);
    expect(ack.reason).toBe("duplicate");
    expect(ack.lastAcceptedEtag).toBe(2);
    expect(group.node("B").snapshot()).toEqual(before);
    expect(group.node("B").get("users/1")?.body).toEqual({ v: 2 });
  });

  it("a lost batch is sent again, and a batch after a gap is refused until the sender goes back", () => {
    const group = new Group(["A", "B"], { limits: { batchItemsMax: 1 } });
    group.write("A", { puts: [{ id: "users/1", body: {} }] }, 1);
    group.write("A", { puts: [{ id: "users/2", body: {} }] }, 2);
    const outgoing = group.connection("A", "B");
    const lost = group.send("A", "B")!;
    expect(group.send("A", "B")).toBeUndefined();
    outgoing.retry();
    // A stale sender that believes etag 1 was accepted sends 2..2: B refuses the gap.
    const stale = new OutgoingReplication({
      database: "Spade",
      from: "A",
      to: "B",
      limits: { batchItemsMax: 1 },
      cursor: {
        kind: "replication-cursor",
        database: "Spade",
        destination: "B",
        lastAcceptedEtag: 1,
      },
    });
    const gapped = stale.nextBatch(group.node("A"))!;
    const refused = receiveBatch(group.node("B"), gapped);
    expect(refused.ack.reason).toBe("gap");
    expect(refused.commit).toBeUndefined();
    stale.onAck(refused.ack);
    expect(stale.lastAcceptedEtag).toBe(0);
    expect(group.replicateAll("A", "B")).toBe(2);
    expect(lost.lastEtag).toBe(1);
    expect(
      group
        .node("B")
        .list()
        .map((document) => document.id),
    ).toEqual(["users/1", "users/2"]);
  });

  it("a new node gets everything from etag 0, and a restarted sender resumes from its cursor", () => {
    const group = new Group(["A", "B"]);
    group.write(
      "A",
      {
        puts: [
          { id: "users/1", body: {} },
          { id: "users/2", body: {} },
        ],
      },
      1,
    );
    group.replicateAll("A", "B");
    const cursor = group.connection("A", "B").cursor();
    expect(cursor).toEqual({
      kind: "replication-cursor",
      database: "Spade",
      destination: "B",
      lastAcceptedEtag: 2,
    });
    group.write("A", { puts: [{ id: "users/3", body: {} }] }, 2);
    const resumed = new OutgoingReplication({
      database: "Spade",
      from: "A",
      to: "B",
      cursor: structuredClone(cursor),
    });
    expect(resumed.nextBatch(group.node("A"))?.afterEtag).toBe(2);

    const c = group.addNode("C");
    const hello = answerConnect(c, {
      type: "replication-connect",
      database: "Spade",
      from: "A",
      to: "C",
      sourceDatabaseId: "dbAid",
    });
    expect(hello.lastAcceptedEtag).toBe(0);
    group.connection("A", "C").onAck(hello);
    group.replicateAll("A", "C");
    expect(c.list().map((document) => document.id)).toEqual(["users/1", "users/2", "users/3"]);
  });

  it("the next batch is built while the last one awaits its ack; a document changed meanwhile still ends in its latest version", () => {
    const group = new Group(["A", "B"], { limits: { batchItemsMax: 1 } });
    group.write("A", { puts: [{ id: "users/1", body: { v: 1 } }] }, 1);
    group.write("A", { puts: [{ id: "users/2", body: { v: 1 } }] }, 2);
    const first = group.send("A", "B")!;
    // users/2 changes after the second batch was prepared: the prepared batch keeps version 1,
    // and version 2 follows in a batch of its own.
    group.write("A", { puts: [{ id: "users/2", body: { v: 2 } }] }, 3);
    group.acknowledge(group.deliver(first));
    const second = group.send("A", "B")!;
    expect(second.afterEtag).toBe(1);
    expect(second.transactions[0]?.items[0]).toMatchObject({ id: "users/2", body: { v: 1 } });
    group.acknowledge(group.deliver(second));
    expect(group.replicateAll("A", "B")).toBe(1);
    expect(group.node("B").get("users/2")?.body).toEqual({ v: 2 });
  });

  it("a prepared batch is thrown away when the destination says it is elsewhere", () => {
    const group = new Group(["A", "B"], { limits: { batchItemsMax: 1 } });
    group.write("A", { puts: [{ id: "users/1", body: {} }] }, 1);
    group.write("A", { puts: [{ id: "users/2", body: {} }] }, 2);
    const outgoing = group.connection("A", "B");
    group.send("A", "B");
    // B restarted from an empty disk and answers the reconnect with etag 0: the batch prepared
    // to follow etag 1 must not leave; everything goes again from the start.
    outgoing.onAck({
      ...answerConnect(group.node("B"), {
        type: "replication-connect",
        database: "Spade",
        from: "A",
        to: "B",
        sourceDatabaseId: "dbAid",
      }),
    });
    expect(group.send("A", "B")?.afterEtag).toBe(0);
  });

  it("an up-to-date destination gets no batch", () => {
    const group = new Group(["A", "B"]);
    expect(
      buildBatch(group.node("A"), { database: "Spade", from: "A", to: "B" }, 0),
    ).toBeUndefined();
    group.write("A", { puts: [{ id: "users/1", body: {} }] }, 1);
    group.replicateAll("A", "B");
    expect(group.send("A", "B")).toBeUndefined();
  });

  it("echoes are harmless: B sends A's document back and A writes nothing", () => {
    const group = new Group(["A", "B"]);
    group.write("A", { puts: [{ id: "users/1", body: {} }] }, 1);
    group.replicateAll("A", "B");
    const lastEtag = group.node("A").lastEtag;
    expect(group.replicateAll("B", "A")).toBe(1);
    expect(group.node("A").lastEtag).toBe(lastEtag);
    group.settle();
  });
});
