import { describe, expect, it } from "vitest";
import { collectionFromId } from "../../engine/database/index.ts";
import { instance, refusal } from "./helpers.ts";

describe("documents", () => {
  it("a stored document reads back with RavenDB's metadata", () => {
    const db = instance();
    db.applyTransaction({ puts: [{ id: "users/1", body: { name: "Oren" } }] }, { nowMs: 1_500 });
    const loaded = db.get("users/1");
    expect(loaded?.body).toEqual({ name: "Oren" });
    expect(loaded?.etag).toBe(1);
    expect(loaded?.metadata).toEqual({
      "@collection": "Users",
      "@change-vector": "A:1-dbAid",
      "@last-modified": "1970-01-01T00:00:01.500Z",
    });
  });

  it("ids are case-insensitive but keep the case they were written with", () => {
    const db = instance();
    db.applyTransaction({ puts: [{ id: "Users/1", body: { name: "Oren" } }] }, { nowMs: 1 });
    expect(db.get("users/1")?.id).toBe("Users/1");
    expect(db.get("USERS/1")?.body).toEqual({ name: "Oren" });
    db.applyTransaction({ puts: [{ id: "users/1", body: { name: "Ayende" } }] }, { nowMs: 2 });
    expect(db.list().map((document) => [document.id, document.body])).toEqual([
      ["users/1", { name: "Ayende" }],
    ]);
  });

  it("the collection comes from the id prefix unless the metadata names one", () => {
    expect(collectionFromId("users/1")).toBe("Users");
    expect(collectionFromId("accounts/1234-A")).toBe("Accounts");
    expect(collectionFromId("config")).toBe("@empty");
    const db = instance();
    db.applyTransaction(
      {
        puts: [
          {
            id: "people/1",
            body: { name: "x", "@metadata": { "@collection": "Employees", "@etag": 5 } },
          },
        ],
      },
      { nowMs: 1 },
    );
    const loaded = db.get("people/1");
    expect(loaded?.metadata["@collection"]).toBe("Employees");
    expect(loaded?.body).toEqual({ name: "x" });
  });

  it("a client's own metadata is kept with the document; the server's fields are the server's", () => {
    const db = instance();
    db.applyTransaction(
      {
        puts: [
          {
            id: "todos/1",
            body: {
              due: "2017-09-19",
              "@metadata": {
                "Raven-Node-Type": "ToDoTask",
                "@nested-object-types": { due: "date" },
                "@change-vector": "A:99-forged",
                "@last-modified": "2000-01-01T00:00:00.000Z",
              },
            },
          },
        ],
      },
      { nowMs: 1 },
    );
    const loaded = db.get("todos/1");
    expect(loaded?.body).toEqual({ due: "2017-09-19" });
    expect(loaded?.metadata).toEqual({
      "Raven-Node-Type": "ToDoTask",
      "@nested-object-types": { due: "date" },
      "@collection": "Todos",
      "@change-vector": "A:1-dbAid",
      "@last-modified": "1970-01-01T00:00:00.001Z",
    });
  });

  it("invalid ids are refused with a clear error", () => {
    const db = instance();
    const cases: Array<[unknown, RegExp]> = [
      ["", /cannot be empty/],
      ["   ", /only whitespace/],
      ["x".repeat(513), /at most 512 characters/],
      ["users/\n1", /control characters/],
      ["users/", /generated id/],
      ["users|", /generated id/],
      [42, /must be a string/],
    ];
    for (const [id, message] of cases) {
      const error = refusal(() =>
        db.applyTransaction({ puts: [{ id: id as string, body: {} }] }, { nowMs: 1 }),
      );
      expect(error.code).toBe("InvalidDocumentId");
      expect(error.message).toMatch(message);
    }
    expect(db.lastEtag).toBe(0);
  });

  it("bodies that are not JSON objects are refused", () => {
    const db = instance();
    const bodies: unknown[] = [
      null,
      [1],
      "text",
      3,
      { when: new Date(0) },
      { n: Number.NaN },
      { f: () => 1 },
      { u: undefined },
    ];
    for (const body of bodies) {
      const error = refusal(() =>
        db.applyTransaction({ puts: [{ id: "users/1", body }] }, { nowMs: 1 }),
      );
      expect(error.code).toBe("InvalidDocumentBody");
    }
    expect(db.get("users/1")).toBeUndefined();
  });

  it("changing the caller's object after a put does not change the stored document", () => {
    const db = instance();
    const body = { name: "Oren", tags: ["a"] };
    db.applyTransaction({ puts: [{ id: "users/1", body }] }, { nowMs: 1 });
    body.tags.push("b");
    const loaded = db.get("users/1")!;
    (loaded.body.tags as string[]).push("c");
    expect(db.get("users/1")?.body).toEqual({ name: "Oren", tags: ["a"] });
  });

  it("a delete leaves a tombstone that takes the next etag, and the document is gone", () => {
    const db = instance();
    db.applyTransaction({ puts: [{ id: "users/1", body: { n: 1 } }] }, { nowMs: 1 });
    const result = db.applyTransaction({ deletes: [{ id: "USERS/1" }] }, { nowMs: 2 });
    expect(db.get("users/1")).toBeUndefined();
    expect(result.written.map((item) => [item.kind, item.etag])).toEqual([["tombstone", 2]]);
    expect([...db.itemsAfterEtag(0)].map((item) => item.kind)).toEqual(["tombstone"]);
    // Deleting what does not exist changes nothing.
    expect(db.applyTransaction({ deletes: [{ id: "users/404" }] }, { nowMs: 3 }).written).toEqual(
      [],
    );
    expect(db.lastEtag).toBe(2);
  });

  it("iteration by etag sees only the current version of each item, from any etag", () => {
    const db = instance();
    for (let v = 1; v <= 300; v++) {
      db.applyTransaction({ puts: [{ id: `users/${v % 3}`, body: { v } }] }, { nowMs: v });
    }
    const etags = (after: number) => [...db.itemsAfterEtag(after)].map((item) => item.etag);
    expect(etags(0)).toEqual([298, 299, 300]);
    expect(etags(298)).toEqual([299, 300]);
    expect(etags(300)).toEqual([]);
    expect(db.list().map((document) => document.body.v)).toEqual([298, 299, 300]);
  });

  it("a local write's change vector carries what the instance has seen from others", () => {
    const db = instance({}, "B");
    db.applyReplicatedBatch({
      sourceDatabaseId: "dbAid",
      lastEtag: 7,
      transactions: [
        {
          items: [
            {
              kind: "document",
              id: "users/1",
              collection: "Users",
              body: { n: 1 },
              attachments: [],
              changeVector: "A:7-dbAid",
              lastModifiedMs: 1,
              etag: 7,
              transaction: 3,
            },
          ],
        },
      ],
    });
    db.applyTransaction({ puts: [{ id: "users/2", body: {} }] }, { nowMs: 2 });
    expect(db.get("users/2")?.metadata["@change-vector"]).toBe("A:7-dbAid, B:2-dbBid");
    expect(db.changeVector).toBe("A:7-dbAid, B:2-dbBid");
  });
});
