import { describe, expect, it } from "vitest";
import { DatabaseInstance } from "../../engine/database/index.ts";
import { instance, refusal } from "./helpers.ts";

describe("transactions", () => {
  it("a transaction's items get consecutive etags and one transaction number", () => {
    const db = instance();
    db.applyTransaction({ puts: [{ id: "users/0", body: {} }] }, { nowMs: 1 });
    const result = db.applyTransaction(
      {
        puts: [
          { id: "accounts/1234-A", body: { amount: 110 } },
          { id: "accounts/4321-C", body: { amount: 90 } },
        ],
        deletes: [{ id: "users/0" }],
      },
      { nowMs: 2 },
    );
    expect(result.written.map((item) => item.etag)).toEqual([2, 3, 4]);
    expect(new Set(result.written.map((item) => item.transaction))).toEqual(new Set([2]));
    expect(result.transactions).toEqual([2]);
    expect(db.get("accounts/1234-A")?.metadata["@change-vector"]).toBe("A:2-dbAid");
    expect(db.get("accounts/4321-C")?.metadata["@change-vector"]).toBe("A:3-dbAid");
  });

  it("a put with a stale change vector is refused and changes nothing", () => {
    const db = instance();
    db.applyTransaction({ puts: [{ id: "users/1", body: { v: 1 } }] }, { nowMs: 1 });
    const seen = db.get("users/1")!.metadata["@change-vector"];
    db.applyTransaction({ puts: [{ id: "users/1", body: { v: 2 } }] }, { nowMs: 2 });
    const before = db.snapshot();
    const error = refusal(() =>
      db.applyTransaction(
        {
          puts: [
            { id: "users/2", body: { fine: true } },
            { id: "users/1", body: { v: 3 }, expectedChangeVector: seen },
          ],
        },
        { nowMs: 3 },
      ),
    );
    expect(error.code).toBe("ConcurrencyViolation");
    expect(error.message).toContain('"users/1"');
    expect(error.message).toContain("A:1-dbAid");
    expect(error.message).toContain("A:2-dbAid");
    expect(db.snapshot()).toEqual(before);
    expect(db.get("users/2")).toBeUndefined();
  });

  it("a put with the current change vector succeeds; one for a missing document is refused", () => {
    const db = instance();
    db.applyTransaction({ puts: [{ id: "users/1", body: { v: 1 } }] }, { nowMs: 1 });
    const current = db.get("users/1")!.metadata["@change-vector"];
    db.applyTransaction(
      { puts: [{ id: "users/1", body: { v: 2 }, expectedChangeVector: current }] },
      { nowMs: 2 },
    );
    expect(db.get("users/1")?.body).toEqual({ v: 2 });
    const missing = refusal(() =>
      db.applyTransaction(
        { deletes: [{ id: "users/9", expectedChangeVector: current }] },
        { nowMs: 3 },
      ),
    );
    expect(missing.code).toBe("ConcurrencyViolation");
    expect(missing.message).toContain("(none)");
    const malformed = refusal(() =>
      db.applyTransaction(
        { deletes: [{ id: "users/1", expectedChangeVector: "nonsense" }] },
        { nowMs: 3 },
      ),
    );
    expect(malformed.code).toBe("InvalidChangeVector");
  });

  it("the empty change vector expects no document: it creates one once, then is refused", () => {
    const db = instance();
    const create = () =>
      db.applyTransaction(
        { puts: [{ id: "users/1", body: { v: 1 }, expectedChangeVector: "" }] },
        { nowMs: 1 },
      );
    create();
    expect(db.get("users/1")?.body).toEqual({ v: 1 });
    const taken = refusal(create);
    expect(taken.code).toBe("ConcurrencyViolation");
    expect(taken.message).toContain("expected no document there but one exists");
  });

  it("a transaction with one bad command applies none of its commands", () => {
    const db = instance();
    db.applyTransaction({ puts: [{ id: "users/1", body: { v: 1 } }] }, { nowMs: 1 });
    const before = db.snapshot();
    const error = refusal(() =>
      db.applyTransaction(
        {
          puts: [{ id: "users/2", body: { v: 1 } }],
          attachmentPuts: [{ documentId: "users/404", name: "photo.png", content: "x" }],
          deletes: [{ id: "users/1" }],
        },
        { nowMs: 2 },
      ),
    );
    expect(error.code).toBe("DocumentDoesNotExist");
    expect(error.message).toContain("users/404");
    expect(db.snapshot()).toEqual(before);
  });

  it("the transaction size limit is enforced before anything is written", () => {
    const db = new DatabaseInstance({
      database: "Spade",
      nodeTag: "A",
      databaseId: "dbAid",
      limits: { transactionCommandsMax: 2 },
    });
    const puts = [1, 2, 3].map((n) => ({ id: `users/${n}`, body: {} }));
    expect(refusal(() => db.applyTransaction({ puts }, { nowMs: 1 })).code).toBe(
      "TransactionTooLarge",
    );
    expect(db.lastEtag).toBe(0);
  });

  it("the persistence batch of a transaction holds its items and the instance state", () => {
    const db = instance();
    const { persistence } = db.applyTransaction(
      {
        puts: [
          { id: "users/1", body: { v: 1 } },
          { id: "users/2", body: { v: 2 } },
        ],
      },
      { nowMs: 1 },
    );
    expect(persistence.database).toBe("Spade");
    expect(persistence.transactions).toEqual([1]);
    expect(persistence.lastEtag).toBe(2);
    expect(
      persistence.operations.map(
        (operation) => `${operation.op} ${operation.store}/${operation.key}`,
      ),
    ).toEqual(["put documents/users/1", "put documents/users/2", "put database/state"]);
    expect(JSON.parse(JSON.stringify(persistence))).toEqual(persistence);
  });
});
