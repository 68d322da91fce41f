/**
 * The client benchmark: how long a request takes when the preferred node has just died, as a
 * multiple of the request timeout (a killed server refuses at once; a cut-off one costs a timeout),
 * and what the client adds per request over a direct `network.request` to the same server — both
 * in virtual time (extra round trips) and in wall time (JavaScript work), each against the direct
 * call measured in the same run.
 */
import { DocumentStore } from "../../engine/client/index.ts";
import { SimCluster } from "../../engine/runtime/sim/index.ts";
import type { NetworkFaults } from "../../engine/runtime/sim/index.ts";

const oneWayMs = 2;
const fixedLatency: NetworkFaults = {
  latencyMinMs: oneWayMs,
  latencyMaxMs: oneWayMs,
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMaxMs: 0,
};
const requestTimeoutMs = 2_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function spade(seed: number): Promise<{ cluster: SimCluster; store: DocumentStore }> {
  const cluster = new SimCluster({ servers: 3, seed, faults: fixedLatency });
  const admin = new DocumentStore({
    urls: cluster.urls,
    network: cluster.network,
    address: "admin",
  }).initialize();
  for (const url of cluster.urls.slice(1)) await admin.maintenance.addNodeToCluster(url);
  await cluster.runFor(2_000);
  await admin.maintenance.createDatabase({ name: "Spade", replicationFactor: 3 });
  const store = new DocumentStore({
    urls: cluster.urls,
    database: "Spade",
    network: cluster.network,
    conventions: { requestTimeoutMs },
  }).initialize();
  const session = store.openSession();
  session.store({ name: "Oren" }, "users/1");
  session.advanced.waitForReplicationAfterSaveChanges({ replicas: 2 });
  await session.saveChanges();
  return { cluster, store };
}

/** failover: the preferred node dies (killed, or cut off) → virtual ms until a write succeeds. */
async function failover(how: "kill" | "isolate", seeds: number): Promise<Record<string, number>> {
  const samples: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const { cluster, store } = await spade(seed);
    if (how === "kill") await cluster.kill("A");
    else cluster.isolate("A");
    const started = cluster.nowMs();
    const session = store.openSession();
    session.store({ seed }, `after/${seed}`);
    await session.saveChanges();
    if (session.advanced.lastServedBy !== "B")
      throw new Error(`expected B to serve, got ${session.advanced.lastServedBy}`);
    samples.push(cluster.nowMs() - started);
    await cluster.stop();
  }
  return {
    medianMs: Number(median(samples).toFixed(1)),
    medianTimeouts: Number((median(samples) / requestTimeoutMs).toFixed(4)),
    maxTimeouts: Number((Math.max(...samples) / requestTimeoutMs).toFixed(4)),
  };
}

/** overhead: N loads through sessions against N direct get-documents calls to the same node. */
async function overhead(requests: number): Promise<Record<string, number>> {
  const { cluster, store } = await spade(1);
  const url = cluster.urls[0]!;

  const direct = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const response = await cluster.network.request(
        url,
        { type: "get-documents", database: "Spade", ids: ["users/1"] },
        { timeoutMs: requestTimeoutMs },
      );
      if (!response.ok) throw new Error(response.error.message);
    }
  };
  const client = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const user = await store.openSession().load("users/1");
      if (!user) throw new Error("users/1 missing");
    }
  };
  /** Best of three rounds, alternating, after a warm-up of each, so JIT and GC treat both alike. */
  const time = async (run: (n: number) => Promise<void>) => {
    const wallStart = performance.now();
    const virtualStart = cluster.nowMs();
    await run(requests);
    return { wallMs: performance.now() - wallStart, virtualMs: cluster.nowMs() - virtualStart };
  };
  await direct(requests / 4);
  await client(requests / 4);
  const sentBefore = store.requestExecutor.serverRequests;
  const directRuns = [];
  const clientRuns = [];
  for (let round = 0; round < 3; round++) {
    directRuns.push(await time(direct));
    clientRuns.push(await time(client));
  }
  const directWallMs = Math.min(...directRuns.map((r) => r.wallMs));
  const clientWallMs = Math.min(...clientRuns.map((r) => r.wallMs));
  const directVirtualMs = directRuns[0]!.virtualMs;
  const clientVirtualMs = clientRuns[0]!.virtualMs;
  const sent = (store.requestExecutor.serverRequests - sentBefore) / 3;
  await cluster.stop();
  return {
    requests,
    networkRequestsPerLoad: sent / requests,
    directWallUsPerRequest: Number(((directWallMs * 1000) / requests).toFixed(1)),
    clientWallUsPerRequest: Number(((clientWallMs * 1000) / requests).toFixed(1)),
    wallRatio: Number((clientWallMs / directWallMs).toFixed(3)),
    virtualRatio: Number((clientVirtualMs / directVirtualMs).toFixed(3)),
  };
}

/**
 * benchClient runs the client suite. It is async (the client only runs under await); register it
 * in run.ts as `client: benchClient` and await each suite's result.
 */
export async function benchClient(): Promise<Record<string, unknown>> {
  return {
    requestTimeoutMs,
    oneWayLatencyMs: oneWayMs,
    failoverAfterKill: await failover("kill", 9),
    failoverAfterIsolation: await failover("isolate", 9),
    overhead: await overhead(2_000),
  };
}

// Run directly: npx tsx test/bench/client.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchClient(), null, 2));
}
