import { RookeryError } from "../core/index.ts";
import type { ServerRequest, ServerResponse, TopologyView } from "../transport/index.ts";
import { isTopologyView, topologyCacheKey } from "./cache.ts";
import type { ResolvedConventions } from "./conventions.ts";
import { allNodesDown, ClientErrorCodes, serverError } from "./errors.ts";
import type { NodeFailure } from "./errors.ts";
import { isFailoverCode, send } from "./network.ts";
import type { ClientNetwork } from "./network.ts";
import { NodeSelector } from "./node-selector.ts";
import type { NodeHealth, ServerNode } from "./node-selector.ts";

/** ClientEvent is what a store reports as it works: which node served what, failovers, topology. */
export type ClientEvent =
  | {
      readonly type: "request";
      readonly atMs: number;
      readonly request: ServerRequest["type"];
      readonly tag: string;
      readonly url: string;
      readonly ok: boolean;
      readonly code?: string;
      readonly durationMs: number;
      /** Why the request went here: the chosen node, a failover, a speed-test race or a health check. */
      readonly purpose: "request" | "failover" | "speed-test" | "health-check";
    }
  | {
      readonly type: "node-failed";
      readonly atMs: number;
      readonly tag: string;
      readonly url: string;
      readonly code: string;
      readonly message: string;
    }
  | {
      readonly type: "failover";
      readonly atMs: number;
      readonly request: ServerRequest["type"];
      readonly from: string;
      readonly to: string;
      readonly reason: string;
    }
  | {
      readonly type: "node-restored";
      readonly atMs: number;
      readonly tag: string;
      readonly url: string;
    }
  | {
      readonly type: "topology-updated";
      readonly atMs: number;
      readonly etag: number;
      readonly members: readonly string[];
      readonly rehabs: readonly string[];
      readonly source: string;
    }
  | {
      readonly type: "fastest-node";
      readonly atMs: number;
      readonly tag: string;
      readonly url: string;
    };

/** DatabaseRequest is a request about the store's database (the executor fills the name in). */
export type DatabaseRequest = Extract<ServerRequest, { readonly database: string }>;

/** ExecuteOptions say what kind of request this is, for node selection. */
export interface ExecuteOptions {
  /** Reads follow the read-balance convention; writes always go to the preferred node. */
  readonly read: boolean;
  /** The session's id, for round robin (RavenDB's per-session node). */
  readonly sessionId?: number;
  readonly timeoutMs?: number;
}

/** Served is a successful answer and the node that gave it. */
export interface Served {
  readonly result: unknown;
  readonly node: ServerNode;
}

/** RequestExecutorOptions wire an executor (the DocumentStore builds one). */
export interface RequestExecutorOptions {
  readonly urls: readonly string[];
  readonly database: string;
  readonly network: ClientNetwork;
  readonly conventions: ResolvedConventions;
  /** This client's address on the network (the simulator's `from`). */
  readonly address: string;
  readonly emit: (event: ClientEvent) => void;
}

/**
 * RequestExecutor is RavenDB's RequestExecutor for one database: it learns the topology from the
 * first URL that answers (or the topology cache), sends each request to the node the conventions
 * choose, fails over in topology order when a node is down, slow or does not host the database,
 * health-checks failed nodes lazily (no timers: a check starts with the first request after its
 * retry time), and refreshes the topology when a response carries a newer topology etag.
 */
export class RequestExecutor {
  readonly database: string;
  readonly urls: readonly string[];
  readonly cacheKey: string;
  private readonly network: ClientNetwork;
  private readonly conventions: ResolvedConventions;
  private readonly address: string;
  private readonly emit: (event: ClientEvent) => void;
  private selector: NodeSelector | undefined;
  private firstFetch: Promise<NodeSelector> | undefined;
  private refreshing: Promise<void> | undefined;
  private source = "";
  /** Requests sent, health checks and speed-test races included (RavenDB's numberOfServerRequests). */
  serverRequests = 0;

  constructor(options: RequestExecutorOptions) {
    this.database = options.database;
    this.urls = options.urls;
    this.network = options.network;
    this.conventions = options.conventions;
    this.address = options.address;
    this.emit = options.emit;
    this.cacheKey = topologyCacheKey(options.database, options.urls);
  }

  /** topology is the current database topology, once fetched. */
  get topology(): TopologyView | undefined {
    return this.selector?.topology;
  }

  /** topologySource says where the current topology came from (a URL, or the cache). */
  get topologySource(): string {
    return this.source;
  }

  /** nodes describes each node the client may use and what it knows of its health. */
  nodes(): NodeHealth[] {
    return this.selector?.states() ?? [];
  }

  /** preferredNode is where writes go now. */
  get preferredNode(): ServerNode | undefined {
    return this.selector?.preferred();
  }

  /** fastestNode is the node fastestNode read balancing measured, once a speed test decided. */
  get fastestNode(): ServerNode | undefined {
    return this.selector?.fastestNode;
  }

  /** knownUrls are every URL the client knows: those it was given, then the topology's. */
  knownUrls(): string[] {
    const urls = [...this.urls, ...(this.selector?.topology.nodes.map((node) => node.url) ?? [])];
    return [...new Set(urls.filter((url) => url !== ""))];
  }

  private now(): number {
    return this.network.nowMs();
  }

  // --- topology --------------------------------------------------------------------------------

  /** ensureTopology fetches the topology on first use; concurrent first requests share one fetch. */
  async ensureTopology(): Promise<NodeSelector> {
    if (this.selector) return this.selector;
    this.firstFetch ??= this.firstTopologyUpdate().finally(() => {
      this.firstFetch = undefined;
    });
    return await this.firstFetch;
  }

  /**
   * firstTopologyUpdate tries the given URLs in order. "Database does not exist" stops at once (any
   * node of the cluster would say the same); down or slow URLs are skipped. When every URL fails,
   * the cached topology (if any) names nodes the caller never listed.
   */
  private async firstTopologyUpdate(): Promise<NodeSelector> {
    const failures: NodeFailure[] = [];
    for (const url of this.urls) {
      const response = await this.sendTo(
        url,
        { type: "database-topology", database: this.database },
        this.conventions.requestTimeoutMs,
      );
      if (response.ok && isTopologyView(response.result))
        return await this.setTopology(response.result, url);
      if (response.ok) {
        failures.push({
          tag: "?",
          url,
          role: "listed url",
          code: "InvalidResponse",
          message: "the answer was not a database topology",
        });
        continue;
      }
      if (response.error.code === ClientErrorCodes.databaseDoesNotExist)
        throw serverError(response.error, { url });
      failures.push({
        tag: "?",
        url,
        role: "listed url",
        code: response.error.code,
        message: response.error.message,
      });
    }
    const cache = this.conventions.topologyCache;
    const cached = cache ? await cache.load(this.cacheKey).catch(() => undefined) : undefined;
    if (cached && cached.database.toLowerCase() === this.database.toLowerCase()) {
      return await this.setTopology(cached, `the topology cache (every listed URL failed)`, false);
    }
    throw allNodesDown(
      `the topology request for database '${this.database}'`,
      failures,
      cache ? "nowhere: no cached topology either" : "nowhere: no topology cache is configured",
    );
  }

  private async setTopology(
    topology: TopologyView,
    source: string,
    save = true,
  ): Promise<NodeSelector> {
    const selector = new NodeSelector(topology, this.conventions.fastestNode, this.selector);
    this.selector = selector;
    this.source = source;
    this.emit({
      type: "topology-updated",
      atMs: this.now(),
      etag: topology.etag,
      members: topology.members,
      rehabs: topology.rehabs,
      source,
    });
    if (save && this.conventions.topologyCache) {
      // A cache that cannot be written must not fail the request that brought the topology.
      await this.conventions.topologyCache.save(this.cacheKey, topology).catch(() => {});
    }
    return selector;
  }

  /**
   * maybeRefresh re-reads the topology from the node that answered when its answer carried a
   * newer topology etag (RavenDB's Refresh-Topology header). Concurrent refreshes share one fetch.
   */
  private async maybeRefresh(response: ServerResponse, node: ServerNode): Promise<void> {
    const etag = response.topologyEtag;
    if (etag === undefined || !this.selector || etag <= this.selector.topology.etag) return;
    this.refreshing ??= (async () => {
      const fresh = await this.sendTo(
        node.url,
        { type: "database-topology", database: this.database },
        this.conventions.requestTimeoutMs,
      );
      if (
        fresh.ok &&
        isTopologyView(fresh.result) &&
        fresh.result.etag > (this.selector?.topology.etag ?? -Infinity)
      ) {
        await this.setTopology(fresh.result, node.url);
      }
    })().finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
  }

  // --- requests ---------------------------------------------------------------------------------

  private sendTo(url: string, request: ServerRequest, timeoutMs: number): Promise<ServerResponse> {
    this.serverRequests++;
    return send(this.network, url, request, timeoutMs, this.address);
  }

  private choose(selector: NodeSelector, options: ExecuteOptions): ServerNode | undefined {
    if (!options.read) return selector.preferred();
    switch (this.conventions.readBalance) {
      case "roundRobin":
        return selector.bySession(options.sessionId ?? 0);
      case "fastestNode":
        return selector.fastest();
      default:
        return selector.preferred();
    }
  }

  /**
   * execute sends one request about this database and returns the first successful answer. The
   * caller sees an error only when the request itself is refused (concurrency, conflict, write
   * assurance...), or when no node of the group could be reached: then one AllTopologyNodesDown
   * error lists every node and what went wrong there.
   */
  async execute(request: DatabaseRequest, options: ExecuteOptions): Promise<Served> {
    let selector = await this.ensureTopology();
    this.startHealthChecks(selector);
    const timeoutMs = options.timeoutMs ?? this.conventions.requestTimeoutMs;
    let node = this.choose(selector, options);
    if (!node)
      throw allNodesDown(
        `${request.type} for '${this.database}'`,
        [],
        `${this.source}, which lists no member or rehab`,
      );
    const race =
      options.read && this.conventions.readBalance === "fastestNode"
        ? this.race(selector, node, request, timeoutMs)
        : undefined;
    let etagAtStart = selector.topology.etag;
    const tried = new Set<string>();
    let failures: NodeFailure[] = [];
    let purpose: "request" | "failover" = "request";
    // Each node is tried once per topology; a topology change restarts the count, at most twice.
    let restartsLeft = 2;
    for (;;) {
      const startedMs = this.now();
      const raced = race?.get(node.tag);
      const response = raced ? await raced : await this.sendTo(node.url, request, timeoutMs);
      if (!raced) this.reportRequest(request, node, response, startedMs, purpose);
      if (response.ok) {
        if (this.selector?.restore(node))
          this.emit({ type: "node-restored", atMs: this.now(), tag: node.tag, url: node.url });
        if (options.read && this.selector?.fastestNode?.tag === node.tag)
          this.selector.servedRead();
        await this.maybeRefresh(response, node);
        return { result: response.result, node };
      }
      const error = response.error;
      if (!isFailoverCode(error.code)) {
        await this.maybeRefresh(response, node);
        throw serverError(error, node);
      }
      selector = this.selector ?? selector;
      selector.onFailed(node, error, this.now(), this.conventions.healthCheckAfterMs);
      this.emit({
        type: "node-failed",
        atMs: this.now(),
        tag: node.tag,
        url: node.url,
        code: error.code,
        message: error.message,
      });
      tried.add(node.tag);
      failures.push({
        tag: node.tag,
        url: node.url,
        role: node.role,
        code: error.code,
        message: error.message,
      });
      if (selector.topology.etag !== etagAtStart && restartsLeft > 0) {
        // The node list changed under us (a refresh by another request): what failed was judged
        // against the old list, so start over on the new one, as RavenDB clears failedNodes.
        restartsLeft--;
        etagAtStart = selector.topology.etag;
        tried.clear();
        failures = [];
      }
      const next = selector.nextAfterFailure(tried);
      if (!next)
        throw allNodesDown(`${request.type} for '${this.database}'`, failures, this.source);
      this.emit({
        type: "failover",
        atMs: this.now(),
        request: request.type,
        from: node.tag,
        to: next.tag,
        reason: error.code,
      });
      node = next;
      purpose = "failover";
    }
  }

  private reportRequest(
    request: ServerRequest,
    node: ServerNode,
    response: ServerResponse,
    startedMs: number,
    purpose: "request" | "failover" | "speed-test" | "health-check",
  ): void {
    this.emit({
      type: "request",
      atMs: this.now(),
      request: request.type,
      tag: node.tag,
      url: node.url,
      ok: response.ok,
      ...(response.ok ? {} : { code: response.error.code }),
      durationMs: this.now() - startedMs,
      purpose,
    });
  }

  /**
   * race is RavenDB's speed test: while fastestNode is measuring, a read goes to every healthy
   * member at once; the first to answer successfully scores a point, and the caller gets the
   * answer of the node it chose. Returns the in-flight answers by tag, or undefined when no
   * measuring is going on.
   */
  private race(
    selector: NodeSelector,
    chosen: ServerNode,
    request: ServerRequest,
    timeoutMs: number,
  ): Map<string, Promise<ServerResponse>> | undefined {
    const racers = selector.racers();
    if (racers.length === 0) return undefined;
    const answers = new Map<string, Promise<ServerResponse>>();
    let decided = false;
    const startedMs = this.now();
    for (const node of racers) {
      const answer = this.sendTo(node.url, request, timeoutMs).then((response) => {
        this.reportRequest(
          request,
          node,
          response,
          startedMs,
          node.tag === chosen.tag ? "request" : "speed-test",
        );
        if (response.ok && !decided) {
          decided = true;
          // Only the selector that started the race may score it; a new topology starts afresh.
          const selected = this.selector === selector ? selector.recordFastest(node) : undefined;
          if (selected)
            this.emit({
              type: "fastest-node",
              atMs: this.now(),
              tag: selected.tag,
              url: selected.url,
            });
        }
        return response;
      });
      answers.set(node.tag, answer);
    }
    return answers;
  }

  /**
   * startHealthChecks probes each failed node whose retry time has passed, without waiting: the
   * request that noticed goes on as usual, and the node is used again once a probe succeeds.
   * The probe is a read of no documents, which succeeds only where the database is hosted
   * (RavenDB's GET /databases/{db}/healthcheck).
   */
  private startHealthChecks(selector: NodeSelector): void {
    for (const node of selector.dueForHealthCheck(this.now())) {
      const request: ServerRequest = { type: "get-documents", database: this.database, ids: [] };
      const startedMs = this.now();
      void this.sendTo(node.url, request, this.conventions.requestTimeoutMs).then((response) => {
        this.reportRequest(request, node, response, startedMs, "health-check");
        const current = this.selector ?? selector;
        if (response.ok) {
          if (current.restore(node))
            this.emit({ type: "node-restored", atMs: this.now(), tag: node.tag, url: node.url });
        } else {
          current.healthCheckFailed(
            node,
            response.error,
            this.now(),
            this.conventions.healthCheckIntervalMs,
          );
        }
      });
    }
  }

  /** requireTopology is the topology or an error saying the store has not talked to the cluster yet. */
  requireTopology(): TopologyView {
    if (!this.selector)
      throw new RookeryError(
        "NoTopology",
        `no topology for '${this.database}' yet: send a request first`,
      );
    return this.selector.topology;
  }
}
