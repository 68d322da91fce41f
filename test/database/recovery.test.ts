import { describe, expect, it } from "vitest";
import { DatabaseInstance } from "../../engine/database/index.ts";
import { Disk, Group } from "../replication/driver.ts";

describe("recovery from persisted records", () => {
  it("an instance rebuilt from what it asked to persist equals the original", () => {
    const settings = { revisions: { collections: { Users: { enabled: true } } } };
    const db = new DatabaseInstance({
      database: "Spade",
      nodeTag: "A",
      databaseId: "dbAid",
      settings,
    });
    const disk = new Disk();
    const write = (input: Parameters<DatabaseInstance["applyTransaction"]>[0], nowMs: number) =>
      disk.apply(db.applyTransaction(input, { nowMs }).persistence);
    write(
      {
        puts: [
          { id: "users/1", body: { v: 1 } },
          { id: "orders/1", body: { lines: [1, 2] } },
        ],
      },
      1,
    );
    write(
      {
        attachmentPuts: [
          { documentId: "users/1", name: "a.bin", content: new Uint8Array([1, 2, 3]) },
        ],
      },
      2,
    );
    write({ puts: [{ id: "users/1", body: { v: 2 } }], deletes: [{ id: "orders/1" }] }, 3);
    write({ attachmentDeletes: [{ documentId: "users/1", name: "a.bin" }] }, 4);
    const rebuilt = DatabaseInstance.recover(
      { database: "Spade", nodeTag: "A", databaseId: "dbAid", settings },
      disk.load(),
    );
    expect(rebuilt.snapshot()).toEqual(db.snapshot());
    expect(rebuilt.list()).toEqual(db.list());
    expect(rebuilt.revisionsOf("users/1")).toEqual(db.revisionsOf("users/1"));
    // The rebuilt instance carries on with the next etag and transaction.
    const next = rebuilt.applyTransaction({ puts: [{ id: "users/2", body: {} }] }, { nowMs: 5 });
    expect(next.written[0]?.etag).toBe(db.lastEtag + 1);
    expect(next.written[0]?.transaction).toBe(db.snapshot().state.lastTransaction + 1);
  });

  it("a restarted receiver keeps its conflicts, its incoming cursor and ignores batches it already applied", () => {
    const group = new Group(["A", "B"], { settings: { conflictResolution: "none" } });
    group.write("A", { puts: [{ id: "users/1", body: { by: "A" } }] }, 1);
    group.write("B", { puts: [{ id: "users/1", body: { by: "B" } }] }, 2);
    const batch = group.send("A", "B")!;
    group.acknowledge(group.deliver(batch));
    const before = group.node("B").snapshot();
    const restarted = group.restart("B");
    expect(restarted.snapshot()).toEqual(before);
    expect(restarted.conflictsOf("users/1")).toHaveLength(2);
    expect(restarted.lastEtagFrom("dbAid")).toBe(1);
    expect(group.deliver(batch).reason).toBe("duplicate");
    expect(restarted.snapshot()).toEqual(before);
  });
});
