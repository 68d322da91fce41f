/**
 * Pure helpers the checks share: reading a RunRecord's history (who led when, who was down when,
 * what the supervisor did) and its final state. Nothing here touches a cluster.
 */
import type { CheckResult, RecordedTrace, RequestRecord, RunRecord } from "./types.ts";

/** pass and fail build a checklist line. */
export const pass = (detail: string): CheckResult => ({ ok: true, detail });
export const fail = (detail: string): CheckResult => ({ ok: false, detail });

/** inSolution keeps what the solution did (not the setup, not the checker's probes). */
export function inSolution<T extends { readonly phase: string }>(items: readonly T[]): T[] {
  return items.filter((item) => item.phase === "solution");
}

/** requests lists the solution's requests of one type (optionally to one database). */
export function requestsOf(record: RunRecord, type: string, database?: string): RequestRecord[] {
  return inSolution(record.requests).filter(
    (r) =>
      r.type === type &&
      (database === undefined || r.database?.toLowerCase() === database.toLowerCase()),
  );
}

/** databaseOf is the final record of a database, by name (case-insensitive, as RavenDB's names). */
export function databaseOf(record: RunRecord, name: string) {
  return record.final.databases.find((db) => db.name.toLowerCase() === name.toLowerCase());
}

/** groupOf lists every node of a database's group at the end: members, promotables and rehabs. */
export function groupOf(record: RunRecord, name: string): string[] {
  const db = databaseOf(record, name);
  return db ? [...db.members, ...db.promotables, ...db.rehabs] : [];
}

/** idsOn lists the documents a server held at the end (empty if it was down). */
export function idsOn(record: RunRecord, tag: string, database: string): string[] {
  const perDatabase = record.final.documents[tag] ?? {};
  const key = Object.keys(perDatabase).find(
    (name) => name.toLowerCase() === database.toLowerCase(),
  );
  return key ? (perDatabase[key] ?? []) : [];
}

/** tagOfUrl maps a server URL to the tag it had last. */
export function tagOfUrl(record: RunRecord, url: string): string {
  return record.final.cluster.find((s) => s.url === url)?.tag ?? url;
}

/** topologyChanges lists the supervisor's and the operators' changes to a database's group, as traced by the leader. */
export function topologyChanges(
  record: RunRecord,
  database: string,
  phase: "solution" | "any" = "solution",
): Extract<RecordedTrace, { type: "topology-change" }>[] {
  return record.traces.filter(
    (t): t is Extract<RecordedTrace, { type: "topology-change" }> =>
      t.type === "topology-change" &&
      t.database.toLowerCase() === database.toLowerCase() &&
      (phase === "any" || t.phase === "solution"),
  );
}

/** Interval is a span of virtual time [fromMs, toMs). */
export interface Interval {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * leaderlessIntervals replays the role and server traces: the spans of virtual time in which no
 * running server was leader. A deposed leader that has not heard of a newer term yet still counts,
 * as it does in the Studio's cluster view.
 */
export function leaderlessIntervals(record: RunRecord): Interval[] {
  const roles = new Map<string, string>();
  const alive = new Map<string, boolean>();
  const intervals: Interval[] = [];
  let openSince: number | undefined;
  let seenLeader = false;
  const update = (atMs: number): void => {
    const hasLeader = [...roles].some(
      ([tag, role]) => role === "leader" && alive.get(tag) !== false,
    );
    if (hasLeader) seenLeader = true;
    if (!hasLeader && seenLeader && openSince === undefined) openSince = atMs;
    if (hasLeader && openSince !== undefined) {
      intervals.push({ fromMs: openSince, toMs: atMs });
      openSince = undefined;
    }
  };
  for (const trace of record.traces) {
    if (trace.type === "role") roles.set(trace.tag, trace.role);
    else if (trace.type === "server") {
      const tag = tagOfUrl(record, trace.url);
      if (trace.text === "killed") alive.set(tag, false);
      else if (trace.text.startsWith("restarted")) {
        alive.set(tag, true);
        // A restarted server starts as a follower until it says otherwise.
        roles.set(tag, "follower");
      }
    } else continue;
    update(trace.atMs);
  }
  if (openSince !== undefined)
    intervals.push({ fromMs: openSince, toMs: record.solutionEndedAtMs });
  return intervals;
}

/** within tells whether a moment falls inside one of the intervals. */
export function within(intervals: readonly Interval[], atMs: number): boolean {
  return intervals.some((i) => atMs >= i.fromMs && atMs <= i.toMs);
}

/**
 * downAt lists the servers that were down at a moment, replaying kills and restarts (setup's
 * included). Servers cut off by isolate() count as down too until heal().
 */
export function downAt(record: RunRecord, atMs: number): Set<string> {
  const down = new Set<string>();
  for (const action of record.actions) {
    if (action.atMs > atMs) break;
    if (action.kind === "kill" || action.kind === "isolate") down.add(action.target ?? "");
    if (action.kind === "restart") down.delete(action.target ?? "");
    if (action.kind === "heal")
      for (const a of record.actions)
        if (a.kind === "isolate" && a.atMs <= action.atMs) down.delete(a.target ?? "");
  }
  return down;
}

/** killedAt lists the servers that were killed and not yet restarted at a moment (cut-off servers do not count). */
export function killedAt(record: RunRecord, atMs: number): Set<string> {
  const killed = new Set<string>();
  for (const action of record.actions) {
    if (action.atMs > atMs) break;
    if (action.kind === "kill") killed.add(action.target ?? "");
    if (action.kind === "restart") killed.delete(action.target ?? "");
  }
  return killed;
}

/** cutOffAt lists the servers separated from some other server at a moment: partitioned or isolated, and not yet healed. */
export function cutOffAt(record: RunRecord, atMs: number): Set<string> {
  let cut = new Set<string>();
  for (const action of record.actions) {
    if (action.atMs > atMs) break;
    if (action.kind === "heal") cut = new Set();
    if (action.kind === "isolate") cut.add(action.target ?? "");
    if (action.kind === "partition")
      for (const group of action.groups ?? []) for (const tag of group) cut.add(tag);
  }
  return cut;
}

/** mostDown is the largest number of servers down at once during the solution, and when. */
export function mostDown(record: RunRecord): { count: number; atMs: number; tags: string[] } {
  let best = { count: 0, atMs: 0, tags: [] as string[] };
  for (const action of inSolution(record.actions)) {
    const down = downAt(record, action.atMs);
    if (down.size > best.count)
      best = { count: down.size, atMs: action.atMs, tags: [...down].sort() };
  }
  return best;
}

/** list renders ids or tags for a detail line. */
export function list(items: readonly string[]): string {
  return items.length === 0 ? "none" : items.join(", ");
}
