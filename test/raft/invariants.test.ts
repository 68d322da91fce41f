import { describe, expect, it } from "vitest";
import { AssertionError, SeededRandom } from "../../engine/core/index.ts";
import { MemoryRaftStorage, RawNode } from "../../engine/raft/index.ts";
import type { AppendRequest, AppendResponse, Entry } from "../../engine/raft/index.ts";

/**
 * Rachis asserts its invariants where they hold (TigerBeetle's habit): a message that would break
 * one stops the node at once, with the invariant's name, instead of corrupting its log quietly.
 * These feed a node messages no correct leader would send.
 */
function follower(): RawNode {
  const storage = new MemoryRaftStorage();
  const node = new RawNode({ id: "B", random: new SeededRandom(1) });
  node.bootstrap(["A", "B", "C"]);
  const drain = (): void => {
    while (node.hasReady()) {
      storage.persist(node.ready().persist);
      node.advance();
    }
  };
  drain();
  // A leads term 2 and B commits two commands of it.
  const entries: Entry[] = [
    { index: 2, term: 2, type: "noop" },
    { index: 3, term: 2, type: "command", data: "users/1" },
  ];
  node.step(append({ prevIndex: 1, prevTerm: 1, entries, commit: 3 }));
  drain();
  expect(node.status().commit).toBe(3);
  return node;
}

function append(fields: Partial<AppendRequest>): AppendRequest {
  return {
    type: "append",
    from: "A",
    to: "B",
    term: 2,
    prevIndex: 0,
    prevTerm: 0,
    entries: [],
    commit: 0,
    ...fields,
  };
}

describe("Rachis stops at a broken invariant", () => {
  it("log matching: an append that says a committed entry has another term", () => {
    const node = follower();
    expect(() => node.step(append({ prevIndex: 2, prevTerm: 1, commit: 3 }))).toThrow(
      /committed entry 2@2 differs from leader A's 2@1 \(log matching\)/,
    );
  });

  it("log matching: two different entries with the same index and term", () => {
    const node = follower();
    const other: Entry = { index: 3, term: 2, type: "command", data: "users/2" };
    const step = () => node.step(append({ prevIndex: 2, prevTerm: 2, entries: [other] }));
    expect(step).toThrow(AssertionError);
    expect(step).toThrow(/two different entries at 3@2 \(log matching\)/);
  });

  it("terms never decrease along a log", () => {
    const node = follower();
    const entries: Entry[] = [
      { index: 4, term: 2, type: "command", data: "users/2" },
      { index: 5, term: 1, type: "command", data: "users/3" },
    ];
    expect(() => node.step(append({ prevIndex: 3, prevTerm: 2, entries }))).toThrow(
      "entry 5@1 follows an entry of the later term 2",
    );
  });

  it("a leader is never acknowledged beyond the end of its own log", () => {
    const leader = new RawNode({ id: "A", random: new SeededRandom(1) });
    const drain = (): void => {
      while (leader.hasReady()) {
        leader.ready();
        leader.advance();
      }
    };
    leader.bootstrap(["A"]);
    leader.campaign();
    drain();
    expect(leader.proposeMembership({ op: "addLearner", node: "B" }).accepted).toBe(true);
    drain();
    const ack: AppendResponse = {
      type: "appendResponse",
      from: "B",
      to: "A",
      term: leader.status().term,
      success: true,
      matchIndex: 99,
      rejectedIndex: 0,
      conflictIndex: 0,
      conflictTerm: 0,
    };
    expect(() => leader.step(ack)).toThrow("A: B acknowledges 99, beyond the leader's log end 3");
  });
});
