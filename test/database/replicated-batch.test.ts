import { describe, expect, it } from "vitest";
import type { DocumentItem, StoredItem } from "../../engine/database/index.ts";
import { instance, refusal } from "./helpers.ts";

function document(
  id: string,
  changeVector: string,
  body: DocumentItem["body"],
  etag: number,
): DocumentItem {
  return {
    kind: "document",
    id,
    collection: "Users",
    body,
    attachments: [],
    changeVector,
    lastModifiedMs: 1,
    etag,
    transaction: etag,
  };
}

describe("applying a replicated batch", () => {
  it("a batch with one malformed item applies none of its transactions", () => {
    const db = instance({}, "B");
    const before = db.snapshot();
    const broken = { ...document("users/2", "not a vector", {}, 2) } as StoredItem;
    const error = refusal(() =>
      db.applyReplicatedBatch({
        sourceDatabaseId: "dbAid",
        lastEtag: 2,
        transactions: [
          { items: [document("users/1", "A:1-dbAid", { v: 1 }, 1)] },
          { items: [broken] },
        ],
      }),
    );
    expect(error.code).toBe("InvalidChangeVector");
    expect(db.snapshot()).toEqual(before);
    expect(db.lastEtagFrom("dbAid")).toBe(0);
  });

  it("attachment content that does not match its hash is refused", () => {
    const db = instance({}, "B");
    const error = refusal(() =>
      db.applyReplicatedBatch({
        sourceDatabaseId: "dbAid",
        lastEtag: 1,
        transactions: [
          {
            items: [
              {
                kind: "attachment",
                documentId: "users/1",
                name: "a",
                hash: "0000000000000000",
                size: 1,
                contentType: "",
                contentBase64: "eA==",
                etag: 1,
                transaction: 1,
              },
            ],
          },
        ],
      }),
    );
    expect(error.code).toBe("InvalidReplicationBatch");
    expect(error.message).toContain("hash");
  });

  it("each source transaction becomes one local transaction with consecutive etags", () => {
    const db = instance({}, "B");
    const result = db.applyReplicatedBatch({
      sourceDatabaseId: "dbAid",
      lastEtag: 5,
      transactions: [
        {
          items: [document("users/1", "A:1-dbAid", {}, 1), document("users/2", "A:2-dbAid", {}, 2)],
        },
        { items: [document("users/3", "A:5-dbAid", {}, 5)] },
      ],
    });
    expect(result.written.map((item) => [item.etag, item.transaction])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
    ]);
    expect(result.persistence.transactions).toEqual([1, 2]);
    expect(result.lastAcceptedEtag).toBe(5);
    expect(db.changeVector).toBe("A:5-dbAid");
  });

  it("a revision newer than the document brings the document up to it; an older one does not", () => {
    const db = instance({}, "B");
    const revision = (changeVector: string, v: number, etag: number): StoredItem => ({
      ...document("users/1", changeVector, { v }, etag),
      kind: "revision",
    });
    db.applyReplicatedBatch({
      sourceDatabaseId: "dbAid",
      lastEtag: 2,
      transactions: [{ items: [revision("A:2-dbAid", 2, 2)] }],
    });
    expect(db.get("users/1")?.body).toEqual({ v: 2 });
    db.applyReplicatedBatch({
      sourceDatabaseId: "dbAid",
      lastEtag: 3,
      transactions: [{ items: [revision("A:1-dbAid", 1, 1)] }],
    });
    expect(db.get("users/1")?.body).toEqual({ v: 2 });
    expect(db.revisionsOf("users/1").map((item) => item.changeVector)).toEqual([
      "A:2-dbAid",
      "A:1-dbAid",
    ]);
  });
});
