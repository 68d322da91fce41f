/**
 * ServerRuntime is one server's life inside its worker: it opens the storage, recovers the
 * Server, owns the tick timer, carries envelopes through the port mesh, buffers trace events and
 * pushes them to the host with the server's status. It uses only what every worker has (timers,
 * performance, MessagePort through the mesh); server-worker.ts exposes it through Comlink.
 */
import { isRookeryError, SeededRandom } from "../../core/index.ts";
import type { Clock } from "../../core/index.ts";
import { databaseSummaries } from "../../cluster/index.ts";
import type { DatabaseSummary } from "../../cluster/index.ts";
import type { DatabaseInstance } from "../../database/index.ts";
import { Server } from "../../server/index.ts";
import type { ServerFailure, TraceEvent } from "../../server/index.ts";
import type { StorageWarning } from "../../storage/index.ts";
import { PortMesh } from "../../transport/index.ts";
import type { LinkFaults, ServerRequest, ServerResponse } from "../../transport/index.ts";
import type {
  DocumentsChange,
  StatusPush,
  ServerWorkerApi,
  StorageSnapshot,
  WorkerConfig,
  WorkerResult,
  WorkerStatus,
  WriteSeen,
} from "./protocol.ts";
import { openServerStore } from "./storage.ts";
import type { OpenFsStorage, ServerStore } from "./storage.ts";

/** Trace events kept between two pushes; older ones are dropped (and the drop is reported). */
const traceEventsMax = 10_000;
/** Round trips one pingPeer call may ask for. */
const pingCountMax = 100_000;
/** How long one ping waits for its pong. */
const pingTimeoutMs = 1_000;

/**
 * The worker's clock: epoch milliseconds at sub-millisecond resolution. performance.now() alone
 * starts at zero in every worker; adding timeOrigin makes times comparable across workers and
 * restarts, which @last-modified (resolve-to-latest) and cross-worker lag measurements need.
 */
const realClock: Clock = { nowMs: () => performance.timeOrigin + performance.now() };

/**
 * readableSince returns when the readable version of a document was written (its writer's clock,
 * at full resolution), or null when the document cannot be read here.
 */
function readableSince(instance: DatabaseInstance, id: string): number | null {
  try {
    if (instance.conflictsOf(id).length > 0) return null;
    return instance.currentWrittenAtMs(id) ?? null;
  } catch {
    return null;
  }
}

interface Watch {
  readonly database: string;
  readonly id: string;
  readonly resolve: (seen: WriteSeen | null) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** ServerRuntime implements the worker's control plane (see ServerWorkerApi). */
export class ServerRuntime implements ServerWorkerApi {
  private server: Server | undefined;
  private store: ServerStore | undefined;
  private mesh: PortMesh<StatusPush> | undefined;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private statusTimer: ReturnType<typeof setInterval> | undefined;
  private events: TraceEvent[] = [];
  private droppedEvents = 0;
  private lastStatusKey = "";
  /** The document ids the host was told of, per hosted database, and the etag they reflect. */
  private readonly pushed = new Map<string, { etag: number; ids: Set<string> }>();
  private readonly watches = new Set<Watch>();
  private stopped = false;
  /** Why the server stopped by itself (a failed storage write), once it did. */
  private failure: ServerFailure | undefined;

  /** `openFs` opens fs storage; the Node entry passes it, the browser entry has none. */
  constructor(private readonly openFs?: OpenFsStorage) {}

  async init(config: WorkerConfig): Promise<WorkerResult<WorkerStatus>> {
    if (this.server || this.stopped)
      return {
        ok: false,
        code: "AlreadyStarted",
        message: `this worker already ran ${config.url}; start a new worker`,
      };
    const random = new SeededRandom(config.seed);
    try {
      this.store = await openServerStore(
        config.storage,
        config.url,
        (warning) => this.warn(config.url, warning),
        this.openFs,
      );
      this.mesh = new PortMesh<StatusPush>(config.hostPort, random.fork(), {
        deliver: (envelope) => {
          this.server?.receive(envelope);
          this.checkWatches();
        },
        beforeResponse: () => this.push(),
        refresh: (id) => this.push(id),
        nowMs: realClock.nowMs,
      });
      this.server = await Server.start({
        url: config.url,
        storage: this.store.port,
        transport: this.mesh,
        clock: realClock,
        random,
        ...(config.timing ? { timing: config.timing } : {}),
        ...(config.replicationLimits ? { replicationLimits: config.replicationLimits } : {}),
        trace: (event) => this.record(event),
        onFailStop: (failure) => this.failStopped(failure),
      });
    } catch (error) {
      this.stopTimersAndPorts();
      this.store?.crash();
      const code = isRookeryError(error) ? error.code : "ServerStartFailed";
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, code, message: `${config.url} could not start: ${message}` };
    }
    const server = this.server;
    this.tickTimer = setInterval(() => {
      server.tick();
      this.checkWatches();
    }, server.timing.tickMs);
    this.statusTimer = setInterval(() => this.push(), config.statusIntervalMs);
    this.record({
      type: "server",
      atMs: realClock.nowMs(),
      url: server.url,
      text:
        server.tag === "?" ? "started (fresh, tag ?)" : `started, recovered as node ${server.tag}`,
    });
    return { ok: true, value: this.status() };
  }

  connectPeer(url: string, port: MessagePort): void {
    if (!this.mesh) {
      port.close();
      return;
    }
    this.mesh.connectPeer(url, port);
  }

  setLinkFaults(url: string, faults: LinkFaults): void {
    this.mesh?.setFaults(url, faults);
  }

  async request(request: ServerRequest): Promise<ServerResponse> {
    if (!this.server || this.stopped)
      return {
        ok: false,
        error: { code: "ServerUnavailable", message: "the server is not running" },
      };
    const response = await this.server.handleRequest(request);
    this.push();
    return response;
  }

  status(): WorkerStatus {
    const status = this.summary();
    const documents: Record<string, DocumentsChange> = {};
    for (const name of status.hosted) {
      documents[name] = { reset: this.server!.hostedDatabase(name)!.instance.readableIds() };
    }
    return { ...status, documents };
  }

  async crash(): Promise<StorageSnapshot | null> {
    this.stopped = true;
    this.stopTimersAndPorts();
    return this.store?.crash() ?? null;
  }

  async shutdown(): Promise<StorageSnapshot | null> {
    if (this.stopped) return null;
    if (this.server)
      this.record({
        type: "server",
        atMs: realClock.nowMs(),
        url: this.server.url,
        text: "shut down",
      });
    this.push();
    this.stopped = true;
    this.stopTimersAndPorts();
    return (await this.store?.close()) ?? null;
  }

  async failDisk(cause: string): Promise<boolean> {
    return this.store?.failDisk(cause) ?? false;
  }

  async pingPeer(url: string, count: number): Promise<number[]> {
    const rounds: number[] = [];
    for (let k = 0; k < Math.min(count, pingCountMax) && this.mesh && !this.stopped; k++) {
      const ms = await this.mesh.ping(url, pingTimeoutMs);
      if (ms === null) break;
      rounds.push(ms);
    }
    return rounds;
  }

  async watchDocument(database: string, id: string, timeoutMs: number): Promise<number | null> {
    return (await this.watchWrite(database, id, timeoutMs))?.visibleAtMs ?? null;
  }

  watchWrite(database: string, id: string, timeoutMs: number): Promise<WriteSeen | null> {
    return new Promise((resolve) => {
      const watch: Watch = {
        database,
        id,
        resolve,
        timer: setTimeout(() => {
          this.watches.delete(watch);
          resolve(null);
        }, timeoutMs),
      };
      this.watches.add(watch);
      this.checkWatches();
    });
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * failStopped: the server stopped after a failed storage write. Its tick stops, and the status
   * goes to the host at once with the failure; the host reports the server crashed, crashes its
   * storage through crash() and ends this worker.
   */
  private failStopped(failure: ServerFailure): void {
    this.failure = failure;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    this.push();
  }

  private record(event: TraceEvent): void {
    if (this.events.length >= traceEventsMax) {
      this.events.shift();
      this.droppedEvents++;
    }
    this.events.push(event);
  }

  private warn(url: string, warning: StorageWarning): void {
    this.record({
      type: "server",
      atMs: realClock.nowMs(),
      url,
      text: `storage: ${warning.message}`,
    });
  }

  /**
   * push sends buffered trace events and the status, if anything changed since the last push
   * (always when it answers a refresh). Document ids travel as changes since the last push, found
   * by walking the items written since then, so a push costs what changed, not what is stored.
   */
  private push(refreshed?: number): void {
    if (!this.mesh || !this.server || this.stopped) return;
    if (this.droppedEvents > 0) {
      const dropped = this.droppedEvents;
      this.droppedEvents = 0;
      this.events.push({
        type: "server",
        atMs: realClock.nowMs(),
        url: this.server.url,
        text: `${dropped} trace events dropped (more than ${traceEventsMax} between two pushes)`,
      });
    }
    // The status is rebuilt and sent only when what it shows changed; the key is cheap to make,
    // since a push goes before every response (a write's push is mostly its document ids).
    const server = this.server;
    const soft = server.soft();
    const hosted = server.hostedDatabaseNames().sort();
    const key = `${server.tag}|${soft?.role}|${soft?.term}|${soft?.leader}|${server.appliedIndex()}|${hosted.join("|")}|${this.failure?.message ?? ""}`;
    const documents = this.documentChanges(hosted);
    const changed = key !== this.lastStatusKey;
    if (
      refreshed === undefined &&
      this.events.length === 0 &&
      !changed &&
      Object.keys(documents).length === 0
    )
      return;
    this.lastStatusKey = key;
    const events = this.events;
    this.events = [];
    this.mesh.pushToHost({
      kind: "status",
      ...(changed ? { status: { ...this.summary(), documents } } : { documents }),
      events,
      ...(refreshed !== undefined ? { refreshed } : {}),
    });
  }

  /** summary reads the server's status, without documents. */
  private summary(): WorkerStatus {
    const server = this.server;
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
        atMs: realClock.nowMs(),
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
      atMs: realClock.nowMs(),
      ...(this.failure ? { failure: this.failure } : {}),
    };
  }

  /**
   * documentChanges brings the pushed id sets up to date and returns what changed: a reset for a
   * database the host has not heard of, ids added and removed for the others.
   */
  private documentChanges(hosted: readonly string[]): Record<string, DocumentsChange> {
    const changes: Record<string, DocumentsChange> = {};
    for (const name of [...this.pushed.keys()])
      if (!hosted.includes(name)) this.pushed.delete(name);
    for (const name of hosted) {
      const instance = this.server!.hostedDatabase(name)!.instance;
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

  private checkWatches(): void {
    if (this.watches.size === 0 || !this.server) return;
    for (const watch of this.watches) {
      const instance = this.server.hostedDatabase(watch.database)?.instance;
      const writtenAtMs = instance ? readableSince(instance, watch.id) : null;
      if (writtenAtMs === null) continue;
      const visibleAtMs = realClock.nowMs();
      clearTimeout(watch.timer);
      this.watches.delete(watch);
      watch.resolve({ visibleAtMs, writtenAtMs });
    }
  }

  private stopTimersAndPorts(): void {
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    if (this.statusTimer !== undefined) clearInterval(this.statusTimer);
    this.tickTimer = this.statusTimer = undefined;
    for (const watch of this.watches) {
      clearTimeout(watch.timer);
      watch.resolve(null);
    }
    this.watches.clear();
    this.mesh?.close();
  }
}
