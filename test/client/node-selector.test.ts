/**
 * Rehabs in the client's topology: RavenDB's /topology lists the members and then the rehabs, and
 * the client's NodeSelector uses a rehab only as a last resort, once every member has failed
 * (ravendb-behavior.md §3, "Node selection"). A rehab is never dropped from the client's view.
 */
import { describe, expect, it } from "vitest";
import { NodeSelector, conventionDefaults, serverNodes } from "../../engine/client/index.ts";

const url = (n: number) => `http://127.0.0.${n}:8080`;
const spade = {
  database: "Spade",
  etag: 12,
  members: ["B", "C"],
  promotables: ["D"],
  rehabs: ["A"],
  nodes: [
    { tag: "B", url: url(2), role: "member" as const },
    { tag: "C", url: url(3), role: "member" as const },
    { tag: "D", url: url(4), role: "promotable" as const },
    { tag: "A", url: url(1), role: "rehab" as const },
  ],
};
const down = { code: "ServerUnavailable", message: "down" };

describe("a rehab stays in the client's topology, after the members", () => {
  it("the client's nodes are the members in order, then the rehab; a promotable is not offered", () => {
    expect(serverNodes(spade).map((node) => `${node.tag}:${node.role}`)).toEqual([
      "B:member",
      "C:member",
      "A:rehab",
    ]);
  });

  it("writes and failovers reach the rehab only once every member has failed", () => {
    const selector = new NodeSelector(spade, conventionDefaults.fastestNode);
    expect(selector.preferred()?.tag).toBe("B");
    selector.onFailed(selector.nodes[0]!, down, 0, 100);
    expect(selector.preferred()?.tag).toBe("C");
    expect(selector.nextAfterFailure(new Set(["B"]))?.tag).toBe("C");
    selector.onFailed(selector.nodes[1]!, down, 0, 100);
    expect(selector.preferred()?.tag).toBe("A");
    expect(selector.nextAfterFailure(new Set(["B", "C"]))?.tag).toBe("A");
    // A member that answers again takes the requests back from the rehab.
    selector.restore(selector.nodes[1]!);
    expect(selector.preferred()?.tag).toBe("C");
  });

  it("round robin never starts a session on the rehab while a member answers", () => {
    const selector = new NodeSelector(spade, conventionDefaults.fastestNode);
    const picks = [0, 1, 2, 3, 4, 5].map((session) => selector.bySession(session)?.tag);
    expect(picks).not.toContain("A");
    expect(new Set(picks)).toEqual(new Set(["B", "C"]));
  });
});
