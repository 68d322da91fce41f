/**
 * StatusReporter is what a server's runtime (a worker, an OS process) tells its host: buffered
 * trace events, the server's status when it changed, and its document ids as changes. The host
 * keeps these to answer describe() and waitFor() synchronously. How the push travels (a
 * MessagePort, an IPC channel) is the runtime's business.
 */
import { databaseSummaries } from "../cluster/index.ts";
import type { Server, TraceEvent } from "../server/index.ts";
import type { DatabaseSummary } from "../cluster/index.ts";
import type { DocumentsChange, WorkerStatus } from "./worker/protocol.ts";

/** Trace events kept between two pushes; older ones are dropped (and the drop is reported). */
const traceEventsMax = 10_000;

/** StatusUpdate is one push's content: the status or only document changes, and the events. */
export interface StatusUpdate {
  /** The whole status, when something in it other than document ids changed since the last push. */
  readonly status?: WorkerStatus;
  /** Otherwise only what changed in the document ids (the rest of the status is as last pushed). */
  readonly documents?: Readonly<Record<string, DocumentsChange>>;
  readonly events: readonly TraceEvent[];
}

/** StatusReporter follows one server (undefined until it started) for its host. */
export class StatusReporter {
  private events: TraceEvent[] = [];
  private droppedEvents = 0;
  private lastStatusKey = "";
  /** The document ids the host was told of, per hosted database, and the etag they reflect. */
  private readonly pushed = new Map<string, { etag: number; ids: Set<string> }>();

  constructor(
    private readonly server: () => Server | undefined,
    private readonly nowMs: () => number,
  ) {}

  /** record buffers one trace event for the next push. */
  record(event: TraceEvent): void {
    if (this.events.length >= traceEventsMax) {
      this.events.shift();
      this.droppedEvents++;
    }
    this.events.push(event);
  }

  /**
   * take returns what the host has not heard yet, or undefined when nothing changed (unless
   * `always`). The status is rebuilt and sent only when what it shows changed; the key is cheap
   * to make, since a push may go before every response. Document ids travel as changes since
   * the last push, found by walking the items written since then, so a push costs what changed.
   */
  take(always: boolean): StatusUpdate | undefined {
    const server = this.server();
    if (!server) return undefined;
    if (this.droppedEvents > 0) {
      const dropped = this.droppedEvents;
      this.droppedEvents = 0;
      this.events.push({
        type: "server",
        atMs: this.nowMs(),
        url: server.url,
        text: `${dropped} trace events dropped (more than ${traceEventsMax} between two pushes)`,
      });
    }
    const soft = server.soft();
    const hosted = server.hostedDatabaseNames().sort();
    const key = `${server.tag}|${soft?.role}|${soft?.term}|${soft?.leader}|${server.appliedIndex()}|${hosted.join("|")}|${server.failure?.message ?? ""}`;
    const documents = this.documentChanges(server, hosted);
    const changed = key !== this.lastStatusKey;
    if (!always && this.events.length === 0 && !changed && Object.keys(documents).length === 0)
      return undefined;
    this.lastStatusKey = key;
    const events = this.events;
    this.events = [];
    return {
      ...(changed ? { status: { ...this.summary(), documents } } : { documents }),
      events,
    };
  }

  /** status returns the server's full status now (every database's ids as a reset). */
  status(): WorkerStatus {
    const status = this.summary();
    const server = this.server();
    const documents: Record<string, DocumentsChange> = {};
    for (const name of status.hosted)
      documents[name] = { reset: server!.hostedDatabase(name)!.instance.readableIds() };
    return { ...status, documents };
  }

  /** summary reads the server's status, without documents. */
  summary(): WorkerStatus {
    const server = this.server();
    if (!server) {
      return {
        url: "",
        tag: "?",
        role: "down",
        term: 0,
        leader: null,
        databases: null,
        appliedIndex: 0,
        documents: {},
        hosted: [],
        atMs: this.nowMs(),
      };
    }
    const soft = server.soft();
    const state = server.clusterState;
    const databases: DatabaseSummary[] | null = state ? databaseSummaries(state) : null;
    return {
      url: server.url,
      tag: server.tag,
      role: soft?.role ?? "passive",
      term: soft?.term ?? 0,
      leader: soft?.leader ?? null,
      databases,
      appliedIndex: server.appliedIndex(),
      documents: {},
      hosted: server.hostedDatabaseNames().sort(),
      atMs: this.nowMs(),
      ...(server.failure ? { failure: server.failure } : {}),
    };
  }

  /**
   * documentChanges brings the pushed id sets up to date and returns what changed: a reset for a
   * database the host has not heard of, ids added and removed for the others.
   */
  private documentChanges(
    server: Server,
    hosted: readonly string[],
  ): Record<string, DocumentsChange> {
    const changes: Record<string, DocumentsChange> = {};
    for (const name of [...this.pushed.keys()])
      if (!hosted.includes(name)) this.pushed.delete(name);
    for (const name of hosted) {
      const instance = server.hostedDatabase(name)!.instance;
      const known = this.pushed.get(name);
      if (!known) {
        const ids = instance.readableIds();
        this.pushed.set(name, { etag: instance.lastEtag, ids: new Set(ids) });
        changes[name] = { reset: ids };
        continue;
      }
      if (known.etag === instance.lastEtag) continue;
      const added: string[] = [];
      const removed: string[] = [];
      for (const item of instance.itemsAfterEtag(known.etag)) {
        // Documents, deletes and conflicts change whether an id is readable; revisions and
        // attachments never do on their own.
        if (item.kind !== "document" && item.kind !== "tombstone" && item.kind !== "conflict")
          continue;
        // The walk sees only items still in place, and a document item in place is its id's
        // current version, which has no kept conflicts (a put or a resolution removes them): so
        // it is readable. A tombstone or a kept conflict in place means the id is not. An id has
        // at most one document or tombstone in place, and its conflicts all say the same, so
        // meeting an id twice changes nothing.
        const present = item.kind === "document";
        if (present && !known.ids.has(item.id)) {
          known.ids.add(item.id);
          added.push(item.id);
        } else if (!present && known.ids.has(item.id)) {
          known.ids.delete(item.id);
          removed.push(item.id);
        }
      }
      known.etag = instance.lastEtag;
      if (added.length > 0 || removed.length > 0)
        changes[name] = {
          ...(added.length > 0 ? { added } : {}),
          ...(removed.length > 0 ? { removed } : {}),
        };
    }
    return changes;
  }
}
