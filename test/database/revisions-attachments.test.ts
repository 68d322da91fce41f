import { describe, expect, it } from "vitest";
import { contentHash, decodeBase64, encodeBase64 } from "../../engine/database/index.ts";
import { instance } from "./helpers.ts";

describe("revisions", () => {
  it("with revisions on for Users, every write of a user keeps a revision in the same transaction", () => {
    const db = instance({ revisions: { collections: { Users: { enabled: true } } } });
    db.applyTransaction(
      {
        puts: [
          { id: "users/1", body: { v: 1 } },
          { id: "orders/1", body: {} },
        ],
      },
      { nowMs: 1 },
    );
    db.applyTransaction({ puts: [{ id: "users/1", body: { v: 2 } }] }, { nowMs: 2 });
    const result = db.applyTransaction({ deletes: [{ id: "users/1" }] }, { nowMs: 3 });
    expect(result.written.map((item) => item.kind)).toEqual(["tombstone", "revision"]);
    expect(new Set(result.written.map((item) => item.transaction)).size).toBe(1);
    expect(db.revisionsOf("users/1").map((revision) => revision.body)).toEqual([
      { v: 1 },
      { v: 2 },
      null,
    ]);
    expect(db.revisionsOf("orders/1")).toEqual([]);
  });

  it("a default turns revisions on for every collection, and a collection can opt out", () => {
    const db = instance({
      revisions: { default: { enabled: true }, collections: { orders: { enabled: false } } },
    });
    db.applyTransaction(
      {
        puts: [
          { id: "users/1", body: {} },
          { id: "orders/1", body: {} },
        ],
      },
      { nowMs: 1 },
    );
    expect(db.revisionsOf("users/1")).toHaveLength(1);
    expect(db.revisionsOf("orders/1")).toHaveLength(0);
    expect(db.get("users/1")?.metadata["@flags"]).toBe("HasRevisions");
    expect(db.get("orders/1")?.metadata["@flags"]).toBeUndefined();
  });
});

describe("attachments", () => {
  it("an attachment is stored before its document and reads back with hash and size", () => {
    const db = instance();
    db.applyTransaction({ puts: [{ id: "users/1", body: { name: "Oren" } }] }, { nowMs: 1 });
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const result = db.applyTransaction(
      {
        attachmentPuts: [
          { documentId: "users/1", name: "photo.png", content: bytes, contentType: "image/png" },
        ],
      },
      { nowMs: 2 },
    );
    expect(result.written.map((item) => `${item.kind}#${item.etag}`)).toEqual([
      "attachment#2",
      "document#3",
    ]);
    const attachment = db.getAttachment("users/1", "PHOTO.png");
    expect(attachment).toEqual({
      name: "photo.png",
      hash: contentHash(bytes),
      size: 5,
      contentType: "image/png",
      content: bytes,
    });
    const loaded = db.get("users/1")!;
    expect(loaded.metadata["@flags"]).toBe("HasAttachments");
    expect(loaded.metadata["@attachments"]).toEqual([
      { name: "photo.png", hash: contentHash(bytes), size: 5, contentType: "image/png" },
    ]);
  });

  it("a put keeps the attachments; deleting the attachment or the document removes its content", () => {
    const db = instance();
    db.applyTransaction(
      {
        puts: [{ id: "users/1", body: { v: 1 } }],
        attachmentPuts: [{ documentId: "users/1", name: "notes.txt", content: "hello" }],
      },
      { nowMs: 1 },
    );
    db.applyTransaction({ puts: [{ id: "users/1", body: { v: 2 } }] }, { nowMs: 2 });
    expect(new TextDecoder().decode(db.getAttachment("users/1", "notes.txt")?.content)).toBe(
      "hello",
    );
    db.applyTransaction(
      { attachmentDeletes: [{ documentId: "users/1", name: "notes.txt" }] },
      { nowMs: 3 },
    );
    expect(db.getAttachment("users/1", "notes.txt")).toBeUndefined();
    expect([...db.itemsAfterEtag(0)].some((item) => item.kind === "attachment")).toBe(false);
    db.applyTransaction(
      {
        attachmentPuts: [{ documentId: "users/1", name: "a.txt", content: "a" }],
        deletes: [{ id: "users/1" }],
      },
      { nowMs: 4 },
    );
    expect([...db.itemsAfterEtag(0)].map((item) => item.kind)).toEqual(["tombstone"]);
  });

  it("deleting an attachment a document does not have changes nothing", () => {
    const db = instance();
    db.applyTransaction({ puts: [{ id: "users/1", body: {} }] }, { nowMs: 1 });
    const result = db.applyTransaction(
      { attachmentDeletes: [{ documentId: "users/1", name: "x" }] },
      { nowMs: 2 },
    );
    expect(result.written).toEqual([]);
    expect(db.lastEtag).toBe(1);
  });

  it("base64 and the content hash round-trip arbitrary bytes", () => {
    for (let length = 0; length < 40; length++) {
      const bytes = Uint8Array.from({ length }, (_, index) => (index * 97 + length) % 256);
      expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
    }
    expect(encodeBase64(new TextEncoder().encode("Man"))).toBe("TWFu");
    expect(encodeBase64(new TextEncoder().encode("Ma"))).toBe("TWE=");
    // FNV-1a 64 test vectors.
    expect(contentHash(new Uint8Array())).toBe("cbf29ce484222325");
    expect(contentHash(new TextEncoder().encode("a"))).toBe("af63dc4c8601ec8c");
    expect(contentHash(new TextEncoder().encode("foobar"))).toBe("85944171f73967e8");
  });
});
