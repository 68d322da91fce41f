/**
 * The JSON bodies RavenDB's server sends and receives, built from and read into the engine's own
 * views. PascalCase on the wire (the client camel-cases what it reads); fields the official client
 * requires are always present, with `{}` rather than null where it walks an object
 * (shared/reference/ravendb-wire.md §2).
 */
import type { NodeTag } from "../core/index.ts";
import type {
  ConflictResolution,
  DatabaseRecord,
  RevisionsCollectionConfiguration,
  RevisionsConfiguration,
} from "../cluster/index.ts";
import type { DocumentView, TopologyView } from "../transport/index.ts";

/** ClusterTopologyResult is what the server's cluster-topology request answers. */
export interface ClusterTopologyResult {
  readonly tag: NodeTag;
  readonly role: string;
  readonly topologyId: string | null;
  readonly leader: NodeTag | null;
  readonly term: number;
  readonly members: Readonly<Record<NodeTag, string>>;
  readonly promotables: Readonly<Record<NodeTag, string>>;
  readonly watchers: Readonly<Record<NodeTag, string>>;
  readonly lastNodeTag?: NodeTag | null;
  readonly etag: number;
}

/** NodeInfoResult is what the server's node-info request answers. */
export interface NodeInfoResult {
  readonly url: string;
  readonly tag: NodeTag;
  readonly topologyId: string | null;
  readonly role: string;
}

/** The version this layer reports: RavenDB's wire of 7.0, served by Rookery. */
export const buildInfo = {
  ProductVersion: "7.0",
  BuildVersion: 70,
  CommitHash: "rookery",
  FullVersion: "7.0.0-rookery",
} as const;

/** byTag returns a tag → url object with its keys sorted, as RavenDB's ToSortedJson does. */
function byTag(nodes: Readonly<Record<NodeTag, string>>): Record<NodeTag, string> {
  const sorted: Record<NodeTag, string> = {};
  for (const tag of Object.keys(nodes).sort((a, b) => a.length - b.length || a.localeCompare(b)))
    sorted[tag] = nodes[tag]!;
  return sorted;
}

/** ravenState names a Raft role the way RavenDB's RachisState does. */
export function ravenState(role: string): string {
  switch (role) {
    case "leader":
      return "Leader";
    case "follower":
      return "Follower";
    case "candidate":
    case "preCandidate":
      return "Candidate";
    default:
      return "Passive";
  }
}

/** clusterTopologyBody is GET /cluster/topology's body. */
export function clusterTopologyBody(result: ClusterTopologyResult): Record<string, unknown> {
  const members = byTag(result.members);
  const promotables = byTag(result.promotables);
  const watchers = byTag(result.watchers);
  return {
    Topology: {
      // A server that never joined a cluster reports a cluster of itself, as RavenDB does.
      TopologyId: result.topologyId ?? "dummy",
      AllNodes: byTag({ ...members, ...promotables, ...watchers }),
      Members: members,
      Promotables: promotables,
      Watchers: watchers,
      LastNodeId: result.lastNodeTag ?? result.tag,
      Etag: result.etag,
    },
    Etag: result.etag,
    Leader: result.leader,
    LeaderShipDuration: 0,
    CurrentState: ravenState(result.role),
    NodeTag: result.tag,
    CurrentTerm: result.term,
    NodeLicenseDetails: {},
    LastStateChangeReason: null,
    Status: {},
  };
}

/** nodeInfoBody is GET /cluster/node-info's body (the client reads NodeTag and ServerRole). */
export function nodeInfoBody(result: NodeInfoResult): Record<string, unknown> {
  const passive = result.tag === "?";
  return {
    NodeTag: result.tag,
    TopologyId: result.topologyId,
    Certificate: null,
    ClusterStatus: null,
    BuildInfo: buildInfo,
    OsInfo: null,
    ServerId: result.topologyId ? `${result.topologyId}-${result.tag}` : null,
    CurrentState: ravenState(result.role),
    HasFixedPort: true,
    ServerRole: passive ? "None" : "Member",
  };
}

/** tcpInfoBody is GET /info/tcp's body, the cluster executor's health check. */
export function tcpInfoBody(result: NodeInfoResult): Record<string, unknown> {
  return {
    Url: result.url,
    Certificate: null,
    Urls: [result.url],
    NodeTag: result.tag,
    ServerId: result.topologyId ? `${result.topologyId}-${result.tag}` : null,
  };
}

/**
 * databaseTopologyBody is GET /topology's body: members in priority order, then rehabs. A
 * promotable is not listed: clients must not send it requests before it has caught up.
 */
export function databaseTopologyBody(view: TopologyView): Record<string, unknown> {
  const nodes = view.nodes
    .filter((node) => node.role !== "promotable")
    .map((node) => ({
      Url: node.url,
      ClusterTag: node.tag,
      ServerRole: node.role === "member" ? "Member" : "Rehab",
      Database: view.database,
    }));
  return { Nodes: nodes, Etag: view.etag };
}

/** groupTopologyBody is a database group's topology as a database record shows it. */
export function groupTopologyBody(record: DatabaseRecord): Record<string, unknown> {
  const { members, promotables, rehabs } = record.topology;
  // Why each non-member is where it is: the latest change the record keeps about it.
  const reasons: Record<NodeTag, string> = {};
  for (const change of record.recentChanges)
    if (promotables.includes(change.tag) || rehabs.includes(change.tag))
      reasons[change.tag] = change.message;
  const status: Record<NodeTag, string> = {};
  for (const tag of promotables) status[tag] = "WaitingForFirstPromotion";
  for (const tag of rehabs) status[tag] = "NotResponding";
  return {
    Members: members,
    Promotables: promotables,
    Rehabs: rehabs,
    PredefinedMentors: {},
    DemotionReasons: reasons,
    PromotablesStatus: status,
    ReplicationFactor: record.replicationFactor,
    DynamicNodesDistribution: false,
    Stamp: { Index: record.topologyEtag, Term: 0, LeadersTicks: -2 },
    PriorityOrder: [],
  };
}

/** revisionsBody is a revisions configuration in RavenDB's shape (null when never configured). */
export function revisionsBody(revisions: RevisionsConfiguration | null): unknown {
  if (revisions === null) return null;
  const collection = (config: RevisionsCollectionConfiguration) => ({
    Disabled: config.disabled,
    MinimumRevisionsToKeep: config.minimumRevisionsToKeep,
    PurgeOnDelete: config.purgeOnDelete,
  });
  return {
    Default: revisions.default ? collection(revisions.default) : null,
    Collections: Object.fromEntries(
      Object.entries(revisions.collections).map(([name, config]) => [name, collection(config)]),
    ),
  };
}

/** databaseRecordBody is GET /admin/databases?name=…'s body. */
export function databaseRecordBody(record: DatabaseRecord): Record<string, unknown> {
  return {
    DatabaseName: record.name,
    Disabled: false,
    Encrypted: false,
    Topology: groupTopologyBody(record),
    Settings: {},
    Revisions: revisionsBody(record.revisions),
    ConflictSolverConfig: conflictSolverBody(record.conflictResolution),
    Etag: record.topologyEtag,
  };
}

/** conflictSolverBody is a conflict resolution in RavenDB's ConflictSolver shape. */
export function conflictSolverBody(resolution: ConflictResolution): Record<string, unknown> {
  return { ResolveToLatest: resolution === "latest", ResolveByCollection: {} };
}

/**
 * documentBody is a document as RavenDB sends it: the body with `@metadata` holding `@id`, the
 * server's fields and whatever the client stored there. Attachments are listed PascalCased.
 */
export function documentBody(view: DocumentView): Record<string, unknown> {
  const { "@attachments": attachments, ...metadata } = view.metadata;
  return {
    ...view.body,
    "@metadata": {
      ...metadata,
      "@id": view.id,
      ...(Array.isArray(attachments)
        ? {
            "@attachments": (
              attachments as { name: string; hash: string; size: number; contentType: string }[]
            ).map((info) => ({
              Name: info.name,
              Hash: info.hash,
              ContentType: info.contentType,
              Size: info.size,
            })),
          }
        : {}),
    },
  };
}

/** revisionsFromBody reads RavenDB's RevisionsConfiguration; a string says what is wrong. */
export function revisionsFromBody(value: unknown): RevisionsConfiguration | null | string {
  if (value === null || value === undefined) return null;
  if (!isObject(value)) return "Revisions must be an object with Default and Collections";
  const collection = (config: unknown, what: string): RevisionsCollectionConfiguration | string => {
    if (!isObject(config)) return `${what} must be an object`;
    const keep = config["MinimumRevisionsToKeep"];
    if (keep !== undefined && keep !== null && typeof keep !== "number")
      return `${what}.MinimumRevisionsToKeep must be a number or null`;
    return {
      disabled: config["Disabled"] === true,
      minimumRevisionsToKeep: typeof keep === "number" ? keep : null,
      purgeOnDelete: config["PurgeOnDelete"] === true,
    };
  };
  const rawDefault = value["Default"];
  const defaults =
    rawDefault === null || rawDefault === undefined ? null : collection(rawDefault, "Default");
  if (typeof defaults === "string") return defaults;
  const collections: Record<string, RevisionsCollectionConfiguration> = {};
  const rawCollections = value["Collections"] ?? {};
  if (!isObject(rawCollections)) return "Revisions.Collections must be an object";
  for (const [name, config] of Object.entries(rawCollections)) {
    const read = collection(config, `Collections.${name}`);
    if (typeof read === "string") return read;
    collections[name] = read;
  }
  return { default: defaults, collections };
}

/** isObject tells a plain JSON object from arrays, null and scalars. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** stringList reads a JSON array of strings; anything else is undefined. */
export function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list: readonly unknown[] = value;
  return list.every((item) => typeof item === "string") ? (list as string[]) : undefined;
}
