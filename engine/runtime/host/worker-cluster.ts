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
import { earlierData } from "../earlier-data.ts";
import type { ClusterDescription, ClusterHandle, ServerSummary, WaitOptions } from "../handle.ts";
import { PendingCalls, pairKey, timedOut, unavailable } from "../host-calls.ts";
import { epochMs, pollUntil, sleep, within } from "../real-time.ts";
import {
  applyStatusUpdate,
  absorbStatus,
  describeRows,
  forgetStatus,
  rowTag,
  statusRowFields,
  summarizeRows,
} from "../status-book.ts";
import type { StatusRow } from "../status-book.ts";
import { TraceListeners } from "../trace-listeners.ts";
import type {
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

interface Slot extends StatusRow {
  readonly index: number;
  /** Restarts so far; seeds a fresh random stream for each life. */
  generation: number;
  worker: SpawnedWorker | undefined;
  api: Remote<ServerWorkerApi> | undefined;
  hostPort: MessagePort | undefined;
  /** memory storage: the disk's contents, kept by the host while the server is down. */
  memory: StorageSnapshot | undefined;
  /** The crash of a server that stopped by itself, which a restart waits for (its disk). */
  crashing: Promise<void> | undefined;
}

/** TimedAnswer is a response with the epoch ms at which the server sent it (null if it did not). */
export interface TimedAnswer {
  readonly response: ServerResponse;
  readonly sentAtMs: number | null;
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
  private readonly requests = new PendingCalls<TimedAnswer>();
  private readonly refreshes = new PendingCalls<void>();
  private readonly traceListeners = new TraceListeners();
  private readonly blockedPairs = new Set<string>();
  private readonly isolated = new Set<string>();
  private readonly linkShapes = new Map<string, { latencyMs: number; lossRate: number }>();
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
    const { count, wipe } = earlierData(dataDir, found, servers, fresh, (index) =>
      platform.serverDir(dataDir, index),
    );
    if (wipe.length > 0) await platform.removeServerDirs(dataDir, wipe);
    return count;
  }

  // --- servers -----------------------------------------------------------------------------------

  get urls(): string[] {
    return this.slots.map((slot) => slot.url);
  }

  get servers(): ServerSummary[] {
    return summarizeRows(this.slots);
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
    await pollUntil(
      () => condition(this),
      options,
      () => this.stopped,
    );
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
        // A hung worker keeps its last status; its exit (or kill) marks it down.
        await this.refreshes.call(
          slot.url,
          controlTimeoutMs,
          () => undefined,
          (id) => port.postMessage({ kind: "refresh", id } satisfies WorkerBound),
        );
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
    const timeoutMs = options.timeoutMs ?? clientTimeoutMsDefault;
    return this.requests.call(
      url,
      timeoutMs,
      () => ({ response: timedOut(url, request, timeoutMs), sentAtMs: null }),
      (requestId) => {
        const envelope: Envelope = {
          kind: "request",
          from: options.from ?? "client",
          to: url,
          requestId,
          request,
        };
        port.postMessage(envelope);
      },
    );
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
    return describeRows(this.slots, epochMs());
  }

  // --- internals ------------------------------------------------------------------------------------

  private newSlot(index: number): Slot {
    return {
      ...statusRowFields(),
      index,
      url: serverUrl(index, this.networkIndex),
      generation: 0,
      worker: undefined,
      api: undefined,
      hostPort: undefined,
      memory: undefined,
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
    absorbStatus(slot, result.value);
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
    if (message.kind === "timed-response")
      return this.requests.settle(message.envelope.requestId, {
        response: message.envelope.response,
        sentAtMs: message.sentAtMs,
      });
    applyStatusUpdate(slot, message);
    const failure = message.status?.failure;
    if (failure && slot.alive && slot.api) void this.failStopped(slot, failure);
    if (message.events.length > 0) this.emit(message.events);
    if (message.refreshed !== undefined) this.refreshes.settle(message.refreshed, undefined);
  }

  /** markDown forgets a server's connections: pending requests fail as a refused connection would. */
  private markDown(slot: Slot, why: string): void {
    forgetStatus(slot);
    this.refreshes.abandon(slot.url, () => undefined);
    slot.hostPort?.close();
    slot.hostPort = undefined;
    this.requests.abandon(slot.url, () => ({
      response: unavailable(slot.url, why),
      sentAtMs: null,
    }));
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
    return rowTag(slot);
  }

  private assertRunning(): void {
    if (this.stopped)
      throw new RookeryError("ClusterStopped", "the cluster was stopped; start a new one");
  }

  private emit(events: readonly TraceEvent[]): void {
    this.traceListeners.emit(events);
  }
}
