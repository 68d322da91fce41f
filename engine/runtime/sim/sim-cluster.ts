import { RookeryError } from "../../core/index.ts";
import type { NodeTag } from "../../core/index.ts";
import { databaseSummaries, findDatabase } from "../../cluster/index.ts";
import type { ClientNetwork } from "../../client/index.ts";
import type { ReplicationLimits } from "../../replication/index.ts";
import { Server, withTiming } from "../../server/index.ts";
import type { ServerFailure, TimingOptions, TraceEvent } from "../../server/index.ts";
import { reliableNetwork, SimNetwork } from "../../transport/index.ts";
import type {
  Envelope,
  NetworkFaults,
  ServerRequest,
  ServerResponse,
} from "../../transport/index.ts";
import { findServer, serverUrl } from "../addresses.ts";
import type {
  ClusterDescription,
  ClusterHandle,
  ServerSummary,
  SiblingOptions,
  WaitOptions,
} from "../handle.ts";
import { TraceListeners } from "../trace-listeners.ts";
import { adaptStorage } from "../server-store.ts";
import type { ServerStore } from "../server-store.ts";
import { reliableStorage, SimDisk } from "./sim-disk.ts";
import type { StorageFaults } from "./sim-disk.ts";
import { SimulationStalled, Simulator } from "./simulator.ts";
import { yieldToEventLoop } from "./yield.ts";

export { serverUrl };

/** SimClusterOptions describe a simulated cluster of servers. */
export interface SimClusterOptions {
  readonly servers?: number;
  readonly seed?: number;
  readonly timing?: TimingOptions;
  readonly faults?: NetworkFaults;
  /** How the servers' disks behave: fsync latency and, in sweeps, storage faults. */
  readonly storageFaults?: StorageFaults;
  readonly replicationLimits?: Partial<ReplicationLimits>;
}

export type { SiblingOptions };

interface SimServerSlot {
  readonly url: string;
  /** The server's disk, which outlives every start of the server. */
  readonly disk: SimDisk;
  /** The storage open on the disk while the server runs (or starts). */
  store: ServerStore | undefined;
  server: Server | undefined;
  /** A restart in progress: the server is recovering from its disk. */
  starting: Promise<void> | undefined;
  /** Counts kills, so a restart that a kill overtook does not come up. */
  lives: number;
  /** Why the server stopped by itself (a failed storage write), until it restarts. */
  failure: ServerFailure | undefined;
  /** The tag the server had when it last ran ("?" until it joined), so a dead one keeps its name. */
  lastTag: NodeTag;
}

/** Longer than a cluster-wide operation's wait for a leader, so that error reaches the client. */
const clientTimeoutMsDefault = 5_000;

/**
 * SimCluster runs servers in one thread on the simulator's virtual clock, connected by a seeded
 * network. Code written with async/await runs against it unchanged: while anything awaits the
 * cluster, virtual time advances event by event, and between events the promise continuations of
 * servers and clients run, so `await` completes in virtual time, fast and reproducibly.
 */
export class SimCluster implements ClusterHandle {
  readonly sim: Simulator;
  readonly net: SimNetwork<Envelope>;
  readonly network: ClientNetwork;
  /** How the disks behave from now on (a sweep turns faults off for its final checks). */
  storageFaults: StorageFaults;
  /**
   * Which cluster of its network this is: 0 for the one that made the network, 1, 2 … for the
   * siblings started on it. Its servers live at http://127.0.<index>.1:8080, .2 …
   */
  readonly networkIndex: number;
  private readonly slots: SimServerSlot[] = [];
  private readonly options: SimClusterOptions;
  private readonly traceListeners = new TraceListeners();
  private readonly sendWatchers: ((envelope: Envelope) => void)[] = [];
  /** The cluster that made the network; it owns the client calls and drives virtual time. */
  private readonly root: SimCluster;
  /** On the root: every cluster on its network, itself first. */
  private readonly family: SimCluster[] = [];
  /** Client requests waiting for their answer, by request id, with where they went. */
  private readonly clientCalls = new Map<
    number,
    { readonly url: string; readonly from: string; readonly resolve: (r: ServerResponse) => void }
  >();
  private nextRequestId = 1;
  private demand = 0;
  private driving = false;
  private stopped = false;
  private readonly tickMs: number;

  constructor(options: SimClusterOptions = {}, root?: SimCluster) {
    // Checked before anything starts: a tick of 0 ms would never let virtual time move.
    const tickMs = withTiming(options.timing).tickMs;
    this.options = options;
    if (root) {
      // A sibling shares everything that makes a world: the clock, the event queue, the seeded
      // random, the network (faults included) and the client calls in flight.
      this.root = root;
      this.sim = root.sim;
      this.net = root.net;
      this.networkIndex = root.family.length;
      root.family.push(this);
    } else {
      this.root = this;
      this.sim = new Simulator(options.seed ?? 1);
      this.net = new SimNetwork<Envelope>(
        this.sim,
        (envelope) => this.deliver(envelope),
        options.faults ?? reliableNetwork,
      );
      this.networkIndex = 0;
      this.family.push(this);
    }
    this.tickMs = tickMs;
    this.storageFaults = { ...(options.storageFaults ?? reliableStorage) };
    for (let i = 0; i < (options.servers ?? 1); i++) this.addServerNow();
    this.sim.every(this.tickMs, () => {
      for (const slot of this.slots) slot.server?.tick();
      return !this.stopped;
    });
    this.network = {
      request: (url, request, requestOptions) => this.request(url, request, requestOptions),
      nowMs: () => this.sim.nowMs(),
    };
  }

  /**
   * startSibling starts another cluster on this cluster's simulated network: same virtual clock,
   * same faults, one address space (its servers are http://127.0.1.1:8080, .2 …), so traffic
   * between the two clusters (external replication) has latency and loss and can be cut with
   * partition(). Each cluster has its own servers, tags and Rachis; either's network reaches both.
   */
  async startSibling(options: SiblingOptions = {}): Promise<SimCluster> {
    return this.startSiblingNow(options);
  }

  /** startSiblingNow is startSibling without the promise, for synchronous test setups. */
  startSiblingNow(options: SiblingOptions = {}): SimCluster {
    if (this.root.stopped)
      throw new RookeryError("ClusterStopped", "the network's first cluster was stopped");
    return new SimCluster(options, this.root);
  }

  /** siblings lists the other clusters on this cluster's network. */
  get siblings(): SimCluster[] {
    return this.root.family.filter((cluster) => cluster !== this);
  }

  // --- servers -----------------------------------------------------------------------------------

  get urls(): string[] {
    return this.slots.map((slot) => slot.url);
  }

  get servers(): ServerSummary[] {
    return this.slots.map((slot) => {
      const soft = slot.server?.soft();
      return {
        url: slot.url,
        tag: this.lastKnownTag(slot),
        role: slot.server ? (soft?.role ?? "passive") : "down",
        term: soft?.term ?? 0,
        leader: soft?.leader ?? null,
        alive: slot.server !== undefined,
        ...(slot.failure && !slot.server ? { failure: slot.failure } : {}),
      };
    });
  }

  /** server returns the live Server behind a tag or URL (tests and the UI look inside). */
  server(tagOrUrl: string): Server | undefined {
    return this.slot(tagOrUrl).server;
  }

  /** storageOf returns a server's disk, whether it runs or not (checkers read what it kept). */
  storageOf(tagOrUrl: string): SimDisk {
    return this.slot(tagOrUrl).disk;
  }

  /** addServer starts one more fresh server; it shows "?" until it joins the cluster. */
  async addServer(): Promise<string> {
    return this.addServerNow();
  }

  /**
   * kill stops a server the way a crash would: what its disk had synced stays, the rest is lost
   * (or, under storage faults, partly kept, the last batch perhaps torn).
   */
  async kill(tagOrUrl: string): Promise<void> {
    const slot = this.slot(tagOrUrl);
    if (!slot.server && !slot.starting)
      throw new RookeryError("ServerDown", `${slot.url} is already down`);
    this.crashSlot(slot, "killed");
  }

  /**
   * restart brings a killed server back from its disk, through the same asynchronous load as
   * every runtime; until it has recovered, it refuses connections. Restarting a server that is
   * already starting waits for that start.
   */
  async restart(tagOrUrl: string): Promise<void> {
    const slot = this.slot(tagOrUrl);
    if (slot.server)
      throw new RookeryError("ServerRunning", `${slot.url} is running; kill it first`);
    slot.starting ??= this.recoverSlot(slot).finally(() => {
      slot.starting = undefined;
    });
    return slot.starting;
  }

  /**
   * partition cuts every link between two groups of servers: this cluster's by tag or URL, and a
   * sibling's by URL (partition(a.urls, b.urls) cuts one cluster off from the other).
   */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    this.net.partition(
      groupA.map((s) => this.urlOnNetwork(s)),
      groupB.map((s) => this.urlOnNetwork(s)),
    );
  }

  /** isolate cuts one server off from everyone, clients included. */
  isolate(tagOrUrl: string): void {
    this.net.disconnect(this.slot(tagOrUrl).url);
  }

  /**
   * heal restores every link of this cluster's servers, those to a sibling's included; a cut
   * inside a sibling stays until that sibling heals.
   */
  heal(): void {
    if (this.root.family.length === 1) this.net.heal();
    else this.net.healLinksOf(this.urls);
  }

  on(event: "trace", listener: (events: readonly TraceEvent[]) => void): () => void {
    return this.traceListeners.on(event, listener);
  }

  /**
   * watchSends calls `watcher` with every envelope a server sends, as it leaves (before the
   * network may lose it): checkers compare what a message states with what its sender holds.
   */
  watchSends(watcher: (envelope: Envelope) => void): void {
    this.sendWatchers.push(watcher);
  }

  /** stop stops this cluster's servers; stopping the network's first cluster stops its siblings. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const slot of this.slots) {
      slot.server = undefined;
      slot.lives++;
      slot.store?.crash();
      slot.store = undefined;
    }
    if (this.root === this) for (const sibling of this.siblings) await sibling.stop();
  }

  // --- time ---------------------------------------------------------------------------------------

  nowMs(): number {
    return this.sim.nowMs();
  }

  /** runFor lets `durationMs` of virtual time pass. */
  async runFor(durationMs: number): Promise<void> {
    const until = this.sim.nowMs() + durationMs;
    await this.drive(() => false, until);
    this.sim.runFor(Math.max(0, until - this.sim.nowMs()));
  }

  /**
   * waitFor runs virtual time until `condition` holds, or fails after `timeoutMs` with an error
   * that says what was awaited.
   */
  async waitFor(
    condition: (cluster: SimCluster) => boolean,
    options: WaitOptions = {},
  ): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const met = await this.drive(() => condition(this), this.sim.nowMs() + timeoutMs);
    if (!met) {
      throw new RookeryError(
        "WaitTimedOut",
        `waited ${timeoutMs} virtual ms for ${options.what ?? "a condition"} and it did not happen`,
      );
    }
  }

  /**
   * drive steps the simulator until `done()` or virtual time `untilMs`. Between events it yields
   * to the event loop whenever a server or client has promise continuations pending.
   */
  private async drive(done: () => boolean, untilMs: number): Promise<boolean> {
    if (this.root !== this) return await this.root.drive(done, untilMs);
    this.demand++;
    try {
      for (;;) {
        if (this.pendingWork()) await yieldToEventLoop();
        if (done()) return true;
        if (!this.sim.stepUntil(untilMs)) return done();
      }
    } finally {
      this.demand--;
    }
  }

  private pendingWork(): boolean {
    if (this.clientCalls.size > 0) return true;
    for (const cluster of this.family)
      for (const slot of cluster.slots)
        if (slot.starting || slot.server?.hasPendingWork()) return true;
    return false;
  }

  /**
   * settle runs virtual time until `promise` settles: for work started inside the simulation
   * without a client request (a server's handleRequest called directly, by tests and benches).
   */
  async settle<T>(promise: Promise<T>, timeoutMs = 60_000): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    const met = await this.drive(() => settled, this.sim.nowMs() + timeoutMs);
    if (!met)
      throw new RookeryError(
        "WaitTimedOut",
        `waited ${timeoutMs} virtual ms for work inside the cluster to finish`,
      );
    return await tracked;
  }

  /** request sends one request to a server over the simulated network. */
  async request(
    url: string,
    request: ServerRequest,
    options: { readonly timeoutMs?: number; readonly from?: string } = {},
  ): Promise<ServerResponse> {
    if (this.root !== this) return await this.root.request(url, request, options);
    // A request travels as a copy, as on any real transport: what reaches the server is plain
    // data, and the caller may change its own objects afterwards.
    const copy = structuredClone(request);
    const requestId = this.nextRequestId++;
    const from = options.from ?? "client";
    const timeoutMs = options.timeoutMs ?? clientTimeoutMsDefault;
    const type = (request as { type?: unknown } | null)?.type;
    const what = typeof type === "string" ? type : "a request";
    const answered = new Promise<ServerResponse>((resolve) => {
      this.clientCalls.set(requestId, { url, from, resolve });
      this.sim.schedule(timeoutMs, () => {
        const pending = this.clientCalls.get(requestId);
        if (!pending) return;
        this.clientCalls.delete(requestId);
        pending.resolve({
          ok: false,
          error: {
            code: "RequestTimeout",
            message: `${url} did not answer ${what} within ${timeoutMs} ms`,
          },
        });
      });
    });
    this.net.send({ kind: "request", from, to: url, requestId, request: copy });
    if (!this.driving) void this.driveWhileDemanded();
    return await answered;
  }

  /** A client awaiting a response keeps virtual time running, as a real network would. */
  private async driveWhileDemanded(): Promise<void> {
    this.driving = true;
    try {
      while (this.clientCalls.size > 0 && !this.stopped && !this.sim.stalled) {
        if (this.demand > 0) {
          await yieldToEventLoop();
          continue;
        }
        await this.drive(() => this.clientCalls.size === 0, Infinity);
      }
    } catch (error) {
      // A stalled run ends here; whoever drives the run reads sim.stalled and reports it.
      if (!(error instanceof SimulationStalled)) throw error;
    } finally {
      this.driving = false;
    }
  }

  // --- description --------------------------------------------------------------------------------

  /** describe returns the cluster as plain JSON: topology, leader, databases, documents. */
  describe(): ClusterDescription {
    const servers = this.servers;
    const leaders = servers
      .filter((s) => s.alive && s.role === "leader")
      .sort((a, b) => b.term - a.term);
    const leaderRow = leaders[0];
    const source =
      this.slots.find((slot) => slot.url === leaderRow?.url)?.server ??
      this.slots.find((slot) => slot.server?.clusterState)?.server;
    const state = source?.clusterState;
    const databases = state ? databaseSummaries(state) : [];
    const documents: Record<NodeTag, Record<string, string[]>> = {};
    for (const slot of this.slots) {
      if (!slot.server) continue;
      const perDatabase: Record<string, string[]> = {};
      for (const name of slot.server.hostedDatabaseNames().sort()) {
        perDatabase[name] = slot.server
          .hostedDatabase(name)!
          .instance.list()
          .map((doc) => doc.id)
          .sort();
      }
      documents[slot.server.tag === "?" ? slot.url : slot.server.tag] = perDatabase;
    }
    return {
      atMs: this.sim.nowMs(),
      cluster: servers,
      leader: leaderRow?.tag ?? null,
      term: leaderRow?.term ?? 0,
      databases,
      documents,
    };
  }

  /** databaseRecord reads a database record from any live server that knows the cluster. */
  databaseRecord(name: string) {
    for (const slot of this.slots) {
      const state = slot.server?.clusterState;
      const record = state ? findDatabase(state, name) : undefined;
      if (record) return record;
    }
    return undefined;
  }

  // --- internals ------------------------------------------------------------------------------------

  private addServerNow(): string {
    const url = serverUrl(this.slots.length, this.networkIndex);
    const disk = new SimDisk(url, this.sim, this.sim.random.fork(), () => this.storageFaults);
    const slot: SimServerSlot = {
      url,
      disk,
      store: undefined,
      server: undefined,
      starting: undefined,
      lives: 0,
      failure: undefined,
      lastTag: "?",
    };
    this.slots.push(slot);
    const store = this.openStore(slot);
    // A brand-new disk holds nothing to recover, so the server is up at once; every restart
    // recovers through the port's asynchronous load (recoverSlot).
    slot.server = Server.startSync(
      this.serverOptions(slot, { ...store.port, load: () => new Map() }),
    );
    return url;
  }

  private async recoverSlot(slot: SimServerSlot): Promise<void> {
    const life = slot.lives;
    const store = this.openStore(slot);
    let server: Server;
    try {
      server = await Server.start(this.serverOptions(slot, store.port));
    } catch (error) {
      store.crash();
      if (slot.store === store) slot.store = undefined;
      this.emitServer(slot, `could not restart: ${(error as Error).message}`);
      throw error;
    }
    if (slot.lives !== life || this.stopped) return; // killed while it recovered
    slot.server = server;
    slot.failure = undefined;
    this.emitServer(slot, `restarted as ${server.tag}`);
  }

  private openStore(slot: SimServerSlot): ServerStore {
    const store = adaptStorage(
      slot.disk.open((warning) => this.emitServer(slot, `storage: ${warning.message}`)),
      null,
    );
    slot.store = store;
    return store;
  }

  private crashSlot(slot: SimServerSlot, why: string): void {
    if (slot.server) slot.lastTag = slot.server.tag;
    slot.server = undefined;
    slot.lives++;
    slot.store?.crash();
    slot.store = undefined;
    this.emitServer(slot, why);
  }

  private serverOptions(slot: SimServerSlot, storage: ServerStore["port"]) {
    const life = slot.lives;
    return {
      url: slot.url,
      storage,
      transport: { send: (envelope: Envelope) => this.send(envelope) },
      clock: this.sim.clock,
      random: this.sim.random.fork(),
      ...(this.options.timing ? { timing: this.options.timing } : {}),
      ...(this.options.replicationLimits
        ? { replicationLimits: this.options.replicationLimits }
        : {}),
      trace: (event: TraceEvent) => this.emit([event]),
      // The host reports a server that stopped after a failed write as crashed.
      onFailStop: (failure: ServerFailure) => {
        if (slot.lives !== life) return;
        slot.failure = failure;
        this.crashSlot(slot, `crashed: ${failure.message}`);
      },
    };
  }

  private send(envelope: Envelope): void {
    for (const watcher of this.sendWatchers) watcher(envelope);
    this.net.send(envelope);
  }

  private emitServer(slot: SimServerSlot, text: string): void {
    this.emit([{ type: "server", atMs: this.sim.nowMs(), url: slot.url, text }]);
  }

  private deliver(envelope: Envelope): void {
    if (envelope.kind === "response") {
      // Only the server asked answers, and only to whoever asked.
      const call = this.clientCalls.get(envelope.requestId);
      if (call && call.url === envelope.from && call.from === envelope.to) {
        this.clientCalls.delete(envelope.requestId);
        call.resolve(envelope.response);
      }
      return;
    }
    const slot = this.slotOnNetwork(envelope.to);
    if (slot?.server) {
      slot.server.receive(envelope);
    } else if (envelope.kind === "request" && slot) {
      // The host is up but the process is not: the connection is refused at once, as with TCP.
      this.net.send({
        kind: "response",
        from: envelope.to,
        to: envelope.from,
        requestId: envelope.requestId,
        response: {
          ok: false,
          error: {
            code: "ServerUnavailable",
            message: `connection to ${envelope.to} refused: the server is down`,
          },
        },
      });
    }
  }

  private slot(tagOrUrl: string): SimServerSlot {
    return findServer(this.slots, tagOrUrl, (slot) => this.lastKnownTag(slot));
  }

  /** slotOnNetwork finds the server at `url` in any cluster of this network. */
  private slotOnNetwork(url: string): SimServerSlot | undefined {
    for (const cluster of this.root.family) {
      const slot = cluster.slots.find((s) => s.url === url);
      if (slot) return slot;
    }
    return undefined;
  }

  /** urlOnNetwork resolves one of this cluster's servers by tag or URL, or a sibling's by URL. */
  private urlOnNetwork(tagOrUrl: string): string {
    return this.slotOnNetwork(tagOrUrl)?.url ?? this.slot(tagOrUrl).url;
  }

  private lastKnownTag(slot: SimServerSlot): NodeTag {
    if (slot.server) slot.lastTag = slot.server.tag;
    return slot.lastTag;
  }

  private emit(events: readonly TraceEvent[]): void {
    this.traceListeners.emit(events);
  }
}
