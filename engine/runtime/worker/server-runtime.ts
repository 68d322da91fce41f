/**
 * ServerRuntime is one server's life inside its worker: it opens the storage, recovers the
 * Server, owns the tick timer, carries envelopes through the port mesh, buffers trace events and
 * pushes them to the host with the server's status. It uses only what every worker has (timers,
 * performance, MessagePort through the mesh); server-worker.ts exposes it through Comlink.
 */
import { isRookeryError, SeededRandom } from "../../core/index.ts";
import type { Clock } from "../../core/index.ts";
import type { DatabaseInstance } from "../../database/index.ts";
import { Server } from "../../server/index.ts";
import type { ServerFailure, TraceEvent } from "../../server/index.ts";
import type { StorageWarning } from "../../storage/index.ts";
import { PortMesh } from "../../transport/index.ts";
import type { LinkFaults, ServerRequest, ServerResponse } from "../../transport/index.ts";
import { StatusReporter } from "../status-reporter.ts";
import type {
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
  private readonly reporter = new StatusReporter(() => this.server, realClock.nowMs);
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
    return this.reporter.status();
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
    this.reporter.record(event);
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
   * (always when it answers a refresh).
   */
  private push(refreshed?: number): void {
    if (!this.mesh || !this.server || this.stopped) return;
    const update = this.reporter.take(refreshed !== undefined);
    if (!update) return;
    this.mesh.pushToHost({
      kind: "status",
      ...update,
      ...(refreshed !== undefined ? { refreshed } : {}),
    });
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
