import { RookeryError, tickMsDefault } from "../../core/index.ts";
import type { NodeTag } from "../../core/index.ts";
import { databaseSummaries, findDatabase } from "../../cluster/index.ts";
import type { ClientNetwork } from "../../client/index.ts";
import type { ReplicationLimits } from "../../replication/index.ts";
import { Server } from "../../server/index.ts";
import type { ServerStorage, StorageWrite, TimingOptions, TraceEvent } from "../../server/index.ts";
import { reliableNetwork, SimNetwork } from "../../transport/index.ts";
import type {
  Envelope,
  NetworkFaults,
  ServerRequest,
  ServerResponse,
} from "../../transport/index.ts";
import { findServer, serverUrl } from "../addresses.ts";
import type { ClusterDescription, ClusterHandle, ServerSummary, WaitOptions } from "../handle.ts";
import { TraceListeners } from "../trace-listeners.ts";
import { Simulator } from "./simulator.ts";
import { yieldToEventLoop } from "./yield.ts";

/**
 * SimStorage is durable the moment write() returns, like a disk with a synchronous fsync: a crash
 * keeps exactly what was written. Values are cloned so that nothing written can change later.
 */
export class SimStorage implements ServerStorage {
  private readonly stores = new Map<string, Map<string, unknown>>();
  writes = 0;

  write(batch: readonly StorageWrite[]): void {
    this.writes++;
    for (const write of batch) {
      let store = this.stores.get(write.store);
      if (!store) this.stores.set(write.store, (store = new Map()));
      if (write.op === "put") store.set(write.key, structuredClone(write.value));
      else store.delete(write.key);
    }
  }

  /** some tells whether a stored value in `store` matches, without copying anything. */
  some(store: string, predicate: (value: unknown) => boolean): boolean {
    for (const value of this.stores.get(store)?.values() ?? []) if (predicate(value)) return true;
    return false;
  }

  load(): ReadonlyMap<string, ReadonlyMap<string, unknown>> {
    const copy = new Map<string, Map<string, unknown>>();
    for (const [name, store] of this.stores)
      copy.set(name, new Map([...store].map(([k, v]) => [k, structuredClone(v)])));
    return copy;
  }
}

export { serverUrl };

/** SimClusterOptions describe a simulated cluster of servers. */
export interface SimClusterOptions {
  readonly servers?: number;
  readonly seed?: number;
  readonly timing?: TimingOptions;
  readonly faults?: NetworkFaults;
  readonly replicationLimits?: Partial<ReplicationLimits>;
}

interface SimServerSlot {
  readonly url: string;
  readonly storage: SimStorage;
  server: Server | undefined;
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
  private readonly slots: SimServerSlot[] = [];
  private readonly options: SimClusterOptions;
  private readonly traceListeners = new TraceListeners();
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

  constructor(options: SimClusterOptions = {}) {
    this.options = options;
    this.sim = new Simulator(options.seed ?? 1);
    this.net = new SimNetwork<Envelope>(
      this.sim,
      (envelope) => this.deliver(envelope),
      options.faults ?? reliableNetwork,
    );
    this.tickMs = options.timing?.tickMs ?? tickMsDefault;
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
      };
    });
  }

  /** server returns the live Server behind a tag or URL (tests and the UI look inside). */
  server(tagOrUrl: string): Server | undefined {
    return this.slot(tagOrUrl).server;
  }

  /** storageOf returns what a server keeps on its disk, whether it runs or not (checkers read it). */
  storageOf(tagOrUrl: string): SimStorage {
    return this.slot(tagOrUrl).storage;
  }

  /** addServer starts one more fresh server; it shows "?" until it joins the cluster. */
  async addServer(): Promise<string> {
    return this.addServerNow();
  }

  /** kill stops a server the way a crash would; what it wrote to storage stays. */
  async kill(tagOrUrl: string): Promise<void> {
    const slot = this.slot(tagOrUrl);
    if (!slot.server) throw new RookeryError("ServerDown", `${slot.url} is already down`);
    slot.lastTag = slot.server.tag;
    slot.server = undefined;
    this.emit([{ type: "server", atMs: this.sim.nowMs(), url: slot.url, text: "killed" }]);
  }

  /** restart brings a killed server back from its storage. */
  async restart(tagOrUrl: string): Promise<void> {
    const slot = this.slot(tagOrUrl);
    if (slot.server)
      throw new RookeryError("ServerRunning", `${slot.url} is running; kill it first`);
    slot.server = this.startServer(slot);
    this.emit([
      {
        type: "server",
        atMs: this.sim.nowMs(),
        url: slot.url,
        text: `restarted as ${slot.server.tag}`,
      },
    ]);
  }

  /** partition cuts every link between two groups of servers (by tag or URL). */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    this.net.partition(
      groupA.map((s) => this.slot(s).url),
      groupB.map((s) => this.slot(s).url),
    );
  }

  /** isolate cuts one server off from everyone, clients included. */
  isolate(tagOrUrl: string): void {
    this.net.disconnect(this.slot(tagOrUrl).url);
  }

  heal(): void {
    this.net.heal();
  }

  on(event: "trace", listener: (events: readonly TraceEvent[]) => void): () => void {
    return this.traceListeners.on(event, listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const slot of this.slots) slot.server = undefined;
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
    for (const slot of this.slots) if (slot.server?.hasPendingWork()) return true;
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
      while (this.clientCalls.size > 0 && !this.stopped) {
        if (this.demand > 0) {
          await yieldToEventLoop();
          continue;
        }
        await this.drive(() => this.clientCalls.size === 0, Infinity);
      }
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
    const url = serverUrl(this.slots.length);
    const slot: SimServerSlot = { url, storage: new SimStorage(), server: undefined, lastTag: "?" };
    this.slots.push(slot);
    slot.server = this.startServer(slot);
    return url;
  }

  private startServer(slot: SimServerSlot): Server {
    return Server.startSync({
      url: slot.url,
      storage: slot.storage,
      transport: { send: (envelope) => this.net.send(envelope) },
      clock: this.sim.clock,
      random: this.sim.random.fork(),
      ...(this.options.timing ? { timing: this.options.timing } : {}),
      ...(this.options.replicationLimits
        ? { replicationLimits: this.options.replicationLimits }
        : {}),
      trace: (event) => this.emit([event]),
    });
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
    const slot = this.slots.find((s) => s.url === envelope.to);
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

  private lastKnownTag(slot: SimServerSlot): NodeTag {
    if (slot.server) slot.lastTag = slot.server.tag;
    return slot.lastTag;
  }

  private emit(events: readonly TraceEvent[]): void {
    this.traceListeners.emit(events);
  }
}
