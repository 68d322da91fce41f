import type { TraceEvent } from "../../server/index.ts";
import type { DocumentView, TopologyView } from "../../transport/index.ts";
import type { ClusterDescription } from "../handle.ts";

/** table renders rows as aligned text columns with a header and a rule. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, k) =>
    Math.max(title.length, ...rows.map((row) => (row[k] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, k) => cell.padEnd(widths[k]!))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/**
 * renderCluster is the Studio's cluster screen as text: url, tag, role, the leader as that server
 * sees it ("-" when it knows none), and its term. A killed server shows "down".
 */
export function renderCluster(description: ClusterDescription): string {
  return table(
    ["url", "tag", "role", "leader", "term"],
    description.cluster.map((server) => [
      server.url,
      server.tag,
      server.alive ? server.role : "down",
      server.alive ? (server.leader ?? "-") : "",
      server.alive ? String(server.term) : "",
    ]),
  );
}

/** renderDatabases shows each database's group: members in order (preferred first), promotables, rehabs. */
export function renderDatabases(description: ClusterDescription): string {
  if (description.databases.length === 0) return "(no databases)";
  return table(
    ["database", "members (preferred first)", "promotables", "rehabs", "factor"],
    description.databases.map((db) => [
      db.name,
      db.members.join(", "),
      db.promotables.join(", ") || "-",
      db.rehabs.join(", ") || "-",
      String(db.replicationFactor),
    ]),
  );
}

/** renderDocuments lists the document ids each running server holds, per database. */
export function renderDocuments(description: ClusterDescription): string {
  const rows: string[][] = [];
  for (const [server, databases] of Object.entries(description.documents)) {
    for (const [database, ids] of Object.entries(databases))
      rows.push([server, database, ids.join(", ") || "(empty)"]);
  }
  return rows.length === 0 ? "(no documents)" : table(["server", "database", "documents"], rows);
}

/** renderTopology is the Studio's Manage group screen: each node of the group, preferred first. */
export function renderTopology(view: TopologyView): string {
  const rows = view.nodes.map((node, k) => [
    node.tag,
    node.url,
    k === 0 && node.role === "member" ? "member (preferred)" : node.role,
  ]);
  return `${view.database} (topology etag ${view.etag})\n${table(["tag", "url", "role"], rows)}`;
}

/** renderDocumentList lists documents as one server holds them: id, change vector and body. */
export function renderDocumentList(documents: readonly DocumentView[], bodyCharsMax = 60): string {
  if (documents.length === 0) return "(no documents)";
  return table(
    ["id", "change vector", "body"],
    documents.map((doc) => {
      const body = JSON.stringify(doc.body);
      return [
        doc.id,
        doc.metadata["@change-vector"],
        body.length > bodyCharsMax ? `${body.slice(0, bodyCharsMax - 1)}…` : body,
      ];
    }),
  );
}

/** renderTrace writes one trace event as one line of text. */
export function renderTrace(event: TraceEvent): string {
  switch (event.type) {
    case "role":
      return `${event.tag} is ${event.role} in term ${event.term}${event.leader ? ` (leader ${event.leader})` : ""}`;
    case "cluster-command":
      return `${event.tag} applied #${event.index} ${event.text}${event.ok ? "" : " (refused)"}`;
    case "topology-change":
      return `${event.database}: ${event.message}`;
    case "replication-batch":
      return `${event.database}: ${event.from} → ${event.to} ${event.text}`;
    case "external-replication":
      return `${event.database}: ${event.text}`;
    case "replication-applied":
      return `${event.database}: ${event.to} applied ${event.from}'s etags ${event.afterEtag + 1}..${event.lastEtag}${event.note ? ` (${event.note})` : ""}: ${event.items.map((item) => `${item.id} ${item.outcome}`).join(", ") || "nothing new"}`;
    case "message-dropped":
      return `${event.kind} ${event.what} ${event.from} → ${event.to} not delivered: ${event.reason}`;
    case "write-assurance":
      return `${event.database} on ${event.tag}: waited ${Math.round(event.waitedMs)} ms for ${event.wanted} replica${event.wanted === 1 ? "" : "s"}, reached ${event.reached} (${event.outcome})`;
    case "raft-message":
      return `raft ${event.kind} ${event.from} → ${event.to} term ${event.term}`;
    case "server":
      return `${event.url} ${event.text}`;
  }
}
