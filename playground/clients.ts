/**
 * The chapter pages' clients: one or two real DocumentStores on the section's database, each
 * with its own topology, read-balance mode and network. A client can be cut off from chosen
 * servers (the chapter's client that reaches some servers and not others): its requests to them
 * go unanswered until its request timeout, as over a cut cable, and the store fails over on its
 * own. Every request the store makes is listed with the node it went to and why.
 */
import type {
  ClientEvent,
  ClientNetwork,
  DocumentStore,
  ServerRequest,
  ServerResponse,
} from "../engine/index.ts";

export type ReadBalance = "none" | "roundRobin" | "fastestNode";

export const readBalances: readonly { readonly value: ReadBalance; readonly label: string }[] = [
  { value: "none", label: "none (the preferred node)" },
  { value: "roundRobin", label: "round robin" },
  { value: "fastestNode", label: "fastest node" },
];

/** ClientRequest is one line of a client's request list. */
export interface ClientRequest {
  readonly id: number;
  /** Cluster clock, ms since the playground started. */
  readonly atMs: number;
  /** What the reader asked ("load users/1"), or what the store did on its own ("health check"). */
  readonly what: string;
  /** The node that answered or failed ("B"). */
  readonly node: string;
  /** Why that node: preferred, round robin, fastest, failover from A, health check … */
  readonly why: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail?: string;
}

/** ClientView is what the client panel shows of one client. */
export interface ClientView {
  readonly index: number;
  readonly name: string;
  readonly readBalance: ReadBalance;
  /** Server URLs this client cannot reach. */
  readonly cutOff: readonly string[];
  /** The topology as this client knows it, preferred node first; empty before its first request. */
  readonly topology: readonly {
    readonly tag: string;
    readonly url: string;
    readonly role: string;
    /** Failed requests since the node last answered (0: healthy as far as the client knows). */
    readonly failures: number;
  }[];
  readonly topologyEtag: number | null;
  readonly fastest: string | null;
  readonly requests: readonly ClientRequest[];
}

/** Requests a client keeps in its list. */
const requestsShown = 12;

/** ClientsHost is what the clients need from the session: the cluster now, its clock, the speed. */
export interface ClientsHost {
  /** The running cluster's network, or null while there is none (paused, restarting). */
  network(): ClientNetwork | null;
  /** Cluster clock ms, and the playground's origin on it. */
  nowMs(): number;
  originMs(): number;
  /** Urls of the cluster's servers. */
  urls(): readonly string[];
  /** The engine's DocumentStore class (the engine loads lazily). */
  makeStore(options: ConstructorParameters<typeof DocumentStore>[0]): DocumentStore;
  /** 1 / speed: how much longer than the engine's defaults the clients wait. */
  slow(): number;
  changed(): void;
}

interface Client {
  readonly index: number;
  readBalance: ReadBalance;
  cutOff: Set<string>;
  store: DocumentStore;
  requests: ClientRequest[];
  /** The reader's request in progress, to name the lines the store reports for it. */
  asking: string | null;
  unsubscribe: () => void;
}

/**
 * Clients runs the page's clients. The stores are rebuilt whenever the conventions change (read
 * balance) or the cluster is replaced (Reset, Back one step), as a restarted application would.
 */
export class Clients {
  private readonly clients: Client[] = [];
  private nextRequestId = 1;

  constructor(
    private readonly host: ClientsHost,
    private readonly database: string,
    count: number,
  ) {
    for (let index = 0; index < count; index++) {
      const client: Client = {
        index,
        readBalance: "none",
        cutOff: new Set(),
        store: undefined as unknown as DocumentStore,
        requests: [],
        asking: null,
        unsubscribe: () => {},
      };
      this.clients.push(client);
      this.rebuild(client);
    }
  }

  get count(): number {
    return this.clients.length;
  }

  /** views describes every client for the panel. */
  views(): ClientView[] {
    return this.clients.map((client) => {
      const store = client.store;
      const health = new Map(store.nodes().map((node) => [node.url, node.failures]));
      const topology = store.topology;
      return {
        index: client.index,
        name: `Client ${client.index + 1}`,
        readBalance: client.readBalance,
        cutOff: [...client.cutOff],
        topology: (topology?.nodes ?? []).map((node) => ({
          tag: node.tag,
          url: node.url,
          role: node.role,
          failures: health.get(node.url) ?? 0,
        })),
        topologyEtag: topology?.etag ?? null,
        fastest: store.requestExecutor.fastestNode?.tag ?? null,
        requests: client.requests,
      };
    });
  }

  /** reset starts every client afresh (a new cluster: nothing learned, nothing cut). */
  reset(): void {
    for (const client of this.clients) {
      client.cutOff = new Set();
      client.readBalance = "none";
      client.requests = [];
      this.rebuild(client);
    }
    this.host.changed();
  }

  setReadBalance(index: number, mode: ReadBalance): void {
    const client = this.need(index);
    client.readBalance = mode;
    this.rebuild(client);
    this.host.changed();
  }

  /** setReachable cuts a client off from the servers not in `reachable`. */
  setCutOff(index: number, urls: readonly string[]): void {
    this.need(index).cutOff = new Set(urls);
    this.host.changed();
  }

  /**
   * save stores one document through the client; with `replicas` it waits for that many copies
   * (write assurance) and says how long the save waited.
   */
  async save(
    index: number,
    id: string,
    body: Record<string, unknown>,
    replicas: number,
  ): Promise<string> {
    const client = this.need(index);
    const session = client.store.openSession();
    session.store({ ...body }, id);
    if (replicas > 0)
      session.advanced.waitForReplicationAfterSaveChanges({
        replicas,
        timeout: Math.round(1_500 * this.host.slow()),
        throwOnTimeout: true,
      });
    const started = this.host.nowMs();
    client.asking =
      replicas > 0
        ? `save ${id}, waiting for ${replicas} replica${replicas === 1 ? "" : "s"}`
        : `save ${id}`;
    try {
      await session.saveChanges();
      const waited = this.host.nowMs() - started;
      return `Client ${index + 1} saved ${id} on node ${session.advanced.lastServedBy ?? "?"}${replicas > 0 ? `; the save waited ${formatMs(waited)} for ${replicas} replica${replicas === 1 ? "" : "s"}` : ""}.`;
    } catch (error) {
      const waited = this.host.nowMs() - started;
      throw new ClientFailed(
        `Client ${index + 1}'s save of ${id} raised ${codeAndMessage(error)} after ${formatMs(waited)}${session.advanced.lastServedBy ? ` (node ${session.advanced.lastServedBy} answered)` : ""}.`,
      );
    } finally {
      client.asking = null;
      this.host.changed();
    }
  }

  /** load reads one document through the client (reads follow its read-balance mode). */
  async load(index: number, id: string): Promise<{ text: string; node: string }> {
    const client = this.need(index);
    const session = client.store.openSession();
    client.asking = `load ${id}`;
    try {
      const loaded = await session.load(id);
      const node = session.advanced.lastServedBy ?? "?";
      return {
        node,
        text:
          loaded === null || loaded === undefined
            ? `Client ${index + 1} read from node ${node}: there is no ${id} there.`
            : `Client ${index + 1} read ${id} from node ${node}: ${JSON.stringify(loaded)}`,
      };
    } catch (error) {
      throw new ClientFailed(
        `Client ${index + 1}'s load of ${id} raised ${codeAndMessage(error)}.`,
      );
    } finally {
      client.asking = null;
      this.host.changed();
    }
  }

  dispose(): void {
    for (const client of this.clients) client.unsubscribe();
  }

  private need(index: number): Client {
    const client = this.clients[index];
    if (!client) throw new ClientFailed(`There is no client ${index + 1} on this page.`);
    return client;
  }

  private rebuild(client: Client): void {
    client.unsubscribe();
    const slow = this.host.slow();
    const store = this.host.makeStore({
      urls: [...this.host.urls()],
      database: this.database,
      network: this.networkOf(client),
      address: `client-${client.index + 1}`,
      conventions: {
        readBalance: client.readBalance,
        requestTimeoutMs: Math.round(1_000 * slow),
        maintenanceTimeoutMs: Math.round(10_000 * slow),
        healthCheckIntervalMs: Math.round(1_000 * slow),
        // Few reads in a playground: decide the fastest node after a handful of races.
        fastestNode: { winsToSelect: 3, reevaluateAfterReads: 20 },
      },
    });
    store.initialize();
    client.store = store;
    client.unsubscribe = store.on("event", (event) => this.heard(client, event));
  }

  /**
   * networkOf is the client's own network: the cluster's, except that servers it is cut off from
   * never answer (the store waits its request timeout and fails over, as over a cut cable).
   */
  private networkOf(client: Client): ClientNetwork {
    return {
      request: (url: string, request: ServerRequest, options?: { readonly timeoutMs?: number }) => {
        const network = this.host.network();
        const timeoutMs = options?.timeoutMs ?? Math.round(1_000 * this.host.slow());
        if (network && !client.cutOff.has(url))
          return network.request(url, request, { ...options, from: `client-${client.index + 1}` });
        const why = network ? "this client is cut off from it" : "the playground is paused";
        return new Promise<ServerResponse>((resolve) =>
          setTimeout(
            () =>
              resolve({
                ok: false,
                error: {
                  code: "RequestTimeout",
                  message: `${url} did not answer ${request.type} within ${timeoutMs} ms (${why})`,
                },
              }),
            timeoutMs,
          ),
        );
      },
      nowMs: () => this.host.nowMs(),
    };
  }

  /** heard turns one of the store's events into a line of its request list. */
  private heard(client: Client, event: ClientEvent): void {
    if (event.type !== "request") return;
    const why = whyThere(event.purpose, client, event.request);
    const line: ClientRequest = {
      id: this.nextRequestId++,
      atMs: Math.max(0, event.atMs - this.host.originMs()),
      what:
        event.purpose === "health-check"
          ? "health check"
          : event.purpose === "speed-test"
            ? "speed test"
            : (client.asking ?? event.request),
      node: event.tag,
      why,
      ok: event.ok,
      ms: event.durationMs,
      ...(event.code ? { detail: event.code } : {}),
    };
    client.requests = [line, ...client.requests].slice(0, requestsShown);
    this.host.changed();
  }
}

/** ClientFailed is a client action that did not work; its message says why. */
export class ClientFailed extends Error {}

function whyThere(
  purpose: Extract<ClientEvent, { type: "request" }>["purpose"],
  client: Client,
  request: string,
): string {
  switch (purpose) {
    case "failover":
      return "failover: the node before it did not answer";
    case "health-check":
      return "checking a node that failed";
    case "speed-test":
      return "racing the nodes to find the fastest";
    case "request":
      if (request === "batch" || client.readBalance === "none") return "the preferred node";
      return client.readBalance === "roundRobin"
        ? "round robin: this session's turn"
        : "the fastest node it measured";
  }
}

export function formatMs(ms: number): string {
  return ms >= 1_000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function codeAndMessage(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" ? `${code}: ${message}` : message;
}
