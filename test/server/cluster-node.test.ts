import { describe, expect, it } from "vitest";
import type { ClusterCommand } from "../../engine/cluster/index.ts";
import { ClusterNode } from "../../engine/server/cluster-node.ts";
import { DiskNow, heartbeat, parts, urlA, urlB } from "./parts.ts";

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

  it("a passive server joins the cluster whose leader first addresses it, under the tag it is given", () => {
    const { node: n, storage, sent, events } = node();
    n.receiveRaft(urlA, "cluster1", "B", heartbeat(1));
    expect(n.tag).toBe("B");
    expect(n.topologyId).toBe("cluster1");
    expect(storage.stores.get("server")?.get("tag")).toBe("B");
    expect(events.some((e) => e.type === "server" && e.text.includes("joined cluster"))).toBe(true);
    // It answers the leader at the address the message came from, before it knows the topology.
    expect(sent.at(-1)).toMatchObject({ url: urlA, message: { type: "raft", toTag: "A" } });
    expect(n.soft()?.leader).toBe("A");
  });

  it("ignores Raft traffic for another cluster or another tag once it belongs to one", () => {
    const { node: n, sent } = node();
    n.receiveRaft(urlA, "cluster1", "B", heartbeat(1));
    const before = sent.length;
    n.receiveRaft(urlB, "cluster2", "B", heartbeat(5));
    n.receiveRaft(urlA, "cluster1", "C", heartbeat(5, "C"));
    expect(sent.length).toBe(before);
    expect(n.soft()?.term).toBe(1);
  });

  it("counts a peer reachable while it was heard from within reachableWithinMs", () => {
    const { node: n, clock, context } = node();
    n.receiveRaft(urlA, "cluster1", "B", heartbeat(1));
    expect(n.reachable("A", clock.nowMs())).toBe(true);
    expect(n.reachable("A", clock.nowMs() + context.timing.reachableWithinMs + 1)).toBe(false);
    expect(n.reachable("C", clock.nowMs())).toBe(false);
  });
});
