import { describe, expect, it } from "vitest";
import type { ClusterCommand } from "../../engine/cluster/index.ts";
import { ClusterNode } from "../../engine/server/cluster-node.ts";
import { DiskNow, heartbeat, parts, raft, twoVoterDisk, urlA, urlB } from "./parts.ts";

function node(disk = new DiskNow()) {
  const p = parts({ storage: disk });
  const applied: ClusterCommand[] = [];
  const roles: string[] = [];
  const n = new ClusterNode(p.context, {
    applied: (command) => applied.push(command),
    restored: () => {},
    roleChanged: (soft) => roles.push(soft.role),
  });
  n.recover(disk.load());
  return { ...p, node: n, applied, roles };
}

describe("a server's place in its cluster (ClusterNode)", () => {
  it("a fresh server is passive: tag ?, no cluster id, no Raft node", () => {
    const { node: n } = node();
    expect(n.tag).toBe("?");
    expect(n.topologyId).toBeNull();
    expect(n.rachis).toBeUndefined();
    expect(n.isLeaderInOffice()).toBe(false);
  });

  it("bootstrapping makes it node A of a new cluster, its leader, and keeps that on disk", () => {
    const { node: n, storage, applied, roles, events } = node();
    n.bootstrap();
    expect(n.tag).toBe("A");
    expect(n.topologyId).toMatch(/^[a-z0-9]{12}$/);
    expect(roles).toContain("leader");
    expect(applied.map((c) => c.type)).toEqual(["bootstrap"]);
    expect(n.state?.topology.members).toEqual({ A: urlA });
    expect(n.urlOf("A")).toBe(urlA);
    expect(storage.stores.get("server")?.get("tag")).toBe("A");
    expect(storage.stores.get("server")?.get("topologyId")).toBe(n.topologyId);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(["server", "role", "cluster-command"]),
    );
  });

  it("a restart recovers the tag, the cluster id and the cluster state from disk", () => {
    const first = node();
    first.node.bootstrap();
    const again = node(first.storage);
    expect(again.node.tag).toBe("A");
    expect(again.node.topologyId).toBe(first.node.topologyId);
    expect(again.node.state?.topology.members).toEqual({ A: urlA });
  });

  it("a passive server joins the cluster that added it (the leader names its server id), under the tag it is given", () => {
    const { node: n, storage, sent, events } = node();
    n.receiveRaft(urlA, raft("cluster1", "B", heartbeat(1), n.serverId));
    expect(n.tag).toBe("B");
    expect(n.topologyId).toBe("cluster1");
    expect(storage.stores.get("server")?.get("tag")).toBe("B");
    expect(storage.stores.get("server")?.get("serverId")).toBe(n.serverId);
    expect(events.some((e) => e.type === "server" && e.text.includes("joined cluster"))).toBe(true);
    // It answers the leader at the address the message came from, before it knows the topology,
    // naming itself and the server it answers.
    expect(sent.at(-1)).toMatchObject({
      url: urlA,
      message: { type: "raft", toTag: "A", fromServerId: n.serverId, toServerId: "server-of-a" },
    });
    expect(n.soft()?.leader).toBe("A");
  });

  it("ignores Raft traffic for another cluster or another tag once it belongs to one", () => {
    const { node: n, sent } = node();
    n.receiveRaft(urlA, raft("cluster1", "B", heartbeat(1), n.serverId));
    const before = sent.length;
    n.receiveRaft(urlB, raft("cluster2", "B", heartbeat(5), n.serverId));
    n.receiveRaft(urlA, raft("cluster1", "C", heartbeat(5, "C"), n.serverId));
    expect(sent.length).toBe(before);
    expect(n.soft()?.term).toBe(1);
  });

  it("a server with empty storage does not join, or vote, as the node another server was", () => {
    const { node: n, sent, events } = node();
    // A candidate of the cluster asks "node B" (the server it added earlier, server-of-b) for
    // its vote; this server's storage is empty, so it is not that server.
    const vote = { type: "vote", from: "C", to: "B", term: 3, lastLogIndex: 2, lastLogTerm: 1 };
    n.receiveRaft(urlA, raft("cluster1", "B", vote as never, "server-of-b"));
    n.receiveRaft(urlA, raft("cluster1", "B", heartbeat(4), "server-of-b"));
    // Nor does a cluster that knows no id for it make it a node.
    n.receiveRaft(urlA, raft("cluster1", "B", heartbeat(4), null));
    expect(n.tag).toBe("?");
    expect(n.rachis).toBeUndefined();
    expect(sent).toEqual([]);
    const said = events.filter((e) => e.type === "server").map((e) => e.text);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /this server is not node B .*remove node B from the cluster and add this server again/,
    );
  });

  it("a member refuses Raft messages from a server that is not the one the cluster added under that tag", () => {
    const { node: n, sent, events } = node(twoVoterDisk("B", true));
    expect(n.serverId).toBe("server-of-b");
    expect(n.state?.topology.serverIds).toEqual({ A: "server-of-a", B: "server-of-b" });
    // The server the cluster added as A leads in term 2: B answers it.
    n.receiveRaft(urlA, raft("cluster1", "B", heartbeat(2, "B", 4), "server-of-b"));
    expect(n.soft()?.leader).toBe("A");
    const answered = sent.length;
    expect(answered).toBeGreaterThan(0);
    // Another server at A's address (A's data folder was replaced) claims to be A in term 3.
    n.receiveRaft(urlA, raft("cluster1", "B", heartbeat(3, "B", 4), "server-of-b", "stranger"));
    expect(n.soft()?.term).toBe(2);
    expect(sent.length).toBe(answered);
    expect(events.at(-1)).toMatchObject({
      type: "server",
      text: expect.stringContaining(
        "the cluster added node A as server server-of-a, and this is server stranger",
      ),
    });
  });

  it("counts a peer reachable while it was heard from within reachableWithinMs", () => {
    const { node: n, clock, context } = node();
    n.receiveRaft(urlA, raft("cluster1", "B", heartbeat(1), n.serverId));
    expect(n.reachable("A", clock.nowMs())).toBe(true);
    expect(n.reachable("A", clock.nowMs() + context.timing.reachableWithinMs + 1)).toBe(false);
    expect(n.reachable("C", clock.nowMs())).toBe(false);
  });
});
