/**
 * Pure functions from the cluster's state to what the panels show. No DOM, no cluster: each takes
 * plain data and returns plain data, so test/playground checks them directly.
 */
import type {
  ClusterDescription,
  RachisSnapshot,
  ServerSummary,
  TraceEvent,
} from "../engine/index.ts";
import type {
  DatabaseStatus,
  Flow,
  Lag,
  NetworkCut,
  RaftMessageView,
  TimelineCategory,
  TimelineEntry,
} from "./model.ts";

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
  { id: "conflict", label: "Conflicts" },
  { id: "assurance", label: "Write assurance" },
  { id: "failed", label: "Failed sends" },
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
  const push = (
    atMs: number,
    category: TimelineCategory,
    where: string,
    text: string,
    muted = false,
  ) => {
    const at = Math.max(0, atMs - originMs);
    out.push({ id: id++, atMs: at, category, where, text, ...(muted ? { muted } : {}) });
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
      // A batch handed to the network is an intention; the timeline shows what came of it.
      case "replication-batch":
        break;
      case "replication-applied": {
        const line = appliedLine(event);
        push(event.atMs, line.category, `${event.from}→${event.to}`, line.text, line.muted);
        break;
      }
      case "message-dropped":
        if (event.kind === "replication" && event.what === "batch")
          push(
            event.atMs,
            "failed",
            `${event.from}→${event.to}`,
            `${event.database}: batch${event.ids?.length ? ` with ${listIds(event.ids)}` : ""} not delivered: ${event.reason}`,
            true,
          );
        break;
      case "write-assurance":
        push(
          event.atMs,
          "assurance",
          event.tag,
          `${event.database}: the save of ${listIds(event.ids)} waited ${Math.round(event.waitedMs)} ms for ${plural(event.wanted, "replica")}: ${
            event.outcome === "satisfied"
              ? `reached ${event.reached}`
              : `timed out with ${event.reached} of ${event.wanted} (the write stays on ${event.tag})`
          }`,
        );
        break;
      case "server":
        push(event.atMs, "server", shortUrl(event.url), event.text);
        break;
    }
  }
  return dedupeCommands(out);
}

type Applied = Extract<TraceEvent, { type: "replication-applied" }>;

/** Document ids a line names before it counts the rest. */
const idsShownMax = 4;

function listIds(ids: readonly string[]): string {
  if (ids.length <= idsShownMax) return ids.join(", ");
  return `${ids.slice(0, idsShownMax).join(", ")} and ${ids.length - idsShownMax} more`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * appliedLine says what a receiver did with a batch: the documents it wrote or deleted, the
 * echoes its change vector stopped (nothing written: dimmed), the conflicts it met and how they
 * ended, and the lag since the write.
 */
export function appliedLine(event: Applied): {
  category: TimelineCategory;
  text: string;
  muted: boolean;
} {
  const { database, from, to } = event;
  if (event.note === "duplicate")
    return {
      category: "replication",
      text: `${database}: ${to} had applied etags ${event.afterEtag + 1}..${event.lastEtag} from ${from} before; nothing written`,
      muted: true,
    };
  if (event.note === "gap")
    return {
      category: "replication",
      text: `${database}: ${to} refused etags ${event.afterEtag + 1}..${event.lastEtag} (it missed earlier ones); ${from} sends again from where ${to} is`,
      muted: true,
    };
  const by = (outcome: string) =>
    event.items.filter((item) => item.outcome === outcome).map((item) => item.id);
  const had = by("already-had");
  const parts: string[] = [];
  if (by("written").length > 0) parts.push(`${listIds(by("written"))} written`);
  if (by("deleted").length > 0) parts.push(`${listIds(by("deleted"))} deleted`);
  const conflicts: string[] = [];
  for (const item of event.items) {
    if (item.outcome === "resolved")
      conflicts.push(
        `conflict on ${item.id} resolved to the latest: ${item.kept === "local" ? `${to}'s own` : `${from}'s`} version won`,
      );
    else if (item.outcome === "merged")
      conflicts.push(`concurrent versions of ${item.id} were identical: merged`);
    else if (item.outcome === "conflict")
      conflicts.push(`conflict on ${item.id} kept (resolution is off): it waits for a put`);
  }
  parts.push(...conflicts);
  if (parts.length === 0)
    return {
      category: "replication",
      text: `${database}: echo stopped: ${to} already had ${had.length > 0 ? listIds(had) : "everything"} (its change vector says so); nothing written`,
      muted: true,
    };
  if (had.length > 0) parts.push(`${listIds(had)} already had`);
  const lag = event.lagMs !== undefined ? ` · lag ${Math.round(event.lagMs)} ms` : "";
  return {
    category: conflicts.length > 0 ? "conflict" : "replication",
    text: `${database}: ${to} applied ${from}'s batch: ${parts.join("; ")}${lag}`,
    muted: false,
  };
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

/** How far back a failed send looks for the same line to count instead of repeating it. */
const repeatWindow = 30;

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
  // A send that keeps failing (every retry toward a dead server) is one line with a count: the
  // older line moves up to the newest place.
  let all = [...existing];
  for (const entry of fresh) {
    if (entry.category === "failed") {
      const from = Math.max(0, all.length - repeatWindow);
      const index = all.findIndex(
        (old, i) =>
          i >= from &&
          old.category === "failed" &&
          old.where === entry.where &&
          old.text === entry.text,
      );
      if (index >= 0) {
        const old = all[index]!;
        all.splice(index, 1);
        all.push({ ...entry, repeats: (old.repeats ?? 1) + 1 });
        continue;
      }
    }
    all.push(entry);
  }
  if (all.length > timelineMax) all = all.slice(all.length - timelineMax);
  return all;
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
  /** When the batch was applied (or its send failed), on the cluster's clock. */
  readonly atMs: number;
  readonly failed: boolean;
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
    return {
      id: flow.id,
      x1: a.x,
      y1: a.y,
      x2: b.x,
      y2: b.y,
      text: flow.text,
      atMs: flow.atMs,
      failed: flow.failed,
    };
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

/**
 * flowTripMs is how long a batch's dot takes from sender to receiver, on the cluster's clock: a
 * fixed 350 ms of the engine's time, stretched like every interval by the playground's speed.
 */
export function flowTripMs(speed: number): number {
  return Math.round(350 / speed);
}

/** A failed send's dot stops this far along its edge, where the network lost it. */
const failedAt = 0.45;

/**
 * flowPosition places a batch's dot at `nowMs` (cluster clock): travelling from sender to
 * receiver during its trip, which starts when the event happened; a failed send stops part way
 * and fades. Null once its trip (and a moment after) is over. With `still` (reduced motion) the
 * dot sits where its trip ends.
 */
export function flowPosition(
  flow: GraphFlow,
  nowMs: number,
  tripMs: number,
  still = false,
): { x: number; y: number; progress: number; opacity: number } | null {
  const elapsed = nowMs - flow.atMs;
  if (elapsed > tripMs * 1.25) return null;
  const end = flow.failed ? failedAt : 1;
  const progress = still ? end : Math.min(end, Math.max(0, elapsed / tripMs));
  const opacity = flow.failed ? Math.max(0.15, 1 - Math.max(0, elapsed / tripMs)) : 1;
  return {
    x: flow.x1 + (flow.x2 - flow.x1) * progress,
    y: flow.y1 + (flow.y2 - flow.y1) * progress,
    progress,
    opacity,
  };
}

/** ConnectionRow is one direction of a replication connection: its state and its last lag. */
export interface ConnectionRow {
  readonly from: string;
  readonly to: string;
  readonly live: boolean;
  /** The lag the receiver measured on its last applied batch (ms), or null before any. */
  readonly lagMs: number | null;
}

/** connectionRows lists both directions of every drawn connection with their measured lag. */
export function connectionRows(graph: ReplicationGraph, lags: readonly Lag[]): ConnectionRow[] {
  const last = (from: string, to: string) =>
    [...lags]
      .reverse()
      .find((lag) => lag.database === graph.database && lag.from === from && lag.to === to);
  const rows: ConnectionRow[] = [];
  for (const edge of graph.edges) {
    for (const [from, to] of [
      [edge.from, edge.to],
      [edge.to, edge.from],
    ] as const) {
      // A promotable's link runs one way: from its mentor.
      const promotable = graph.nodes.find((n) => n.tag === from)?.role === "promotable";
      if (promotable) continue;
      rows.push({ from, to, live: edge.live, lagMs: last(from, to)?.lagMs ?? null });
    }
  }
  return rows;
}

/** Lags kept per playground (the newest). */
export const lagsMax = 60;

// --- Rachis --------------------------------------------------------------------------------------

/** RachisRow is one server on the Rachis panel, its election timer read at a moment. */
export interface RachisRow {
  readonly url: string;
  readonly tag: string;
  readonly view: RachisSnapshot | null;
  /** 0..1: how full the election timer is (the leader's: its quorum check). */
  readonly timer: number;
}

/**
 * rachisRows reads each server's Rachis at `nowMs` (cluster clock): the timer moves on from when
 * the server last reported it, one tick per `tickMs`, until it fires (a new report resets it).
 */
export function rachisRows(
  servers: readonly ServerSummary[],
  rachis: readonly (RachisSnapshot | null)[],
  nowMs: number,
  tickMs: number,
): RachisRow[] {
  return servers.map((server, index) => {
    const view = server.alive ? (rachis[index] ?? null) : null;
    const ticks = view
      ? view.electionElapsedTicks + Math.max(0, nowMs - view.atMs) / Math.max(1, tickMs)
      : 0;
    const timer = view ? Math.min(1, ticks / Math.max(1, view.electionTimeoutTicks)) : 0;
    return { url: server.url, tag: server.tag, view, timer };
  });
}

/** Raft messages the panel keeps (the newest). */
export const raftMessagesMax = 40;

/** describeRaftMessage says what one Raft message was, in the panel's words. */
export function describeRaftMessage(message: RaftMessageView): string {
  const kind =
    message.kind === "append"
      ? message.entries > 0
        ? `append ${message.entries} ${message.entries === 1 ? "entry" : "entries"}`
        : "heartbeat"
      : message.kind === "appendResponse"
        ? message.ok === false
          ? "append refused"
          : "ack"
        : message.kind === "voteResponse" || message.kind === "preVoteResponse"
          ? `${message.kind === "preVoteResponse" ? "pre-vote" : "vote"} ${message.ok ? "granted" : "refused"}`
          : message.kind === "vote"
            ? "vote request"
            : message.kind === "preVote"
              ? "pre-vote request"
              : message.kind;
  return message.dropped
    ? `${message.from}→${message.to} ${kind}: lost, ${message.dropped}`
    : `${message.from}→${message.to} ${kind} (term ${message.term})`;
}

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
