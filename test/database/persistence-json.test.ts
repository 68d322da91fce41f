import { describe, expect, it } from "vitest";
import {
  DatabaseInstance,
  type DatabaseSettings,
  type PersistenceBatch,
  type TransactionInput,
} from "../../engine/database/index.ts";
import { buildBatch } from "../../engine/replication/outgoing.ts";
import { Disk } from "../replication/driver.ts";
import { instance } from "./helpers.ts";

const settings: DatabaseSettings = {
  revisions: { default: { enabled: true } },
  conflictResolution: "none",
};

/** A two-node story with revisions, attachments, a delete and a conflict kept and resolved. */
function story(): {
  batches: PersistenceBatch[];
  a: DatabaseInstance;
  b: DatabaseInstance;
  disks: Map<string, Disk>;
} {
  const a = instance(settings, "A");
  const b = instance(settings, "B");
  const batches: PersistenceBatch[] = [];
  const disks = new Map([
    ["A", new Disk()],
    ["B", new Disk()],
  ]);
  const keep = (db: DatabaseInstance, persistence: PersistenceBatch): void => {
    batches.push(persistence);
    disks.get(db.nodeTag)!.apply(persistence);
  };
  const write = (db: DatabaseInstance, input: TransactionInput, nowMs: number): void => {
    keep(db, db.applyTransaction(input, { nowMs }).persistence);
  };
  const replicate = (from: DatabaseInstance, to: DatabaseInstance): void => {
    for (;;) {
      const header = { database: "Spade", from: from.nodeTag, to: to.nodeTag };
      const batch = buildBatch(from, header, to.lastEtagFrom(from.databaseId));
      if (batch === undefined) return;
      keep(to, to.applyReplicatedBatch(structuredClone(batch)).persistence);
    }
  };
  write(
    a,
    {
      puts: [
        { id: "Users/1", body: { name: "Oren", quote: 'say "hi"\n', text: "é😀\u2028" } },
        { id: "users/2", body: { v: 1, list: [1, null, { deep: true }] } },
        { id: "orders/1", body: { total: 1.5e-7, "@metadata": { "@collection": "Sales" } } },
      ],
      attachmentPuts: [
        { documentId: "users/1", name: "photo.png", content: new Uint8Array([1, 2, 3]) },
      ],
    },
    1,
  );
  write(a, { deletes: [{ id: "users/2" }] }, 2);
  replicate(a, b);
  write(a, { puts: [{ id: "users/1", body: { v: "a" } }] }, 3);
  write(b, { puts: [{ id: "users/1", body: { v: "b" } }] }, 4);
  replicate(a, b);
  replicate(b, a);
  write(a, { puts: [{ id: "users/1", body: { v: "resolved" } }] }, 5);
  write(a, { puts: [{ id: "odd", body: { "\u0000": { escaped: 1 } } }] }, 6);
  replicate(a, b);
  return { batches, a, b, disks };
}

describe("the JSON text handed to storage", () => {
  it("every persisted put that carries JSON text carries exactly its value", () => {
    const { batches } = story();
    const kinds = new Set<string>();
    for (const batch of batches) {
      for (const operation of batch.operations) {
        if (operation.op !== "put" || operation.json === undefined) continue;
        expect(JSON.parse(operation.json)).toEqual(operation.value);
        kinds.add(operation.value.kind);
      }
    }
    expect([...kinds].sort()).toEqual([
      "attachment",
      "conflict",
      "document",
      "revision",
      "tombstone",
    ]);
  });

  it("a body holding the key \\u0000, which storage reserves, is left for storage to encode", () => {
    const { batches } = story();
    const odd = batches
      .flatMap((batch) => batch.operations)
      .filter((operation) => operation.op === "put" && operation.key === "odd");
    expect(odd).toHaveLength(2);
    for (const operation of odd) expect(operation).not.toHaveProperty("json");
  });
});

describe("item sizes for replication", () => {
  it("an item's JSON length is its JSON text's, whether written, replicated or recovered", () => {
    const { a, b, disks } = story();
    const recovered = [a, b].map((db) =>
      DatabaseInstance.recover(
        { database: "Spade", nodeTag: db.nodeTag, databaseId: db.databaseId, settings },
        disks.get(db.nodeTag)!.load(),
      ),
    );
    for (const db of [a, b, ...recovered]) {
      const items = [...db.itemsAfterEtag(0)];
      expect(items.length).toBeGreaterThan(5);
      for (const item of items) expect(db.itemJsonLength(item)).toBe(JSON.stringify(item).length);
    }
  });
});
