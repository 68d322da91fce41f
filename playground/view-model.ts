/**
 * Pure functions from the cluster's state to what the panels show. No DOM, no cluster: each takes
 * plain data and returns plain data, so test/playground checks them directly.
 */
import type { ClusterDescription, ServerSummary, TraceEvent } from "../engine/index.ts";
import type { DatabaseStatus, Flow, NetworkCut, TimelineCategory, TimelineEntry } from "./model.ts";

// --- servers -------------------------------------------------------------------------------------

/** serverName is how controls name a server: "node A", or its URL while its tag is "?". */
export function serverName(server: Pick<ServerSummary, "tag" | "url">): string {
  return server.tag === "?" ? server.url : `node ${server.tag}`;
}

/** shortUrl drops the scheme: "127.0.0.1:8080". */
export function shortUrl(url: string): string {
  return url.replace(/^https?:\/\//, "");
}

export interface ServerRow {
  readonly url: string;
  readonly tag: string;
  readonly name: string;
  /** "leader", "follower", "candidate" …, "passive" for a fresh server, "down" for a killed one. */
  readonly role: string;
  readonly term: number;
  readonly isLeader: boolean;
  readonly alive: boolean;
  readonly selected: boolean;
  /** Who this server believes leads, as it would show it ("—" when nobody). */
  readonly sees: string;
}

export function serverRows(servers: readonly ServerSummary[], selectedUrl: string): ServerRow[] {
  return servers.map((server) => ({
    url: server.url,
    tag: server.tag,
    name: serverName(server),
    role: !server.alive ? "down" : server.role,
    term: server.term,
    isLeader: server.alive && server.role === "leader",
    alive: server.alive,
    selected: server.url === selectedUrl,
    sees: server.alive && server.leader ? server.leader : "—",
  }));
}

/**
 * leaderLine says who leads as the selected server sees it — the chapter's point in "Kicking the
 * tires" is that B, alone, sees nobody.
 */
export function leaderLine(servers: readonly ServerSummary[], selectedUrl: string): string {
  const selected = servers.find((server) => server.url === selectedUrl);
  if (!selected) return "";
  const name = serverName(selected);
  if (!selected.alive) return `${name} is down.`;
  if (selected.tag === "?") return `${name} has not joined a cluster yet (tag ?).`;
  if (selected.leader)
    return `${name} sees node ${selected.leader} as leader, term ${selected.term}.`;
  return `${name} sees no leader (term ${selected.term}): the cluster cannot decide anything.`;
}

// --- databases -----------------------------------------------------------------------------------

export type GroupRole = "member" | "promotable" | "rehab";

export interface GroupNode {
  readonly tag: string;
  readonly role: GroupRole;
  /** The first member: the node clients talk to. */
  readonly preferred: boolean;
}

export interface DatabaseRow {
  readonly name: string;
  readonly replicationFactor: number;
  readonly nodes: readonly GroupNode[];
  readonly status: DatabaseStatus;
  /** Servers with a tag that are not in the group yet: what "Add node to group" offers. */
  readonly candidates: readonly string[];
}

type DatabaseRecord = ClusterDescription["databases"][number];

/** groupNodes lists a group in the Studio's order: members (preferred first), promotables, rehabs. */
export function groupNodes(record: DatabaseRecord): GroupNode[] {
  return [
    ...record.members.map((tag, index) => ({
      tag,
      role: "member" as const,
      preferred: index === 0,
    })),
    ...record.promotables.map((tag) => ({ tag, role: "promotable" as const, preferred: false })),
    ...record.rehabs.map((tag) => ({ tag, role: "rehab" as const, preferred: false })),
  ];
}

/**
 * databaseRows lists the databases the way the selected server's Studio would: only those it
 * knows (a fresh server knows none; a server that just joined learns them from the log), each
 * with its status there.
 */
export function databaseRows(
  description: ClusterDescription | null,
  statuses: Readonly<Record<string, DatabaseStatus>>,
): DatabaseRow[] {
  if (!description) return [];
  const tags = description.cluster.map((server) => server.tag).filter((tag) => tag !== "?");
  const known = description.databases.filter(
    (record) => statuses[record.name] === "Online" || statuses[record.name] === "Offline",
  );
  return known.map((record) => {
    const nodes = groupNodes(record);
    const inGroup = new Set(nodes.map((node) => node.tag));
    return {
      name: record.name,
      replicationFactor: record.replicationFactor,
      nodes,
      status: statuses[record.name]!,
      candidates: tags.filter((tag) => !inGroup.has(tag)),
    };
  });
}

/** describeGroup is a group in one line, the book's notation: "members [A, B] · rehabs [C]". */
export function describeGroup(nodes: readonly GroupNode[]): string {
  const list = (role: GroupRole) =>
    nodes.filter((node) => node.role === role).map((node) => node.tag);
  const parts = [`members [${list("member").join(", ")}]`];
  if (list("promotable").length > 0) parts.push(`promotables [${list("promotable").join(", ")}]`);
  if (list("rehab").length > 0) parts.push(`rehabs [${list("rehab").join(", ")}]`);
  return parts.join(" · ");
}

// --- timeline ------------------------------------------------------------------------------------

export const timelineCategories: readonly {
  readonly id: TimelineCategory;
  readonly label: string;
}[] = [
  { id: "election", label: "Elections" },
  { id: "cluster", label: "Cluster commands" },
  { id: "topology", label: "Topology" },
  { id: "failover", label: "Failovers" },
  { id: "replication", label: "Replication" },
  { id: "server", label: "Servers" },
  { id: "action", label: "Your actions" },
];

/** Timeline entries kept; the oldest go first. */
export const timelineMax = 400;

/** Topology changes that move clients to another node: rotations of the preferred node, rehab. */
function isFailover(message: string): boolean {
  return /preferred|rehab|rotat/i.test(message);
}

/**
 * timelineEntries turns trace events into timeline lines (oldest first). Role events of followers
 * that merely learn the leader repeat what the leader said, so only changes that teach something
 * stay: a server starting an election, becoming leader, or losing its leader.
 */
export function timelineEntries(
  events: readonly TraceEvent[],
  originMs: number,
  firstId: number,
): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  let id = firstId;
  const push = (atMs: number, category: TimelineCategory, where: string, text: string) => {
    out.push({ id: id++, atMs: Math.max(0, atMs - originMs), category, where, text });
  };
  for (const event of events) {
    switch (event.type) {
      case "role":
        if (event.role === "leader")
          push(
            event.atMs,
            "election",
            event.tag,
            `${event.tag} won the election: leader of term ${event.term}`,
          );
        else if (event.role === "candidate")
          push(
            event.atMs,
            "election",
            event.tag,
            `${event.tag} started an election for term ${event.term}`,
          );
        else if (event.role === "preCandidate")
          push(
            event.atMs,
            "election",
            event.tag,
            `${event.tag} lost its leader and asks whether it could win an election (term ${event.term})`,
          );
        else if (event.role === "follower" && event.leader === null)
          push(
            event.atMs,
            "election",
            event.tag,
            `${event.tag} follows nobody yet in term ${event.term}`,
          );
        break;
      case "cluster-command":
        push(
          event.atMs,
          "cluster",
          event.tag,
          `${event.ok ? "applied" : "refused"} #${event.index}: ${event.text}`,
        );
        break;
      case "topology-change":
        push(
          event.atMs,
          isFailover(event.message) ? "failover" : "topology",
          event.database,
          event.message,
        );
        break;
      case "replication-batch":
        push(event.atMs, "replication", `${event.from}→${event.to}`, event.text);
        break;
      case "server":
        push(event.atMs, "server", shortUrl(event.url), event.text);
        break;
    }
  }
  return dedupeCommands(out);
}

/**
 * Every server applies every cluster command; the timeline shows each command once (the first
 * server to report it), with the others implied.
 */
function dedupeCommands(entries: TimelineEntry[]): TimelineEntry[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    if (entry.category !== "cluster") return true;
    const key = entry.text;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** appendTimeline adds new entries, drops commands already shown, and keeps the newest timelineMax. */
export function appendTimeline(
  existing: readonly TimelineEntry[],
  added: readonly TimelineEntry[],
): TimelineEntry[] {
  if (added.length === 0) return existing as TimelineEntry[];
  const recentCommands = new Set(
    existing
      .filter((entry) => entry.category === "cluster")
      .slice(-200)
      .map((entry) => entry.text),
  );
  const fresh = added.filter(
    (entry) => entry.category !== "cluster" || !recentCommands.has(entry.text),
  );
  const all = [...existing, ...fresh];
  return all.length > timelineMax ? all.slice(all.length - timelineMax) : all;
}

/** visibleTimeline is the timeline newest first, filtered by category and by text. */
export function visibleTimeline(
  entries: readonly TimelineEntry[],
  categories: ReadonlySet<TimelineCategory>,
  query: string,
): TimelineEntry[] {
  const needle = query.trim().toLowerCase();
  const out: TimelineEntry[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (!categories.has(entry.category)) continue;
    if (needle && !`${entry.where} ${entry.text}`.toLowerCase().includes(needle)) continue;
    out.push(entry);
  }
  return out;
}

/** formatAt shows a cluster time as seconds since the playground started: "+12.4 s". */
export function formatAt(ms: number): string {
  return `+${(ms / 1000).toFixed(1)} s`;
}

// --- network -------------------------------------------------------------------------------------

/** isCut tells whether the reader's partitions keep two servers apart. */
export function isCut(cuts: readonly NetworkCut[], a: string, b: string): boolean {
  return cuts.some(
    (cut) => (cut.a.includes(a) && cut.b.includes(b)) || (cut.a.includes(b) && cut.b.includes(a)),
  );
}

/** describeCuts says in words how the network is split. */
export function describeCuts(
  cuts: readonly NetworkCut[],
  servers: readonly ServerSummary[],
): string {
  if (cuts.length === 0) return "The network is whole: every server reaches every other.";
  const name = (url: string) => {
    const server = servers.find((s) => s.url === url);
    return server ? (server.tag === "?" ? shortUrl(url) : server.tag) : shortUrl(url);
  };
  return (
    cuts
      .map(
        (cut) => `cut between {${cut.a.map(name).join(", ")}} and {${cut.b.map(name).join(", ")}}`,
      )
      .join("; ") + "."
  );
}

// --- replication graph ---------------------------------------------------------------------------

export interface GraphNode {
  readonly tag: string;
  readonly x: number;
  readonly y: number;
  readonly role: GroupRole;
  readonly preferred: boolean;
  readonly alive: boolean;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** Both ends run and no partition separates them. */
  readonly live: boolean;
}

export interface GraphFlow {
  readonly id: number;
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly text: string;
}

export interface ReplicationGraph {
  readonly database: string;
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly flows: readonly GraphFlow[];
  /** The figure in words, for screen readers and the figure's caption. */
  readonly summary: string;
}

export const graphSize = { width: 320, height: 240, radius: 86, nodeRadius: 22 } as const;

/**
 * replicationGraph lays the instances of one database out on a circle. Members and rehabs keep a
 * connection to each other (the mesh; a rehab must catch up); a promotable only receives from its
 * mentor, which the cluster does not publish, so its incoming edge is drawn once a batch shows it.
 */
export function replicationGraph(
  description: ClusterDescription | null,
  database: string | null,
  cuts: readonly NetworkCut[],
  flows: readonly Flow[],
): ReplicationGraph | null {
  const record = description?.databases.find((db) => db.name === database);
  if (!description || !record) return null;
  const group = groupNodes(record);
  const urlOf = (tag: string) =>
    description.cluster.find((server) => server.tag === tag)?.url ?? tag;
  const aliveOf = (tag: string) =>
    description.cluster.find((server) => server.tag === tag)?.alive ?? false;
  const { width, height, radius } = graphSize;
  const nodes: GraphNode[] = group.map((node, index) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * index) / Math.max(1, group.length);
    const single = group.length === 1;
    return {
      tag: node.tag,
      role: node.role,
      preferred: node.preferred,
      alive: aliveOf(node.tag),
      x: Math.round(width / 2 + (single ? 0 : radius * Math.cos(angle))),
      y: Math.round(height / 2 + (single ? 0 : radius * Math.sin(angle))),
    };
  });
  const live = (a: string, b: string) =>
    aliveOf(a) && aliveOf(b) && !isCut(cuts, urlOf(a), urlOf(b));
  const edges: GraphEdge[] = [];
  const mesh = nodes.filter((node) => node.role !== "promotable");
  for (let i = 0; i < mesh.length; i++) {
    for (let j = i + 1; j < mesh.length; j++)
      edges.push({ from: mesh[i]!.tag, to: mesh[j]!.tag, live: live(mesh[i]!.tag, mesh[j]!.tag) });
  }
  const position = new Map(nodes.map((node) => [node.tag, node]));
  const ours = flows.filter(
    (flow) => flow.database === record.name && position.has(flow.from) && position.has(flow.to),
  );
  for (const node of nodes.filter((n) => n.role === "promotable")) {
    const mentor = [...ours].reverse().find((flow) => flow.to === node.tag)?.from;
    if (mentor) edges.push({ from: mentor, to: node.tag, live: live(mentor, node.tag) });
  }
  const graphFlows: GraphFlow[] = ours.map((flow) => {
    const a = position.get(flow.from)!;
    const b = position.get(flow.to)!;
    return { id: flow.id, x1: a.x, y1: a.y, x2: b.x, y2: b.y, text: flow.text };
  });
  const liveCount = edges.filter((edge) => edge.live).length;
  const summary =
    `${record.name}: ${describeGroup(group)}. ` +
    (edges.length === 0
      ? "A single instance has no one to replicate to."
      : `${liveCount} of ${edges.length} connections are up` +
        (liveCount < edges.length
          ? `; down: ${edges
              .filter((e) => !e.live)
              .map((e) => `${e.from}–${e.to}`)
              .join(", ")}`
          : "") +
        ".");
  return { database: record.name, width, height, nodes, edges, flows: graphFlows, summary };
}

/** How long a batch stays on the graph: its trip along the edge, plus a moment at the far end. */
export const flowVisibleMs = 1_400;

// --- documents -----------------------------------------------------------------------------------

/** documentText shows a document's body as indented JSON text (never as HTML). */
export function documentText(body: unknown): string {
  return JSON.stringify(body, null, 2);
}

export type ParsedDocument =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly error: string };

/** parseDocumentText reads what the reader typed: a JSON object, or a reason it is not one. */
export function parseDocumentText(text: string): ParsedDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { ok: false, error: 'A document is a JSON object: { "name": … }' };
  return { ok: true, body: value as Record<string, unknown> };
}

/** validateDocumentId checks an id before it is sent (the server checks again). */
export function validateDocumentId(id: string): string | null {
  const trimmed = id.trim();
  if (trimmed === "") return "Give the document an id, like users/4.";
  if (trimmed.length > 512) return "That id is too long.";
  return null;
}

/** normalizeServerUrl turns what the reader typed into a server URL, or says what is wrong. */
export function normalizeServerUrl(
  text: string,
): { readonly ok: true; readonly url: string } | { readonly ok: false; readonly error: string } {
  let raw = text.trim();
  if (raw === "")
    return { ok: false, error: "Type the new server's URL, like http://127.0.0.2:8080." };
  if (!/^https?:\/\//i.test(raw)) raw = `http://${raw}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, error: `“${text}” is not a URL.` };
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return { ok: true, url: `${url.protocol}//${url.hostname}:${port}` };
}

// --- time ----------------------------------------------------------------------------------------

/** The speeds the reader can pick; 0.25 is the default slow motion, 1 the engine's own timings. */
export const speeds: readonly { readonly value: number; readonly label: string }[] = [
  { value: 0.25, label: "¼× (slow)" },
  { value: 0.5, label: "½×" },
  { value: 1, label: "1× (engine)" },
];

export const defaultSpeed = 0.25;

/** Engine defaults (engine/server/timing.ts, engine/cluster/supervisor.ts) at speed 1. */
const base = {
  tickMs: 10,
  supervisorIntervalMs: 250,
  healthReportIntervalMs: 200,
  replicationRetryMs: 300,
  joinTimeoutMs: 1_000,
  reachableWithinMs: 1_000,
  supervisor: { rotatePreferredAfterMs: 1_000, moveToRehabAfterMs: 3_000, heardWithinMs: 1_000 },
} as const;

/**
 * timingForSpeed stretches every interval of the engine by 1/speed, so at ¼× an election takes
 * 1.2–2.4 s and is easy to watch. A cluster-wide operation must still outlast an election, so its
 * timeout is at least twice the longest election timeout.
 */
export function timingForSpeed(speed: number) {
  const k = 1 / speed;
  const scaled = (ms: number) => Math.round(ms * k);
  const electionMaxMs = scaled(base.tickMs) * 30 * 2;
  return {
    tickMs: scaled(base.tickMs),
    supervisorIntervalMs: scaled(base.supervisorIntervalMs),
    healthReportIntervalMs: scaled(base.healthReportIntervalMs),
    replicationRetryMs: scaled(base.replicationRetryMs),
    joinTimeoutMs: scaled(base.joinTimeoutMs),
    reachableWithinMs: scaled(base.reachableWithinMs),
    clusterOperationTimeoutMs: Math.max(3_000, 2 * electionMaxMs),
    supervisor: {
      rotatePreferredAfterMs: scaled(base.supervisor.rotatePreferredAfterMs),
      moveToRehabAfterMs: scaled(base.supervisor.moveToRehabAfterMs),
      heardWithinMs: scaled(base.supervisor.heardWithinMs),
    },
  };
}

/** The longest election timeout at a speed: what "no leader yet" waits for before it is news. */
export function electionTimeoutMaxMs(speed: number): number {
  return timingForSpeed(speed).tickMs * 30 * 2;
}

/** sumOfField adds up a numeric field over documents (the accounts' total); null if none has it. */
export function sumOfField(
  documents: readonly { readonly body: unknown }[] | null,
  field: string,
): number | null {
  if (!documents) return null;
  let total = 0;
  let found = false;
  for (const doc of documents) {
    const value = (doc.body as Record<string, unknown> | null)?.[field];
    if (typeof value === "number") {
      total += value;
      found = true;
    }
  }
  return found ? total : null;
}
