import type { TopologyView } from "../transport/index.ts";

/** NodeRole is a node's role in the client's topology; promotables are never in it. */
export type NodeRole = "member" | "rehab";

/** ServerNode is one node the client may send database requests to. */
export interface ServerNode {
  readonly tag: string;
  readonly url: string;
  readonly role: NodeRole;
}

/** NodeHealth is what the client remembers about a node between requests. */
export interface NodeHealth extends ServerNode {
  /** Failed requests since the node last answered; 0 means healthy. */
  readonly failures: number;
  readonly lastError?: { readonly code: string; readonly message: string };
  /** When a failed node may be health-checked next (network clock). */
  readonly retryAtMs: number;
}

interface MutableHealth {
  failures: number;
  lastError: { code: string; message: string } | undefined;
  retryAtMs: number;
  probing: boolean;
}

/** FastestNodeRules are RavenDB's speed-test rules, with the one-minute timer replaced by a count. */
export interface FastestNodeRules {
  /** A node that wins this many races becomes the fastest (RavenDB: 10). */
  readonly winsToSelect: number;
  /** After this many reads served by the fastest node, measure again (RavenDB: every minute). */
  readonly reevaluateAfterReads: number;
}

/** serverNodes lists the nodes a client may use: members in order, then rehabs (RavenDB's /topology). */
export function serverNodes(topology: TopologyView): ServerNode[] {
  const members = topology.nodes.filter((node) => node.role === "member");
  const rehabs = topology.nodes.filter((node) => node.role === "rehab");
  return [...members, ...rehabs].map((node) => ({
    tag: node.tag,
    url: node.url,
    role: node.role as NodeRole,
  }));
}

/**
 * NodeSelector chooses the node for each request from one topology, following RavenDB's
 * NodeSelector: the preferred node is the first healthy member (a rehab only as a last resort),
 * round robin picks by session id, and fastest node runs speed tests. It holds no clock and no
 * timer: times arrive as arguments, and health checks are started by the executor when due.
 */
export class NodeSelector {
  readonly topology: TopologyView;
  readonly nodes: readonly ServerNode[];
  private readonly health: MutableHealth[];
  private fastestIndex: number | undefined;
  private speedTest = true;
  private readonly wins: number[];
  private races = 0;
  private readsSinceSelected = 0;

  /**
   * A new topology keeps what the client knew about nodes it already had (same tag and URL), so a
   * topology refresh does not send traffic straight back to a node that just failed.
   */
  constructor(
    topology: TopologyView,
    private readonly rules: FastestNodeRules,
    previous?: NodeSelector,
  ) {
    this.topology = topology;
    this.nodes = serverNodes(topology);
    this.health = this.nodes.map((node) => {
      const before = previous?.find(node);
      return before
        ? { ...before, lastError: before.lastError ? { ...before.lastError } : undefined }
        : { failures: 0, lastError: undefined, retryAtMs: 0, probing: false };
    });
    this.wins = this.nodes.map(() => 0);
  }

  private find(node: ServerNode): MutableHealth | undefined {
    const index = this.nodes.findIndex((n) => n.tag === node.tag && n.url === node.url);
    return index >= 0 ? this.health[index] : undefined;
  }

  private indexOf(node: ServerNode): number {
    return this.nodes.findIndex((n) => n.tag === node.tag && n.url === node.url);
  }

  private healthy(index: number): boolean {
    return this.health[index]!.failures === 0;
  }

  /** states describes every node with its health, for diagnostics and tests. */
  states(): NodeHealth[] {
    return this.nodes.map((node, i) => {
      const h = this.health[i]!;
      return {
        ...node,
        failures: h.failures,
        retryAtMs: h.retryAtMs,
        ...(h.lastError ? { lastError: { ...h.lastError } } : {}),
      };
    });
  }

  /** preferred is the first healthy member, else the first healthy node, else the first node. */
  preferred(): ServerNode | undefined {
    const member = this.nodes.findIndex((node, i) => node.role === "member" && this.healthy(i));
    if (member >= 0) return this.nodes[member];
    const healthy = this.nodes.findIndex((_, i) => this.healthy(i));
    // Everyone failed: the first node, so the caller gets an error or finds it recovered.
    return this.nodes[healthy >= 0 ? healthy : 0];
  }

  /** bySession is round robin: from index sessionId % n, the first healthy member, wrapping round. */
  bySession(sessionId: number): ServerNode | undefined {
    const n = this.nodes.length;
    if (n === 0) return undefined;
    const start = Math.abs(sessionId % n);
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      if (this.nodes[i]!.role === "member" && this.healthy(i)) return this.nodes[i];
    }
    return this.preferred();
  }

  /**
   * nextAfterFailure picks where a failed request goes next: the first node not yet tried for this
   * request, healthy members first, then healthy rehabs, then nodes marked failed earlier (their
   * mark may be stale, and the final error must say what happened on every node).
   */
  nextAfterFailure(tried: ReadonlySet<string>): ServerNode | undefined {
    const untried = (i: number) => !tried.has(this.nodes[i]!.tag);
    const order = [
      ...this.nodes
        .map((_, i) => i)
        .filter((i) => this.nodes[i]!.role === "member" && this.healthy(i)),
      ...this.nodes
        .map((_, i) => i)
        .filter((i) => this.nodes[i]!.role !== "member" && this.healthy(i)),
      ...this.nodes.map((_, i) => i).filter((i) => !this.healthy(i)),
    ];
    const next = order.find(untried);
    return next === undefined ? undefined : this.nodes[next];
  }

  /** onFailed marks a node failed; the first failure schedules its first health check. */
  onFailed(
    node: ServerNode,
    error: { readonly code: string; readonly message: string },
    nowMs: number,
    firstCheckAfterMs: number,
  ): void {
    const h = this.find(node);
    if (!h) return;
    if (h.failures === 0) h.retryAtMs = nowMs + firstCheckAfterMs;
    h.failures++;
    h.lastError = { code: error.code, message: error.message };
    if (this.fastestIndex !== undefined && this.nodes[this.fastestIndex]?.tag === node.tag)
      this.startSpeedTest();
  }

  /** restore marks a node healthy again (it answered a request or a health check). */
  restore(node: ServerNode): boolean {
    const h = this.find(node);
    if (!h) return false;
    h.probing = false;
    if (h.failures === 0) return false;
    h.failures = 0;
    h.lastError = undefined;
    return true;
  }

  /** dueForHealthCheck returns failed nodes whose retry time has passed and marks them probing. */
  dueForHealthCheck(nowMs: number): ServerNode[] {
    const due: ServerNode[] = [];
    this.nodes.forEach((node, i) => {
      const h = this.health[i]!;
      if (h.failures > 0 && !h.probing && nowMs >= h.retryAtMs) {
        h.probing = true;
        due.push(node);
      }
    });
    return due;
  }

  /** healthCheckFailed schedules the next check of a node that still does not answer. */
  healthCheckFailed(
    node: ServerNode,
    error: { readonly code: string; readonly message: string },
    nowMs: number,
    intervalMs: number,
  ): void {
    const h = this.find(node);
    if (!h) return;
    h.probing = false;
    if (h.failures === 0) return;
    h.retryAtMs = nowMs + intervalMs;
    h.lastError = { code: error.code, message: error.message };
  }

  // --- fastest node ------------------------------------------------------------------------------

  /** fastest is the measured fastest node if it is a healthy member, else the preferred node. */
  fastest(): ServerNode | undefined {
    const i = this.fastestIndex;
    if (i !== undefined && this.nodes[i]!.role === "member" && this.healthy(i))
      return this.nodes[i];
    // As RavenDB does: the fastest node failed (or none is known yet), so measure again and use
    // the preferred node meanwhile.
    this.startSpeedTest();
    return this.preferred();
  }

  get fastestNode(): ServerNode | undefined {
    return this.fastestIndex === undefined ? undefined : this.nodes[this.fastestIndex];
  }

  /** racers are the nodes a speed test sends a read to: healthy members, at least two of them. */
  racers(): ServerNode[] {
    if (!this.speedTest) return [];
    const racers = this.nodes.filter((node, i) => node.role === "member" && this.healthy(i));
    return racers.length > 1 ? racers : [];
  }

  get inSpeedTest(): boolean {
    return this.speedTest;
  }

  /** servedRead counts reads that used the fastest node, and re-measures after enough of them. */
  servedRead(): void {
    if (this.speedTest || this.fastestIndex === undefined) return;
    if (++this.readsSinceSelected >= this.rules.reevaluateAfterReads) this.startSpeedTest();
  }

  /**
   * recordFastest gives the first responder of one race a point: the first node to win
   * `winsToSelect` races becomes the fastest; after nodes × winsToSelect races the node with the
   * most wins does (ties go to topology order). Returns the node selected, if this race decided.
   */
  recordFastest(node: ServerNode): ServerNode | undefined {
    const i = this.indexOf(node);
    if (!this.speedTest || i < 0) return undefined;
    this.races++;
    if (++this.wins[i]! >= this.rules.winsToSelect) return this.select(i);
    if (this.races < this.nodes.length * this.rules.winsToSelect) return undefined;
    let best = 0;
    this.wins.forEach((w, k) => {
      if (w > this.wins[best]!) best = k;
    });
    return this.select(best);
  }

  private select(i: number): ServerNode {
    this.fastestIndex = i;
    this.speedTest = false;
    this.readsSinceSelected = 0;
    return this.nodes[i]!;
  }

  private startSpeedTest(): void {
    if (this.speedTest) return;
    this.speedTest = true;
    this.wins.fill(0);
    this.races = 0;
  }
}
