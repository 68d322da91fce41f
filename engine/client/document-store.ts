import { quote, RookeryError } from "../core/index.ts";
import type { TopologyView } from "../transport/index.ts";
import { resolveConventions } from "./conventions.ts";
import type { DocumentConventions, ResolvedConventions } from "./conventions.ts";
import { MaintenanceOperations } from "./maintenance.ts";
import { httpNetwork } from "./http-network.ts";
import type { ClientNetwork } from "./network.ts";
import type { NodeHealth, ServerNode } from "./node-selector.ts";
import { RequestExecutor } from "./request-executor.ts";
import type { ClientEvent } from "./request-executor.ts";
import { DocumentSession } from "./session.ts";

/** DocumentStoreOptions: RavenDB's DocumentStore settings plus the network to talk over. */
export interface DocumentStoreOptions {
  /** Any servers of the cluster; listing several lets a new client start while some are down. */
  readonly urls: readonly string[];
  /** The database sessions talk to; a store without one can still run maintenance operations. */
  readonly database?: string;
  /**
   * How requests travel: `cluster.network` under the simulator and the workers; left out, over
   * HTTP (fetch) to server processes (`Cluster.start({ runtime: "process" })`, `npm run serve`).
   */
  readonly network?: ClientNetwork;
  readonly conventions?: DocumentConventions;
  /**
   * This client's address on the network (the simulator's `from`, "client" by default). Give two
   * stores different addresses to put them on different sides of a partition.
   */
  readonly address?: string;
}

/**
 * DocumentStore is the client's entry point, as in RavenDB: create it with the cluster's URLs and
 * a database, initialize() it, and open sessions. The first request learns the database topology;
 * from then on requests go to the preferred node and fail over on their own.
 *
 * ```ts
 * const store = new DocumentStore({ urls: cluster.urls, database: "Spade", network: cluster.network });
 * store.initialize();
 * const session = store.openSession();
 * session.store({ name: "Oren" }, "users/1");
 * await session.saveChanges();
 * ```
 */
export class DocumentStore {
  readonly urls: readonly string[];
  readonly database: string | undefined;
  readonly conventions: ResolvedConventions;
  readonly address: string;
  /** Cluster-wide operations and topology reads, sent to any reachable server. */
  readonly maintenance: MaintenanceOperations;
  private readonly network: ClientNetwork;
  private readonly listeners: ((event: ClientEvent) => void)[] = [];
  private executor: RequestExecutor | undefined;
  private initialized = false;
  private nextSessionId = 0;

  constructor(options: DocumentStoreOptions) {
    if (
      !Array.isArray(options.urls) ||
      options.urls.length === 0 ||
      !options.urls.every((url) => typeof url === "string" && url.length > 0)
    ) {
      throw new RookeryError(
        "InvalidUrls",
        `a DocumentStore needs at least one server URL, like "http://127.0.0.1:8080"; got ${JSON.stringify(options.urls)}`,
      );
    }
    if (
      options.database !== undefined &&
      (typeof options.database !== "string" || options.database.trim() === "")
    ) {
      throw new RookeryError(
        "InvalidDatabaseName",
        `database must be a non-empty name, got ${JSON.stringify(options.database)}`,
      );
    }
    const network =
      options.network ??
      (typeof fetch === "function" && !("network" in options) ? httpNetwork() : undefined);
    if (!network || typeof network.request !== "function") {
      throw new RookeryError(
        "InvalidNetwork",
        "a DocumentStore needs a network to talk over: pass `network: cluster.network`, or leave it out to talk HTTP to server processes",
      );
    }
    this.urls = options.urls.map((url) => url.replace(/\/+$/, ""));
    this.database = options.database;
    this.network = network;
    this.conventions = resolveConventions(options.conventions);
    this.address = options.address ?? "client";
    this.maintenance = new MaintenanceOperations({
      network: this.network,
      database: this.database,
      address: this.address,
      timeoutMs: this.conventions.maintenanceTimeoutMs,
      knownUrls: () => this.executor?.knownUrls() ?? [...this.urls],
      tagOf: (url) => this.executor?.topology?.nodes.find((node) => node.url === url)?.tag,
    });
  }

  /**
   * initialize readies the store. Like RavenDB it does not talk to the cluster: the first request
   * fetches the topology, so initialize() is synchronous and never fails because a server is down.
   */
  initialize(): this {
    if (this.initialized) return this;
    this.initialized = true;
    if (this.database !== undefined) {
      this.executor = new RequestExecutor({
        urls: this.urls,
        database: this.database,
        network: this.network,
        conventions: this.conventions,
        address: this.address,
        emit: (event) => this.emit(event),
      });
    }
    return this;
  }

  /** openSession starts a unit of work on the store's database. */
  openSession(): DocumentSession {
    const executor = this.requireExecutor();
    return new DocumentSession(
      executor,
      this.nextSessionId++,
      this.conventions.waitForReplicationTimeoutMs,
      this.conventions.requestTimeoutMs,
    );
  }

  /** requestExecutor sends the store's database requests (RavenDB's getRequestExecutor()). */
  get requestExecutor(): RequestExecutor {
    return this.requireExecutor();
  }

  /** topology is the database topology the store uses now (undefined before the first request). */
  get topology(): TopologyView | undefined {
    return this.executor?.topology;
  }

  /** preferredNode is where writes go now. */
  get preferredNode(): ServerNode | undefined {
    return this.executor?.preferredNode;
  }

  /** nodes lists the database's nodes with what the client knows of their health. */
  nodes(): NodeHealth[] {
    return this.executor?.nodes() ?? [];
  }

  /**
   * on listens to what the store does: each request and the node that served it, failovers,
   * nodes failing and coming back, topology updates, the fastest node. Returns an unsubscribe.
   */
  on(event: "event", listener: (event: ClientEvent) => void): () => void {
    if (event !== "event")
      throw new RookeryError("InvalidEvent", `unknown event ${quote(String(event))}; use "event"`);
    this.listeners.push(listener);
    return () => {
      const k = this.listeners.indexOf(listener);
      if (k >= 0) this.listeners.splice(k, 1);
    };
  }

  private emit(event: ClientEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private requireExecutor(): RequestExecutor {
    if (!this.initialized)
      throw new RookeryError("NotInitialized", "call store.initialize() before opening sessions");
    if (!this.executor) {
      throw new RookeryError(
        "NoDatabase",
        "this store has no database: pass `database` to new DocumentStore({ ... }) to open sessions",
      );
    }
    return this.executor;
  }
}
