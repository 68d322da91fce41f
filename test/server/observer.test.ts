import { describe, expect, it } from "vitest";
import { ClusterNode } from "../../engine/server/cluster-node.ts";
import { DatabaseHosting } from "../../engine/server/database-hosting.ts";
import { Observer } from "../../engine/server/observer.ts";
import { DiskNow, heartbeat, parts, raft, twoVoterDisk, urlA, urlB } from "./parts.ts";

function observerOn(disk: DiskNow) {
  const p = parts({ storage: disk, url: disk === undefined ? urlA : undefined });
  let observer: Observer | undefined;
  const node = new ClusterNode(p.context, {
    applied: (command) => observer?.onApplied(command),
    restored: () => {},
    roleChanged: (soft) => observer?.onRoleChanged(soft),
  });
  const hosting = new DatabaseHosting(p.context, node, {});
  observer = new Observer(p.context, node, hosting);
  hosting.recover(disk.load());
  node.recover(disk.load());
  return { ...p, node, hosting, observer };
}

describe("the observer", () => {
  it("a follower reports its health to the leader every healthReportIntervalMs", () => {
    const b = observerOn(twoVoterDisk("B"));
    b.node.receiveRaft(urlA, raft("cluster1", "B", heartbeat(2, "B", 4)));
    expect(b.node.soft()?.leader).toBe("A");
    const interval = b.context.timing.healthReportIntervalMs;
    const reports = () => b.sent.filter((s) => s.message.type === "health-report");
    b.clock.advanceTo(interval);
    b.observer.tick(b.clock.nowMs());
    expect(reports()).toEqual([
      { url: urlA, message: { type: "health-report", tag: "B", databases: {} } },
    ]);
    b.clock.advanceTo(interval + interval / 2);
    b.observer.tick(b.clock.nowMs());
    expect(reports()).toHaveLength(1);
    b.clock.advanceTo(2 * interval);
    b.observer.tick(b.clock.nowMs());
    expect(reports()).toHaveLength(2);
  });

  it("a server that knows no leader reports to nobody", () => {
    const a = observerOn(twoVoterDisk("A"));
    a.clock.advanceTo(10 * a.context.timing.healthReportIntervalMs);
    a.observer.tick(a.clock.nowMs());
    expect(a.sent.filter((s) => s.message.type === "health-report")).toEqual([]);
  });

  it("the leader keeps Raft's configuration equal to the topology, one change at a time", () => {
    const a = observerOn(new DiskNow());
    a.node.bootstrap();
    const rachis = a.node.rachis!;
    expect(rachis.isLeaderInOffice()).toBe(true);
    void rachis.propose({ type: "addNode", url: urlB, joinAs: "promotable" });
    expect(Object.keys(rachis.state.topology.promotables)).toEqual(["B"]);
    expect(rachis.status().membership.learners).toEqual([]);
    a.observer.reconcileMembership();
    // B joins Raft as a learner: it votes only once it caught up (then it is promoted).
    expect(rachis.status().membership).toEqual({ voters: ["A"], learners: ["B"] });
    void rachis.propose({ type: "removeNode", tag: "B" });
    a.observer.reconcileMembership();
    expect(rachis.status().membership).toEqual({ voters: ["A"], learners: [] });
  });

  it("the leader's supervisor moves a silent member to rehab, and leaves one that reports alone", () => {
    const a = observerOn(new DiskNow());
    a.node.bootstrap();
    const rachis = a.node.rachis!;
    void rachis.propose({ type: "addNode", url: urlB });
    void rachis.propose({ type: "addNode", url: "http://127.0.0.3:8080" });
    void rachis.propose({ type: "createDatabase", name: "Spade", nodes: ["A", "B", "C"] });
    const rehabAfterMs = a.context.timing.supervisor.moveToRehabAfterMs;
    // B keeps reporting; C never does.
    for (let now = 0; now <= rehabAfterMs + 1_000; now += a.context.timing.tickMs) {
      a.clock.advanceTo(now);
      a.observer.receiveReport({ type: "health-report", tag: "B", databases: {} });
      a.observer.tick(now);
    }
    const topology = rachis.state.databases["spade"]!.topology;
    expect(topology.rehabs).toEqual(["C"]);
    expect(topology.members).toEqual(["A", "B"]);
  });
});
