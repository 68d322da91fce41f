/**
 * WorkerCluster runs each server in its own Web Worker, in real time, behind the same API as the
 * simulator (ClusterHandle). The host only wires and watches:
 * - it spawns one worker per server and controls it through Comlink (init, connect, faults,
 *   crash, shutdown);
 * - it makes one MessageChannel per pair of servers and transfers the two ports, so servers talk
 *   directly, never through the host;
 * - each worker has one more channel to the host: client requests in, responses and batched
 *   trace events with the server's status out. describe() reads the latest status of every
 *   server, so it stays synchronous; a worker pushes its status before every response, so after
 *   an awaited request describe() already shows that request's effect on that server.
 */
import { transfer, wrap } from "comlink";
import type { Remote } from "comlink";
import { quote, RookeryError } from "../../core/index.ts";
import type { NodeTag } from "../../core/index.ts";
import type { ReplicationLimits } from "../../replication/index.ts";
import type { ClientNetwork } from "../../client/index.ts";
import type { DatabaseSummary } from "../../cluster/index.ts";
import { withTiming } from "../../server/index.ts";
import type { ServerFailure, TimingOptions, TraceEvent } from "../../server/index.ts";
import { deleteIndexedDbStorage } from "../../storage/index.ts";
import { clientLink, noFaults } from "../../transport/index.ts";
import type {
  Envelope,
  LinkFaults,
  ServerRequest,
  ServerResponse,
  WorkerBound,
} from "../../transport/index.ts";
import { findServer, serverUrl } from "../addresses.ts";
import type { ClusterDescription, ClusterHandle, ServerSummary, WaitOptions } from "../handle.ts";
import { TraceListeners } from "../trace-listeners.ts";
import type {
  DocumentsChange,
  HostBound,
  ServerWorkerApi,
  StorageChoice,
  StorageSnapshot,
  WorkerResult,
  WorkerStatus,
  WriteSeen,
} from "../worker/protocol.ts";
import type { HostPlatform, SpawnedWorker } from "./platform.ts";

/** Longer than a cluster-wide operation's wait for a leader, so that error reaches the client. */
const clientTimeoutMsDefault = 5_000;
/** How long the host waits for a worker to open its storage and recover. */
const initTimeoutMsDefault = 30_000;
/** How long a control call (connect, status, crash) may take before the worker counts as hung. */
const controlTimeoutMs = 5_000;
/** How long stop() and a graceful shutdown wait for queued writes. */
const shutdownTimeoutMs = 5_000;
/** How often waitFor looks at the cluster again. */
const waitPollMs = 5;
/** Servers one cluster may have (tags A..Z before the two-letter ones; URLs 127.0.0.1..254). */
const serversMax = 254;

/** WorkerStorageKind names where worker servers keep their data. */
export type WorkerStorageKind = "fs" | "memory" | "indexeddb";

/** WorkerClusterOptions describe a cluster of worker servers. */
export interface WorkerClusterOptions {
  readonly platform: HostPlatform;
  readonly servers?: number;
  /** fs (Node default), indexeddb (browser default) or memory (kept across kills by the host). */
  readonly storage?: WorkerStorageKind;
  /** fs: the cluster's data folder, one subfolder per server (DIR/1, DIR/2 …). A fresh
   * temporary folder, removed by stop(), when omitted. */
  readonly dataDir?: string;
  /**
   * fs with a dataDir: what to do with servers' folders an earlier run left there. true wipes
   * them and starts fresh servers; false recovers them (every server found starts, even beyond
   * `servers`); omitted, start refuses with ExistingData, saying both.
   */
  readonly fresh?: boolean;
  /** indexeddb: the cluster's name in database names; a fresh one, deleted by stop(), when omitted. */
  readonly name?: string;
  readonly seed?: number;
  readonly timing?: TimingOptions;
  readonly replicationLimits?: Partial<ReplicationLimits>;
  /** How often each worker pushes trace events and a changed status (default 50 ms). */
  readonly statusIntervalMs?: number;
}

interface Slot {
  readonly index: number;
  readonly url: string;
  /** Restarts so far; seeds a fresh random stream for each life. */
  generation: number;
  worker: SpawnedWorker | undefined;
  api: Remote<ServerWorkerApi> | undefined;
  hostPort: MessagePort | undefined;
  alive: boolean;
  status: WorkerStatus | undefined;
  /** Document ids per hosted database, kept up to date from the worker's changes. */
  documents: Map<string, Set<string>>;
  /** The same, sorted, for describe(); dropped when a set changes. */
  sorted: Map<string, string[]>;
  /** refresh() calls waiting for their push, by id. */
  refreshes: Map<number, () => void>;
  lastTag: NodeTag;
  /** memory storage: the disk's contents, kept by the host while the server is down. */
  memory: StorageSnapshot | undefined;
  /** Why the server stopped by itself (a failed storage write), until it restarts. */
  failure: ServerFailure | undefined;
  /** The crash of a server that stopped by itself, which a restart waits for (its disk). */
  crashing: Promise<void> | undefined;
}

interface PendingRequest {
  readonly url: string;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly resolve: (answer: TimedAnswer) => void;
}

/** TimedAnswer is a response with the epoch ms at which the server sent it (null if it did not). */
export interface TimedAnswer {
  readonly response: ServerResponse;
  readonly sentAtMs: number | null;
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** within settles with `promise`, or rejects after `ms` saying what took too long. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new RookeryError("WorkerTimeout", `${what} took longer than ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

function unavailable(url: string, why: string): ServerResponse {
  return {
    ok: false,
    error: { code: "ServerUnavailable", message: `connection to ${url} refused: ${why}` },
  };
}

/**
 * WorkerCluster is the worker runtime's ClusterHandle; start one with WorkerCluster.start or
 * Cluster.start({ runtime: "worker" }).
 */
export class WorkerCluster implements ClusterHandle {
  readonly network: ClientNetwork;
  /** The storage every server uses. */
  readonly storage: WorkerStorageKind;
  /** fs: the cluster's data folder. */
  readonly dataDir: string | undefined;
  /** indexeddb: the cluster's name in database names. */
  readonly name: string | undefined;
  private readonly options: WorkerClusterOptions;
  private readonly platform: HostPlatform;
  private readonly ownsData: boolean;
  private readonly slots: Slot[] = [];
  /** The cluster that started this host's network of ports; it holds the link faults. */
  private readonly root: WorkerCluster;
  /** On the root: every cluster sharing its network, itself first. */
  private readonly family: WorkerCluster[] = [];
  /** Which cluster of the network this is: its servers live at http://127.0.<index>.N:8080. */
  readonly networkIndex: number;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly traceListeners = new TraceListeners();
  private readonly blockedPairs = new Set<string>();
  private readonly isolated = new Set<string>();
  private readonly linkShapes = new Map<string, { latencyMs: number; lossRate: number }>();
  private nextRequestId = 1;
  private stopped = false;

  private constructor(
    options: WorkerClusterOptions,
    storage: WorkerStorageKind,
    dataDir: string | undefined,
    name: string | undefined,
    ownsData: boolean,
    root?: WorkerCluster,
  ) {
    this.root = root ?? this;
    this.networkIndex = this.root.family.length;
    this.root.family.push(this);
    this.options = options;
    this.platform = options.platform;
    this.storage = storage;
    this.dataDir = dataDir;
    this.name = name;
    this.ownsData = ownsData;
    this.network = {
      request: (url, request, requestOptions) => this.request(url, request, requestOptions),
      nowMs: () => epochMs(),
    };
  }

  /** start spawns `servers` workers in parallel, lets each recover, then connects every pair. */
  static async start(options: WorkerClusterOptions): Promise<WorkerCluster> {
    return await WorkerCluster.open(options, undefined);
  }

  /**
   * startSibling starts another cluster in this host, on the same network of ports: every server
   * of either cluster gets a port to every other, so an external replication between the two
   * travels directly, and partition() cuts it. Its servers are http://127.0.1.1:8080, .2 …, with
   * their own tags and Rachis, and their own data (a folder or IndexedDB name of their own).
   */
  async startSibling(
    options: Pick<WorkerClusterOptions, "servers" | "timing" | "replicationLimits"> = {},
  ): Promise<WorkerCluster> {
    this.assertRunning();
    const {
      servers: _servers,
      timing: _timing,
      replicationLimits: _limits,
      ...shared
    } = this.root.options;
    return await WorkerCluster.open(
      {
        ...shared,
        ...options,
        ...(shared.dataDir !== undefined
          ? { dataDir: `${shared.dataDir}-${this.root.family.length}` }
          : {}),
        ...(shared.name !== undefined ? { name: `${shared.name}-${this.root.family.length}` } : {}),
        storage: this.root.storage,
      },
      this.root,
    );
  }

  private static async open(
    options: WorkerClusterOptions,
    root: WorkerCluster | undefined,
  ): Promise<WorkerCluster> {
    // Timings every server would refuse are refused here, before anything is spawned.
    withTiming(options.timing);
    const platform = options.platform;
    const storage = options.storage ?? platform.defaultStorage;
    let dataDir: string | undefined;
    let name: string | undefined;
    let ownsData = false;
    let count = options.servers ?? 1;
    if (storage === "fs") {
      ownsData = options.dataDir === undefined;
      dataDir = options.dataDir ?? (await platform.makeTempDataDir());
      if (!ownsData)
        count = await WorkerCluster.earlierData(platform, dataDir, count, options.fresh);
    } else if (options.dataDir !== undefined) {
      throw new RookeryError(
        "InvalidStorage",
        `dataDir is for storage "fs"; storage ${quote(storage)} keeps no folders`,
      );
    }
    if (storage === "indexeddb") {
      ownsData = options.name === undefined;
      name =
        options.name ??
        `cluster-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
    }
    const cluster = new WorkerCluster(options, storage, dataDir, name, ownsData, root);
    try {
      for (let index = 0; index < count; index++) cluster.slots.push(cluster.newSlot(index));
      // Every launch runs to its end before a failure is reported: a server still starting when
      // another failed would otherwise come up after stop() and keep the process alive.
      const launched = await Promise.allSettled(cluster.slots.map((slot) => cluster.launch(slot)));
      const failed = launched.find((outcome) => outcome.status === "rejected");
      if (failed) throw failed.reason;
      await cluster.connectAll();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /**
   * earlierData deals with servers' folders an earlier run left in dataDir (see the `fresh`
   * option) and returns how many servers to start.
   */
  private static async earlierData(
    platform: HostPlatform,
    dataDir: string,
    servers: number,
    fresh: boolean | undefined,
  ): Promise<number> {
    const found = await platform.serversWithData(dataDir);
    if (found.length === 0) return servers;
    if (fresh === true) {
      await platform.removeServerDirs(dataDir, found);
      return servers;
    }
    if (fresh === false) return Math.max(servers, found[found.length - 1]! + 1);
    const folders = found.map((index) => platform.serverDir(dataDir, index));
    throw new RookeryError(
      "ExistingData",
      `${dataDir} holds data from an earlier run (${found.length === 1 ? "a server folder" : `${found.length} server folders`}: ${folders.join(", ")}). ` +
        "Start with fresh: true to wipe those folders and begin again, or fresh: false to recover those servers.",
      { dataDir, servers: found.map((index) => index + 1) },
    );
  }

  // --- servers -----------------------------------------------------------------------------------

  get urls(): string[] {
    return this.slots.map((slot) => slot.url);
  }

  get servers(): ServerSummary[] {
    return this.slots.map((slot) => {
      const status = slot.alive ? slot.status : undefined;
      return {
        url: slot.url,
        tag: this.tagOf(slot),
        role: status ? status.role : "down",
        term: status?.term ?? 0,
        leader: status?.leader ?? null,
        alive: slot.alive,
        ...(slot.failure && !slot.alive ? { failure: slot.failure } : {}),
      };
    });
  }

  /** addServer starts one more fresh server; it shows "?" until it joins the cluster. */
  async addServer(): Promise<string> {
    this.assertRunning();
    if (this.slots.length >= serversMax)
      throw new RookeryError("InvalidServers", `a cluster here has at most ${serversMax} servers`);
    const slot = this.newSlot(this.slots.length);
    this.slots.push(slot);
    await this.launch(slot);
    await this.connect(slot);
    return slot.url;
  }

  /**
   * kill stops a server the way a crash would: its storage crashes (writes not yet durable are
   * lost), then its worker is terminated. Requests in flight to it fail as ServerUnavailable.
   */
  async kill(tagOrUrl: string): Promise<void> {
    this.assertRunning();
    const slot = this.slot(tagOrUrl);
    if (!slot.alive) throw new RookeryError("ServerDown", `${slot.url} is already down`);
    this.tagOf(slot);
    this.markDown(slot, "the server was killed");
    await this.crashWorker(slot);
    this.emit([{ type: "server", atMs: epochMs(), url: slot.url, text: "killed" }]);
  }

  /**
   * failStopped: the server stopped after a failed storage write (its status says which and
   * why). The host reports it crashed, as it would a killed one, and keeps the failure for
   * `servers` and describe() until a restart.
   */
  private async failStopped(slot: Slot, failure: ServerFailure): Promise<void> {
    this.tagOf(slot);
    this.markDown(slot, `the server stopped: ${failure.message}`);
    slot.failure = failure;
    this.emit([
      { type: "server", atMs: epochMs(), url: slot.url, text: `crashed: ${failure.message}` },
    ]);
    slot.crashing = this.crashWorker(slot);
    await slot.crashing;
    slot.crashing = undefined;
  }

  /** crashWorker crashes a server's storage in its worker (keeping a memory disk), then ends it. */
  private async crashWorker(slot: Slot): Promise<void> {
    const { api, worker } = slot;
    slot.api = slot.worker = undefined;
    try {
      const kept = await within(api!.crash(), controlTimeoutMs, `crashing ${slot.url}`);
      if (this.storage === "memory") slot.memory = kept ?? undefined;
    } catch {
      // A hung worker cannot crash its storage; terminating it below ends it all the same (a
      // memory disk then dies with it, and the trace says so).
      if (this.storage === "memory") {
        slot.memory = undefined;
        this.emit([
          {
            type: "server",
            atMs: epochMs(),
            url: slot.url,
            text: "did not answer the crash; its memory disk is lost",
          },
        ]);
      }
    }
    await worker!.terminate();
  }

  /**
   * failDisk makes a server's disk fail as after an I/O error (memory storage only), to show
   * fail-stop: the server's next write is refused, it stops, and this host reports it crashed
   * with the write and the reason (`servers`, describe(), the trace) until it is restarted.
   */
  async failDisk(
    tagOrUrl: string,
    cause = "EIO: i/o error (a failure injected by failDisk)",
  ): Promise<void> {
    this.assertRunning();
    const slot = this.slot(tagOrUrl);
    if (!slot.alive || !slot.api) throw new RookeryError("ServerDown", `${slot.url} is down`);
    const failed = await within(slot.api.failDisk(cause), controlTimeoutMs, `failing ${slot.url}`);
    if (!failed)
      throw new RookeryError(
        "InvalidStorage",
        `only a memory disk can be failed on purpose; ${slot.url} keeps ${this.storage} storage`,
      );
  }

  /** restart starts a new worker on the server's storage; it recovers what was durable. */
  async restart(tagOrUrl: string): Promise<void> {
    this.assertRunning();
    const slot = this.slot(tagOrUrl);
    if (slot.alive)
      throw new RookeryError("ServerRunning", `${slot.url} is running; kill it first`);
    await slot.crashing; // a server that stopped by itself hands its memory disk back first
    slot.generation++;
    await this.launch(slot);
    await this.connect(slot);
    this.emit([
      { type: "server", atMs: epochMs(), url: slot.url, text: `restarted as ${this.tagOf(slot)}` },
    ]);
  }

  /** partition cuts every link between two groups of servers (by tag or URL), at both ends. */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    this.assertRunning();
    const a = groupA.map((s) => this.slotOnNetwork(s));
    const b = groupB.map((s) => this.slotOnNetwork(s));
    const blocked = this.root.blockedPairs;
    for (const x of a) for (const y of b) if (x !== y) blocked.add(pairKey(x.url, y.url));
    for (const slot of new Set([...a, ...b])) this.applyFaults(slot);
  }

  /** isolate cuts one server off from everyone, clients included: requests to it time out. */
  isolate(tagOrUrl: string): void {
    this.assertRunning();
    const slot = this.slot(tagOrUrl);
    this.root.isolated.add(slot.url);
    for (const other of this.networkSlots()) this.applyFaults(other);
  }

  /**
   * heal ends every partition and isolation of this cluster's servers, those cutting it off from
   * a sibling included (latency and loss set with setLink stay; a cut inside a sibling stays).
   */
  heal(): void {
    this.assertRunning();
    const own = new Set(this.urls);
    const { blockedPairs, isolated } = this.root;
    for (const pair of [...blockedPairs]) {
      const [a, b] = pair.split("|") as [string, string];
      if (own.has(a) || own.has(b)) blockedPairs.delete(pair);
    }
    for (const url of own) isolated.delete(url);
    for (const slot of this.networkSlots()) this.applyFaults(slot);
  }

  /**
   * setLink gives the link between two servers a latency (each way) and a loss rate, applied by
   * both ends' senders; { latencyMs: 0, lossRate: 0 } restores it.
   */
  setLink(
    a: string,
    b: string,
    shape: { readonly latencyMs?: number; readonly lossRate?: number },
  ): void {
    this.assertRunning();
    const x = this.slotOnNetwork(a);
    const y = this.slotOnNetwork(b);
    const latencyMs = shape.latencyMs ?? 0;
    const lossRate = shape.lossRate ?? 0;
    const shapes = this.root.linkShapes;
    if (latencyMs === 0 && lossRate === 0) shapes.delete(pairKey(x.url, y.url));
    else shapes.set(pairKey(x.url, y.url), { latencyMs, lossRate });
    this.applyFaults(x);
    this.applyFaults(y);
  }

  on(event: "trace", listener: (events: readonly TraceEvent[]) => void): () => void {
    return this.traceListeners.on(event, listener);
  }

  /**
   * stop shuts every server down gracefully (queued writes finish, storages close), terminates
   * every worker and closes every port, so nothing keeps the process alive; a data folder or
   * IndexedDB name the cluster made up itself is deleted.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // The network's first cluster takes its siblings down with it: they live in its ports.
    if (this.root === this) await Promise.all(this.family.slice(1).map((other) => other.stop()));
    await Promise.all(
      this.slots.map(async (slot) => {
        const { api, worker } = slot;
        slot.api = slot.worker = undefined;
        if (slot.alive) this.markDown(slot, "the cluster stopped");
        if (api)
          await within(api.shutdown(), shutdownTimeoutMs, `shutting ${slot.url} down`).catch(
            () => null,
          );
        await worker?.terminate();
      }),
    );
    if (this.ownsData) {
      if (this.storage === "fs" && this.dataDir) await this.platform.removeDataDir(this.dataDir);
      if (this.storage === "indexeddb" && this.name) {
        for (const slot of this.slots)
          await deleteIndexedDbStorage(this.name, slot.url).catch(() => {});
      }
    }
  }

  // --- time ---------------------------------------------------------------------------------------

  /** nowMs is epoch milliseconds (real time), the same clock the workers use. */
  nowMs(): number {
    return epochMs();
  }

  /** runFor lets `durationMs` of real time pass, then refreshes every server's status. */
  async runFor(durationMs: number): Promise<void> {
    await sleep(durationMs);
    await this.refresh();
  }

  /**
   * waitFor polls `condition` in real time until it holds, or fails after `timeoutMs` with an
   * error that says what was awaited.
   */
  async waitFor(
    condition: (cluster: WorkerCluster) => boolean,
    options: WaitOptions = {},
  ): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const deadline = epochMs() + timeoutMs;
    for (;;) {
      if (condition(this)) return;
      if (this.stopped)
        throw new RookeryError(
          "ClusterStopped",
          `the cluster stopped while waiting for ${options.what ?? "a condition"}`,
        );
      if (epochMs() >= deadline) {
        throw new RookeryError(
          "WaitTimedOut",
          `waited ${timeoutMs} ms for ${options.what ?? "a condition"} and it did not happen`,
        );
      }
      await sleep(waitPollMs);
    }
  }

  /**
   * refresh asks every running server to push its status now, and waits for those pushes (they
   * travel behind every earlier push on the same port), so describe() is then current.
   */
  async refresh(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        const port = slot.hostPort;
        if (!port || !slot.alive) return;
        const id = this.nextRequestId++;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          slot.refreshes.set(id, resolve);
          // A hung worker keeps its last status; its exit (or kill) marks it down.
          timer = setTimeout(() => {
            slot.refreshes.delete(id);
            resolve();
          }, controlTimeoutMs);
          port.postMessage({ kind: "refresh", id } satisfies WorkerBound);
        });
        clearTimeout(timer);
      }),
    );
  }

  // --- clients ------------------------------------------------------------------------------------

  /** request sends one client request to the server at `url` over its host port. */
  async request(
    url: string,
    request: ServerRequest,
    options: { readonly timeoutMs?: number; readonly from?: string } = {},
  ): Promise<ServerResponse> {
    return (await this.requestTimed(url, request, options)).response;
  }

  /**
   * requestTimed is request() that also says when the server sent its answer (epoch ms on the
   * server's clock), for measurements. A killed server answers ServerUnavailable at once; an
   * isolated one never answers, so the request times out (RequestTimeout).
   */
  requestTimed(
    url: string,
    request: ServerRequest,
    options: { readonly timeoutMs?: number; readonly from?: string } = {},
  ): Promise<TimedAnswer> {
    const owner = this.root.family.find((cluster) => cluster.slots.some((s) => s.url === url));
    if (owner !== undefined && owner !== this) return owner.requestTimed(url, request, options);
    const slot = this.slots.find((s) => s.url === url);
    if (this.stopped)
      return Promise.resolve({
        response: unavailable(url, "the cluster was stopped"),
        sentAtMs: null,
      });
    if (!slot)
      return Promise.resolve({
        response: unavailable(url, "no server listens there"),
        sentAtMs: null,
      });
    const port = slot.hostPort;
    if (!slot.alive || !port)
      return Promise.resolve({ response: unavailable(url, "the server is down"), sentAtMs: null });
    const requestId = this.nextRequestId++;
    const timeoutMs = options.timeoutMs ?? clientTimeoutMsDefault;
    const type = (request as { type?: unknown } | null)?.type;
    const what = typeof type === "string" ? type : "a request";
    return new Promise<TimedAnswer>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        resolve({
          response: {
            ok: false,
            error: {
              code: "RequestTimeout",
              message: `${url} did not answer ${what} within ${timeoutMs} ms`,
            },
          },
          sentAtMs: null,
        });
      }, timeoutMs);
      this.pending.set(requestId, { url, timer, resolve });
      const envelope: Envelope = {
        kind: "request",
        from: options.from ?? "client",
        to: url,
        requestId,
        request,
      };
      port.postMessage(envelope);
    });
  }

  /**
   * controlRequest sends a request through the worker's Comlink control plane instead of its
   * host port (no link faults apply); benchmarks compare the two paths.
   */
  async controlRequest(tagOrUrl: string, request: ServerRequest): Promise<ServerResponse> {
    const slot = this.slot(tagOrUrl);
    if (!slot.alive || !slot.api) return unavailable(slot.url, "the server is down");
    return await slot.api.request(request);
  }

  /** pingPeer measures `count` message round trips from one server to another over their port. */
  async pingPeer(from: string, to: string, count: number): Promise<number[]> {
    const a = this.slot(from);
    const b = this.slot(to);
    if (!a.api) throw new RookeryError("ServerDown", `${a.url} is down`);
    return await a.api.pingPeer(b.url, count);
  }

  /**
   * watchDocument resolves with the epoch ms at which a document became visible on a server (at
   * once if it already is), or null after `timeoutMs`.
   */
  async watchDocument(
    tagOrUrl: string,
    database: string,
    id: string,
    timeoutMs: number,
  ): Promise<number | null> {
    const slot = this.slot(tagOrUrl);
    if (!slot.api) throw new RookeryError("ServerDown", `${slot.url} is down`);
    return await slot.api.watchDocument(database, id, timeoutMs);
  }

  /**
   * watchWrite resolves with when a document became readable on a server and when the version it
   * saw was written (on its writer's clock), or null after `timeoutMs`.
   */
  async watchWrite(
    tagOrUrl: string,
    database: string,
    id: string,
    timeoutMs: number,
  ): Promise<WriteSeen | null> {
    const slot = this.slot(tagOrUrl);
    if (!slot.api) throw new RookeryError("ServerDown", `${slot.url} is down`);
    return await slot.api.watchWrite(database, id, timeoutMs);
  }

  // --- description --------------------------------------------------------------------------------

  /** describe returns the cluster as plain JSON from every server's latest status. */
  describe(): ClusterDescription {
    const servers = this.servers;
    const leaders = servers
      .filter((s) => s.alive && s.role === "leader")
      .sort((a, b) => b.term - a.term);
    const leaderRow = leaders[0];
    // Statuses arrive at different moments; the records come from the running server that has
    // applied the most of the cluster's log (the leader on a tie), so a change one server
    // already answered for is never hidden behind an older status of the leader.
    let source: Slot | undefined;
    for (const slot of this.slots) {
      if (!slot.alive || !slot.status?.databases) continue;
      const better =
        !source ||
        slot.status.appliedIndex > source.status!.appliedIndex ||
        (slot.status.appliedIndex === source.status!.appliedIndex && slot.url === leaderRow?.url);
      if (better) source = slot;
    }
    const records: readonly DatabaseSummary[] = source?.status?.databases ?? [];
    const databases = records.map((db) => ({ ...db }));
    const documents: Record<NodeTag, Record<string, string[]>> = {};
    for (const slot of this.slots) {
      if (!slot.alive || !slot.status) continue;
      const perDatabase: Record<string, string[]> = {};
      for (const name of [...slot.documents.keys()].sort()) {
        let ids = slot.sorted.get(name);
        if (!ids) slot.sorted.set(name, (ids = [...slot.documents.get(name)!].sort()));
        perDatabase[name] = [...ids];
      }
      documents[slot.status.tag === "?" ? slot.url : slot.status.tag] = perDatabase;
    }
    return {
      atMs: epochMs(),
      cluster: servers,
      leader: leaderRow?.tag ?? null,
      term: leaderRow?.term ?? 0,
      databases,
      documents,
    };
  }

  // --- internals ------------------------------------------------------------------------------------

  private newSlot(index: number): Slot {
    return {
      index,
      url: serverUrl(index, this.networkIndex),
      generation: 0,
      worker: undefined,
      api: undefined,
      hostPort: undefined,
      alive: false,
      status: undefined,
      documents: new Map(),
      sorted: new Map(),
      refreshes: new Map(),
      lastTag: "?",
      memory: undefined,
      failure: undefined,
      crashing: undefined,
    };
  }

  private storageFor(slot: Slot): StorageChoice {
    switch (this.storage) {
      case "fs":
        return { kind: "fs", dir: this.platform.serverDir(this.dataDir!, slot.index) };
      case "indexeddb":
        return { kind: "indexeddb", cluster: this.name! };
      case "memory":
        return slot.memory ? { kind: "memory", contents: slot.memory } : { kind: "memory" };
    }
  }

  /** launch spawns the slot's worker and waits until its server has recovered. */
  private async launch(slot: Slot): Promise<void> {
    const worker = await this.platform.spawn(`rookery ${slot.url}`);
    const api = wrap<ServerWorkerApi>(worker.endpoint);
    const channel = new MessageChannel();
    const hostPort = channel.port1;
    const seed =
      ((this.options.seed ?? 1) * 1_000_003 +
        slot.index * 7_919 +
        slot.generation * 104_729 +
        this.networkIndex * 15_485_863) >>>
      0;
    let result: WorkerResult<WorkerStatus>;
    try {
      // Comlink's Remote type distributes over the result union; the value is one WorkerResult.
      const init = api.init(
        transfer(
          {
            url: slot.url,
            storage: this.storageFor(slot),
            seed,
            ...(this.options.timing ? { timing: this.options.timing } : {}),
            ...(this.options.replicationLimits
              ? { replicationLimits: this.options.replicationLimits }
              : {}),
            statusIntervalMs: this.options.statusIntervalMs ?? 50,
            hostPort: channel.port2,
          },
          [channel.port2],
        ),
      ) as Promise<WorkerResult<WorkerStatus>>;
      result = await within(init, initTimeoutMsDefault, `starting ${slot.url}`);
    } catch (error) {
      hostPort.close();
      await worker.terminate();
      throw error;
    }
    if (!result.ok) {
      hostPort.close();
      await worker.terminate();
      throw new RookeryError(result.code, result.message, { url: slot.url });
    }
    if (this.stopped) {
      // stop() came while this server started (a restart or addServer racing it): end it too.
      hostPort.close();
      await within(api.shutdown(), shutdownTimeoutMs, `shutting ${slot.url} down`).catch(
        () => null,
      );
      await worker.terminate();
      throw new RookeryError("ClusterStopped", `the cluster stopped while ${slot.url} started`);
    }
    slot.memory = undefined;
    slot.failure = undefined;
    slot.worker = worker;
    slot.api = api;
    slot.hostPort = hostPort;
    slot.alive = true;
    slot.documents = new Map();
    slot.sorted = new Map();
    hostPort.onmessage = (event: MessageEvent<HostBound>) => {
      if (slot.hostPort === hostPort) this.fromWorker(slot, event.data);
    };
    worker.onExit((reason) => {
      if (slot.worker !== worker || !slot.alive) return;
      slot.api = slot.worker = undefined;
      this.markDown(slot, `the server crashed: ${reason}`);
      this.emit([{ type: "server", atMs: epochMs(), url: slot.url, text: `crashed: ${reason}` }]);
      void worker.terminate();
    });
    this.absorb(slot, result.value);
  }

  /**
   * connectAll gives every pair of running servers a channel of their own: this cluster's among
   * themselves, and each of them with every running server of the clusters already on the network.
   */
  private async connectAll(): Promise<void> {
    const live = this.slots.filter((slot) => slot.alive);
    const others = this.networkSlots().filter((slot) => slot.alive && !this.slots.includes(slot));
    const calls: Promise<void>[] = [];
    for (let i = 0; i < live.length; i++) {
      for (let j = i + 1; j < live.length; j++) calls.push(this.link(live[i]!, live[j]!));
      for (const other of others) calls.push(this.link(live[i]!, other));
    }
    await Promise.all(calls);
  }

  /** connect gives one (re)started server a channel to every other running server of the network. */
  private async connect(slot: Slot): Promise<void> {
    await Promise.all(
      this.networkSlots()
        .filter((other) => other !== slot && other.alive)
        .map((other) => this.link(slot, other)),
    );
  }

  /** link makes one MessageChannel and hands one port to each end, faults set first. */
  private async link(a: Slot, b: Slot): Promise<void> {
    if (!a.api || !b.api) return;
    const { port1, port2 } = new MessageChannel();
    const faults = this.faultsBetween(a.url, b.url);
    const calls: Promise<void>[] = [];
    if (faults !== noFaults)
      calls.push(a.api.setLinkFaults(b.url, faults), b.api.setLinkFaults(a.url, faults));
    calls.push(
      a.api.connectPeer(b.url, transfer(port1, [port1])),
      b.api.connectPeer(a.url, transfer(port2, [port2])),
    );
    await within(Promise.all(calls), controlTimeoutMs, `connecting ${a.url} and ${b.url}`);
  }

  private faultsBetween(a: string, b: string): LinkFaults {
    const { blockedPairs, isolated, linkShapes } = this.root;
    const blocked = blockedPairs.has(pairKey(a, b)) || isolated.has(a) || isolated.has(b);
    const shape = linkShapes.get(pairKey(a, b));
    if (!blocked && !shape) return noFaults;
    return { blocked, latencyMs: shape?.latencyMs ?? 0, lossRate: shape?.lossRate ?? 0 };
  }

  /** applyFaults tells one running server what to do on each of its links now. */
  private applyFaults(slot: Slot): void {
    const api = slot.api;
    if (!api) return;
    const calls = this.networkSlots()
      .filter((other) => other !== slot)
      .map((other) => api.setLinkFaults(other.url, this.faultsBetween(slot.url, other.url)));
    calls.push(
      api.setLinkFaults(
        clientLink,
        this.root.isolated.has(slot.url) ? { ...noFaults, blocked: true } : noFaults,
      ),
    );
    // Comlink calls to one worker run in order, so these take effect before anything sent later;
    // a worker that dies meanwhile has no links left to fault.
    void Promise.all(calls).catch(() => {});
  }

  private fromWorker(slot: Slot, message: HostBound): void {
    if (message.kind === "timed-response") {
      const call = this.pending.get(message.envelope.requestId);
      if (!call) return;
      this.pending.delete(message.envelope.requestId);
      clearTimeout(call.timer);
      call.resolve({ response: message.envelope.response, sentAtMs: message.sentAtMs });
      return;
    }
    if (message.status) this.absorb(slot, message.status);
    else if (message.documents && slot.status) this.applyDocuments(slot, message.documents);
    if (message.events.length > 0) this.emit(message.events);
    if (message.refreshed !== undefined) {
      slot.refreshes.get(message.refreshed)?.();
      slot.refreshes.delete(message.refreshed);
    }
  }

  /** absorb keeps a server's latest status and applies its document changes. */
  private absorb(slot: Slot, status: WorkerStatus): void {
    for (const name of [...slot.documents.keys()]) {
      if (!status.hosted.includes(name)) {
        slot.documents.delete(name);
        slot.sorted.delete(name);
      }
    }
    this.applyDocuments(slot, status.documents);
    for (const name of status.hosted)
      if (!slot.documents.has(name)) slot.documents.set(name, new Set());
    slot.status = status;
    if (status.tag !== "?") slot.lastTag = status.tag;
    if (status.failure && slot.alive && slot.api) void this.failStopped(slot, status.failure);
  }

  /** applyDocuments applies a push's changes to a server's document ids. */
  private applyDocuments(slot: Slot, documents: Readonly<Record<string, DocumentsChange>>): void {
    for (const [name, change] of Object.entries(documents)) {
      let ids = slot.documents.get(name);
      if (change.reset || !ids) slot.documents.set(name, (ids = new Set(change.reset ?? [])));
      for (const id of change.added ?? []) ids.add(id);
      for (const id of change.removed ?? []) ids.delete(id);
      slot.sorted.delete(name);
    }
  }

  /** markDown forgets a server's connections: pending requests fail as a refused connection would. */
  private markDown(slot: Slot, why: string): void {
    slot.alive = false;
    slot.status = undefined;
    slot.documents = new Map();
    slot.sorted = new Map();
    for (const resolve of slot.refreshes.values()) resolve();
    slot.refreshes.clear();
    slot.hostPort?.close();
    slot.hostPort = undefined;
    for (const [id, call] of this.pending) {
      if (call.url !== slot.url) continue;
      this.pending.delete(id);
      clearTimeout(call.timer);
      call.resolve({ response: unavailable(slot.url, why), sentAtMs: null });
    }
  }

  private slot(tagOrUrl: string): Slot {
    return findServer(this.slots, tagOrUrl, (slot) => this.tagOf(slot));
  }

  /** networkSlots lists every server of every cluster on this network. */
  private networkSlots(): Slot[] {
    return this.root.family.flatMap((cluster) => cluster.slots);
  }

  /** slotOnNetwork finds a server by URL anywhere on the network, or one of ours by tag. */
  private slotOnNetwork(tagOrUrl: string): Slot {
    return this.networkSlots().find((slot) => slot.url === tagOrUrl) ?? this.slot(tagOrUrl);
  }

  private tagOf(slot: Slot): NodeTag {
    if (slot.alive && slot.status && slot.status.tag !== "?") slot.lastTag = slot.status.tag;
    return slot.lastTag;
  }

  private assertRunning(): void {
    if (this.stopped)
      throw new RookeryError("ClusterStopped", "the cluster was stopped; start a new one");
  }

  private emit(events: readonly TraceEvent[]): void {
    this.traceListeners.emit(events);
  }
}
