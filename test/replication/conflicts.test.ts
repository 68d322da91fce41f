import { describe, expect, it } from "vitest";
import { refusal } from "../database/helpers.ts";
import { Group, visibleState } from "./driver.ts";

describe("conflicts", () => {
  it("concurrent writes to users/1 on A and B resolve to the latest on both", () => {
    const group = new Group(["A", "B"]);
    group.write("A", { puts: [{ id: "users/1", body: { name: "written on A" } }] }, 100);
    group.write("B", { puts: [{ id: "users/1", body: { name: "written on B" } }] }, 200);
    group.settle();
    for (const tag of ["A", "B"]) {
      const document = group.node(tag).get("users/1")!;
      expect(document.body).toEqual({ name: "written on B" });
      // The merged vector supersedes both versions.
      expect(document.metadata["@change-vector"]).toBe("A:1-dbAid, B:1-dbBid");
      expect(document.metadata["@last-modified"]).toBe(new Date(200).toISOString());
    }
  });

  it("at equal times the winner is the same on both sides", () => {
    const group = new Group(["A", "B"]);
    group.write("A", { puts: [{ id: "users/1", body: { name: "a" } }] }, 100);
    group.write("B", { puts: [{ id: "users/1", body: { name: "b" } }] }, 100);
    group.settle();
    expect(group.node("A").get("users/1")?.body).toEqual(group.node("B").get("users/1")?.body);
    expect(visibleState(group.node("A"))).toEqual(visibleState(group.node("B")));
  });

  it("the same content written on both sides is not a conflict: the vectors merge", () => {
    const group = new Group(["A", "B"], { settings: { conflictResolution: "none" } });
    group.write("A", { puts: [{ id: "users/1", body: { name: "Oren", age: 40 } }] }, 100);
    group.write("B", { puts: [{ id: "users/1", body: { age: 40, name: "Oren" } }] }, 150);
    group.settle();
    for (const tag of ["A", "B"]) {
      expect(group.node(tag).conflictsOf("users/1")).toEqual([]);
      expect(group.node(tag).get("users/1")?.metadata["@change-vector"]).toBe(
        "A:1-dbAid, B:1-dbBid",
      );
    }
  });

  it("a delete concurrent with an older update wins, and deletes the document on both", () => {
    const group = new Group(["A", "B"]);
    group.write("A", { puts: [{ id: "users/1", body: { v: 1 } }] }, 1);
    group.settle();
    group.write("A", { puts: [{ id: "users/1", body: { v: 2 } }] }, 10);
    group.write("B", { deletes: [{ id: "users/1" }] }, 20);
    group.settle();
    expect(group.node("A").get("users/1")).toBeUndefined();
    expect(group.node("B").get("users/1")).toBeUndefined();
  });

  it("with conflict resolution off, reading users/1 reports the conflict until a put resolves it", () => {
    const group = new Group(["A", "B"], { settings: { conflictResolution: "none" } });
    group.write("A", { puts: [{ id: "users/1", body: { name: "on A" } }] }, 100);
    group.write("B", { puts: [{ id: "users/1", body: { name: "on B" } }] }, 200);
    group.settle();
    for (const tag of ["A", "B"]) {
      const error = refusal(() => group.node(tag).get("users/1"));
      expect(error.code).toBe("DocumentConflict");
      expect(error.message).toContain("users/1");
      expect(error.message).toContain("A:1-dbAid");
      expect(error.message).toContain("B:1-dbBid");
      expect(error.details.changeVectors).toEqual(["A:1-dbAid", "B:1-dbBid"]);
      expect(group.node(tag).list()).toEqual([]);
    }
    group.write("B", { puts: [{ id: "users/1", body: { name: "merged by hand" } }] }, 300);
    expect(group.node("B").get("users/1")?.body).toEqual({ name: "merged by hand" });
    group.settle();
    const onA = group.node("A").get("users/1")!;
    expect(onA.body).toEqual({ name: "merged by hand" });
    expect(onA.metadata["@change-vector"]).toBe("A:1-dbAid, B:4-dbBid");
    expect(group.node("A").conflictsOf("users/1")).toEqual([]);
  });

  it("with conflict resolution off, a stale put is refused while the document is conflicted", () => {
    const group = new Group(["A", "B"], { settings: { conflictResolution: "none" } });
    group.write("A", { puts: [{ id: "users/1", body: { v: "a" } }] }, 1);
    group.write("B", { puts: [{ id: "users/1", body: { v: "b" } }] }, 2);
    group.settle();
    const error = refusal(() =>
      group.write(
        "A",
        { puts: [{ id: "users/1", body: {}, expectedChangeVector: "A:1-dbAid" }] },
        3,
      ),
    );
    expect(error.code).toBe("ConcurrencyViolation");
    expect(error.message).toContain("(conflicted)");
  });

  it("three versions in conflict on C are kept until one dominating version arrives", () => {
    const group = new Group(["A", "B", "C"], { settings: { conflictResolution: "none" } });
    for (const tag of ["A", "B", "C"])
      group.write(tag, { puts: [{ id: "users/1", body: { by: tag } }] }, 1);
    group.settle();
    for (const tag of ["A", "B", "C"])
      expect(group.node(tag).conflictsOf("users/1")).toHaveLength(3);
    group.write("C", { deletes: [{ id: "users/1" }] }, 2);
    group.settle();
    for (const tag of ["A", "B", "C"]) {
      expect(group.node(tag).conflictsOf("users/1")).toEqual([]);
      expect(group.node(tag).get("users/1")).toBeUndefined();
    }
  });
});
