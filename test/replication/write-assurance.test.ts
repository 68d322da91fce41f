import { describe, expect, it } from "vitest";
import { isRookeryError } from "../../engine/core/index.ts";
import {
  majorityReplicas,
  replicasHaving,
  siblingHasWrite,
  WriteAssuranceWait,
  writeAssuranceTimeoutError,
} from "../../engine/replication/index.ts";
import { Group } from "./driver.ts";

describe("write assurance", () => {
  it("counts the distinct siblings that acknowledged a write", () => {
    const group = new Group(["A", "B", "C"]);
    const { persistence } = group.write("A", { puts: [{ id: "users/1", body: {} }] }, 1);
    const write = {
      etag: persistence.lastEtag,
      changeVector: group.node("A").get("users/1")!.metadata["@change-vector"],
    };
    const progress = () =>
      new Map(
        ["B", "C"].map(
          (tag) =>
            [tag, { lastAcceptedEtag: group.connection("A", tag).lastAcceptedEtag }] as const,
        ),
      );
    expect(replicasHaving(write, progress())).toBe(0);
    group.replicateAll("A", "B");
    expect(replicasHaving(write, progress())).toBe(1);
    group.replicateAll("A", "C");
    expect(replicasHaving(write, progress())).toBe(2);
  });

  it("a sibling that got the write through another sibling counts, by its change vector", () => {
    expect(
      siblingHasWrite(
        { etag: 5, changeVector: "A:5-a" },
        { lastAcceptedEtag: 0, changeVector: "A:7-a, B:1-b" },
      ),
    ).toBe(true);
    expect(
      siblingHasWrite(
        { etag: 5, changeVector: "A:5-a" },
        { lastAcceptedEtag: 4, changeVector: "B:9-b" },
      ),
    ).toBe(false);
    expect(siblingHasWrite({ etag: 5 }, { lastAcceptedEtag: 5 })).toBe(true);
  });

  it("majority is RavenDB 4.x's siblings / 2 + 1", () => {
    expect([1, 2, 3, 4].map(majorityReplicas)).toEqual([1, 2, 2, 3]);
  });

  it("a wait for one replica is satisfied by the first sibling's ack", () => {
    const wait = new WriteAssuranceWait({ write: { etag: 3 }, replicas: 1, deadlineMs: 1_000 });
    expect(wait.onTime(10)).toEqual({ status: "pending", reached: 0, wanted: 1 });
    expect(wait.onAck("B", { lastAcceptedEtag: 2 })).toEqual({
      status: "pending",
      reached: 0,
      wanted: 1,
    });
    expect(wait.onAck("B", { lastAcceptedEtag: 3 })).toEqual({
      status: "satisfied",
      reached: 1,
      wanted: 1,
    });
    expect(wait.onTime(5_000).status).toBe("satisfied");
  });

  it("the same sibling acknowledging twice counts once, and the deadline times the wait out", () => {
    const wait = new WriteAssuranceWait({
      write: { etag: 3 },
      majority: true,
      siblings: 2,
      deadlineMs: 500,
    });
    expect(wait.wanted).toBe(2);
    wait.onAck("B", { lastAcceptedEtag: 3 });
    wait.onAck("B", { lastAcceptedEtag: 9 });
    expect(wait.onTime(499)).toEqual({ status: "pending", reached: 1, wanted: 2 });
    const outcome = wait.onTime(500);
    expect(outcome).toEqual({ status: "timed-out", reached: 1, wanted: 2 });
    expect(wait.onAck("C", { lastAcceptedEtag: 3 }).status).toBe("timed-out");
    const error = writeAssuranceTimeoutError(outcome, 500);
    expect(isRookeryError(error, "WriteAssuranceTimeout")).toBe(true);
    expect(error.message).toContain("replicated to 2 servers in 500 ms");
    expect(error.message).toContain("only replicated to 1");
  });

  it("asking for zero replicas is satisfied at once; a negative count is refused", () => {
    expect(
      new WriteAssuranceWait({ write: { etag: 1 }, replicas: 0, deadlineMs: 0 }).outcome.status,
    ).toBe("satisfied");
    expect(
      () => new WriteAssuranceWait({ write: { etag: 1 }, replicas: -1, deadlineMs: 0 }),
    ).toThrow(/non-negative/);
  });
});
