/**
 * The host's side of StatusReporter: what a host that runs servers elsewhere (workers, OS
 * processes) keeps of each one from its pushes, and the describe() it answers from them without
 * asking anyone. Shared by the worker and process runtimes.
 */
import type { NodeTag } from "../core/index.ts";
import type { DatabaseSummary } from "../cluster/index.ts";
import type { ServerFailure } from "../server/index.ts";
import type { ClusterDescription, ServerSummary } from "./handle.ts";
import type { StatusUpdate } from "./status-reporter.ts";
import type { DocumentsChange, WorkerStatus } from "./worker/protocol.ts";

/** StatusRow is what the host knows of one server. */
export interface StatusRow {
  readonly url: string;
  alive: boolean;
  status: WorkerStatus | undefined;
  /** Document ids per hosted database, kept up to date from the server's changes. */
  documents: Map<string, Set<string>>;
  /** The same, sorted, for describe(); dropped when a set changes. */
  sorted: Map<string, string[]>;
  /** The tag the server had when it last ran ("?" until it joined), so a dead one keeps its name. */
  lastTag: NodeTag;
  /** Why the server stopped by itself (a failed storage write), until it restarts. */
  failure: ServerFailure | undefined;
}

/** statusRowFields are a new row's fields (a server not started yet). */
export function statusRowFields(): Omit<StatusRow, "url"> {
  return {
    alive: false,
    status: undefined,
    documents: new Map(),
    sorted: new Map(),
    lastTag: "?",
    failure: undefined,
  };
}

/** absorbStatus keeps a server's latest status and applies its document changes. */
export function absorbStatus(row: StatusRow, status: WorkerStatus): void {
  for (const name of [...row.documents.keys()]) {
    if (!status.hosted.includes(name)) {
      row.documents.delete(name);
      row.sorted.delete(name);
    }
  }
  applyDocumentChanges(row, status.documents);
  for (const name of status.hosted)
    if (!row.documents.has(name)) row.documents.set(name, new Set());
  row.status = status;
  if (status.tag !== "?") row.lastTag = status.tag;
}

/** applyDocumentChanges applies a push's changes to a server's document ids. */
export function applyDocumentChanges(
  row: StatusRow,
  documents: Readonly<Record<string, DocumentsChange>>,
): void {
  for (const [name, change] of Object.entries(documents)) {
    let ids = row.documents.get(name);
    if (change.reset || !ids) row.documents.set(name, (ids = new Set(change.reset ?? [])));
    for (const id of change.added ?? []) ids.add(id);
    for (const id of change.removed ?? []) ids.delete(id);
    row.sorted.delete(name);
  }
}

/** applyStatusUpdate applies one push: a whole status, or only document changes. */
export function applyStatusUpdate(row: StatusRow, update: StatusUpdate): void {
  if (update.status) absorbStatus(row, update.status);
  else if (update.documents && row.status) applyDocumentChanges(row, update.documents);
}

/** forgetStatus marks a server down and drops what it had pushed. */
export function forgetStatus(row: StatusRow): void {
  row.alive = false;
  row.status = undefined;
  row.documents = new Map();
  row.sorted = new Map();
}

/** rowTag is a server's tag now, or the last one it had if it is down. */
export function rowTag(row: StatusRow): NodeTag {
  if (row.alive && row.status && row.status.tag !== "?") row.lastTag = row.status.tag;
  return row.lastTag;
}

/** summarizeRows is the cluster table (url, tag, role, leader, term, alive). */
export function summarizeRows(rows: readonly StatusRow[]): ServerSummary[] {
  return rows.map((row) => {
    const status = row.alive ? row.status : undefined;
    return {
      url: row.url,
      tag: rowTag(row),
      role: status ? status.role : "down",
      term: status?.term ?? 0,
      leader: status?.leader ?? null,
      alive: row.alive,
      ...(row.failure && !row.alive ? { failure: row.failure } : {}),
    };
  });
}

/** describeRows returns the cluster as plain JSON from every server's latest status. */
export function describeRows(rows: readonly StatusRow[], atMs: number): ClusterDescription {
  const servers = summarizeRows(rows);
  const leaders = servers
    .filter((s) => s.alive && s.role === "leader")
    .sort((a, b) => b.term - a.term);
  const leaderRow = leaders[0];
  // Statuses arrive at different moments; the records come from the running server that has
  // applied the most of the cluster's log (the leader on a tie), so a change one server
  // already answered for is never hidden behind an older status of the leader.
  let source: StatusRow | undefined;
  for (const row of rows) {
    if (!row.alive || !row.status?.databases) continue;
    const better =
      !source ||
      row.status.appliedIndex > source.status!.appliedIndex ||
      (row.status.appliedIndex === source.status!.appliedIndex && row.url === leaderRow?.url);
    if (better) source = row;
  }
  const records: readonly DatabaseSummary[] = source?.status?.databases ?? [];
  const databases = records.map((db) => ({ ...db }));
  const documents: Record<NodeTag, Record<string, string[]>> = {};
  for (const row of rows) {
    if (!row.alive || !row.status) continue;
    const perDatabase: Record<string, string[]> = {};
    for (const name of [...row.documents.keys()].sort()) {
      let ids = row.sorted.get(name);
      if (!ids) row.sorted.set(name, (ids = [...row.documents.get(name)!].sort()));
      perDatabase[name] = [...ids];
    }
    documents[row.status.tag === "?" ? row.url : row.status.tag] = perDatabase;
  }
  return {
    atMs,
    cluster: servers,
    leader: leaderRow?.tag ?? null,
    term: leaderRow?.term ?? 0,
    databases,
    documents,
  };
}
