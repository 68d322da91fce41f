import { describe, expect, it } from "vitest";
import { ClusterNode } from "../../engine/server/cluster-node.ts";
import { ClusterOperations } from "../../engine/server/cluster-operations.ts";
import { DatabaseHosting } from "../../engine/server/database-hosting.ts";
import { Observer } from "../../engine/server/observer.ts";
import { PeerCalls } from "../../engine/server/peer-calls.ts";
import type { ServerResponse } from "../../engine/transport/index.ts";
import { DiskNow, heartbeat, parts, raft, twoVoterDisk, urlA, urlB } from "./parts.ts";

function operationsOn(disk: DiskNow, url = urlA) {
  const p = parts({ storage: disk, url });
  const node = new ClusterNode(p.context, {
    applied: () => {},
    restored: () => {},
    roleChanged: () => {},
  });
  const hosting = new DatabaseHosting(p.context, node, {});
  const observer = new Observer(p.context, node, hosting);
  const peers = new PeerCalls(p.context.sendPeer);
  const operations = new ClusterOperations(p.context, node, peers, observer);
  node.recover(disk.load());
  /** runFor lets `ms` pass in ticks of tickMs (the node's Raft does not tick: nobody leads). */
  const runFor = async (ms: number): Promise<void> => {
    const until = p.clock.nowMs() + ms;
    while (p.clock.nowMs() < until) {
      p.advance(p.context.timing.tickMs);
      peers.expire(p.clock.nowMs());
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  return { ...p, node, peers, operations, runFor };
}

function refusal(response: ServerResponse): { code: string; message: string } {
  if (response.ok) throw new Error(`expected a refusal, got ${JSON.stringify(response.result)}`);
  return response.error;
}

describe("cluster-wide operations", () => {
  it("a passive server refuses an operation that needs a cluster, and stays passive", async () => {
    const { operations, node } = operationsOn(new DiskNow());
    const error = refusal(await operations.run({ type: "remove-node", tag: "B" }));
    expect(error.code).toBe("NotInCluster");
    expect(error.message).toContain("removing node B from the cluster needs one");
    expect(node.tag).toBe("?");
  });

  it("a passive server founds a cluster for its first database, then validates the next", async () => {
    const { operations, node } = operationsOn(new DiskNow());
    const created = await operations.run({ type: "create-database", name: "Spade" });
    expect(created).toMatchObject({ ok: true, result: { nodes: ["A"] } });
    expect(node.tag).toBe("A");
    const again = refusal(await operations.run({ type: "create-database", name: "spade" }));
    expect(again.code).toBe("DatabaseExists");
  });

  it("without a majority it waits clusterOperationTimeoutMs, then names the operation and the quorum", async () => {
    const { operations, runFor, clock, context } = operationsOn(twoVoterDisk("A"));
    let answer: ServerResponse | undefined;
    void operations.run({ type: "create-database", name: "X" }).then((r) => (answer = r));
    await runFor(context.timing.clusterOperationTimeoutMs - context.timing.tickMs);
    expect(answer).toBeUndefined();
    await runFor(2 * context.timing.tickMs);
    const error = refusal(answer!);
    expect(error.code).toBe("NoLeader");
    expect(error.message).toContain(
      "no leader: creating database 'X' needs 2 of 2 nodes; 1 reachable from node A",
    );
    expect(clock.nowMs()).toBeGreaterThanOrEqual(context.timing.clusterOperationTimeoutMs);
  });

  it("a follower forwards the operation to the leader and returns the leader's answer", async () => {
    const b = operationsOn(twoVoterDisk("B"), urlB);
    b.node.receiveRaft(urlA, raft("cluster1", "B", heartbeat(2, "B", 4)));
    const answer = b.operations.run({ type: "delete-database", name: "Spade" });
    await Promise.resolve();
    const forward = b.sent.find((s) => s.message.type === "forward");
    expect(forward).toMatchObject({
      url: urlA,
      message: { request: { type: "delete-database" }, description: "deleting database 'Spade'" },
    });
    const requestId = (forward!.message as { requestId: number }).requestId;
    const leaders: ServerResponse = { ok: true, result: { raftIndex: 4, message: "deleted" } };
    b.peers.answer({ type: "forward-result", requestId, response: leaders });
    expect(await answer).toEqual(leaders);
  });

  it("a server that no longer leads answers a forwarded operation with NotLeader", async () => {
    const { operations, sent } = operationsOn(twoVoterDisk("A"));
    await operations.answerForward(urlB, 7, { type: "delete-database", name: "Spade" });
    expect(sent).toEqual([
      {
        url: urlB,
        message: {
          type: "forward-result",
          requestId: 7,
          response: {
            ok: false,
            error: { code: "NotLeader", message: "node A is no longer the leader" },
          },
        },
      },
    ]);
    expect(operations.busy).toBe(false);
  });

  it("adding a node refuses a malformed URL, this server, and one that does not answer", async () => {
    const { operations, runFor, context } = operationsOn(new DiskNow());
    await operations.run({ type: "create-database", name: "Spade" });
    expect(refusal(await operations.run({ type: "add-node", url: "127.0.0.5" })).code).toBe(
      "InvalidUrl",
    );
    // This server is already a node of its cluster: the same code any leader gives for a member.
    const itself = refusal(await operations.run({ type: "add-node", url: urlA }));
    expect(itself.code).toBe("NodeAlreadyInCluster");
    expect(itself.message).toContain("already in the cluster as node A");
    let answer: ServerResponse | undefined;
    void operations.run({ type: "add-node", url: urlB }).then((r) => (answer = r));
    await runFor(context.timing.joinTimeoutMs + context.timing.tickMs);
    const silent = refusal(answer!);
    expect(silent.code).toBe("NodeUnreachable");
    expect(silent.message).toContain(`${urlB} did not answer within`);
  });
});
