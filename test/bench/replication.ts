/**
 * The replication benchmark: replication lag (write acknowledged → visible on every sibling) in
 * message delays for groups of 2, 3 and 5; replication throughput of 1 KB documents; and the Rachis
 * commit latency of a cluster-wide operation — against limits measured in the same run.
 */
import { SimCluster } from "../../engine/runtime/sim/index.ts";
import { openMemoryStorage } from "../../engine/storage/index.ts";
import type { NetworkFaults } from "../../engine/runtime/sim/index.ts";
import type { ServerRequest, ServerResponse } from "../../engine/transport/index.ts";

const oneWayMs = 2;
const fixed: NetworkFaults = {
  latencyMinMs: oneWayMs,
  latencyMaxMs: oneWayMs,
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMaxMs: 0,
};

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function must(response: ServerResponse, what: string): unknown {
  if (!response.ok) throw new Error(`${what}: ${response.error.message}`);
  return response.result;
}

async function groupOf(size: number, seed: number): Promise<SimCluster> {
  const cluster = new SimCluster({ servers: size, seed, faults: fixed });
  const first = cluster.urls[0]!;
  const ask = async (request: ServerRequest, what: string) =>
    must(await cluster.request(first, request), what);
  await ask({ type: "create-database", name: "Spade" }, "create");
  for (const url of cluster.urls.slice(1)) await ask({ type: "add-node", url }, "add node");
  for (let k = 1; k < size; k++)
    await ask(
      { type: "add-database-node", database: "Spade", tag: String.fromCharCode(65 + k) },
      "grow group",
    );
  await cluster.waitFor(() => cluster.databaseRecord("Spade")?.topology.members.length === size, {
    what: "the group",
    timeoutMs: 30_000,
  });
  await cluster.runFor(1000);
  return cluster;
}

async function lag(
  size: number,
): Promise<{ medianDelays: number; p99Delays: number; samples: number }> {
  const cluster = await groupOf(size, size);
  const tags = Array.from({ length: size }, (_, k) => String.fromCharCode(65 + k));
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const writer = tags[i % size]!;
    const id = `lag/${i}`;
    const started = cluster.nowMs();
    must(
      await cluster.settle(
        cluster.server(writer)!.handleRequest({
          type: "batch",
          database: "Spade",
          transaction: { puts: [{ id, body: { i } }] },
        }),
      ),
      "write",
    );
    await cluster.waitFor(
      () =>
        tags.every(
          (tag) => cluster.server(tag)!.hostedDatabase("Spade")!.instance.get(id) !== undefined,
        ),
      { what: id },
    );
    samples.push((cluster.nowMs() - started) / oneWayMs);
    await cluster.runFor(cluster.sim.random.between(5, 50));
  }
  samples.sort((a, b) => a - b);
  return {
    medianDelays: percentile(samples, 0.5),
    p99Delays: percentile(samples, 0.99),
    samples: samples.length,
  };
}

async function throughput(): Promise<{
  documents: number;
  docsPerSimSecond: number;
  docsPerWallSecond: number;
}> {
  const cluster = await groupOf(2, 7);
  const body = { text: "x".repeat(1000) };
  const documents = 10_000;
  const startedWall = performance.now();
  const startedSim = cluster.nowMs();
  for (let t = 0; t < documents / 100; t++) {
    const puts = Array.from({ length: 100 }, (_, k) => ({ id: `bulk/${t * 100 + k}`, body }));
    must(
      await cluster.settle(
        cluster
          .server("A")!
          .handleRequest({ type: "batch", database: "Spade", transaction: { puts } }),
      ),
      "bulk write",
    );
  }
  await cluster.waitFor(
    () =>
      cluster
        .server("B")!
        .hostedDatabase("Spade")!
        .instance.get(`bulk/${documents - 1}`) !== undefined,
    { what: "the bulk on B", timeoutMs: 120_000 },
  );
  const wallMs = performance.now() - startedWall;
  return {
    documents,
    docsPerSimSecond: Math.round(documents / ((cluster.nowMs() - startedSim) / 1000)),
    docsPerWallSecond: Math.round(documents / (wallMs / 1000)),
  };
}

async function clusterCommitLatency(): Promise<{ medianDelays: number; p99Delays: number }> {
  const cluster = await groupOf(3, 11);
  const leaderTag = cluster.servers.find((s) => s.role === "leader")!.tag;
  const samples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = cluster.nowMs();
    must(
      await cluster.settle(
        cluster.server(leaderTag)!.handleRequest({ type: "create-database", name: `Db${i}` }),
      ),
      "create",
    );
    samples.push((cluster.nowMs() - started) / oneWayMs);
    await cluster.runFor(20);
  }
  samples.sort((a, b) => a - b);
  return { medianDelays: percentile(samples, 0.5), p99Delays: percentile(samples, 0.99) };
}

/** The limit: raw puts per wall second into the same storage the simulated servers use. */
function rawStoragePutsPerSecond(): number {
  const storage = openMemoryStorage({ sync: "immediate" });
  const value = { text: "x".repeat(1000) };
  const started = performance.now();
  const batches = 200;
  for (let b = 0; b < batches; b++) {
    void storage.write(
      Array.from({ length: 100 }, (_, k) => ({
        store: "documents",
        op: "put" as const,
        key: `k${b}-${k}`,
        value,
      })),
    );
  }
  return Math.round((batches * 100) / ((performance.now() - started) / 1000));
}

export async function benchReplication(): Promise<Record<string, unknown>> {
  const limit = rawStoragePutsPerSecond();
  const lag2 = await lag(2);
  const lag3 = await lag(3);
  const lag5 = await lag(5);
  const bulk = await throughput();
  const commit = await clusterCommitLatency();
  return {
    limit: { oneWayMessageDelayMs: oneWayMs, rawStoragePutsPerWallSecond: limit },
    lag: {
      unit: "one-way message delays from the write's commit to visible on every sibling",
      group2: lag2,
      group3: lag3,
      group5: lag5,
      chapterBoundDelays: 4,
      withinChapterBound: [lag2, lag3, lag5].every((l) => l.medianDelays <= 4),
    },
    throughput1KB: { ...bulk, vsRawStorage: Number((bulk.docsPerWallSecond / limit).toFixed(3)) },
    clusterCommandLatency: {
      unit: "one-way message delays, create-database on the leader of 3 → applied",
      ...commit,
    },
  };
}
