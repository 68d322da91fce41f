/**
 * Defect 4 of issue 12: one malformed request used to kill a server ("Cannot read properties of
 * undefined"): under sim the unhandled rejection ended the whole Node process, in workers the
 * server died and stayed down, and a follower forwarded a bad cluster operation to the leader.
 * Every request is checked against its declared shape at the server's boundary and refused with
 * InvalidRequest, naming the field and what is wrong with it.
 */
import { describe, expect, it } from "vitest";
import { DocumentStore } from "../../engine/client/index.ts";
import type { SimCluster } from "../../engine/runtime/sim/index.ts";
import type { Envelope, ServerRequest, ServerResponse } from "../../engine/transport/index.ts";
import { caught, clusterWith } from "../client/helpers.ts";

function refusal(response: ServerResponse): { code: string; message: string } {
  if (response.ok) throw new Error(`expected a refusal, got ${JSON.stringify(response.result)}`);
  return response.error;
}

/** stillServes shows that every server still answers and a normal write succeeds on each. */
async function stillServes(cluster: SimCluster): Promise<void> {
  expect(cluster.servers.every((s) => s.alive)).toBe(true);
  for (const [k, url] of cluster.urls.entries()) {
    const written = await cluster.request(url, {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: `users/after-${k}`, body: { ok: true } }] },
    });
    expect(written).toMatchObject({ ok: true });
  }
}

/** watchSends records every envelope the simulated network is given from now on. */
function watchSends(cluster: SimCluster): Envelope[] {
  const sent: Envelope[] = [];
  const send = cluster.net.send.bind(cluster.net);
  cluster.net.send = (envelope) => {
    sent.push(envelope);
    send(envelope);
  };
  return sent;
}

/** send hands the network a request as any client could, whatever its shape. */
const send = (cluster: SimCluster, url: string, request: unknown): Promise<ServerResponse> =>
  cluster.request(url, request as ServerRequest);

describe("a malformed request is refused with InvalidRequest and harms no server", () => {
  it("addNodeToCluster(undefined), (42) and (null) name the url field", async () => {
    const cluster = await clusterWith({ servers: 2, seed: 120, database: "Spade" });
    const store = new DocumentStore({ urls: cluster.urls, network: cluster.network });
    store.initialize();
    for (const url of [undefined, 42, null]) {
      const error = await caught(() => store.maintenance.addNodeToCluster(url as never));
      expect(error.code).toBe("InvalidRequest");
      expect(error.message).toMatch(/\burl\b.*must be a string/);
    }
    await stillServes(cluster);
  });

  it("raw requests: a batch without a transaction, ids that are not a list, a numeric database, null, an unknown type", async () => {
    const cluster = await clusterWith({ servers: 2, seed: 121, database: "Spade" });
    const a = cluster.urls[0]!;
    const cases: [unknown, RegExp][] = [
      [{ type: "batch", database: "Spade" }, /transaction.*missing/],
      [{ type: "get-documents", database: "Spade", ids: "a" }, /ids.*must be a list/],
      [{ type: "get-documents", database: 7, ids: ["a"] }, /database.*must be a string/],
      [{ type: "batch", database: "Spade", transaction: { puts: [null] } }, /puts\[0\]/],
      [{ type: "batch", database: "Spade", transaction: { puts: "x" } }, /puts.*must be a list/],
      [null, /request must be an object/],
      [42, /request must be an object/],
      [{}, /type.*missing/],
      [{ type: "drop-everything" }, /unknown request type "drop-everything"/],
      [{ type: "create-database" }, /name.*missing/],
      [{ type: "create-database", name: "X", replicationFactor: "3" }, /replicationFactor/],
      [{ type: "add-database-node", database: "Spade", tag: 5 }, /tag.*must be a string/],
    ];
    for (const [request, problem] of cases) {
      const error = refusal(await send(cluster, a, request));
      expect(error.code, JSON.stringify(request)).toBe("InvalidRequest");
      expect(error.message, JSON.stringify(request)).toMatch(problem);
    }
    await stillServes(cluster);
  });

  it("a follower refuses a malformed cluster operation itself, and the leader refuses one forwarded to it", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 122, database: "Spade" });
    const follower = cluster.servers.find((s) => s.role === "follower")!;
    const error = refusal(await send(cluster, follower.url, { type: "remove-node", tag: null }));
    expect(error.code).toBe("InvalidRequest");
    // A follower of an older version could forward anything: the leader checks again.
    const leader = cluster.servers.find((s) => s.role === "leader")!;
    const sent = watchSends(cluster);
    cluster.server(leader.url)!.receive({
      kind: "peer",
      from: follower.url,
      to: leader.url,
      message: {
        type: "forward",
        requestId: 9,
        request: { type: "create-database", name: 42 },
        description: "creating a database",
      },
    } as unknown as Envelope);
    await cluster.runFor(100);
    const answer = sent.find((e) => e.kind === "peer" && e.message.type === "forward-result");
    expect(answer).toMatchObject({
      to: follower.url,
      message: { requestId: 9, response: { ok: false, error: { code: "InvalidRequest" } } },
    });
    await stillServes(cluster);
  });

  it("malformed peer messages are dropped without harming the server", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 123, database: "Spade" });
    const [a, b] = cluster.urls as [string, string];
    const garbage: unknown[] = [
      null,
      { type: "raft" },
      { type: "raft", topologyId: 1, toTag: "A", message: null },
      { type: "raft", topologyId: "x", toTag: "A", message: { type: "append", from: "B" } },
      { type: "replication", message: null },
      { type: "replication", message: { type: "replication-wire-batch", transactions: "x" } },
      {
        type: "replication",
        message: {
          type: "replication-wire-batch",
          database: "Spade",
          from: "B",
          to: "A",
          sourceDatabaseId: "x",
          afterEtag: 0,
          lastEtag: 1,
          transactions: [{ transaction: 1, items: [{ kind: "document", bodyJson: "{" }] }],
        },
      },
      { type: "health-report", tag: "B", databases: null },
      { type: "forward", requestId: "1", request: null },
      { type: "node-info-request" },
      { type: "forward-result", requestId: 1 },
    ];
    for (const message of garbage)
      cluster.net.send({ kind: "peer", from: b, to: a, message } as unknown as Envelope);
    cluster.net.send({ kind: "request", from: "client", to: a } as unknown as Envelope);
    cluster.net.send({ kind: "nonsense" } as unknown as Envelope);
    await cluster.runFor(500);
    await stillServes(cluster);
  });
});
