import { describe, expect, it } from "vitest";
import { packBatch, receiveBatch, unpackBatch } from "../../engine/replication/index.ts";
import type { ReplicationWireBatch } from "../../engine/replication/index.ts";
import { refusal } from "../database/helpers.ts";
import { Group } from "./driver.ts";

describe("replication batches on the wire", () => {
  it("carry each body as JSON text, and unpack to the batch that was packed, with the texts beside it", () => {
    const group = new Group(["A", "B"], {
      settings: { revisions: { default: { enabled: true } } },
    });
    group.write(
      "A",
      {
        puts: [
          { id: "users/1", body: { name: "Oren", tags: ["a", "b"] } },
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
    const batch = group.send("A", "B")!;
    const wire = structuredClone(packBatch(batch));
    const bodies = wire.transactions.flatMap((tx) => tx.items.filter((item) => "bodyJson" in item));
    expect(bodies.length).toBeGreaterThan(0);
    expect(
      bodies.every(
        (item) =>
          "bodyJson" in item &&
          (item.bodyJson === null || typeof item.bodyJson === "string") &&
          !("body" in item),
      ),
    ).toBe(true);

    const unpacked = unpackBatch(wire);
    expect(unpacked.transactions.map((tx) => tx.items)).toEqual(
      batch.transactions.map((tx) => tx.items),
    );
    for (const tx of unpacked.transactions) {
      tx.items.forEach((item, index) => {
        const text = tx.bodyJson?.[index] ?? null;
        if (item.kind === "attachment" || item.kind === "tombstone" || item.body === null)
          expect(text).toBeNull();
        else expect(text).toBe(JSON.stringify(item.body));
      });
    }
    // Applied on B, it leaves what the unpacked batch would have left.
    receiveBatch(group.node("B"), unpacked);
    expect(group.node("B").get("users/1")?.body).toEqual({ name: "Oren", tags: ["a", "b"] });
    expect(group.node("B").get("users/2")).toBeUndefined();
  });

  it("let the receiver store a body's text as it travelled, without printing the body again", () => {
    const group = new Group(["A", "B"]);
    group.write("A", { puts: [{ id: "users/1", body: { v: 1 } }] }, 1);
    const wire = packBatch(group.send("A", "B")!);
    // Spaced text parses to the same body; finding the spaces in storage shows it was kept as is.
    const spaced = {
      ...wire,
      transactions: wire.transactions.map((tx) => ({
        ...tx,
        items: tx.items.map((item) => ({ ...item, bodyJson: '{ "v" : 1 }' })),
      })),
    } as ReplicationWireBatch;
    const { commit } = receiveBatch(group.node("B"), unpackBatch(spaced));
    const put = commit!.persistence.operations.find(
      (operation) => operation.op === "put" && operation.store === "documents",
    );
    expect(put?.op === "put" && put.json).toContain('"body":{ "v" : 1 }');
    expect(group.node("B").get("users/1")?.body).toEqual({ v: 1 });
  });

  it("refuse a batch whose body text is not JSON of an object, before applying any of it", () => {
    const group = new Group(["A", "B"]);
    group.write("A", { puts: [{ id: "users/1", body: { v: 1 } }] }, 1);
    group.write("A", { puts: [{ id: "users/2", body: { v: 2 } }] }, 2);
    const wire = packBatch(group.send("A", "B")!);
    const broken = (bodyJson: unknown): ReplicationWireBatch => ({
      ...wire,
      transactions: wire.transactions.map((tx, k) =>
        k === 1 ? { ...tx, items: tx.items.map((item) => ({ ...item, bodyJson })) } : tx,
      ) as ReplicationWireBatch["transactions"],
    });
    for (const [bodyJson, why] of [
      ["{not json", "not valid JSON"],
      ["[1,2]", "not a JSON object"],
      [42, "not JSON text"],
    ] as const) {
      const error = refusal(() => unpackBatch(broken(bodyJson)));
      expect(error.code).toBe("InvalidReplicationBatch");
      expect(error.message).toContain(`the body of "users/2" is ${why}`);
    }
    expect(group.node("B").get("users/1")).toBeUndefined();
  });
});
