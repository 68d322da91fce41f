/**
 * The http benchmark (`npm run bench -- http [--json FILE]`): Rookery's server processes over
 * real HTTP, driven by RavenDB's own client (ravendb@7.2.2), beside a 3-member etcd 3.4 cluster
 * (Debian's etcd-server; skipped with a message when it is absent), both on loopback with fsync
 * on, both running at once and driven from this one Node process; the write loads of the two are
 * measured in turns, a slice of each at a time, so both see the same (shared) machine:
 * - write latency p50/p99 and throughput with 1 and 16 concurrent writers: Rookery saves one
 *   document with write assurance to a majority (the server and 1 replica of 3); etcd puts one key
 *   (its Raft commit is a majority's fsync);
 * - a cluster-wide write on Rookery too (a Rachis command: the conflict solver of a database,
 *   over HTTP), the write that, like etcd's put, needs the leader;
 * - time from SIGKILL of the leader to the next acknowledged write (document and cluster write on
 *   Rookery, put on etcd), over a few kills, each member restarted between them.
 * Floors measured in the same run: an HTTP round trip to a bare Node server in another process
 * (no database), and the same server appending the body and fdatasyncing it before it answers;
 * and RavenDB's client saving the same document to that server, which answers bulk_docs at once:
 * what the official client costs by itself, however fast the server behind it.
 * Rookery's document write is measured twice: through RavenDB's client (what the issue asks) and
 * as the same bulk_docs POST from fetch, the client etcd's puts use, so that the two servers are
 * compared behind the same client too.
 * Every ratio is Rookery's figure over etcd's (below 1: Rookery is faster) or over the floor.
 * Every process and folder it makes is gone when it returns, whatever happened.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { DocumentStore } from "ravendb";
import { ProcessCluster } from "../../engine/runtime/process/process-cluster.ts";
import { serverTimingDefault } from "../../engine/server/timing.ts";
import { EtcdCluster, etcdVersion, findEtcd } from "./etcd.ts";
import { round, stats, type Stats } from "./floors.ts";

const writersMany = 16;
/** One writer's measured writes, after `warmupWrites` that are not counted. */
const singleWrites = 300;
const warmupWrites = 30;
/** How long the 16 writers write; the first `manyWarmupMs` is not counted. */
const manyRunMs = 4_000;
const manyWarmupMs = 500;
/**
 * The write loads run in this many turns per system (see inTurns); after the first turn's, each
 * slice starts with a short warm-up of its own (a few writes, or some ms of 16 writers).
 */
const turnsPerLoad = 6;
const turnWarmupWrites = 3;
const turnWarmupMs = 100;
/** Leader kills per system; each killed member is restarted before the next. */
const leaderKills = 3;
/** A prober after a kill starts an attempt this often, so no attempt's own timeout is measured. */
const probeEveryMs = 20;
const probeAttemptTimeoutMs = 3_000;
const probeGiveUpMs = 20_000;
const database = "Bench";
const pad = "p".repeat(100);

/** The election settings both systems run with: Rookery's defaults, given to etcd too. */
const heartbeatMs = serverTimingDefault.tickMs * serverTimingDefault.raft.heartbeatTicks;
const electionMs = serverTimingDefault.tickMs * serverTimingDefault.raft.electionTicks;
/**
 * etcd refuses an election timeout under 5 heartbeats, so its heartbeat is the largest allowed;
 * it pre-votes like Rachis does (etcd 3.4 does not by default).
 */
const etcdTiming = {
  heartbeatMs: Math.min(heartbeatMs, Math.floor(electionMs / 5)),
  electionMs,
  preVote: true,
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const body = (writer: number, n: number): string => JSON.stringify({ writer, n, pad });

// --- load ------------------------------------------------------------------------------------------

/** A write the load generator can time: writer number and sequence number in, resolved when acknowledged. */
type Write = (writer: number, n: number) => Promise<void>;

interface Load {
  readonly latencyMs: Stats;
  readonly writesPerSecond: number;
  readonly failed: number;
}

/** Slice is one stretch of a load: each counted write's latency, and how long counting lasted. */
interface Slice {
  readonly samples: readonly number[];
  readonly countedMs: number;
  readonly failed: number;
}

/** loadOf sums up a load's slices. */
function loadOf(slices: readonly Slice[]): Load {
  const samples = slices.flatMap((slice) => slice.samples);
  const countedMs = slices.reduce((sum, slice) => sum + slice.countedMs, 0);
  return {
    latencyMs: stats(samples),
    writesPerSecond: Math.round(samples.length / (Math.max(1, countedMs) / 1000)),
    failed: slices.reduce((sum, slice) => sum + slice.failed, 0),
  };
}

/**
 * oneWriterSlice: `warmup` writes not counted, then `count` writes one at a time, the latency of
 * each counted. Sequence numbers start at `first` (warm-up ones are negative), so every slice
 * writes its own keys.
 */
async function oneWriterSlice(
  write: Write,
  count: number,
  warmup: number,
  first: number,
): Promise<Slice> {
  for (let k = 0; k < warmup; k++) await write(0, -(first + k + 1));
  const samples: number[] = [];
  const started = performance.now();
  for (let n = first; n < first + count; n++) {
    const t = performance.now();
    await write(0, n);
    samples.push(performance.now() - t);
  }
  return { samples, countedMs: performance.now() - started, failed: 0 };
}

/**
 * manyWritersSlice: `writers` loops write for `runMs`; counted are writes started after
 * `warmupMs`. Sequence numbers start at `first`.
 */
async function manyWritersSlice(
  write: Write,
  writers: number,
  runMs: number,
  warmupMs: number,
  first: number,
): Promise<Slice> {
  const samples: number[] = [];
  let failed = 0;
  const started = performance.now();
  const countFrom = started + warmupMs;
  const endAt = started + runMs;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let n = first; performance.now() < endAt; n++) {
        const t = performance.now();
        try {
          await write(writer + 1, n);
        } catch {
          failed++;
          continue;
        }
        if (t >= countFrom) samples.push(performance.now() - t);
      }
    }),
  );
  return { samples, countedMs: Math.max(1, performance.now() - countFrom), failed };
}

/** oneWriter: writes one at a time; latency of each after the warm-up. */
async function oneWriter(write: Write): Promise<Load> {
  return loadOf([await oneWriterSlice(write, singleWrites, warmupWrites, 0)]);
}

/** manyWriters: `writers` loops write for `manyRunMs`; counted are writes started after the warm-up. */
async function manyWriters(write: Write, writers: number): Promise<Load> {
  return loadOf([await manyWritersSlice(write, writers, manyRunMs, manyWarmupMs, 0)]);
}

/**
 * inTurns measures each of `writes` with `writers` concurrent writers, in turnsPerLoad slices
 * taken in turn (a slice of the first, of the second … then again), and sums up each one's
 * slices: systems measured in turns see the same machine, where one measured after another may
 * see a quieter or a busier one. In all, each gets as many writes (or as long) as oneWriter
 * (manyWriters) gives one system.
 */
async function inTurns(writes: readonly Write[], writers: number): Promise<Load[]> {
  const slices: Slice[][] = writes.map(() => []);
  for (let turn = 0; turn < turnsPerLoad; turn++) {
    const first = turn * 1_000_000;
    for (const [k, write] of writes.entries()) {
      slices[k]!.push(
        writers === 1
          ? await oneWriterSlice(
              write,
              singleWrites / turnsPerLoad,
              turn === 0 ? warmupWrites : turnWarmupWrites,
              first,
            )
          : await manyWritersSlice(
              write,
              writers,
              manyRunMs / turnsPerLoad,
              turn === 0 ? manyWarmupMs : turnWarmupMs,
              first,
            ),
      );
    }
  }
  return slices.map(loadOf);
}

/**
 * firstAcknowledged starts `attempt` every `probeEveryMs` from now on until one resolves, and
 * returns when the first one did, in ms after `killedAt`; it waits for the attempts still in
 * flight before it returns, so none outlives the measurement.
 */
async function firstAcknowledged(
  killedAt: number,
  attempt: (k: number) => Promise<void>,
): Promise<number> {
  const inFlight: Promise<void>[] = [];
  let doneAt: number | undefined;
  for (let k = 0; doneAt === undefined; k++) {
    if (performance.now() - killedAt > probeGiveUpMs) break;
    inFlight.push(
      attempt(k).then(
        () => {
          doneAt ??= performance.now();
        },
        () => {},
      ),
    );
    await sleep(probeEveryMs);
  }
  await Promise.all(inFlight);
  if (doneAt === undefined)
    throw new Error(`no write acknowledged ${probeGiveUpMs} ms after a kill`);
  return round(doneAt - killedAt, 1);
}

interface Kills {
  readonly medianMs: number;
  readonly maxMs: number;
  readonly trialsMs: readonly number[];
}

function killStats(trials: readonly number[]): Kills {
  const sorted = [...trials].sort((a, b) => a - b);
  return {
    medianMs: sorted[Math.floor(sorted.length / 2)]!,
    maxMs: sorted[sorted.length - 1]!,
    trialsMs: trials,
  };
}

// --- the floor -------------------------------------------------------------------------------------

// A server with no database: it reads a POST's body and answers 201; with ?sync it first appends the
// body to a file and fdatasyncs it. A bulk_docs POST gets RavenDB's answer to it at once, as a
// Rookery server gives it (one result per PUT), so RavenDB's client can save documents to it. It
// tells its parent its port over IPC.
const floorServer = `
  const http = require("node:http");
  const fs = require("node:fs");
  const fd = fs.openSync(process.env.FLOOR_FILE, "w");
  let position = 0;
  const bulkDocsAnswer = (body) => JSON.stringify({
    Results: JSON.parse(body).Commands.map((command) => ({
      Type: "PUT",
      "@id": command.Id,
      "@collection": "@empty",
      "@change-vector": "A:1-AAAAAAAAAAAAAAAAAAAAAA",
      "@last-modified": new Date().toISOString(),
    })),
  });
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      // RavenDB's client asks for node info once; this server is none.
      if (request.method !== "POST") {
        response.writeHead(404, { "content-length": "0" });
        return response.end();
      }
      const body = Buffer.concat(chunks);
      if (request.url.includes("sync")) {
        fs.writeSync(fd, body, 0, body.length, position);
        position += body.length;
        fs.fdatasyncSync(fd);
      }
      const answer = request.url.includes("/bulk_docs") ? bulkDocsAnswer(body) : '{"ok":true}';
      response.writeHead(201, { "content-type": "application/json; charset=utf-8" });
      response.end(answer);
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, "127.0.0.1", () => process.send(server.address().port));
  process.on("disconnect", () => process.exit(0));
`;

async function measureFloor(root: string): Promise<{
  roundTrip: Load;
  roundTripFsync: Load;
  ravendbClient: { writers1: Load; writers16: Load };
}> {
  const child = spawn(process.execPath, ["-e", floorServer], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    env: { ...process.env, FLOOR_FILE: join(root, "floor.log") },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (message) => resolve(Number(message)));
      child.once("exit", (code) => reject(new Error(`the floor server exited (${code})`)));
    });
    const post = (path: string): Write => {
      return async (writer, n) => {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, {
          method: "POST",
          body: body(writer, n),
          headers: { "content-type": "application/json" },
        });
        await response.text();
        if (response.status !== 201) throw new Error(`floor: ${response.status}`);
      };
    };
    // RavenDB's client with this one URL and no topology to fetch: only its saves reach the server.
    const store = new DocumentStore(`http://127.0.0.1:${port}`, database);
    store.conventions.disableTopologyUpdates = true;
    store.initialize();
    try {
      return {
        roundTrip: await oneWriter(post("/")),
        roundTripFsync: await oneWriter(post("/sync")),
        ravendbClient: {
          writers1: await oneWriter(documentWrite(store, "floor")),
          writers16: await manyWriters(documentWrite(store, "floor-many"), writersMany),
        },
      };
    } finally {
      store.dispose();
    }
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

// --- Rookery ---------------------------------------------------------------------------------------

async function must(response: Response, what: string): Promise<unknown> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: ${response.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : null;
}

/** formRookery joins the servers into one cluster and creates the database on all three, leader first. */
async function formRookery(cluster: ProcessCluster): Promise<void> {
  const [first, ...rest] = cluster.urls;
  for (const url of rest)
    await must(
      await fetch(`${first}/admin/cluster/node?url=${encodeURIComponent(url)}`, { method: "PUT" }),
      `adding ${url}`,
    );
  const leader = await leaderOf(cluster);
  const members = [
    leader.tag,
    ...cluster.servers.map((s) => s.tag).filter((t) => t !== leader.tag),
  ];
  await must(
    await fetch(`${first}/admin/databases?name=${database}&replicationFactor=3`, {
      method: "PUT",
      body: JSON.stringify({ DatabaseName: database, Topology: { Members: members } }),
    }),
    `creating ${database}`,
  );
  await cluster.waitFor(
    (c) => c.describe().databases.find((d) => d.name === database)?.members.length === 3,
    { timeoutMs: 30_000, what: `${database} on all three servers` },
  );
}

/** documentWrite saves one document with write assurance to a majority, through RavenDB's client. */
function documentWrite(store: DocumentStore, prefix: string): Write {
  return async (writer, n) => {
    const session = store.openSession();
    await session.store(JSON.parse(body(writer, n)) as object, `${prefix}/${writer}-${n}`);
    session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 5_000 });
    await session.saveChanges();
  };
}

/**
 * fetchDocumentWrite is documentWrite's request without RavenDB's client: the same bulk_docs POST
 * with the same write assurance parameters, from fetch, as etcd's puts are sent.
 */
function fetchDocumentWrite(url: string, prefix: string): Write {
  const target =
    `${url}/databases/${database}/bulk_docs?waitForReplicasTimeout=00:00:05` +
    "&numberOfReplicasToWaitFor=1&throwOnTimeoutInWaitForReplicas=true";
  return async (writer, n) => {
    const document = { ...(JSON.parse(body(writer, n)) as object), "@metadata": {} };
    const response = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        Commands: [{ Type: "PUT", Id: `${prefix}/${writer}-${n}`, Document: document }],
      }),
    });
    await must(response, "document write");
  };
}

/** clusterWrite commits one Rachis command (the database's conflict solver) through `url`. */
async function clusterWrite(url: string, n: number, timeoutMs = probeAttemptTimeoutMs) {
  const response = await fetch(`${url}/admin/replication/conflicts/solver?name=${database}`, {
    method: "POST",
    body: JSON.stringify({ ResolveToLatest: n % 2 === 0 }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await must(response, "cluster write");
}

/** leaderOf waits until every server is up and follows one leader, and returns that leader. */
async function leaderOf(cluster: ProcessCluster): Promise<{ url: string; tag: string }> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    await cluster.refresh();
    const servers = cluster.servers;
    const leader = servers.find((s) => s.role === "leader");
    if (leader && servers.every((s) => s.alive && s.leader === leader.tag)) return leader;
    if (performance.now() > deadline) throw new Error("no leader all three Rookery servers follow");
    await sleep(50);
  }
}

/** preferredNode is the node RavenDB's client sends writes to first: the topology's first. */
async function preferredNode(url: string): Promise<string> {
  const topology = (await must(await fetch(`${url}/topology?name=${database}`), "topology")) as {
    Nodes: { ClusterTag: string }[];
  };
  return topology.Nodes[0]!.ClusterTag;
}

/** RookeryUnderTest is a formed 3-server cluster with the writes the bench times on it. */
interface RookeryUnderTest {
  /** documentWrite through RavenDB's client, and the same request from fetch. */
  readonly documentWrite: (prefix: string) => Write;
  readonly documentWriteFetch: (prefix: string) => Write;
  readonly clusterWrites: () => Promise<Load>;
  readonly leaderKills: () => Promise<{
    documentWrite: Kills;
    clusterWrite: Kills;
    preferredNodeWasTheLeader: boolean[];
  }>;
  readonly stop: () => Promise<void>;
}

async function startRookery(): Promise<RookeryUnderTest> {
  // Status pushes to this process (for waitFor and leader checks) once a second, not every 50 ms:
  // they are the harness's work, not the servers', and etcd has none.
  const cluster = await ProcessCluster.start({ servers: 3, port: "auto", statusIntervalMs: 1_000 });
  const stores: DocumentStore[] = [];
  const newStore = (): DocumentStore => {
    const store = new DocumentStore(cluster.urls, database);
    store.initialize();
    stores.push(store);
    return store;
  };
  const stop = async (): Promise<void> => {
    for (const store of stores) store.dispose();
    await cluster.stop();
  };
  try {
    await formRookery(cluster);
    const store = newStore();
    const preferred = await preferredNode(cluster.urls[0]!);
    const preferredUrl = cluster.servers.find((s) => s.tag === preferred)!.url;
    return {
      documentWrite: (prefix) => documentWrite(store, prefix),
      documentWriteFetch: (prefix) => fetchDocumentWrite(preferredUrl, prefix),
      clusterWrites: async () => {
        const leader = await leaderOf(cluster);
        return oneWriter((_, n) => clusterWrite(leader.url, n, 10_000));
      },
      leaderKills: async () => {
        const documentTrials: number[] = [];
        const clusterTrials: number[] = [];
        const preferredKilled: boolean[] = [];
        for (let kill = 0; kill < leaderKills; kill++) {
          const victim = await leaderOf(cluster);
          const probeStore = newStore();
          await documentWrite(probeStore, `warm${kill}`)(0, 0);
          preferredKilled.push((await preferredNode(victim.url)) === victim.tag);
          const survivors = cluster.urls.filter((url) => url !== victim.url);
          const killedAt = performance.now();
          await cluster.kill(victim.url);
          const [documentMs, clusterMs] = await Promise.all([
            firstAcknowledged(killedAt, (k) => documentWrite(probeStore, `kill${kill}`)(0, k)),
            firstAcknowledged(killedAt, (k) => clusterWrite(survivors[k % survivors.length]!, k)),
          ]);
          documentTrials.push(documentMs);
          clusterTrials.push(clusterMs);
          await cluster.restart(victim.url);
          await leaderOf(cluster);
        }
        return {
          documentWrite: killStats(documentTrials),
          clusterWrite: killStats(clusterTrials),
          preferredNodeWasTheLeader: preferredKilled,
        };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

// --- etcd ------------------------------------------------------------------------------------------

/** EtcdUnderTest is a 3-member etcd cluster with the put the bench times on it. */
interface EtcdUnderTest {
  readonly put: (prefix: string) => Write;
  readonly leaderKills: () => Promise<Kills>;
  readonly stop: () => Promise<void>;
}

async function startEtcd(binary: string): Promise<EtcdUnderTest> {
  const cluster = await EtcdCluster.start(binary, etcdTiming);
  try {
    const leader = await cluster.leader();
    return {
      put: (prefix) => (writer, n) =>
        cluster.put(leader, `${prefix}/${writer}-${n}`, body(writer, n)),
      leaderKills: async () => {
        const trials: number[] = [];
        for (let kill = 0; kill < leaderKills; kill++) {
          const victim = await cluster.leader();
          const survivors = cluster.clientUrls.filter((url) => url !== victim);
          const killedAt = performance.now();
          await cluster.kill(victim);
          trials.push(
            await firstAcknowledged(killedAt, (k) =>
              cluster.put(
                survivors[k % survivors.length]!,
                `kill${kill}/${k}`,
                body(0, k),
                probeAttemptTimeoutMs,
              ),
            ),
          );
          await cluster.restart(victim);
        }
        return killStats(trials);
      },
      stop: () => cluster.stop(),
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/**
 * measureWrites times Rookery's document write (through RavenDB's client and from fetch) and
 * etcd's put in turns, a slice of each at a time (see inTurns), with 1 and with 16 writers, so
 * that the three see the same machine: this one is shared, and what else runs on it changes by
 * the second. Then the rest, one system after the other: Rookery's cluster writes, and each
 * system's leader kills.
 */
async function measureWrites(rookery: RookeryUnderTest, etcd: EtcdUnderTest | undefined) {
  const systems: Write[][] = [
    [rookery.documentWrite("one"), rookery.documentWriteFetch("fetch-one")],
    [rookery.documentWrite("many"), rookery.documentWriteFetch("fetch-many")],
  ];
  if (etcd) {
    systems[0]!.push(etcd.put("one"));
    systems[1]!.push(etcd.put("many"));
  }
  const [writers1, fetchWriters1, etcdWriters1] = await inTurns(systems[0]!, 1);
  const [writers16, fetchWriters16, etcdWriters16] = await inTurns(systems[1]!, writersMany);
  const clusterWrites = await rookery.clusterWrites();
  const rookeryKills = await rookery.leaderKills();
  const etcdKills = etcd ? await etcd.leaderKills() : undefined;
  return {
    rookery: {
      documentWrite: { writers1: writers1!, writers16: writers16! },
      documentWriteFetch: { writers1: fetchWriters1!, writers16: fetchWriters16! },
      clusterWrite: { writers1: clusterWrites },
      leaderKill: rookeryKills,
    },
    etcd:
      etcd && etcdKills
        ? {
            put: { writers1: etcdWriters1!, writers16: etcdWriters16! },
            leaderKill: { put: etcdKills },
          }
        : undefined,
  };
}

// --- the report ------------------------------------------------------------------------------------

const ratio = (a: number, b: number): number => round(a / b, 2);

/** versus compares two loads: latency p50 and p99, and throughput, ours over theirs. */
const versus = (ours: Load, theirs: Load) => ({
  p50: ratio(ours.latencyMs.median, theirs.latencyMs.median),
  p99: ratio(ours.latencyMs.p99, theirs.latencyMs.p99),
  throughput: ratio(ours.writesPerSecond, theirs.writesPerSecond),
});

export async function benchHttp(): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), "rookery-bench-http-"));
  const loadAverageBefore = loadavg()[0]!;
  try {
    const floor = await measureFloor(root);
    const binary = findEtcd();
    const rookeryUnderTest = await startRookery();
    let measured: Awaited<ReturnType<typeof measureWrites>>;
    try {
      const etcdUnderTest = binary ? await startEtcd(binary) : undefined;
      try {
        measured = await measureWrites(rookeryUnderTest, etcdUnderTest);
      } finally {
        await etcdUnderTest?.stop();
      }
    } finally {
      await rookeryUnderTest.stop();
    }
    const { rookery, etcd } = measured;
    const floorMs = floor.roundTripFsync.latencyMs;
    const docs = rookery.documentWrite;
    const clientFloorMs = floor.ravendbClient.writers1.latencyMs;
    const toFloor = {
      rookeryDocumentWriteP50Writers1: ratio(docs.writers1.latencyMs.median, floorMs.median),
      rookeryDocumentWriteP50Writers1ToClientFloor: ratio(
        docs.writers1.latencyMs.median,
        clientFloorMs.median,
      ),
      rookeryDocumentWriteFetchP50Writers1: ratio(
        rookery.documentWriteFetch.writers1.latencyMs.median,
        floorMs.median,
      ),
      rookeryClusterWriteP50Writers1: ratio(
        rookery.clusterWrite.writers1.latencyMs.median,
        floorMs.median,
      ),
      ...(etcd
        ? { etcdPutP50Writers1: ratio(etcd.put.writers1.latencyMs.median, floorMs.median) }
        : {}),
    };
    const peer = etcd
      ? {
          version: etcdVersion(binary!),
          ...etcd,
          ratios: {
            documentWriteWriters1: versus(docs.writers1, etcd.put.writers1),
            documentWriteWriters16: versus(docs.writers16, etcd.put.writers16),
            documentWriteFetchWriters1: versus(
              rookery.documentWriteFetch.writers1,
              etcd.put.writers1,
            ),
            documentWriteFetchWriters16: versus(
              rookery.documentWriteFetch.writers16,
              etcd.put.writers16,
            ),
            ravendbClientFloorWriters1: versus(floor.ravendbClient.writers1, etcd.put.writers1),
            clusterWriteWriters1: versus(rookery.clusterWrite.writers1, etcd.put.writers1),
            leaderKillToDocumentWrite: ratio(
              rookery.leaderKill.documentWrite.medianMs,
              etcd.leaderKill.put.medianMs,
            ),
            leaderKillToClusterWrite: ratio(
              rookery.leaderKill.clusterWrite.medianMs,
              etcd.leaderKill.put.medianMs,
            ),
          },
        }
      : {
          skipped:
            "etcd is not installed (no etcd on the PATH, ROOKERY_ETCD unset): apt-get install etcd-server, then run again",
        };
    const targets = etcd
      ? [
          {
            what: "majority-acknowledged document write p50 (1 writer) no slower than etcd's put p50",
            rookeryMs: docs.writers1.latencyMs.median,
            etcdMs: etcd.put.writers1.latencyMs.median,
            met: docs.writers1.latencyMs.median <= etcd.put.writers1.latencyMs.median,
            // RavenDB's client saving to a server that answers at once: no Rookery write can
            // take less. When it is near etcd's whole put, the target sits below that floor.
            ravendbClientFloorMs: clientFloorMs.median,
          },
          {
            what: "the same write sent as etcd's puts are (fetch, no RavenDB client): p50 (1 writer) no slower than etcd's put p50",
            rookeryMs: rookery.documentWriteFetch.writers1.latencyMs.median,
            etcdMs: etcd.put.writers1.latencyMs.median,
            met:
              rookery.documentWriteFetch.writers1.latencyMs.median <=
              etcd.put.writers1.latencyMs.median,
          },
          {
            what: "leader SIGKILL to the next acknowledged document write no slower than etcd's put",
            rookeryMs: rookery.leaderKill.documentWrite.medianMs,
            etcdMs: etcd.leaderKill.put.medianMs,
            met: rookery.leaderKill.documentWrite.medianMs <= etcd.leaderKill.put.medianMs,
          },
          {
            what: "leader SIGKILL to the next acknowledged cluster-wide (Rachis) write no slower than etcd's put",
            rookeryMs: rookery.leaderKill.clusterWrite.medianMs,
            etcdMs: etcd.leaderKill.put.medianMs,
            met: rookery.leaderKill.clusterWrite.medianMs <= etcd.leaderKill.put.medianMs,
          },
        ]
      : [];
    return {
      definitions: {
        documentWrite:
          "RavenDB's client (ravendb@7.2.2) saves one ~130-byte document in its own session with waitForReplicationAfterSaveChanges({ replicas: 1 }): acknowledged once the receiving server and one more of the three have it durable (fs storage, fdatasync)",
        clusterWrite:
          "one Rachis command over HTTP (POST /admin/replication/conflicts/solver, alternating), answered once a majority committed it; needs the leader, like an etcd put",
        documentWriteFetch:
          "the same document and write assurance as documentWrite, as the bulk_docs POST RavenDB's client sends, from fetch (the client etcd's puts use), to the database's preferred node",
        put: "etcd v3 JSON gateway POST /v3/kv/put of the same bytes to the leader's client URL; answered once a majority fsynced it",
        writers16: `${writersMany} writers each with one request outstanding for ${manyRunMs} ms in all, in ${turnsPerLoad} slices taken in turns with the other systems' (the first ${manyWarmupMs} ms of the first slice and ${turnWarmupMs} ms of each later one not counted); Rookery's share one DocumentStore`,
        writers1: `${singleWrites} writes one at a time, in ${turnsPerLoad} slices taken in turns with the other systems' (after ${warmupWrites} writes not counted, and ${turnWarmupWrites} before each later slice)`,
        leaderKill: `SIGKILL of the Raft leader's process, then an attempt every ${probeEveryMs} ms (each may take up to ${probeAttemptTimeoutMs} ms) to the survivors until one is acknowledged; the time of the first acknowledgement after the kill. Rookery's document writes go through RavenDB's client and its failover; the killed member restarts between trials`,
        floor:
          "a bare Node HTTP server in another process (no database) answering the same POST from fetch; roundTripFsync also appends the body and fdatasyncs it before answering; ravendbClient is documentWrite's save through RavenDB's client to that server, which answers bulk_docs at once (the client's own cost: it opens a connection per request, since it turns keep-alive off)",
        ratios: "Rookery's figure over etcd's (or over the floor); below 1 means Rookery is faster",
      },
      timing: {
        note: "both systems elect with Rookery's default timeout, randomized over [1, 2) of it, and pre-vote (etcd refuses an election timeout under 5 heartbeats, so its heartbeat is at most a fifth of it; etcd 3.4 does not pre-vote unless asked)",
        rookery: { heartbeatMs, electionTimeoutMs: electionMs },
        etcd: etcdTiming,
      },
      machine: {
        cpus: availableParallelism(),
        loadAverage1Min: { before: round(loadAverageBefore, 2), after: round(loadavg()[0]!, 2) },
        note: "every figure here is a handful of processes taking turns on these CPUs; a load average above their count means other work competed for them during the run",
      },
      floor,
      rookery,
      etcd: peer,
      ratiosToFloor: toFloor,
      targets,
      allMet: targets.length > 0 && targets.every((t) => t.met),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// Run directly: `npx tsx test/bench/http.ts` prints the suite's JSON.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchHttp(), null, 2));
}
