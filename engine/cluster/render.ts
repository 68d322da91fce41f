import { registerRenderer } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import { clusterCommandTypes, isClusterCommand } from "./commands.ts";
import type { ClusterCommand, CreateDatabaseCommand } from "./commands.ts";
import type { ClusterState, DatabaseRecord, RevisionsConfiguration } from "./model.ts";

const list = (tags: readonly NodeTag[]): string => `[${tags.join(", ")}]`;

function renderRevisions(revisions: RevisionsConfiguration | null): string {
  if (revisions === null) return "off";
  const keep = revisions.default?.minimumRevisionsToKeep;
  const base =
    revisions.default === null
      ? "default off"
      : revisions.default.disabled
        ? "default disabled"
        : `keep ${keep ?? "all"}`;
  const count = Object.keys(revisions.collections).length;
  return count === 0 ? base : `${base} +${count} collection${count === 1 ? "" : "s"}`;
}

function renderCreateDatabase(command: CreateDatabaseCommand): string {
  const factor = command.replicationFactor ?? command.nodes?.length ?? 1;
  const parts = [`createDatabase ${command.name} factor=${factor}`];
  if (command.nodes !== undefined) parts.push(`→ ${list(command.nodes)}`);
  if (command.conflictResolution !== undefined)
    parts.push(`conflicts=${command.conflictResolution}`);
  if (command.revisions !== undefined)
    parts.push(`revisions=${renderRevisions(command.revisions)}`);
  return parts.join(" ");
}

/**
 * renderClusterCommand renders a command as one line, e.g.
 * `createDatabase Pitchfork factor=3 → [C, D, E]` or `moveToRehab Spade C: no heartbeat for 3000 ms`.
 */
export function renderClusterCommand(command: ClusterCommand): string {
  switch (command.type) {
    case "bootstrap":
      return `bootstrap ${command.url} cluster=${command.topologyId}`;
    case "addNode":
      return (
        `addNode ${command.url}${command.tag === undefined ? "" : ` as ${command.tag}`}` +
        (command.joinAs === undefined || command.joinAs === "member" ? "" : ` (${command.joinAs})`)
      );
    case "promoteNode":
    case "removeNode":
      return `${command.type} ${command.tag}`;
    case "createDatabase":
      return renderCreateDatabase(command);
    case "deleteDatabase":
      return `deleteDatabase ${command.name}`;
    case "addDatabaseNode":
      return (
        `addDatabaseNode ${command.database} +${command.tag ?? "?"}` +
        (command.mentor === undefined ? "" : ` mentor=${command.mentor}`)
      );
    case "promoteDatabaseNode":
      return (
        `promoteDatabaseNode ${command.database} ${command.tag}` +
        (command.membersOrder === undefined ? "" : ` → ${list(command.membersOrder)}`) +
        `: ${command.reason}`
      );
    case "moveToRehab":
    case "rotatePreferred":
    case "removeDatabaseNode":
      return `${command.type} ${command.database} ${command.tag}: ${command.reason}`;
    case "setRevisions":
      return `setRevisions ${command.database} ${renderRevisions(command.revisions)}`;
    case "setConflictResolution":
      return `setConflictResolution ${command.database} ${command.resolution}`;
    case "updateExternalReplication":
      return (
        `updateExternalReplication ${command.database}` +
        (command.taskId === undefined ? "" : ` task=${command.taskId}`) +
        (command.name === undefined ? "" : ` '${command.name}'`) +
        ` → ${command.destinationDatabase} at ${command.destinationUrls.join(" ")}` +
        (command.mentorNode ? ` mentor=${command.mentorNode}` : "") +
        (command.disabled ? " (disabled)" : "")
      );
    case "deleteExternalReplication":
      return `deleteExternalReplication ${command.database} task=${command.taskId}`;
    case "moveExternalReplication":
      return (
        `moveExternalReplication ${command.database} task=${command.taskId} ` +
        `${command.from ?? "none"}→${command.to}: ${command.reason}`
      );
  }
}

/**
 * describeTopology renders a database group as one line, e.g.
 * `Spade: members [B, A] preferred B, promotables [C←A], rehabs [D], factor 4, etag 12`.
 * Empty promotables and rehabs are left out.
 */
export function describeTopology(record: DatabaseRecord): string {
  const { members, promotables, rehabs } = record.topology;
  const parts = [`${record.name}: members ${list(members)} preferred ${members[0] ?? "none"}`];
  if (promotables.length > 0) {
    const mentored = promotables.map((tag) => `${tag}←${record.mentors[tag] ?? "?"}`);
    parts.push(`promotables [${mentored.join(", ")}]`);
  }
  if (rehabs.length > 0) parts.push(`rehabs ${list(rehabs)}`);
  parts.push(`factor ${record.replicationFactor}`, `etag ${record.topologyEtag}`);
  return parts.join(", ");
}

/** describeClusterTopology renders the servers of a cluster as one line. */
export function describeClusterTopology(state: ClusterState): string {
  const { topologyId, members, promotables, watchers, lastNodeTag } = state.topology;
  if (topologyId === null) return "not bootstrapped (tag ?)";
  const parts = [`cluster ${topologyId}: members ${list(Object.keys(members))}`];
  if (Object.keys(promotables).length > 0)
    parts.push(`promotables ${list(Object.keys(promotables))}`);
  if (Object.keys(watchers).length > 0) parts.push(`watchers ${list(Object.keys(watchers))}`);
  parts.push(`last tag ${lastNodeTag ?? "none"}`);
  return parts.join(", ");
}

/**
 * registerClusterRenderers makes describe() render every cluster command with
 * renderClusterCommand. Importing the cluster module calls it; calling it again is harmless.
 */
export function registerClusterRenderers(): void {
  for (const type of clusterCommandTypes) {
    registerRenderer(type, (value) =>
      isClusterCommand(value)
        ? renderClusterCommand(value)
        : `${type} (malformed) ${JSON.stringify(value)}`,
    );
  }
}

registerClusterRenderers();
