import { escapeInvisible, RookeryError } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import {
  databaseStatusOn,
  databaseSummaries,
  findDatabase,
  isBootstrapped,
} from "../cluster/index.ts";
import type { DatabaseRecord, DatabaseTopology } from "../cluster/index.ts";
import { encodeBase64, includedIds } from "../database/index.ts";
import type { LoadedAttachment, RevisionItem } from "../database/index.ts";
import { writeAssuranceTimeoutError } from "../replication/index.ts";
import type {
  AttachmentView,
  DocumentView,
  OngoingTaskView,
  LoadResult,
  RevisionView,
  ServerRequest,
  ServerResponse,
  TopologyView,
} from "../transport/index.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { failure } from "./context.ts";
import type { ServerContext } from "./context.ts";
import type { DatabaseHosting } from "./database-hosting.ts";
import { HiloRanges } from "./hilo.ts";
import type { HostedDatabase } from "./hosted-database.ts";
import { persistenceWrites } from "./hosted-database.ts";

type BatchRequest = Extract<ServerRequest, { type: "batch" }>;

/**
 * LocalRequests answers what a server answers alone, with or without a cluster leader: who it
 * is, the cluster and database topologies it knows, and reads and writes of the documents of the
 * databases it hosts (a write with write assurance waits for its replicas).
 */
export class LocalRequests {
  constructor(
    private readonly context: ServerContext,
    private readonly node: ClusterNode,
    private readonly hosting: DatabaseHosting,
    private readonly hilo: HiloRanges = new HiloRanges(context),
  ) {}

  async answer(request: ServerRequest): Promise<ServerResponse> {
    if ("database" in request) await this.catchUpOn(request.database);
    switch (request.type) {
      case "node-info":
        return { ok: true, result: this.nodeInfo() };
      case "cluster-topology":
        return { ok: true, result: this.clusterTopology() };
      case "database-topology": {
        const record = this.requireRecord(request.database);
        return { ok: true, result: this.topologyOf(record) };
      }
      case "database-status": {
        const record = this.requireRecord(request.database);
        const tag = this.node.tag;
        const status = databaseStatusOn(record, tag);
        return { ok: true, result: { database: record.name, tag, status } };
      }
      case "get-documents": {
        const db = this.requireHosted(request.database);
        const found = request.ids.map((id) => db.instance.get(id));
        return { ok: true, result: found.map((doc) => (doc ? documentView(doc) : null)) };
      }
      case "list-documents": {
        const db = this.requireHosted(request.database);
        return { ok: true, result: db.instance.list().map(documentView) };
      }
      case "load-documents":
        return { ok: true, result: this.load(request) };
      case "database-record":
        return { ok: true, result: this.requireRecord(request.database) };
      case "list-databases": {
        const state = this.node.state;
        return { ok: true, result: state ? databaseSummaries(state) : [] };
      }
      case "hilo-next": {
        const db = this.requireHosted(request.database);
        const range = await this.hilo.next(
          db.name,
          request.collection,
          request.lastMax ?? 0,
          this.node.tag,
        );
        return { ok: true, result: range };
      }
      case "get-revisions": {
        const db = this.requireHosted(request.database);
        return { ok: true, result: db.instance.revisionsOf(request.id).map(revisionView) };
      }
      case "get-attachment": {
        const db = this.requireHosted(request.database);
        const attachment = db.instance.getAttachment(request.id, request.name);
        return { ok: true, result: attachment ? attachmentView(attachment) : null };
      }
      case "batch":
        return await this.batch(request);
      case "ongoing-tasks":
        return { ok: true, result: this.ongoingTasks(request.database) };
      default:
        return failure(
          "InvalidRequest",
          `unknown request type ${JSON.stringify((request as { type?: unknown }).type)}`,
        );
    }
  }

  /** load reads documents by id with the documents their include paths point to. */
  private load(request: Extract<ServerRequest, { type: "load-documents" }>): LoadResult {
    const db = this.requireHosted(request.database);
    const read = (id: string): DocumentView | null => {
      const doc = db.instance.get(id);
      return doc ? documentView(doc) : null;
    };
    const results = request.ids.map(read);
    const includes: Record<string, DocumentView | null> = {};
    for (const doc of results) {
      if (!doc) continue;
      for (const path of request.include ?? []) {
        for (const id of includedIds(doc.body, path))
          if (!(id in includes)) includes[id] = read(id);
      }
    }
    return { results, includes };
  }

  /** withTopologyEtag stamps a database's response with its topology etag, so clients notice moves. */
  withTopologyEtag(request: ServerRequest, response: ServerResponse): ServerResponse {
    if (!("database" in request)) return response;
    const state = this.node.state;
    const record = state ? findDatabase(state, request.database) : undefined;
    return record ? { ...response, topologyEtag: record.topologyEtag } : response;
  }

  private async batch(request: BatchRequest): Promise<ServerResponse> {
    const db = this.requireHosted(request.database);
    const clock = this.context.clock;
    this.context.writes.admit();
    const commit = db.instance.applyTransaction(request.transaction, { nowMs: clock.nowMs() });
    await this.context.writes.persistAsync(persistenceWrites(commit.persistence));
    db.markDurable(commit.persistence.lastEtag);
    db.pump(clock.nowMs(), this.context.timing.replicationRetryMs);
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
    const waitedFromMs = clock.nowMs();
    const outcome = await db.waitForReplicas(db.instance.lastEtag, db.instance.changeVector, {
      ...(assurance.replicas !== undefined ? { replicas: assurance.replicas } : {}),
      ...(assurance.majority !== undefined ? { majority: assurance.majority } : {}),
      deadlineMs: waitedFromMs + assurance.timeoutMs,
    });
    const doneMs = clock.nowMs();
    this.context.trace({
      type: "write-assurance",
      atMs: doneMs,
      tag: this.node.tag,
      database: db.name,
      ids: written.map((item) => item.id),
      wanted: outcome.wanted,
      reached: outcome.reached,
      waitedMs: doneMs - waitedFromMs,
      outcome: outcome.status === "satisfied" ? "satisfied" : "timed-out",
    });
    if (outcome.status === "satisfied" || assurance.throwOnTimeout === false) {
      return { ok: true, result: { ...result, replicas: outcome.reached } };
    }
    const error = writeAssuranceTimeoutError(outcome, assurance.timeoutMs);
    return failure(error.code, error.message, { ...error.details, written: result });
  }

  /** ongoingTasks lists a database's external replication tasks, with the progress of those run here. */
  private ongoingTasks(name: string): OngoingTaskView[] {
    const record = this.requireRecord(name);
    const state = this.node.state!;
    const summary = databaseSummaries(state).find((db) => db.name === record.name);
    const progress = this.hosting.get(record.name)?.external.statuses() ?? [];
    return (summary?.externalReplications ?? []).map((task) => ({
      ...task,
      database: record.name,
      answeredBy: this.node.tag,
      progress: progress.find((status) => status.taskId === task.taskId) ?? null,
    }));
  }

  private nodeInfo(): Record<string, unknown> {
    const soft = this.node.soft();
    return {
      url: this.context.url,
      tag: this.node.tag,
      topologyId: this.node.topologyId,
      role: soft?.role ?? "passive",
      term: soft?.term ?? 0,
      leader: soft?.leader ?? null,
    };
  }

  private clusterTopology(): Record<string, unknown> {
    const state = this.node.state;
    const soft = this.node.soft();
    const tag = this.node.tag;
    if (!state || !isBootstrapped(state)) {
      // A passive server reports a cluster of itself, as RavenDB synthesises one.
      return {
        tag,
        role: "passive",
        topologyId: null,
        leader: null,
        term: 0,
        members: { [tag]: this.context.url },
        promotables: {},
        watchers: {},
        etag: -1,
      };
    }
    return {
      tag,
      role: soft?.role ?? "passive",
      leader: soft?.leader ?? null,
      term: soft?.term ?? 0,
      ...state.topology,
    };
  }

  private topologyOf(record: DatabaseRecord): TopologyView {
    return topologyView(
      record.name,
      record.topologyEtag,
      record.topology,
      (tag) => this.node.urlOf(tag) ?? "",
    );
  }

  /**
   * catchUpOn gives a follower that does not know a database yet one heartbeat to learn of it: a
   * client that read the topology from the leader can reach a member before that member applied
   * the commit that put it in the group.
   */
  private async catchUpOn(name: string): Promise<void> {
    const known = (): boolean =>
      this.node.state !== undefined && findDatabase(this.node.state, name) !== undefined;
    const soft = this.node.soft();
    if (known() || !soft || soft.role === "leader" || soft.leader === null) return;
    const { timing, clock } = this.context;
    const heartbeatMs = timing.raft.heartbeatTicks * timing.tickMs;
    await this.context.waiters.until(known, clock.nowMs() + heartbeatMs + timing.tickMs);
  }

  private requireRecord(name: string): DatabaseRecord {
    const state = this.node.state;
    const record = state ? findDatabase(state, name) : undefined;
    if (!record) {
      throw new RookeryError(
        "DatabaseDoesNotExist",
        `Database '${escapeInvisible(name)}' does not exist on this cluster (asked ${this.context.url}). Create it first, or check the name.`,
        { database: name },
      );
    }
    return record;
  }

  private requireHosted(name: string): HostedDatabase {
    const record = this.requireRecord(name);
    const db = this.hosting.get(name);
    if (!db) {
      const tag = this.node.tag;
      const holders = [...record.topology.members, ...record.topology.rehabs].join(", ");
      throw new RookeryError(
        "DatabaseNotRelevant",
        `Database '${record.name}' is offline on node ${tag} (${this.context.url}): it lives on ${holders}. Add ${tag} to its group, or ask one of those nodes.`,
        { database: record.name, tag },
      );
    }
    return db;
  }
}

function documentView(doc: DocumentView): DocumentView {
  return { id: doc.id, body: doc.body, metadata: doc.metadata };
}

function revisionView(revision: RevisionItem): RevisionView {
  const { changeVector, etag, lastModifiedMs, body, attachments } = revision;
  return { changeVector, etag, lastModifiedMs, body, attachments };
}

function attachmentView(attachment: LoadedAttachment): AttachmentView {
  const { name, hash, size, contentType, content } = attachment;
  const view = { name, hash, size, contentType, contentBase64: encodeBase64(content) };
  if (!contentType.startsWith("text/")) return view;
  try {
    return { ...view, text: new TextDecoder("utf-8", { fatal: true }).decode(content) };
  } catch {
    return view; // not UTF-8 after all: the panel shows the size, not the bytes
  }
}

/** topologyView converts a record's topology into the client's view (RavenDB's GET /topology). */
export function topologyView(
  database: string,
  etag: number,
  topology: DatabaseTopology,
  urlOf: (tag: NodeTag) => string,
): TopologyView {
  return {
    database,
    etag,
    members: topology.members,
    promotables: topology.promotables,
    rehabs: topology.rehabs,
    nodes: [
      ...topology.members.map((tag) => ({ tag, url: urlOf(tag), role: "member" as const })),
      ...topology.promotables.map((tag) => ({ tag, url: urlOf(tag), role: "promotable" as const })),
      ...topology.rehabs.map((tag) => ({ tag, url: urlOf(tag), role: "rehab" as const })),
    ],
  };
}
