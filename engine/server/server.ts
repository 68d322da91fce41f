import { describe, isRookeryError, RookeryError, UNASSIGNED_TAG } from "../core/index.ts";
import type { Clock, NodeTag, Random } from "../core/index.ts";
import {
  clusterNodeTags,
  clusterNodeUrl,
  databaseStatusOn,
  databaseSummaries,
  findDatabase,
  findTagByUrl,
  isBootstrapped,
  normaliseServerUrl,
  prepareClusterCommand,
  renderClusterCommand,
  replicationDestinations,
  superviseCluster,
} from "../cluster/index.ts";
import type {
  ClusterCommand,
  ClusterCommandResult,
  ClusterState,
  DatabaseNodeReport,
  NodeHealthReport,
} from "../cluster/index.ts";
import { DatabaseInstance, includedIds } from "../database/index.ts";
import type { PersistedRecord, StoreName } from "../database/index.ts";
import { quorum } from "../raft/index.ts";
import type { Message as RaftMessage, SoftState } from "../raft/index.ts";
import type {
  DestinationCursor,
  ReplicationConnect,
  ReplicationLimits,
  ReplicationWireMessage,
} from "../replication/index.ts";
import { writeAssuranceTimeoutError } from "../replication/index.ts";
import {
  cursorStore,
  databaseStore,
  HostedDatabase,
  instanceSettings,
  persistenceWrites,
  splitDatabaseKey,
} from "./hosted-database.ts";
import type { ServerStorage, ServerTransport, StorageWrite, TraceEvent } from "./ports.ts";
import { topologyView } from "./protocol.ts";
import type {
  DocumentView,
  Envelope,
  HiloRange,
  LoadResult,
  PeerMessage,
  ServerError,
  ServerRequest,
  ServerResponse,
} from "./protocol.ts";
import { RachisHost } from "./rachis-host.ts";
import { withTiming } from "./timing.ts";
import type { ServerTiming } from "./timing.ts";

const metaStore = "server";
/** Ids one hilo-next hands out (RavenDB starts at 32 and grows; a fixed range is enough here). */
const hiloRangeIds = 32;
/** Early replication connects kept at most (see receiveReplication); the oldest goes first. */
const earlyConnectsMax = 64;

/** ServerOptions wires a server to its runtime. */
export interface ServerOptions {
  readonly url: string;
  readonly storage: ServerStorage;
  readonly transport: ServerTransport;
  readonly clock: Clock;
  readonly random: Random;
  readonly timing?: Parameters<typeof withTiming>[0];
  readonly replicationLimits?: Partial<ReplicationLimits>;
  readonly trace?: (event: TraceEvent) => void;
}

interface Waiter {
  readonly until: () => boolean;
  readonly deadlineMs: number;
  readonly resolve: (met: boolean) => void;
}

interface PeerCall {
  readonly deadlineMs: number;
  readonly resolve: (message: PeerMessage | undefined) => void;
}

const bootstrapsCluster = new Set<ServerRequest["type"]>([
  "add-node",
  "create-database",
  "add-database-node",
]);

const clusterOperations = new Set<ServerRequest["type"]>([
  "add-node",
  "remove-node",
  "create-database",
  "delete-database",
  "add-database-node",
  "set-revisions",
  "set-conflict-resolution",
]);

function failure(
  code: string,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): ServerResponse {
  return { ok: false, error: { code, message, ...(details ? { details } : {}) } };
}

function fromError(error: unknown): ServerResponse {
  if (isRookeryError(error)) return failure(error.code, error.message, error.details);
  throw error;
}

/** describeOperation names a cluster-wide operation the way errors speak of it. */
export function describeOperation(request: ServerRequest): string {
  switch (request.type) {
    case "add-node":
      return `adding ${request.url} to the cluster`;
    case "remove-node":
      return `removing node ${request.tag} from the cluster`;
    case "create-database":
      return `creating database '${request.name}'`;
    case "delete-database":
      return `deleting database '${request.name}'`;
    case "add-database-node":
      return `adding ${request.tag ?? "a node"} to database '${request.database}'`;
    case "set-revisions":
      return `changing revisions of '${request.database}'`;
    case "set-conflict-resolution":
      return `changing conflict resolution of '${request.database}'`;
    default:
      return request.type;
  }
}

/**
 * Server is one RavenDB-style server: Rachis for the cluster layer, database instances with
 * multi-master replication for the database layer, the supervisor when it leads, and one request
 * API for clients and the UI. It owns no timer and no socket: its runtime calls tick() every
 * tickMs, hands it envelopes, and gives it a Storage, a Transport and a Clock.
 */
export class Server {
  readonly url: string;
  readonly timing: ServerTiming;
  private readonly storage: ServerStorage;
  private readonly transport: ServerTransport;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly replicationLimits: Partial<ReplicationLimits>;
  private readonly trace: (event: TraceEvent) => void;

  private tagValue: NodeTag = UNASSIGNED_TAG;
  private topologyId: string | null = null;
  private rachis: RachisHost | undefined;
  private readonly databases = new Map<string, HostedDatabase>();
  private loaded: ReadonlyMap<string, ReadonlyMap<string, unknown>> = new Map();
  private readonly lastHeardMs = new Map<NodeTag, number>();
  private readonly peerUrls = new Map<NodeTag, string>();
  private readonly healthReports = new Map<
    NodeTag,
    { lastHeardMs: number; databases: Record<string, DatabaseNodeReport> }
  >();
  private leaderSinceMs = 0;
  private lastSupervisorMs = 0;
  private lastHealthReportMs = 0;
  private readonly supervisorInFlight = new Set<string>();
  private promotingNode = false;
  private readonly waiters: Waiter[] = [];
  /** Replication connects for databases not hosted here yet, by "database/sender" (bounded). */
  private readonly earlyConnects = new Map<string, ReplicationConnect>();
  private readonly peerCalls = new Map<number, PeerCall>();
  private nextCallId = 1;
  private writeChain: Promise<void> | undefined;
  private requestsInFlight = 0;
  /** The top of the last HiLo range handed out, by "database/collection" (lower case). */
  private readonly hiloMax = new Map<string, number>();

  private constructor(options: ServerOptions) {
    const normalised = normaliseServerUrl(options.url);
    if ("problem" in normalised)
      throw new RookeryError(
        "InvalidUrl",
        `cannot start a server at "${options.url}": ${normalised.problem}`,
      );
    this.url = normalised.url;
    this.storage = options.storage;
    this.transport = options.transport;
    this.clock = options.clock;
    this.random = options.random;
    this.timing = withTiming(options.timing);
    this.replicationLimits = options.replicationLimits ?? {};
    this.trace = options.trace ?? (() => {});
  }

  /**
   * start opens a server on its storage: a fresh one is passive and shows "?"; one that was in a
   * cluster recovers its tag, its Raft log, the cluster state and its databases.
   */
  static async start(options: ServerOptions): Promise<Server> {
    const server = new Server(options);
    server.recover(await options.storage.load());
    return server;
  }

  /** startSync is start() for storage whose load is synchronous (the simulator's). */
  static startSync(options: ServerOptions): Server {
    const server = new Server(options);
    const loaded = options.storage.load();
    if (loaded instanceof Promise)
      throw new Error("startSync needs synchronous storage; use Server.start");
    server.recover(loaded);
    return server;
  }

  get tag(): NodeTag {
    return this.tagValue;
  }

  get clusterState(): ClusterState | undefined {
    return this.rachis?.state;
  }

  soft(): SoftState | undefined {
    return this.rachis?.soft();
  }

  /** appliedIndex is the Raft index of the cluster state this server applied (0 without a cluster). */
  appliedIndex(): number {
    return this.rachis?.appliedIndex() ?? 0;
  }

  raftStatus(): ReturnType<RachisHost["status"]> | undefined {
    return this.rachis?.status();
  }

  hostedDatabase(name: string): HostedDatabase | undefined {
    return this.databases.get(name.toLowerCase());
  }

  hostedDatabaseNames(): string[] {
    return [...this.databases.values()].map((db) => db.name);
  }

  private recover(stores: ReadonlyMap<string, ReadonlyMap<string, unknown>>): void {
    this.loaded = stores;
    const meta = stores.get(metaStore);
    const tag = meta?.get("tag");
    const topologyId = meta?.get("topologyId");
    if (typeof tag !== "string" || typeof topologyId !== "string") return;
    this.tagValue = tag;
    this.topologyId = topologyId;
    this.rachis = this.newRachis(RachisHost.readPersisted(stores));
    this.rachis.start();
  }

  private newRachis(persisted: ReturnType<typeof RachisHost.readPersisted>): RachisHost {
    return new RachisHost(
      this.tagValue,
      this.random.fork(),
      this.timing,
      {
        send: (tag, message) => this.sendRaft(tag, message),
        persist: (writes, done) => this.persist(writes, done),
        applied: (index, command, result, state) => this.onApplied(index, command, result, state),
        restored: (state) => this.reconcileDatabases(state),
        roleChanged: (soft) => this.onRoleChanged(soft),
      },
      persisted,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // The runtime's entry points.

  /** tick is called every timing.tickMs by the runtime. */
  tick(): void {
    const now = this.clock.nowMs();
    this.rachis?.tick();
    for (const db of this.databases.values()) db.tick(now, this.timing.replicationRetryMs);
    this.sendHealthReport(now);
    this.superviseIfLeading(now);
    this.reconcileMembership();
    this.settleWaiters(now);
  }

  /** receive handles one envelope addressed to this server. */
  receive(envelope: Envelope): void {
    if (envelope.kind === "request") {
      void this.handleRequest(envelope.request).then((response) =>
        this.transport.send({
          kind: "response",
          from: this.url,
          to: envelope.from,
          requestId: envelope.requestId,
          response,
        }),
      );
      return;
    }
    if (envelope.kind === "peer") this.receivePeer(envelope.from, envelope.message);
  }

  /** handleRequest answers one request; it never throws, errors travel as ServerError. */
  async handleRequest(request: ServerRequest): Promise<ServerResponse> {
    this.requestsInFlight++;
    try {
      if (clusterOperations.has(request.type)) return await this.clusterOperation(request);
      return this.withTopologyEtag(request, await this.answerLocally(request));
    } catch (error) {
      // Errors carry the topology etag too: "offline here" is how a client learns it is stale.
      return this.withTopologyEtag(request, fromError(error));
    } finally {
      this.requestsInFlight--;
    }
  }

  /**
   * hasPendingWork tells a virtual-time runtime that promise continuations inside this server may
   * be waiting to run, so it should let them run before the next simulated event.
   */
  hasPendingWork(): boolean {
    return (
      this.requestsInFlight > 0 ||
      this.waiters.length > 0 ||
      this.peerCalls.size > 0 ||
      this.writeChain !== undefined ||
      this.supervisorInFlight.size > 0 ||
      this.promotingNode
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Requests answered by this server alone.

  private async answerLocally(request: ServerRequest): Promise<ServerResponse> {
    if ("database" in request) await this.catchUpOn(request.database);
    switch (request.type) {
      case "node-info":
        return { ok: true, result: this.nodeInfo() };
      case "cluster-topology":
        return { ok: true, result: this.clusterTopology() };
      case "database-topology": {
        const record = this.requireRecord(request.database);
        const state = this.rachis!.state;
        return {
          ok: true,
          result: topologyView(
            record.name,
            record.topologyEtag,
            record.topology,
            (tag) => clusterNodeUrl(state, tag) ?? "",
          ),
        };
      }
      case "database-status": {
        const record = this.requireRecord(request.database);
        return {
          ok: true,
          result: {
            database: record.name,
            tag: this.tag,
            status: databaseStatusOn(record, this.tag),
          },
        };
      }
      case "get-documents": {
        const db = this.requireHosted(request.database);
        return { ok: true, result: request.ids.map((id) => documentView(db, id)) };
      }
      case "load-documents": {
        const db = this.requireHosted(request.database);
        const results = request.ids.map((id) => documentView(db, id));
        const includes: Record<string, DocumentView | null> = {};
        for (const doc of results) {
          if (!doc) continue;
          for (const path of request.include ?? []) {
            for (const id of includedIds(doc.body, path))
              if (!(id in includes)) includes[id] = documentView(db, id);
          }
        }
        return { ok: true, result: { results, includes } satisfies LoadResult };
      }
      case "database-record":
        return { ok: true, result: this.requireRecord(request.database) };
      case "list-databases":
        return {
          ok: true,
          result: this.rachis ? databaseSummaries(this.rachis.state) : [],
        };
      case "hilo-next":
        return await this.hiloNext(request);
      case "list-documents": {
        const db = this.requireHosted(request.database);
        return {
          ok: true,
          result: db.instance
            .list()
            .map((doc) => ({ id: doc.id, body: doc.body, metadata: doc.metadata })),
        };
      }
      case "batch":
        return await this.batch(request);
      default:
        return failure(
          "InvalidRequest",
          `unknown request type ${JSON.stringify((request as { type?: unknown }).type)}`,
        );
    }
  }

  private async batch(request: Extract<ServerRequest, { type: "batch" }>): Promise<ServerResponse> {
    const db = this.requireHosted(request.database);
    const commit = db.instance.applyTransaction(request.transaction, { nowMs: this.clock.nowMs() });
    await this.persistAsync(persistenceWrites(commit.persistence));
    db.pump(this.clock.nowMs(), this.timing.replicationRetryMs);
    const written = commit.written
      .filter((item) => item.kind === "document" || item.kind === "tombstone")
      .map((item) => ({
        id: item.id,
        kind: item.kind,
        changeVector: item.changeVector,
        etag: item.etag,
        collection: item.collection,
        lastModifiedMs: item.lastModifiedMs,
      }));
    const result = {
      transaction: commit.transactions[0],
      lastEtag: db.instance.lastEtag,
      written,
      changeVector: db.instance.changeVector,
    };
    const assurance = request.writeAssurance;
    if (!assurance) return { ok: true, result };
    const outcome = await db.waitForReplicas(db.instance.lastEtag, db.instance.changeVector, {
      ...(assurance.replicas !== undefined ? { replicas: assurance.replicas } : {}),
      ...(assurance.majority !== undefined ? { majority: assurance.majority } : {}),
      deadlineMs: this.clock.nowMs() + assurance.timeoutMs,
    });
    if (outcome.status === "satisfied" || assurance.throwOnTimeout === false) {
      return { ok: true, result: { ...result, replicas: outcome.reached } };
    }
    const error = writeAssuranceTimeoutError(outcome, assurance.timeoutMs);
    return failure(error.code, error.message, { ...error.details, written: result });
  }

  /**
   * hiloNext hands out the next range of a collection's ids. Ranges are this server's own (a
   * client ends each id with the server's tag), so no other server is asked; the top of the range
   * is durable before the client hears of it, so a restart never hands a range out twice.
   */
  private async hiloNext(
    request: Extract<ServerRequest, { type: "hilo-next" }>,
  ): Promise<ServerResponse> {
    this.requireHosted(request.database);
    const lastMax = request.lastMax ?? 0;
    if (!Number.isSafeInteger(lastMax) || lastMax < 0)
      throw new RookeryError(
        "InvalidRequest",
        `lastMax must be a whole number of at least 0, got ${String(request.lastMax)}`,
      );
    const key = `hilo/${request.database.toLowerCase()}/${request.collection.toLowerCase()}`;
    const kept = this.hiloMax.get(key) ?? this.loaded.get(metaStore)?.get(key);
    const low = Math.max(typeof kept === "number" ? kept : 0, lastMax) + 1;
    const range: HiloRange = { low, high: low + hiloRangeIds - 1, serverTag: this.tag };
    this.hiloMax.set(key, range.high);
    await this.persistAsync([{ store: metaStore, op: "put", key, value: range.high }]);
    return { ok: true, result: range };
  }

  private nodeInfo(): Record<string, unknown> {
    const soft = this.rachis?.soft();
    return {
      url: this.url,
      tag: this.tag,
      topologyId: this.topologyId,
      role: soft?.role ?? "passive",
      term: soft?.term ?? 0,
      leader: soft?.leader ?? null,
    };
  }

  private clusterTopology(): Record<string, unknown> {
    const state = this.rachis?.state;
    const soft = this.rachis?.soft();
    if (!state || !isBootstrapped(state)) {
      // A passive server reports a cluster of itself, as RavenDB synthesises one.
      return {
        tag: this.tag,
        role: "passive",
        topologyId: null,
        leader: null,
        term: 0,
        members: { [this.tag]: this.url },
        promotables: {},
        watchers: {},
        etag: -1,
      };
    }
    return {
      tag: this.tag,
      role: soft?.role ?? "passive",
      leader: soft?.leader ?? null,
      term: soft?.term ?? 0,
      ...state.topology,
    };
  }

  /**
   * catchUpOn gives a follower that does not know a database yet one heartbeat to learn of it: a
   * client that read the topology from the leader can reach a member before that member applied
   * the commit that put it in the group.
   */
  private async catchUpOn(name: string): Promise<void> {
    const known = (): boolean =>
      this.rachis !== undefined && findDatabase(this.rachis.state, name) !== undefined;
    const soft = this.rachis?.soft();
    if (known() || !soft || soft.role === "leader" || soft.leader === null) return;
    const heartbeatMs = this.timing.raft.heartbeatTicks * this.timing.tickMs;
    await this.waitUntil(known, this.clock.nowMs() + heartbeatMs + this.timing.tickMs);
  }

  private requireRecord(name: string) {
    const state = this.rachis?.state;
    const record = state ? findDatabase(state, name) : undefined;
    if (!record) {
      throw new RookeryError(
        "DatabaseDoesNotExist",
        `Database '${name}' does not exist on this cluster (asked ${this.url}). Create it first, or check the name.`,
        { database: name },
      );
    }
    return record;
  }

  private requireHosted(name: string): HostedDatabase {
    const record = this.requireRecord(name);
    const db = this.databases.get(name.toLowerCase());
    if (!db) {
      throw new RookeryError(
        "DatabaseNotRelevant",
        `Database '${record.name}' is offline on node ${this.tag} (${this.url}): it lives on ${[...record.topology.members, ...record.topology.rehabs].join(", ")}. Add ${this.tag} to its group, or ask one of those nodes.`,
        { database: record.name, tag: this.tag },
      );
    }
    return db;
  }

  private withTopologyEtag(request: ServerRequest, response: ServerResponse): ServerResponse {
    if (!("database" in request)) return response;
    const record = this.rachis ? findDatabase(this.rachis.state, request.database) : undefined;
    return record ? { ...response, topologyEtag: record.topologyEtag } : response;
  }

  // ---------------------------------------------------------------------------------------------
  // Cluster-wide operations: through the leader, bounded by clusterOperationTimeoutMs.

  private async clusterOperation(request: ServerRequest): Promise<ServerResponse> {
    if (!this.rachis) {
      if (!bootstrapsCluster.has(request.type)) {
        return failure(
          "NotInCluster",
          `${this.url} is not part of a cluster yet; ${describeOperation(request)} needs one. Create a database or add a node first.`,
        );
      }
      this.bootstrap();
    }
    const deadline = this.clock.nowMs() + this.timing.clusterOperationTimeoutMs;
    for (;;) {
      const soft = this.rachis!.soft();
      if (soft.role === "leader") {
        await this.waitUntil(
          () => this.readyToLead() || this.rachis!.soft().role !== "leader",
          deadline,
        );
        if (this.readyToLead()) return await this.executeAsLeader(request, deadline);
      } else if (soft.leader !== null) {
        const leaderUrl = clusterNodeUrl(this.rachis!.state, soft.leader);
        if (leaderUrl) {
          const reply = await this.callPeer(
            leaderUrl,
            (requestId) => ({
              type: "forward",
              requestId,
              request,
              description: describeOperation(request),
            }),
            deadline,
          );
          if (reply?.type === "forward-result")
            return await this.afterForward(reply.response, deadline);
        }
      }
      if (this.clock.nowMs() >= deadline) return this.noLeader(request);
      const term = soft.term;
      await this.waitUntil(
        () =>
          this.rachis!.soft().leader !== null &&
          (this.rachis!.soft().term !== term || soft.leader === null),
        deadline,
      );
    }
  }

  /**
   * readyToLead: this leader is in office and has applied everything it committed (its own
   * bootstrap included), so a command is validated against the latest cluster state. With
   * synchronous storage that holds as soon as it is in office; with asynchronous storage
   * (fs, IndexedDB) applying trails committing by one write.
   */
  private readyToLead(): boolean {
    const rachis = this.rachis!;
    if (!rachis.isLeaderInOffice() || !isBootstrapped(rachis.state)) return false;
    const status = rachis.status();
    return status.applied >= status.commit;
  }

  /** afterForward waits until this server applied what the leader did, so reads see it here. */
  private async afterForward(response: ServerResponse, deadline: number): Promise<ServerResponse> {
    if (response.ok) {
      const index = (response.result as { raftIndex?: number } | undefined)?.raftIndex ?? 0;
      await this.waitUntil(() => this.rachis!.status().applied >= index, deadline);
    }
    return response;
  }

  /** unreachableTags lists the servers this leader has not heard from lately. */
  private unreachableTags(): NodeTag[] {
    const now = this.clock.nowMs();
    return clusterNodeTags(this.rachis!.state).filter(
      (tag) =>
        tag !== this.tag &&
        now - (this.lastHeardMs.get(tag) ?? -Infinity) > this.timing.reachableWithinMs,
    );
  }

  private noLeader(request: ServerRequest): ServerResponse {
    const status = this.rachis!.status();
    const voters = status.membership.voters.length;
    const now = this.clock.nowMs();
    const reachable =
      1 +
      status.membership.voters.filter(
        (tag) =>
          tag !== this.tag &&
          now - (this.lastHeardMs.get(tag) ?? -Infinity) <= this.timing.reachableWithinMs,
      ).length;
    return failure(
      "NoLeader",
      `no leader: ${describeOperation(request)} needs ${quorum(voters)} of ${voters} nodes; ${reachable} reachable from node ${this.tag}. ` +
        `Cluster-wide operations wait for a majority; documents can still be read and written.`,
      { needed: quorum(voters), voters, reachable },
    );
  }

  private bootstrap(): void {
    this.tagValue = "A";
    this.topologyId = this.newTopologyId();
    this.persist(
      [
        { store: metaStore, op: "put", key: "tag", value: this.tagValue },
        { store: metaStore, op: "put", key: "topologyId", value: this.topologyId },
      ],
      () => {},
    );
    this.rachis = this.newRachis(undefined);
    this.rachis.bootstrap();
    this.emitServer(`bootstrapped a one-node cluster and became node A`);
    const proposed = this.rachis.propose({
      type: "bootstrap",
      url: this.url,
      topologyId: this.topologyId,
    });
    if (!proposed.accepted)
      throw new Error(
        `bootstrap proposal refused: ${proposed.result.accepted ? "" : proposed.result.reason}`,
      );
  }

  private newTopologyId(): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    let id = "";
    for (let i = 0; i < 12; i++) id += alphabet[this.random.int(alphabet.length)];
    return id;
  }

  private async executeAsLeader(request: ServerRequest, deadline: number): Promise<ServerResponse> {
    if (request.type === "add-node")
      return await this.addNodeAsLeader(request.url, request.tag, deadline);
    const command = this.commandFor(request);
    return await this.proposeCommand(command, deadline, request);
  }

  private commandFor(request: ServerRequest): ClusterCommand {
    switch (request.type) {
      case "remove-node":
        return { type: "removeNode", tag: request.tag };
      case "create-database":
        return {
          type: "createDatabase",
          name: request.name,
          ...(request.replicationFactor !== undefined
            ? { replicationFactor: request.replicationFactor }
            : {}),
          ...(request.nodes !== undefined ? { nodes: request.nodes } : {}),
          ...(request.revisions !== undefined ? { revisions: request.revisions } : {}),
          ...(request.conflictResolution !== undefined
            ? { conflictResolution: request.conflictResolution }
            : {}),
        };
      case "delete-database":
        return { type: "deleteDatabase", name: request.name };
      case "add-database-node":
        return {
          type: "addDatabaseNode",
          database: request.database,
          ...(request.tag !== undefined ? { tag: request.tag } : {}),
        };
      case "set-revisions":
        return { type: "setRevisions", database: request.database, revisions: request.revisions };
      case "set-conflict-resolution":
        return {
          type: "setConflictResolution",
          database: request.database,
          resolution: request.resolution,
        };
      default:
        throw new RookeryError("InvalidRequest", `${request.type} is not a cluster-wide operation`);
    }
  }

  private async proposeCommand(
    raw: ClusterCommand,
    deadline: number,
    request: ServerRequest,
  ): Promise<ServerResponse> {
    const prepared = prepareClusterCommand(this.rachis!.state, raw, this.unreachableTags());
    if (!prepared.ok)
      return failure(prepared.error.code, prepared.error.message, prepared.error.details);
    const proposal = this.rachis!.propose(prepared.command);
    if (!proposal.accepted) return this.noLeader(request);
    const outcome = await Promise.race([
      proposal.outcome,
      this.waitUntil(() => false, deadline).then(() => "timeout" as const),
    ]);
    if (outcome === "timeout" || outcome === "lost") return this.noLeader(request);
    return this.commandResponse(outcome);
  }

  private commandResponse(result: ClusterCommandResult): ServerResponse {
    if (!result.ok) return failure(result.error.code, result.error.message, result.error.details);
    const { ok: _ok, ...rest } = result;
    return { ok: true, result: rest };
  }

  /**
   * addNodeAsLeader checks the new server like RavenDB does (its URL, that it answers, that it is
   * not in another cluster), records it through Rachis (which gives it the next tag), and lets it
   * join the Raft group as a learner that votes once it has caught up.
   */
  private async addNodeAsLeader(
    rawUrl: string,
    wantedTag: NodeTag | undefined,
    deadline: number,
  ): Promise<ServerResponse> {
    const normalised = normaliseServerUrl(rawUrl);
    if ("problem" in normalised) {
      return failure(
        "InvalidUrl",
        `Cannot add "${rawUrl}" to the cluster: ${normalised.problem}. Give a URL like http://127.0.0.2:8080.`,
      );
    }
    const url = normalised.url;
    if (url === this.url)
      return failure(
        "InvalidNode",
        `${url} is this server (node ${this.tag}); give the URL of another server.`,
      );
    const known = findTagByUrl(this.rachis!.state, url);
    if (known)
      return failure("NodeAlreadyInCluster", `${url} is already in the cluster as node ${known}.`, {
        tag: known,
      });
    const joinDeadline = Math.min(deadline, this.clock.nowMs() + this.timing.joinTimeoutMs);
    const info = await this.callPeer(
      url,
      (requestId) => ({ type: "node-info-request", requestId }),
      joinDeadline,
    );
    if (!info || info.type !== "node-info-result") {
      return failure(
        "NodeUnreachable",
        `${url} did not answer within ${this.timing.joinTimeoutMs} ms. Is it running, and can node ${this.tag} reach it?`,
        { url },
      );
    }
    if (info.topologyId !== null && info.topologyId !== this.topologyId) {
      return failure(
        "TopologyMismatch",
        `${url} (node ${info.tag}) belongs to another cluster (${info.topologyId}). Remove it from that cluster first, or start a fresh server.`,
        { url },
      );
    }
    // It joins as a promotable: a Raft learner that catches up before it votes. Only then is it a
    // member, so the cluster never counts on a vote the new server cannot give yet.
    const response = await this.proposeCommand(
      { type: "addNode", url, joinAs: "promotable", ...(wantedTag ? { tag: wantedTag } : {}) },
      deadline,
      { type: "add-node", url },
    );
    if (!response.ok) return response;
    this.reconcileMembership();
    const tag = (response.result as { tag: NodeTag }).tag;
    await this.waitUntil(() => this.rachis!.state.topology.members[tag] !== undefined, deadline);
    return response;
  }

  // ---------------------------------------------------------------------------------------------
  // Peers.

  private receivePeer(fromUrl: string, message: PeerMessage): void {
    const fromTag = this.rachis ? findTagByUrl(this.rachis.state, fromUrl) : undefined;
    if (fromTag) this.lastHeardMs.set(fromTag, this.clock.nowMs());
    switch (message.type) {
      case "raft":
        return this.receiveRaft(fromUrl, message.topologyId, message.toTag, message.message);
      case "replication":
        return this.receiveReplication(message.message);
      case "node-info-request":
        return this.sendPeer(fromUrl, {
          type: "node-info-result",
          requestId: message.requestId,
          tag: this.tag,
          topologyId: this.topologyId,
        });
      case "forward":
        void this.handleForward(fromUrl, message.requestId, message.request);
        return;
      case "health-report":
        this.healthReports.set(message.tag, {
          lastHeardMs: this.clock.nowMs(),
          databases: { ...message.databases },
        });
        return;
      case "node-info-result":
      case "forward-result": {
        const call = this.peerCalls.get(message.requestId);
        if (call) {
          this.peerCalls.delete(message.requestId);
          call.resolve(message);
        }
        return;
      }
    }
  }

  private async handleForward(
    fromUrl: string,
    requestId: number,
    request: ServerRequest,
  ): Promise<void> {
    this.requestsInFlight++;
    try {
      this.sendPeer(fromUrl, {
        type: "forward-result",
        requestId,
        response: await this.answerForward(request),
      });
    } finally {
      this.requestsInFlight--;
    }
  }

  private async answerForward(request: ServerRequest): Promise<ServerResponse> {
    let response: ServerResponse;
    if (this.rachis?.isLeaderInOffice()) {
      response = await this.executeAsLeader(
        request,
        this.clock.nowMs() + this.timing.clusterOperationTimeoutMs,
      );
    } else {
      response = failure("NotLeader", `node ${this.tag} is no longer the leader`);
    }
    return response;
  }

  private receiveRaft(
    fromUrl: string,
    topologyId: string,
    toTag: NodeTag,
    message: RaftMessage,
  ): void {
    if (!this.rachis) {
      // A passive server joins the cluster that first addresses it by a tag (after node-info).
      this.tagValue = toTag;
      this.topologyId = topologyId;
      this.persist(
        [
          { store: metaStore, op: "put", key: "tag", value: toTag },
          { store: metaStore, op: "put", key: "topologyId", value: topologyId },
        ],
        () => {},
      );
      this.rachis = this.newRachis(undefined);
      this.emitServer(`joined cluster ${topologyId} as node ${toTag}`);
    }
    if (topologyId !== this.topologyId || toTag !== this.tag) return;
    this.lastHeardMs.set(message.from, this.clock.nowMs());
    // A joining server learns where its peers are from their messages, before it has the topology.
    this.peerUrls.set(message.from, fromUrl);
    this.rachis.step(message);
  }

  private receiveReplication(message: ReplicationWireMessage): void {
    if (message.to !== this.tag) return;
    const key = message.database.toLowerCase();
    const db = this.databases.get(key);
    if (db) {
      db.receive(message, this.clock.nowMs(), this.timing.replicationRetryMs);
      return;
    }
    // A sibling that applied the topology change before this server did connects to a database
    // not hosted here yet. Keep its connect and answer it once the database opens, instead of
    // leaving the sibling to wait a whole replicationRetryMs before it connects again.
    if (message.type !== "replication-connect") return;
    const early = `${key}/${message.from}`;
    this.earlyConnects.delete(early);
    if (this.earlyConnects.size >= earlyConnectsMax)
      this.earlyConnects.delete(this.earlyConnects.keys().next().value!);
    this.earlyConnects.set(early, message);
  }

  /** answerEarlyConnects hands a newly opened database the connects that arrived before it. */
  private answerEarlyConnects(key: string, db: HostedDatabase): void {
    for (const [early, connect] of [...this.earlyConnects]) {
      if (connect.database.toLowerCase() !== key) continue;
      this.earlyConnects.delete(early);
      db.receive(connect, this.clock.nowMs(), this.timing.replicationRetryMs);
    }
  }

  private sendRaft(tag: NodeTag, message: RaftMessage): void {
    const url =
      (this.rachis ? clusterNodeUrl(this.rachis.state, tag) : undefined) ?? this.peerUrls.get(tag);
    if (!url || !this.topologyId) return;
    this.sendPeer(url, { type: "raft", topologyId: this.topologyId, toTag: tag, message });
  }

  private sendPeer(url: string, message: PeerMessage): void {
    this.transport.send({ kind: "peer", from: this.url, to: url, message });
  }

  private callPeer(
    url: string,
    make: (requestId: number) => PeerMessage,
    deadlineMs: number,
  ): Promise<PeerMessage | undefined> {
    const requestId = this.nextCallId++;
    return new Promise((resolve) => {
      this.peerCalls.set(requestId, { deadlineMs, resolve });
      this.sendPeer(url, make(requestId));
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Applying the cluster state.

  private onApplied(
    index: number,
    command: ClusterCommand,
    result: ClusterCommandResult,
    state: ClusterState,
  ): void {
    this.trace({
      type: "cluster-command",
      atMs: this.clock.nowMs(),
      tag: this.tag,
      index,
      text: renderClusterCommand(command),
      ok: result.ok,
    });
    if (result.ok && "database" in command && this.rachis?.soft().role === "leader") {
      const record = findDatabase(state, command.database);
      const change = record?.recentChanges[record.recentChanges.length - 1];
      if (change && change.raftIndex === index)
        this.trace({
          type: "topology-change",
          atMs: this.clock.nowMs(),
          database: record!.name,
          message: change.message,
        });
    }
    if ("database" in command) this.supervisorInFlight.delete(command.database.toLowerCase());
    this.reconcileDatabases(state);
  }

  /** reconcileDatabases hosts exactly the databases whose group includes this server. */
  private reconcileDatabases(state: ClusterState): void {
    const now = this.clock.nowMs();
    const wanted = new Set<string>();
    for (const record of Object.values(state.databases)) {
      const key = record.name.toLowerCase();
      const inGroup = [
        ...record.topology.members,
        ...record.topology.promotables,
        ...record.topology.rehabs,
      ].includes(this.tag);
      if (!inGroup) continue;
      wanted.add(key);
      let db = this.databases.get(key);
      if (!db) {
        db = this.openDatabase(record.name);
        this.databases.set(key, db);
        db.instance.configure(instanceSettings(record));
        db.setDestinations(replicationDestinations(record, this.tag), now);
        this.answerEarlyConnects(key, db);
        continue;
      }
      db.instance.configure(instanceSettings(record));
      db.setDestinations(replicationDestinations(record, this.tag), now);
    }
    for (const key of [...this.databases.keys()]) if (!wanted.has(key)) this.databases.delete(key);
  }

  private openDatabase(name: string): HostedDatabase {
    const key = name.toLowerCase();
    const ids = this.loaded.get(metaStore);
    const kept = ids?.get(`databaseId/${key}`);
    let databaseId = typeof kept === "string" ? kept : "";
    if (databaseId === "") {
      databaseId = `${this.tag}${this.newTopologyId()}`;
      this.persist(
        [{ store: metaStore, op: "put", key: `databaseId/${key}`, value: databaseId }],
        () => {},
      );
    }
    const options = { database: name, nodeTag: this.tag, databaseId };
    const records: PersistedRecord[] = [];
    for (const store of [
      "documents",
      "conflicts",
      "revisions",
      "attachments",
      "database",
    ] as StoreName[]) {
      for (const [stored, value] of this.loaded.get(databaseStore(store)) ?? []) {
        const { database, key: itemKey } = splitDatabaseKey(stored);
        if (database === key)
          records.push({ store, key: itemKey, value: value as PersistedRecord["value"] });
      }
    }
    const instance =
      records.length > 0
        ? DatabaseInstance.recover(options, records)
        : new DatabaseInstance(options);
    const cursors = new Map<NodeTag, DestinationCursor>();
    for (const [k, value] of this.loaded.get(cursorStore) ?? []) {
      if (k.startsWith(`${key}/`)) cursors.set(k.slice(key.length + 1), value as DestinationCursor);
    }
    return new HostedDatabase(
      name,
      instance,
      this.tag,
      {
        send: (to, message) => {
          const url = this.rachis ? clusterNodeUrl(this.rachis.state, to) : undefined;
          if (url) this.sendPeer(url, { type: "replication", message });
        },
        persist: (writes, done) => this.persist(writes, done),
        batchSent: (batch) =>
          this.trace({
            type: "replication-batch",
            atMs: this.clock.nowMs(),
            database: batch.database,
            from: batch.from,
            to: batch.to,
            text: describe(batch),
          }),
      },
      this.replicationLimits,
      cursors,
    );
  }

  private onRoleChanged(soft: SoftState): void {
    if (soft.role === "leader") {
      this.leaderSinceMs = this.clock.nowMs();
      this.healthReports.clear();
      this.supervisorInFlight.clear();
    }
    this.trace({
      type: "role",
      atMs: this.clock.nowMs(),
      tag: this.tag,
      role: soft.role,
      term: soft.term,
      leader: soft.leader,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Health, supervision and membership (leader side).

  private localReport(): Record<string, DatabaseNodeReport> {
    const databases: Record<string, DatabaseNodeReport> = {};
    for (const db of this.databases.values()) {
      databases[db.name] = { lastEtag: db.instance.lastEtag, acceptedEtags: db.acceptedEtags() };
    }
    return databases;
  }

  private sendHealthReport(now: number): void {
    if (!this.rachis || now - this.lastHealthReportMs < this.timing.healthReportIntervalMs) return;
    this.lastHealthReportMs = now;
    const soft = this.rachis.soft();
    if (soft.leader === null) return;
    if (soft.leader === this.tag) {
      this.healthReports.set(this.tag, { lastHeardMs: now, databases: this.localReport() });
      return;
    }
    const url = clusterNodeUrl(this.rachis.state, soft.leader);
    if (url)
      this.sendPeer(url, { type: "health-report", tag: this.tag, databases: this.localReport() });
  }

  private superviseIfLeading(now: number): void {
    if (
      !this.rachis?.isLeaderInOffice() ||
      now - this.lastSupervisorMs < this.timing.supervisorIntervalMs
    )
      return;
    this.lastSupervisorMs = now;
    const state = this.rachis.state;
    const nodes: Record<NodeTag, NodeHealthReport> = {};
    const databases: Record<string, Record<NodeTag, DatabaseNodeReport>> = {};
    for (const tag of clusterNodeTags(state)) {
      const report = this.healthReports.get(tag);
      nodes[tag] = { lastHeardMs: tag === this.tag ? now : (report?.lastHeardMs ?? -Infinity) };
      for (const [name, dbReport] of Object.entries(report?.databases ?? {})) {
        (databases[name] ??= {})[tag] = dbReport;
      }
    }
    const round = superviseCluster({
      state,
      nowMs: now,
      nodes,
      databases,
      observingSinceMs: this.leaderSinceMs,
      timing: this.timing.supervisor,
    });
    for (const command of round.commands) {
      const key = command.database.toLowerCase();
      if (this.supervisorInFlight.has(key)) continue;
      const proposal = this.rachis.propose(command);
      if (proposal.accepted) {
        this.supervisorInFlight.add(key);
        void proposal.outcome.then(() => this.supervisorInFlight.delete(key));
      }
    }
  }

  /** reconcileMembership keeps the Raft configuration equal to the cluster topology, one change at a time. */
  private reconcileMembership(): void {
    if (!this.rachis?.isLeaderInOffice()) return;
    const status = this.rachis.status();
    if (status.commit < status.membershipIndex) return;
    const topologyTags = clusterNodeTags(this.rachis.state);
    const raftTags = [...status.membership.voters, ...status.membership.learners];
    const missing = topologyTags.find((tag) => !raftTags.includes(tag));
    if (missing) {
      this.rachis.proposeMembership({ op: "addLearner", node: missing });
      return;
    }
    const removed = raftTags.find((tag) => !topologyTags.includes(tag));
    if (removed) {
      this.rachis.proposeMembership({ op: "remove", node: removed });
      return;
    }
    // A promotable whose Raft learner caught up and now votes becomes a member of the cluster.
    const promoted = Object.keys(this.rachis.state.topology.promotables).find((tag) =>
      status.membership.voters.includes(tag),
    );
    if (promoted && !this.promotingNode) {
      const proposal = this.rachis.propose({ type: "promoteNode", tag: promoted });
      if (proposal.accepted) {
        this.promotingNode = true;
        void proposal.outcome.then(() => {
          this.promotingNode = false;
        });
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Waiting, persistence, trace.

  private waitUntil(until: () => boolean, deadlineMs: number): Promise<boolean> {
    if (until()) return Promise.resolve(true);
    if (this.clock.nowMs() >= deadlineMs) return Promise.resolve(false);
    return new Promise((resolve) => this.waiters.push({ until, deadlineMs, resolve }));
  }

  private settleWaiters(now: number): void {
    for (let k = this.waiters.length - 1; k >= 0; k--) {
      const waiter = this.waiters[k]!;
      if (waiter.until()) {
        this.waiters.splice(k, 1);
        waiter.resolve(true);
      } else if (now >= waiter.deadlineMs) {
        this.waiters.splice(k, 1);
        waiter.resolve(false);
      }
    }
    for (const [id, call] of this.peerCalls) {
      if (now >= call.deadlineMs) {
        this.peerCalls.delete(id);
        call.resolve(undefined);
      }
    }
  }

  /**
   * persist writes durably, in order, then calls `done`. With synchronous storage (the simulator)
   * `done` runs at once. With asynchronous storage the write is handed over at once, because the
   * storage applies batches in call order and makes every batch waiting at that moment durable
   * with one fsync (group commit); only the `done` calls wait for each other, so they keep the
   * order of the writes. Handing a write over only after the previous one finished would leave
   * the storage one batch per fsync.
   */
  private persist(writes: readonly StorageWrite[], done: () => void): void {
    if (writes.length === 0) return done();
    const result = this.storage.write(writes);
    if (this.writeChain === undefined) {
      if (!(result instanceof Promise)) return done();
      this.writeChain = this.track(result.then(done));
      return;
    }
    this.writeChain = this.track(this.writeChain.then(() => result).then(done));
  }

  private track(chain: Promise<void>): Promise<void> {
    const tracked: Promise<void> = chain.finally(() => {
      if (this.writeChain === tracked) this.writeChain = undefined;
    });
    return tracked;
  }

  private persistAsync(writes: readonly StorageWrite[]): Promise<void> {
    return new Promise((resolve) => this.persist(writes, resolve));
  }

  private emitServer(text: string): void {
    this.trace({ type: "server", atMs: this.clock.nowMs(), url: this.url, text });
  }

  /** errorOf turns a failed response into the ServerError it carries (for callers and tests). */
  static errorOf(response: ServerResponse): ServerError | undefined {
    return response.ok ? undefined : response.error;
  }
}

/** documentView reads one document as a client receives it, or null when there is none. */
function documentView(db: HostedDatabase, id: string): DocumentView | null {
  const doc = db.instance.get(id);
  return doc ? { id: doc.id, body: doc.body, metadata: doc.metadata } : null;
}
