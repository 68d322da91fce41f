/**
 * The worker runtime benchmark (`npm run bench -- workers [--json FILE]`). Limits first, measured
 * in this same run: a raw MessagePort round trip between two bare workers (nothing but an echo;
 * back to back and paced one per millisecond; the targets count in the faster of the two),
 * one 1 KB write + fdatasync, the skew between thread clocks, and raw group commit (1 KB records
 * appended with one writeSync + fdatasync per group). Then the engine against them:
 * - replication lag between two (and three) worker servers, memory and fs storage: from A
 *   stamping the write (its @last-modified, unrounded) to B finding the document readable;
 * - durable write throughput of one fs server to concurrent clients (transactions of 100 1 KB
 *   documents) against raw group commit;
 * - bringing a new member up to date with 10,000 1 KB documents, beside PouchDB (memory adapter,
 *   same documents, same process) replicating them between two databases;
 * - cold start of a 5-server cluster, forming it with a leader (no election timeout waited), and
 *   a re-election after the leader is killed (which waits one; the timeout is reported apart);
 * - client request round trips through the host port and through Comlink.
 * `targets` lists the "Done when" lines, each with its limit, value, ratio and `met`.
 * `floors` (floors.ts) says how much of each target the machine itself takes: a bare one-way hop
 * of a one-document batch, a server with no database, and, during the catch-up, how busy every
 * thread of the process was.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Worker from "web-worker";
import { WorkerCluster } from "../../engine/runtime/host/index.ts";
import { nodePlatform } from "../../engine/runtime/host/node-platform.ts";
import type { ServerRequest } from "../../engine/transport/index.ts";
import { serverTimingDefault } from "../../engine/server/timing.ts";
import {
  bareHop,
  moduleUrl,
  round,
  serverWriteFloor,
  stats,
  threadTimes,
  threadUse,
  type Stats,
  type ThreadUse,
} from "./floors.ts";
import { appendGroups } from "./raw-io.ts";

const url = (n: number): string => `http://127.0.0.${n}:8080`;

// The pinger measures `count` round trips over the port it is given and posts the times (ms),
// back to back, or `gapMs` apart (both threads idle in between, as between two lag samples).
const pinger = moduleUrl(`
  self.addEventListener("message", (event) => {
    const { port, count, gapMs } = event.data;
    const times = [];
    let t0 = 0;
    const ping = () => { t0 = performance.now(); port.postMessage(times.length); };
    port.onmessage = () => {
      times.push(performance.now() - t0);
      if (times.length === count) { self.postMessage(times); port.close(); return; }
      if (gapMs > 0) setTimeout(ping, gapMs); else ping();
    };
    ping();
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
async function rawRoundTrip(count: number, gapMs = 0): Promise<Stats> {
  const a = new Worker(pinger, { type: "module" });
  const b = new Worker(echo, { type: "module" });
  try {
    const { port1, port2 } = new MessageChannel();
    const ready = new Promise<void>((resolve) => b.addEventListener("message", () => resolve()));
    b.postMessage({ port: port2 }, [port2]);
    await ready;
    const times = new Promise<number[]>((resolve) =>
      a.addEventListener("message", (event: MessageEvent<number[]>) => resolve(event.data)),
    );
    a.postMessage({ port: port1, count, gapMs }, [port1]);
    return stats((await times).slice(Math.floor(count / 10)));
  } finally {
    a.terminate();
    b.terminate();
  }
}

/** oneFsync: a 1 KB record written and fdatasynced with plain fs calls. */
function oneFsync(dir: string, count: number): Stats {
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

async function timeRequests(count: number, send: () => Promise<unknown>): Promise<Stats> {
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
  if (!response.ok)
    throw new Error(`${req.type} on ${on}: ${response.error.code}: ${response.error.message}`);
  return response.result;
}

/**
 * Writes each lag measurement makes first, unmeasured: a server runs for long, so what counts is
 * its steady state, once V8 has optimised the write and replication paths (the first few hundred
 * writes run partly unoptimised code and take about twice as long).
 */
const lagWarmupWrites = 1_500;

/**
 * replicationLag: A writes a 1 KB document; how long until B can read it. Lag is measured from
 * the moment A stamps the write (its transaction's time, which is the document's @last-modified,
 * read back unrounded on B) to the moment B's watch finds the document readable, both on the
 * workers' epoch clocks (performance.timeOrigin + now(), one monotonic clock in one process; the
 * skew between threads is measured separately). It covers A's apply, A's durable write, building
 * and posting the batch, the hop, and B's validation, apply and storage encoding.
 */
export async function replicationLag(
  storage: "memory" | "fs",
  dataDir: string | undefined,
  count: number,
  servers = 2,
  warmup = lagWarmupWrites,
): Promise<{ lagMs: Stats; fromClientMs: Stats; meshPingMs: Stats }> {
  const cluster = await WorkerCluster.start({
    platform: nodePlatform,
    servers,
    storage,
    ...(dataDir ? { dataDir } : {}),
  });
  try {
    for (let n = 2; n <= servers; n++)
      await request(cluster, url(1), { type: "add-node", url: url(n) });
    await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null), {
      timeoutMs: 30_000,
      what: "all servers to join",
    });
    await request(cluster, url(1), {
      type: "create-database",
      name: "Lag",
      replicationFactor: servers,
    });
    await cluster.waitFor((c) => c.describe().databases[0]?.members.length === servers, {
      timeoutMs: 30_000,
      what: "Lag on every server",
    });
    const meshPingMs = stats((await cluster.pingPeer("A", "B", 1_000)).slice(100));
    const pad = "x".repeat(1000);
    const lag: number[] = [];
    const fromClient: number[] = [];
    for (let i = 0; i < warmup + count; i++) {
      const id = `lag/${i}`;
      const seen = cluster.watchWrite("B", "Lag", id, 30_000);
      // A Comlink call behind the watch: once it returns, the watch is registered on B.
      await cluster.controlRequest("B", { type: "node-info" });
      const sentMs = cluster.nowMs();
      const answer = await cluster.request(
        url(1),
        { type: "batch", database: "Lag", transaction: { puts: [{ id, body: { i, pad } }] } },
        { timeoutMs: 30_000 },
      );
      if (!answer.ok) throw new Error(`write ${id} failed: ${answer.error.message}`);
      const at = await seen;
      if (at === null) throw new Error(`${id} never reached B`);
      if (i < warmup) continue;
      lag.push(at.visibleAtMs - at.writtenAtMs);
      fromClient.push(at.visibleAtMs - sentMs);
    }
    return { lagMs: stats(lag), fromClientMs: stats(fromClient), meshPingMs };
  } finally {
    await cluster.stop();
  }
}

/**
 * writeThroughput: one server on fs storage, `writers` concurrent clients each sending
 * transactions of 100 1 KB documents through the host port, each awaiting its durable answer
 * before sending the next, for `runMs`.
 */
export async function writeThroughput(
  dataDir: string,
  writers: number,
  runMs: number,
): Promise<{ docsPerSecond: number; transactions: number; latencyMs: Stats }> {
  const cluster = await WorkerCluster.start({
    platform: nodePlatform,
    servers: 1,
    storage: "fs",
    dataDir,
  });
  try {
    await request(cluster, url(1), { type: "create-database", name: "Load", replicationFactor: 1 });
    await cluster.waitFor((c) => c.describe().databases[0]?.members.length === 1, {
      timeoutMs: 30_000,
      what: "Load on A",
    });
    const pad = "y".repeat(1000);
    const send = (writer: number, k: number) =>
      request(cluster, url(1), {
        type: "batch",
        database: "Load",
        transaction: {
          puts: Array.from({ length: 100 }, (_, d) => ({
            id: `load/${writer}/${k % 50}/${d}`,
            body: { writer, k, d, pad },
          })),
        },
      });
    // Warm up: every writer once.
    await Promise.all(Array.from({ length: writers }, (_, w) => send(w, 0)));
    const latencies: number[] = [];
    let transactions = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let k = 1; performance.now() - started < runMs; k++) {
          const t = performance.now();
          await send(w, k);
          latencies.push(performance.now() - t);
          transactions++;
        }
      }),
    );
    const elapsedMs = performance.now() - started;
    return {
      docsPerSecond: Math.round((transactions * 100) / (elapsedMs / 1000)),
      transactions,
      latencyMs: stats(latencies),
    };
  } finally {
    await cluster.stop();
  }
}

/** rawGroupCommit: `records` 1 KB records appended with one writeSync + fdatasync, for runMs. */
function rawGroupCommit(
  dir: string,
  records: number,
  runMs: number,
): { recordsPerSecond: number; groupMs: Stats } {
  const { recordsPerSecond, samplesMs } = appendGroups(dir, records, runMs);
  return { recordsPerSecond: Math.round(recordsPerSecond), groupMs: stats(samplesMs) };
}

/**
 * catchUp: `docs` 1 KB documents (transactions of 100) on A, a database of factor 1; then B is
 * added to the group, and the clock runs from the add-database-node request (host clock) until
 * B can read the last document written (B's clock; replication keeps etag order, so the last
 * document is the last to arrive). Includes the Raft commit of the topology change.
 */
export async function catchUp(
  storage: "memory" | "fs",
  dataDir: string | undefined,
  docs: number,
): Promise<{ ms: number; docsPerSecond: number; countOnB: number; threads: ThreadUse | null }> {
  const cluster = await WorkerCluster.start({
    platform: nodePlatform,
    servers: 2,
    storage,
    ...(dataDir ? { dataDir } : {}),
  });
  try {
    await request(cluster, url(1), { type: "add-node", url: url(2) });
    await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null), {
      timeoutMs: 30_000,
      what: "B to join",
    });
    await request(cluster, url(1), { type: "create-database", name: "Sync", replicationFactor: 1 });
    await cluster.waitFor((c) => c.describe().databases[0]?.members.length === 1, {
      timeoutMs: 30_000,
      what: "Sync on A",
    });
    for (let k = 0; k < docs / 100; k++) {
      await request(cluster, url(1), {
        type: "batch",
        database: "Sync",
        transaction: { puts: Array.from({ length: 100 }, (_, d) => pouchDoc(k * 100 + d)) },
      });
    }
    const lastId = pouchDoc(docs - 1).id;
    const threadsBefore = threadTimes();
    const started = cluster.nowMs();
    await request(cluster, url(1), { type: "add-database-node", database: "Sync", tag: "B" });
    // B hosts the database once it applies the topology change; watch from then on.
    await cluster
      .waitFor((c) => c.describe().documents["B"]?.["Sync"] !== undefined || false, {
        timeoutMs: 30_000,
        what: "B to host Sync",
      })
      .catch(() => {});
    const seen = await cluster.watchWrite("B", "Sync", lastId, 60_000);
    if (seen === null) throw new Error("B never caught up");
    const threads = threadUse(threadsBefore, threadTimes(), cluster.nowMs() - started);
    const ms = seen.visibleAtMs - started;
    await cluster.refresh();
    const countOnB = cluster.describe().documents["B"]?.["Sync"]?.length ?? 0;
    return { ms: round(ms, 1), docsPerSecond: Math.round(docs / (ms / 1000)), countOnB, threads };
  } finally {
    await cluster.stop();
  }
}

/** pouchDoc is document `n` of the catch-up set, the same for Rookery and PouchDB. */
function pouchDoc(n: number): { id: string; body: { n: number; pad: string } } {
  return { id: `docs/${String(n).padStart(6, "0")}`, body: { n, pad: "p".repeat(1000) } };
}

/** pouchCatchUp: the same documents in one in-memory PouchDB, replicated to an empty one. */
export async function pouchCatchUp(
  docs: number,
): Promise<{ ms: number; docsPerSecond: number; countOnB: number; threads: ThreadUse | null }> {
  const PouchDB = (await import("pouchdb-core")).default;
  const memory = (await import("pouchdb-adapter-memory")).default;
  const replication = (await import("pouchdb-replication")).default;
  PouchDB.plugin(memory).plugin(replication);
  const stamp = Date.now();
  const a = new PouchDB(`bench-a-${stamp}`, { adapter: "memory" });
  const b = new PouchDB(`bench-b-${stamp}`, { adapter: "memory" });
  try {
    for (let k = 0; k < docs / 100; k++) {
      await a.bulkDocs(
        Array.from({ length: 100 }, (_, d) => {
          const doc = pouchDoc(k * 100 + d);
          return { _id: doc.id, ...doc.body };
        }),
      );
    }
    const threadsBefore = threadTimes();
    const started = performance.now();
    await PouchDB.replicate(a, b);
    const ms = performance.now() - started;
    const threads = threadUse(threadsBefore, threadTimes(), ms);
    const countOnB = (await b.info()).doc_count;
    return { ms: round(ms, 1), docsPerSecond: Math.round(docs / (ms / 1000)), countOnB, threads };
  } finally {
    await a.destroy();
    await b.destroy();
  }
}

/**
 * coldStart: five fresh servers spawned, recovered and connected; then formed into one cluster
 * with a leader (the first server bootstraps itself, four add-node operations through Raft: no
 * election timeout is waited). Then the leader is killed and the time until the four others agree
 * on a new one is measured: that one does wait an election timeout, reported apart.
 */
async function coldStart(
  storage: "memory" | "fs",
  root: string,
  runs: number,
): Promise<{ startMs: Stats; formMs: Stats; startAndLeaderMs: Stats; reelectionMs: Stats }> {
  const start: number[] = [];
  const form: number[] = [];
  const total: number[] = [];
  const reelection: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t = performance.now();
    const cluster = await WorkerCluster.start({
      platform: nodePlatform,
      servers: 5,
      storage,
      ...(storage === "fs" ? { dataDir: join(root, `cold-${run}`) } : {}),
    });
    start.push(performance.now() - t);
    try {
      const f = performance.now();
      for (let n = 2; n <= 5; n++)
        await request(cluster, url(1), { type: "add-node", url: url(n) });
      await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader === "A"), {
        timeoutMs: 30_000,
        what: "five servers following A",
      });
      form.push(performance.now() - f);
      total.push(performance.now() - t);
      const k = performance.now();
      await cluster.kill("A");
      await cluster.waitFor(
        (c) => {
          const alive = c.servers.filter((s) => s.alive);
          const leader = alive[0]?.leader;
          return (
            leader !== null &&
            leader !== undefined &&
            leader !== "A" &&
            alive.every((s) => s.leader === leader)
          );
        },
        { timeoutMs: 30_000, what: "a new leader" },
      );
      reelection.push(performance.now() - k);
    } finally {
      await cluster.stop();
    }
  }
  return {
    startMs: stats(start),
    formMs: stats(form),
    startAndLeaderMs: stats(total),
    reelectionMs: stats(reelection),
  };
}

/** clockSkew: how far apart the epoch clocks of fresh threads are (µs), against process.hrtime. */
async function clockSkewUs(threads: number): Promise<number> {
  const code = moduleUrl(`
    self.addEventListener("message", () => {
      self.postMessage(performance.timeOrigin + performance.now() - Number(process.hrtime.bigint()) / 1e6);
    });
  `);
  const offsets: number[] = [];
  for (let k = 0; k < threads; k++) {
    const worker = new Worker(code, { type: "module" });
    try {
      offsets.push(
        await new Promise<number>((resolve) => {
          worker.addEventListener("message", (event: MessageEvent<number>) => resolve(event.data));
          worker.postMessage(0);
        }),
      );
    } finally {
      worker.terminate();
    }
  }
  return round((Math.max(...offsets) - Math.min(...offsets)) * 1000, 1);
}

/** Target is one "Done when" line of the issue, as a script reads it. */
interface Target {
  readonly what: string;
  readonly limit: number;
  readonly limitIs: string;
  readonly value: number;
  readonly valueIs: string;
  readonly ratio: number;
  readonly target: string;
  readonly met: boolean;
}

function target(
  what: string,
  limit: number,
  limitIs: string,
  value: number,
  valueIs: string,
  ratio: number,
  targetText: string,
  met: boolean,
): Target {
  return {
    what,
    limit: round(limit, 4),
    limitIs,
    value: round(value, 4),
    valueIs,
    ratio: round(ratio, 3),
    target: targetText,
    met,
  };
}

/** benchWorkers runs the whole suite; see the file comment. */
export async function benchWorkers(): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), "rookery-bench-workers-"));
  try {
    // Build (or check) the worker bundle first, so no measurement pays for it.
    await WorkerCluster.start({ platform: nodePlatform, servers: 1, storage: "memory" }).then((c) =>
      c.stop(),
    );
    const raw = await rawRoundTrip(5_000);
    const rawPaced = await rawRoundTrip(500, 1);
    const hop = await bareHop(1_000);
    const fsync = oneFsync(root, 500);
    const skewUs = await clockSkewUs(4);

    const cluster = await WorkerCluster.start({
      platform: nodePlatform,
      servers: 1,
      storage: "memory",
    });
    let hostPort;
    let comlink;
    try {
      await request(cluster, url(1), { type: "node-info" });
      hostPort = await timeRequests(2_000, () => request(cluster, url(1), { type: "node-info" }));
      comlink = await timeRequests(2_000, () =>
        cluster.controlRequest(url(1), { type: "node-info" }),
      );
    } finally {
      await cluster.stop();
    }

    const memoryLag = await replicationLag("memory", undefined, 500);
    const fsLag = await replicationLag("fs", join(root, "lag"), 300);
    const memoryLag3 = await replicationLag("memory", undefined, 300, 3);

    const docs = 10_000;
    const pouch = await pouchCatchUp(docs);
    const catchUpMemory = await catchUp("memory", undefined, docs);
    const catchUpFs = await catchUp("fs", join(root, "catch-up"), docs);

    const coldMemory = await coldStart("memory", root, 3);
    const coldFs = await coldStart("fs", root, 3);
    // Last: these write gigabytes, and the disk's write-back would disturb what follows them.
    const writers = 8;
    const throughput = await writeThroughput(join(root, "load"), writers, 2_000);
    // The limit, right after: the same bytes per fsync as `writers` transactions of 100 1 KB
    // documents (what the server's group commit can gather at most), and 100 (one transaction).
    const rawGroupAll = rawGroupCommit(root, writers * 100, 1_000);
    const writeFloor = serverWriteFloor(root, writers, 1_000);
    const rawGroup100 = rawGroupCommit(root, 100, 1_000);

    const timing = serverTimingDefault;
    const electionTimeoutMs = {
      min: timing.raft.electionTicks * timing.tickMs,
      max: 2 * timing.raft.electionTicks * timing.tickMs,
    };

    // The faster of the two: on this 2-core VM the same round trip measures ~18 µs in some runs
    // and ~50 µs in others, depending on where the scheduler puts the two threads; the targets
    // are held to what the machine can do, not to a slow placement.
    const rtt = Math.min(raw.median, rawPaced.median);
    const inRtt = (ms: number) => round(ms / rtt, 1);
    const lagReport = (lag: Awaited<ReturnType<typeof replicationLag>>) => ({
      lagMs: lag.lagMs,
      lagInRawRtt: { median: inRtt(lag.lagMs.median), p99: inRtt(lag.lagMs.p99) },
      fromClientSendMs: lag.fromClientMs,
      fromClientSendInRawRtt: {
        median: inRtt(lag.fromClientMs.median),
        p99: inRtt(lag.fromClientMs.p99),
      },
      serverPortPingMs: lag.meshPingMs,
      serverPortPingInRawRtt: round(lag.meshPingMs.median / rtt, 2),
    });
    const rawGroupLimit = Math.max(rawGroupAll.recordsPerSecond, rawGroup100.recordsPerSecond);
    const targets: Target[] = [
      target(
        "replication lag median, memory storage",
        2 * rtt,
        "2 raw worker round trips (ms)",
        memoryLag.lagMs.median,
        "lag median (ms)",
        memoryLag.lagMs.median / rtt,
        "≤ 2 round trips",
        memoryLag.lagMs.median <= 2 * rtt,
      ),
      target(
        "replication lag p99, memory storage",
        10 * rtt,
        "10 raw worker round trips (ms)",
        memoryLag.lagMs.p99,
        "lag p99 (ms)",
        memoryLag.lagMs.p99 / rtt,
        "≤ 10 round trips",
        memoryLag.lagMs.p99 <= 10 * rtt,
      ),
      target(
        "replication lag median, fs storage",
        2 * rtt + fsync.median,
        "2 raw worker round trips + one 1 KB fdatasync (ms)",
        fsLag.lagMs.median,
        "lag median (ms)",
        fsLag.lagMs.median / (2 * rtt + fsync.median),
        "≤ 1 (of the limit)",
        fsLag.lagMs.median <= 2 * rtt + fsync.median,
      ),
      target(
        "durable write throughput, one server, fs",
        rawGroupLimit,
        "raw append + fdatasync of 1 KB records in groups (records/s, the better of groups of " +
          `${writers * 100} and 100)`,
        throughput.docsPerSecond,
        `documents/s, ${writers} writers, transactions of 100 1 KB documents`,
        throughput.docsPerSecond / rawGroupLimit,
        "≥ 0.3 of the limit",
        throughput.docsPerSecond >= 0.3 * rawGroupLimit,
      ),
      target(
        "new member up to date, 10k 1 KB documents, memory",
        pouch.docsPerSecond,
        `PouchDB ${pouch.docsPerSecond > 0 ? "memory adapter, measured in this run" : ""} (documents/s)`,
        catchUpMemory.docsPerSecond,
        "documents/s",
        catchUpMemory.docsPerSecond / pouch.docsPerSecond,
        "≥ 10× PouchDB",
        catchUpMemory.docsPerSecond >= 10 * pouch.docsPerSecond,
      ),
      target(
        "new member up to date, 10k 1 KB documents, fs",
        pouch.docsPerSecond,
        "PouchDB memory adapter, measured in this run (documents/s)",
        catchUpFs.docsPerSecond,
        "documents/s",
        catchUpFs.docsPerSecond / pouch.docsPerSecond,
        "≥ 10× PouchDB",
        catchUpFs.docsPerSecond >= 10 * pouch.docsPerSecond,
      ),
      target(
        "5-server worker cluster started with a leader, memory",
        1_000,
        "1 second (ms)",
        coldMemory.startAndLeaderMs.median,
        "start + form median (ms), no election timeout in it",
        coldMemory.startAndLeaderMs.median / 1_000,
        "< 1 s",
        coldMemory.startAndLeaderMs.median < 1_000,
      ),
      target(
        "5-server worker cluster started with a leader, fs",
        1_000,
        "1 second (ms)",
        coldFs.startAndLeaderMs.median,
        "start + form median (ms), no election timeout in it",
        coldFs.startAndLeaderMs.median / 1_000,
        "< 1 s",
        coldFs.startAndLeaderMs.median < 1_000,
      ),
    ];
    return {
      definitions: {
        rawRtt:
          "median round trip of a small message between two bare web-worker threads over one MessageChannel (echo), back to back, in this run",
        rawRttPaced:
          "the same, one round trip every millisecond (both threads idle in between, as between two lag samples)",
        targetRtt: "the smaller of the two medians above: the round trip the targets count in",
        lag: "from A stamping the write (its transaction time = the document's @last-modified, unrounded) to B's watch finding the document readable; epoch clocks of the two workers (timeOrigin + now, one monotonic clock per process; thread skew below)",
        fromClientSend:
          "from the host posting the write to A to B finding it readable (adds the host→A hop and A's request handling)",
        writeThroughput:
          "documents/s acknowledged durable (fs, fdatasync) by one worker server to concurrent clients on the host port",
        catchUp:
          "from the add-database-node request (host) to B reading the last of 10,000 documents (B's clock); Raft commit of the topology change included",
        floorHop:
          "one-way time of a replication batch carrying one 1 KB document between two bare web-worker threads (no Rookery code), one per millisecond, epoch clocks",
        floorServerWrite:
          "documents/s of a server with no database: decode each transaction of 100 1 KB documents (structured clone), print each body, frame and checksum it, one append + fdatasync per group of 8 transactions",
        catchUpThreads:
          "CPU ms of every thread of the process during the catch-up window (Linux schedstat): all threads, the busiest one and its time waiting for a CPU, and the rest (the other server, the host, V8's compiler and GC threads)",
        coldStart:
          "spawn + storage open + connect 5 workers; form = 4 add-node operations until all five follow A; reelection = leader killed until the 4 others agree on a new one (includes an election timeout)",
      },
      floors: {
        hop: {
          oneDocumentBatchMs: hop,
          hopInTargetRtt: { median: inRtt(hop.median), p99: inRtt(hop.p99) },
          lagMedianLeftForServerWorkMs: round(2 * rtt - hop.median, 4),
        },
        serverWrite: {
          ...writeFloor,
          ofRawGroupCommit: round(writeFloor.docsPerSecond / rawGroupLimit, 3),
          // 30% of the raw limit leaves 1/(0.3 × raw) per document; the floor spends 1/floor of it.
          databaseUsPerDocumentAt30Percent: round(
            1e6 / (0.3 * rawGroupLimit) - 1e6 / writeFloor.docsPerSecond,
            2,
          ),
          serverUsPerDocumentNow: round(1e6 / throughput.docsPerSecond, 2),
        },
      },
      limits: {
        rawPortRoundTripMs: raw,
        rawPortRoundTripPacedMs: rawPaced,
        targetRoundTripMs: rtt,
        fsync1KbMs: fsync,
        threadClockSkewUs: skewUs,
        rawGroupCommit: { [`records${writers * 100}`]: rawGroupAll, records100: rawGroup100 },
      },
      targets,
      allMet: targets.every((t) => t.met),
      clientRequest: {
        hostPortMs: hostPort,
        hostPortInRawRtt: round(hostPort.median / rtt, 2),
        comlinkMs: comlink,
        comlinkInRawRtt: round(comlink.median / rtt, 2),
      },
      replicationLag: {
        memory: lagReport(memoryLag),
        memory3Servers: lagReport(memoryLag3),
        fs: {
          ...lagReport(fsLag),
          lagIn2RttPlusFsync: round(fsLag.lagMs.median / (2 * rtt + fsync.median), 2),
        },
      },
      writeThroughput: { writers, ...throughput },
      catchUp10k: { memory: catchUpMemory, fs: catchUpFs, pouchdbMemory: pouch },
      coldStart5: { memory: coldMemory, fs: coldFs, electionTimeoutMs },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// Run directly: `npx tsx test/bench/workers.ts` prints the suite's JSON.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchWorkers(), null, 2));
}
