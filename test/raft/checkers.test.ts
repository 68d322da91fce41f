import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../engine/core/index.ts";
import { RawNode } from "../../engine/raft/index.ts";
import type { Entry, SoftState } from "../../engine/raft/index.ts";
import { InvariantViolation, RaftCheckers } from "../../engine/runtime/sim/index.ts";

const command = (index: number, term: number, data: string): Entry => ({
  index,
  term,
  type: "command",
  data,
});

function violation(run: () => void): string {
  try {
    run();
  } catch (error) {
    if (error instanceof InvariantViolation) return error.invariant;
    throw error;
  }
  return "none";
}

describe("the invariant checkers can fail", () => {
  it("two leaders in one term break election safety", () => {
    const checkers = new RaftCheckers();
    const a = new RawNode({ id: "A", random: new SeededRandom(1) });
    const b = new RawNode({ id: "B", random: new SeededRandom(2) });
    const leader: SoftState = { role: "leader", leader: "A", term: 3 };
    checkers.onSoftState(a, leader);
    expect(violation(() => checkers.onSoftState(b, { ...leader, leader: "B" }))).toBe(
      "election safety",
    );
  });

  it("two nodes applying different commands at one index break state machine safety", () => {
    const checkers = new RaftCheckers();
    checkers.onApply("A", command(1, 1, "users/1"));
    expect(violation(() => checkers.onApply("B", command(1, 1, "users/2")))).toBe(
      "state machine safety",
    );
  });

  it("applying out of order breaks state machine safety", () => {
    const checkers = new RaftCheckers();
    expect(violation(() => checkers.onApply("A", command(2, 1, "skip")))).toBe(
      "state machine safety",
    );
  });

  it("a commit index that moves back is caught", () => {
    const checkers = new RaftCheckers();
    checkers.onCommit("A", 5);
    expect(violation(() => checkers.onCommit("A", 4))).toBe("commit monotonic");
  });

  it("a new leader missing a committed entry breaks leader completeness", () => {
    const checkers = new RaftCheckers();
    checkers.onApply("A", command(1, 1, "create Spade"));
    const b = new RawNode({ id: "B", random: new SeededRandom(2) });
    expect(violation(() => checkers.onSoftState(b, { role: "leader", leader: "B", term: 2 }))).toBe(
      "leader completeness",
    );
  });
});
