/**
 * The worker runtime benchmark. Limits first, measured in this same run: a raw MessagePort round
 * trip between two bare workers (nothing but an echo) and one 1 KB write + fdatasync. Then the
 * engine against them, as ratios (DESIGN.md §6):
 * - a client request round trip through the host (host port, and Comlink for comparison) and a
 *   ping between two server workers over their own port;
 * - replication lag between two worker servers, memory and fs storage, on cross-thread epoch
 *   clocks: from the moment A sends the replication batch (its trace event, after the write is
 *   durable on A) to the moment B can read the document, and end to end from the client's send
 *   (which adds a hop to A and A's durable write), in ms and in raw round trips;
 * - cold start of a 5-server cluster (spawn, recover, connect every pair) and the time to form it
 *   (four add-node operations through Raft), excluding any election timeout (the first server
 *   bootstraps itself; no election waits).
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Worker from "web-worker";
import { WorkerCluster } from "../../engine/runtime/host/index.ts";
import { nodePlatform } from "../../engine/runtime/host/node-platform.ts";
import type { ServerRequest } from "../../engine/server/index.ts";

const url = (n: number): string => `http://127.0.0.${n}:8080`;

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function stats(samples: readonly number[]): { median: number; p99: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return { median: round(at(0.5)), p99: round(at(0.99)), n: sorted.length };
}

const moduleUrl = (code: string): string => `data:text/javascript,${encodeURIComponent(code)}`;

// The pinger measures `count` round trips over the port it is given and posts the times (ms).
const pinger = moduleUrl(`
  self.addEventListener("message", (event) => {
    const { port, count } = event.data;
    const times = [];
    let t0 = 0;
    port.onmessage = () => {
      times.push(performance.now() - t0);
      if (times.length === count) { self.postMessage(times); port.close(); return; }
      t0 = performance.now();
      port.postMessage(times.length);
    };
    t0 = performance.now();
    port.postMessage(0);
  });
`);
const echo = moduleUrl(`
  self.addEventListener("message", (event) => {
    const port = event.data.port;
    port.onmessage = (message) => port.postMessage(message.data);
    self.postMessage("ready");
  });
`);

/** rawRoundTrip: two bare workers, one MessageChannel between them, small messages. */
async function rawRoundTrip(count: number): Promise<ReturnType<typeof stats>> {
  const a = new Worker(pinger, { type: "module" });
  const b = new Worker(echo, { type: "module" });
  try {
    const { port1, port2 } = new MessageChannel();
    const ready = new Promise<void>((resolve) => b.addEventListener("message", () => resolve()));
    b.postMessage({ port: port2 }, [port2]);
    await ready;
    const times = new Promise<number[]>((resolve) => a.addEventListener("message", (event: MessageEvent<number[]>) => resolve(event.data)));
    a.postMessage({ port: port1, count }, [port1]);
    return stats((await times).slice(Math.floor(count / 10)));
  } finally {
    a.terminate();
    b.terminate();
  }
}

/** oneFsync: a 1 KB record written and fdatasynced with plain fs calls. */
function oneFsync(dir: string, count: number): ReturnType<typeof stats> {
  const fd = openSync(join(dir, "raw.log"), "w");
  const record = new Uint8Array(1024).fill(0x61);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    writeSync(fd, record, 0, record.length, i * record.length);
    fdatasyncSync(fd);
    samples.push(performance.now() - t);
  }
  closeSync(fd);
  return stats(samples);
}

async function timeRequests(count: number, send: () => Promise<unknown>): Promise<ReturnType<typeof stats>> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await send();
    samples.push(performance.now() - t);
  }
  return stats(samples.slice(Math.floor(count / 10)));
}

async function request(cluster: WorkerCluster, on: string, req: ServerRequest): Promise<unknown> {
  const response = await cluster.request(on, req, { timeoutMs: 30_000 });
  if (!response.ok) throw new Error(`${req.type} on ${on}: ${response.error.code}: ${response.error.message}`);
  return response.result;
}

/** replicationLag: A acknowledges a 1 KB document; how long until B can read it. */
async function replicationLag(storage: "memory" | "fs", dataDir: string | undefined, count: number): Promise<{ fromBatchMs: ReturnType<typeof stats>; fromClientMs: ReturnType<typeof stats>; meshPingMs: ReturnType<typeof stats> }> {
  const cluster = await WorkerCluster.start({ platform: nodePlatform, servers: 2, storage, ...(dataDir ? { dataDir } : {}) });
  // A pushes its trace before each response, so a write's batch event is here when the write returns.
  const batchesSentMs: number[] = [];
  cluster.on("trace", (events) => {
    for (const e of events) if (e.type === "replication-batch" && e.database === "Lag" && e.from === "A") batchesSentMs.push(e.atMs);
  });
  try {
    await request(cluster, url(1), { type: "add-node", url: url(2) });
    await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null), { timeoutMs: 30_000, what: "B to join" });
    await request(cluster, url(1), { type: "create-database", name: "Lag", replicationFactor: 2 });
    await cluster.waitFor((c) => c.describe().databases[0]?.members.length === 2, { timeoutMs: 30_000, what: "Lag on A and B" });
    const meshPingMs = stats((await cluster.pingPeer("A", "B", 1_000)).slice(100));
    const pad = "x".repeat(1000);
    const fromBatch: number[] = [];
    const fromClient: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = `lag/${i}`;
      const visible = cluster.watchDocument("B", "Lag", id, 30_000);
      // A Comlink call behind the watch: once it returns, the watch is registered on B.
      await cluster.controlRequest("B", { type: "node-info" });
      const sentMs = cluster.nowMs();
      const answer = await cluster.requestTimed(url(1), { type: "batch", database: "Lag", transaction: { puts: [{ id, body: { i, pad } }] } });
      if (!answer.response.ok || answer.sentAtMs === null) throw new Error(`write ${id} failed`);
      const visibleMs = await visible;
      if (visibleMs === null) throw new Error(`${id} never reached B`);
      // A batch held back behind an unacknowledged one leaves after the response: fetch A's trace.
      if (!batchesSentMs.some((atMs) => atMs >= sentMs)) await cluster.refresh();
      const batchMs = batchesSentMs.find((atMs) => atMs >= sentMs);
      if (batchMs === undefined) throw new Error(`no replication batch seen for ${id}`);
      batchesSentMs.length = 0;
      fromBatch.push(visibleMs - batchMs);
      fromClient.push(visibleMs - sentMs);
    }
    const skip = Math.floor(count / 10);
    return { fromBatchMs: stats(fromBatch.slice(skip)), fromClientMs: stats(fromClient.slice(skip)), meshPingMs };
  } finally {
    await cluster.stop();
  }
}

/** coldStart: five fresh servers spawned, recovered and connected; then formed into one cluster. */
async function coldStart(storage: "memory" | "fs", root: string, runs: number): Promise<{ startMs: ReturnType<typeof stats>; formMs: ReturnType<typeof stats> }> {
  const start: number[] = [];
  const form: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t = performance.now();
    const cluster = await WorkerCluster.start({ platform: nodePlatform, servers: 5, storage, ...(storage === "fs" ? { dataDir: join(root, `cold-${run}`) } : {}) });
    start.push(performance.now() - t);
    try {
      const f = performance.now();
      for (let n = 2; n <= 5; n++) await request(cluster, url(1), { type: "add-node", url: url(n) });
      await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader === "A"), { timeoutMs: 30_000, what: "five servers following A" });
      form.push(performance.now() - f);
    } finally {
      await cluster.stop();
    }
  }
  return { startMs: stats(start), formMs: stats(form) };
}

/** benchWorkers runs the whole suite; see the file comment. */
export async function benchWorkers(): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), "rookery-bench-workers-"));
  try {
    // Build (or check) the worker bundle first, so no measurement pays for it.
    await WorkerCluster.start({ platform: nodePlatform, servers: 1, storage: "memory" }).then((c) => c.stop());
    const raw = await rawRoundTrip(5_000);
    const fsync = oneFsync(root, 500);

    const cluster = await WorkerCluster.start({ platform: nodePlatform, servers: 1, storage: "memory" });
    let hostPort;
    let comlink;
    try {
      await request(cluster, url(1), { type: "node-info" });
      hostPort = await timeRequests(2_000, () => request(cluster, url(1), { type: "node-info" }));
      comlink = await timeRequests(2_000, () => cluster.controlRequest(url(1), { type: "node-info" }));
    } finally {
      await cluster.stop();
    }

    const memoryLag = await replicationLag("memory", undefined, 300);
    const fsLag = await replicationLag("fs", join(root, "lag"), 300);
    const coldMemory = await coldStart("memory", root, 3);
    const coldFs = await coldStart("fs", root, 3);
    const rtt = raw.median;
    const lagReport = (lag: Awaited<ReturnType<typeof replicationLag>>) => ({
      fromBatchSentMs: lag.fromBatchMs,
      fromBatchSentInRawRtt: { median: round(lag.fromBatchMs.median / rtt, 1), p99: round(lag.fromBatchMs.p99 / rtt, 1) },
      fromClientSendMs: lag.fromClientMs,
      fromClientSendInRawRtt: { median: round(lag.fromClientMs.median / rtt, 1), p99: round(lag.fromClientMs.p99 / rtt, 1) },
      serverPortPingMs: lag.meshPingMs,
      serverPortPingInRawRtt: round(lag.meshPingMs.median / rtt, 2),
    });
    return {
      limits: { rawPortRoundTripMs: raw, fsync1KbMs: fsync },
      clientRequest: {
        hostPortMs: hostPort,
        hostPortInRawRtt: round(hostPort.median / rtt, 2),
        comlinkMs: comlink,
        comlinkInRawRtt: round(comlink.median / rtt, 2),
      },
      replicationLag: {
        memory: lagReport(memoryLag),
        // End to end against its floor: a round trip's worth of hops (host → A → B) and one fsync.
        fs: { ...lagReport(fsLag), fromClientSendIn2RttPlusFsync: round(fsLag.fromClientMs.median / (2 * rtt + fsync.median), 2) },
      },
      coldStart5: { memory: coldMemory, fs: coldFs },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// Run directly: `npx tsx test/bench/workers.ts` prints the suite's JSON.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchWorkers(), null, 2));
}
