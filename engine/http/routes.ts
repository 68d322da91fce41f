/**
 * The RavenDB REST subset the official client needs for the chapter, over a server's one request
 * API (shared/reference/ravendb-wire.md). Each route reads RavenDB's request, asks the server,
 * and writes RavenDB's answer: the shape, the status, the headers (Refresh-Topology,
 * Database-Missing) and the error body. Nothing here decides what the cluster does.
 */
import { databaseNameProblem } from "../cluster/index.ts";
import type { DatabaseRecord, DatabaseSummary } from "../cluster/index.ts";
import type { DocumentDelete, DocumentPut, TransactionInput } from "../database/index.ts";
import type {
  DocumentView,
  HiloRange,
  LoadResult,
  ServerError,
  ServerRequest,
  TopologyView,
  WriteAssuranceRequest,
} from "../transport/index.ts";
import { fromServerError, ravenError, ravenTypes } from "./errors.ts";
import { etagHeader, isBadTarget, parseTarget, parseTimeSpan } from "./query.ts";
import {
  buildInfo,
  clusterTopologyBody,
  databaseRecordBody,
  databaseTopologyBody,
  documentBody,
  groupTopologyBody,
  isObject,
  nodeInfoBody,
  revisionsFromBody,
  stringList,
  tcpInfoBody,
} from "./shapes.ts";
import type { ClusterTopologyResult, NodeInfoResult } from "./shapes.ts";
import type { HttpRequest, HttpResponse, RequestApi } from "./types.ts";

/** Call is one request on its way through a route. */
interface Call {
  readonly api: RequestApi;
  readonly http: HttpRequest;
  readonly params: URLSearchParams;
  /** The database of a /databases/{name}/… route. */
  database: string | undefined;
  /** The database's topology etag as the server last reported it during this call. */
  topologyEtag: number | undefined;
  /** The cluster topology etag, once this call read the cluster topology. */
  clusterEtag: number | undefined;
}

type Handler = (call: Call) => Promise<HttpResponse>;

/** Refusal carries an answer out of a route from wherever it was decided. */
class Refusal extends Error {
  constructor(readonly response: HttpResponse) {
    super(`HTTP ${response.status}`);
  }
}

/** Refused is a server error on its way out of a route; the dispatcher shapes it. */
class Refused extends Error {
  constructor(readonly error: ServerError) {
    super(error.message);
  }
}

const json = "application/json; charset=utf-8";

function ok(status: number, body: unknown): HttpResponse {
  return { status, headers: { "Content-Type": json }, body: JSON.stringify(body) };
}

const noContent: HttpResponse = { status: 204, headers: {}, body: "" };

function badRequest(call: Call, message: string): Refusal {
  return new Refusal(ravenError(400, ravenTypes.badRequest, message, call.http.target));
}

function notSupported(call: Call, what: string): Refusal {
  return new Refusal(
    ravenError(
      501,
      ravenTypes.notSupported,
      `Rookery does not implement ${what} (${call.http.method} ${call.http.target}). ` +
        "It serves the RavenDB subset the chapter needs: cluster and database topology, adding " +
        "nodes, creating and deleting databases, documents by id with includes, bulk_docs with " +
        "write assurance, HiLo ids and health checks.",
      call.http.target,
    ),
  );
}

/** ask sends one request to the server and returns its result, or throws Refused. */
async function ask<T>(call: Call, request: ServerRequest): Promise<T> {
  const response = await call.api.handleRequest(request);
  if (response.topologyEtag !== undefined) call.topologyEtag = response.topologyEtag;
  if (!response.ok) throw new Refused(response.error);
  return response.result as T;
}

async function clusterTopology(call: Call): Promise<ClusterTopologyResult> {
  const result = await ask<ClusterTopologyResult>(call, { type: "cluster-topology" });
  call.clusterEtag = result.etag;
  return result;
}

function param(call: Call, name: string): string {
  const value = call.params.get(name);
  if (value === null || value.trim() === "")
    throw badRequest(call, `the query parameter '${name}' is required`);
  return value;
}

function wholeNumber(call: Call, name: string, value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw badRequest(call, `'${name}' must be a whole number, got '${value}'`);
  return Number(value);
}

/** readJson parses the request body; an empty or malformed body is the client's mistake (400). */
function readJson(call: Call): unknown {
  if (call.http.body.trim() === "") throw badRequest(call, "this request needs a JSON body");
  try {
    return JSON.parse(call.http.body) as unknown;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw badRequest(call, `the request body is not valid JSON: ${why}`);
  }
}

function readObject(call: Call, what: string): Record<string, unknown> {
  const body = readJson(call);
  if (!isObject(body)) throw badRequest(call, `${what} must be a JSON object`);
  return body;
}

function databaseName(call: Call, name: string): string {
  const problem = databaseNameProblem(name);
  if (problem) throw badRequest(call, `'${name}' is not a valid database name: ${problem}`);
  return name;
}

/** ifMatch reads an If-Match header's change vector (quotes removed). */
function ifMatch(call: Call): string | undefined {
  const value = call.http.headers["if-match"];
  return value === undefined ? undefined : value.trim().replace(/^"|"$/g, "");
}

// ---------------------------------------------------------------------------------------------
// Server-level routes.

const getClusterTopology: Handler = async (call) =>
  ok(200, clusterTopologyBody(await clusterTopology(call)));

const getNodeInfo: Handler = async (call) =>
  ok(200, nodeInfoBody(await ask<NodeInfoResult>(call, { type: "node-info" })));

const getTcpInfo: Handler = async (call) =>
  ok(200, tcpInfoBody(await ask<NodeInfoResult>(call, { type: "node-info" })));

const putClusterNode: Handler = async (call) => {
  const url = param(call, "url");
  if (call.params.get("watcher") === "true")
    throw notSupported(call, "watchers (servers that never vote)");
  const tag = call.params.get("tag");
  await ask(call, { type: "add-node", url, ...(tag ? { tag } : {}) });
  return noContent;
};

const deleteClusterNode: Handler = async (call) => {
  await ask(call, { type: "remove-node", tag: param(call, "nodeTag") });
  return noContent;
};

/** isPassive tells whether this server has never joined a cluster (its tag is "?"). */
async function isPassive(call: Call): Promise<boolean> {
  const info = await ask<NodeInfoResult>(call, { type: "node-info" });
  return info.tag === "?";
}

function nodeIsPassive(call: Call): Refusal {
  return new Refusal(
    ravenError(
      503,
      ravenTypes.nodeIsPassive,
      `${call.api.url} is not part of any cluster yet (tag ?): it hosts no databases. ` +
        "Create a database on it or add it to a cluster first.",
      call.http.target,
    ),
  );
}

/** databaseMissing answers RavenDB's way for an unknown database: the client throws at once. */
function databaseMissing(call: Call, name: string, status: number, error: ServerError): Refusal {
  return new Refusal(
    ravenError(status, ravenTypes.databaseDoesNotExist, error.message, call.http.target, {
      headers: { "Database-Missing": name },
    }),
  );
}

const getDatabaseTopology: Handler = async (call) => {
  const name = databaseName(call, param(call, "name"));
  try {
    return ok(200, databaseTopologyBody(await ask<TopologyView>(call, topologyOf(name))));
  } catch (error) {
    if (!(error instanceof Refused) || error.error.code !== "DatabaseDoesNotExist") throw error;
    // A server outside any cluster cannot know; without Database-Missing the client asks the
    // next URL instead of giving up on the database.
    if (await isPassive(call)) throw nodeIsPassive(call);
    throw databaseMissing(call, name, 503, error.error);
  }
};

function topologyOf(database: string): ServerRequest {
  return { type: "database-topology", database };
}

async function recordOf(call: Call, database: string): Promise<DatabaseRecord> {
  return await ask<DatabaseRecord>(call, { type: "database-record", database });
}

const putDatabase: Handler = async (call) => {
  const body = readObject(call, "the database record");
  const name = databaseName(
    call,
    call.params.get("name") ??
      (typeof body["DatabaseName"] === "string" ? body["DatabaseName"] : ""),
  );
  if (body["Encrypted"] === true) throw notSupported(call, "encrypted databases");
  if (body["Disabled"] === true) throw notSupported(call, "creating a disabled database");
  if (isObject(body["Sharding"])) throw notSupported(call, "sharded databases");
  const topology = isObject(body["Topology"]) ? body["Topology"] : {};
  const members = topology["Members"] === undefined ? [] : stringList(topology["Members"]);
  if (!members) throw badRequest(call, "Topology.Members must list node tags");
  const factorText = call.params.get("replicationFactor");
  const revisions = revisionsFromBody(body["Revisions"]);
  if (typeof revisions === "string") throw badRequest(call, revisions);
  const solver = isObject(body["ConflictSolverConfig"]) ? body["ConflictSolverConfig"] : undefined;
  const request: ServerRequest = {
    type: "create-database",
    name,
    ...(members.length > 0
      ? { nodes: members }
      : factorText
        ? { replicationFactor: wholeNumber(call, "replicationFactor", factorText) }
        : {}),
    ...(revisions ? { revisions } : {}),
    ...(solver
      ? { conflictResolution: solver["ResolveToLatest"] === false ? "none" : "latest" }
      : {}),
  };
  const created = await ask<{ raftIndex: number }>(call, request);
  const record = await recordOf(call, name);
  const view = await ask<TopologyView>(call, topologyOf(name));
  return ok(201, {
    RaftCommandIndex: created.raftIndex,
    Name: record.name,
    Topology: groupTopologyBody(record),
    NodesAddedTo: view.nodes.map((node) => node.url),
    ShardsDefined: false,
  });
};

const getDatabaseRecord: Handler = async (call) => {
  const name = databaseName(call, param(call, "name"));
  try {
    return ok(200, databaseRecordBody(await recordOf(call, name)));
  } catch (error) {
    if (!(error instanceof Refused) || error.error.code !== "DatabaseDoesNotExist") throw error;
    // 404 is how GetDatabaseRecordOperation learns there is no such record: it returns null.
    throw databaseMissing(call, name, 404, error.error);
  }
};

const deleteDatabases: Handler = async (call) => {
  const body = readObject(call, "the delete parameters");
  const names = stringList(body["DatabaseNames"]);
  if (!names || names.length === 0)
    throw badRequest(call, "DatabaseNames must list at least one database name");
  if ((stringList(body["FromNodes"]) ?? []).length > 0)
    throw notSupported(call, "removing a database from chosen nodes only (FromNodes)");
  let raftIndex = 0;
  for (const name of names) {
    const deleted = await ask<{ raftIndex: number }>(call, {
      type: "delete-database",
      name: databaseName(call, name),
    });
    raftIndex = deleted.raftIndex;
  }
  return ok(200, { RaftCommandIndex: raftIndex, PendingDeletes: [] });
};

const putDatabaseNode: Handler = async (call) => {
  const name = databaseName(call, param(call, "name"));
  const node = call.params.get("node");
  if (call.params.get("mentor")) throw notSupported(call, "choosing the mentor of a new node");
  const added = await ask<{ raftIndex: number }>(call, {
    type: "add-database-node",
    database: name,
    ...(node ? { tag: node } : {}),
  });
  const record = await recordOf(call, name);
  return ok(201, {
    RaftCommandIndex: added.raftIndex,
    Name: record.name,
    Topology: groupTopologyBody(record),
  });
};

const getDatabases: Handler = async (call) => {
  const summaries = await ask<DatabaseSummary[]>(call, { type: "list-databases" });
  const start = wholeNumber(call, "start", call.params.get("start") ?? "0");
  const pageSize = wholeNumber(call, "pageSize", call.params.get("pageSize") ?? "1024");
  const page = summaries.slice(start, start + pageSize);
  if (call.params.get("namesOnly") === "true")
    return ok(200, { Databases: page.map((db) => db.name) });
  return ok(200, {
    Databases: page.map((db) => ({
      Name: db.name,
      Disabled: false,
      ReplicationFactor: db.replicationFactor,
      NodesTopology: { Members: db.members, Promotables: db.promotables, Rehabs: db.rehabs },
    })),
  });
};

const getBuildVersion: Handler = async () => ok(200, buildInfo);

const postConflictSolver: Handler = async (call) => {
  const name = databaseName(call, param(call, "name"));
  const body = readObject(call, "the conflict solver");
  const scripts = body["ResolveByCollection"];
  if (isObject(scripts) && Object.keys(scripts).length > 0)
    throw notSupported(call, "conflict resolution scripts (ResolveByCollection)");
  const changed = await ask<{ raftIndex: number }>(call, {
    type: "set-conflict-resolution",
    database: name,
    resolution: body["ResolveToLatest"] === true ? "latest" : "none",
  });
  return ok(200, { RaftCommandIndex: changed.raftIndex, Key: name });
};

// ---------------------------------------------------------------------------------------------
// Database-level routes (/databases/{name}/…).

function db(call: Call): string {
  return call.database!;
}

/** loadBody answers a load: 404 with no body for one missing id, as the client expects. */
function loadBody(call: Call, ids: readonly string[], loaded: LoadResult): HttpResponse {
  if (ids.length === 1 && loaded.results[0] === null) return { status: 404, headers: {}, body: "" };
  const metadataOnly = call.params.get("metadataOnly") === "true";
  const shown = (view: DocumentView) => {
    const body = documentBody(view);
    return metadataOnly ? { "@metadata": body["@metadata"] } : body;
  };
  const includes: Record<string, unknown> = {};
  for (const [id, view] of Object.entries(loaded.includes)) if (view) includes[id] = shown(view);
  return ok(200, {
    Results: loaded.results.map((view) => (view ? shown(view) : null)),
    Includes: includes,
  });
}

const unsupportedLoadParams: Readonly<Record<string, string>> = {
  counter: "counters",
  includeAllCounters: "counters",
  timeseries: "time series",
  timeseriestime: "time series",
  timeseriescount: "time series",
  cmpxchg: "compare-exchange values",
  revisions: "revision includes",
  revisionsBefore: "revision includes",
};

async function load(call: Call, ids: readonly string[]): Promise<HttpResponse> {
  for (const [name, feature] of Object.entries(unsupportedLoadParams))
    if (call.params.has(name)) throw notSupported(call, `including ${feature} in a load`);
  const include = call.params.getAll("include");
  const loaded = await ask<LoadResult>(call, {
    type: "load-documents",
    database: db(call),
    ids,
    ...(include.length > 0 ? { include } : {}),
  });
  return loadBody(call, ids, loaded);
}

const getDocs: Handler = async (call) => {
  const ids = call.params.getAll("id");
  if (ids.length > 0) return await load(call, ids);
  // No ids: a page of documents in etag order, optionally those whose id starts with a prefix.
  const start = wholeNumber(call, "start", call.params.get("start") ?? "0");
  const pageSize = wholeNumber(call, "pageSize", call.params.get("pageSize") ?? "25");
  const prefix = (call.params.get("startsWith") ?? "").toLowerCase();
  const all = await ask<DocumentView[]>(call, { type: "list-documents", database: db(call) });
  const page = all.filter((doc) => doc.id.toLowerCase().startsWith(prefix));
  return ok(200, { Results: page.slice(start, start + pageSize).map(documentBody) });
};

const postDocs: Handler = async (call) => {
  const body = readObject(call, "the ids to load");
  const ids = stringList(body["Ids"]);
  if (!ids) throw badRequest(call, "Ids must be a list of document ids");
  return await load(call, ids);
};

async function batch(call: Call, transaction: TransactionInput, assurance?: WriteAssuranceRequest) {
  return await ask<BatchResult>(call, {
    type: "batch",
    database: db(call),
    transaction,
    ...(assurance ? { writeAssurance: assurance } : {}),
  });
}

const putDoc: Handler = async (call) => {
  const id = param(call, "id");
  const expected = ifMatch(call);
  const body = readObject(call, "the document");
  const result = await batch(call, {
    puts: [{ id, body, ...(expected !== undefined ? { expectedChangeVector: expected } : {}) }],
  });
  const written = writtenFor(result, id);
  return ok(201, { Id: written?.id ?? id, ChangeVector: written?.changeVector ?? null });
};

const deleteDoc: Handler = async (call) => {
  const id = param(call, "id");
  const expected = ifMatch(call);
  await batch(call, {
    deletes: [{ id, ...(expected !== undefined ? { expectedChangeVector: expected } : {}) }],
  });
  return noContent;
};

/** BatchResult is the part of the server's batch answer the wire needs. */
interface BatchResult {
  readonly written: readonly {
    readonly id: string;
    readonly kind: "document" | "tombstone";
    readonly changeVector: string;
    readonly collection: string;
    readonly lastModifiedMs: number;
  }[];
}

function writtenFor(result: BatchResult, id: string): BatchResult["written"][number] | undefined {
  const key = id.toLowerCase();
  return result.written.find((item) => item.id.toLowerCase() === key);
}

/** The bulk_docs command types RavenDB has and Rookery does not, by what they do. */
const unsupportedCommands: Readonly<Record<string, string>> = {
  PATCH: "patching documents",
  BatchPATCH: "patching documents",
  AttachmentPUT: "attachments over HTTP",
  AttachmentDELETE: "attachments over HTTP",
  AttachmentMOVE: "attachments over HTTP",
  AttachmentCOPY: "attachments over HTTP",
  Counters: "counters",
  TimeSeries: "time series",
  TimeSeriesBulkInsert: "time series",
  TimeSeriesCopy: "time series",
  ForceRevisionCreation: "forced revisions",
  CompareExchangePUT: "compare-exchange",
  CompareExchangeDELETE: "compare-exchange",
  CopyAttachment: "attachments over HTTP",
};

/** writeAssurance reads waitForReplicationAfterSaveChanges from bulk_docs' query (§4). */
function writeAssurance(call: Call): WriteAssuranceRequest | undefined {
  const timeoutText = call.params.get("waitForReplicasTimeout");
  if (timeoutText === null) return undefined;
  const timeoutMs = parseTimeSpan(timeoutText);
  if (timeoutMs === undefined)
    throw badRequest(call, `waitForReplicasTimeout '${timeoutText}' is not a TimeSpan (hh:mm:ss)`);
  const count = call.params.get("numberOfReplicasToWaitFor") ?? "1";
  const throwOnTimeout = call.params.get("throwOnTimeoutInWaitForReplicas") !== "false";
  if (count === "majority") return { timeoutMs, majority: true, throwOnTimeout };
  return {
    timeoutMs,
    replicas: wholeNumber(call, "numberOfReplicasToWaitFor", count),
    throwOnTimeout,
  };
}

const postBulkDocs: Handler = async (call) => {
  const body = readObject(call, "the batch");
  if (body["TransactionMode"] === "ClusterWide")
    throw notSupported(call, "cluster-wide transactions");
  const raw: unknown = body["Commands"];
  if (!Array.isArray(raw)) throw badRequest(call, "Commands must be a list of commands");
  const commands: { readonly type: "PUT" | "DELETE"; readonly id: string }[] = [];
  const puts: DocumentPut[] = [];
  const deletes: DocumentDelete[] = [];
  for (const [index, command] of (raw as unknown[]).entries()) {
    if (!isObject(command)) throw badRequest(call, `Commands[${index}] must be an object`);
    const type = command["Type"];
    const id = command["Id"];
    const vector = command["ChangeVector"];
    const expected = typeof vector === "string" ? { expectedChangeVector: vector } : {};
    if (typeof type === "string" && unsupportedCommands[type])
      throw notSupported(call, `${unsupportedCommands[type]} (command ${type})`);
    if (type !== "PUT" && type !== "DELETE")
      throw badRequest(call, `Commands[${index}].Type '${String(type)}' is not a command type`);
    if (typeof id !== "string")
      throw badRequest(call, `Commands[${index}].Id must be the document id`);
    commands.push({ type, id });
    if (type === "PUT") puts.push({ id, body: command["Document"], ...expected });
    else deletes.push({ id, ...expected });
  }
  const result = await batch(call, { puts, deletes }, writeAssurance(call));
  const results = commands.map(({ type, id }) => {
    const written = writtenFor(result, id);
    if (type === "DELETE")
      return {
        Id: id,
        Type: "DELETE",
        Deleted: written?.kind === "tombstone",
        ChangeVector: written?.changeVector ?? null,
      };
    return {
      Type: "PUT",
      "@id": written?.id ?? id,
      "@collection": written?.collection,
      "@change-vector": written?.changeVector,
      "@last-modified": written ? new Date(written.lastModifiedMs).toISOString() : undefined,
    };
  });
  return ok(201, { Results: results });
};

const getHealthcheck: Handler = async (call) => {
  const status = await ask<{ status: string; tag: string }>(call, {
    type: "database-status",
    database: db(call),
  });
  if (status.status === "Online") return noContent;
  throw new Refused({
    code: "DatabaseNotRelevant",
    message: `Database '${db(call)}' is not hosted on node ${status.tag} (${call.api.url})`,
  });
};

const getHiloNext: Handler = async (call) => {
  const tag = param(call, "tag");
  const lastMaxText = call.params.get("lastMax");
  const range = await ask<HiloRange>(call, {
    type: "hilo-next",
    database: db(call),
    collection: tag,
    ...(lastMaxText ? { lastMax: wholeNumber(call, "lastMax", lastMaxText) } : {}),
  });
  const separator = call.params.get("identityPartsSeparator") || "/";
  return ok(201, {
    Prefix: `${tag}${separator}`,
    Low: range.low,
    High: range.high,
    LastSize: range.high - range.low + 1,
    ServerTag: range.serverTag,
    LastRangeAt: new Date().toISOString(),
  });
};

/** Unused HiLo ids are not taken back: each server's ranges only grow, which is always safe. */
const putHiloReturn: Handler = async (call) => {
  await ask(call, { type: "database-status", database: db(call) });
  return noContent;
};

/** Client configuration is never set on a Rookery server, so the client keeps its own. */
const getClientConfiguration: Handler = async (call) => {
  await ask(call, { type: "database-status", database: db(call) });
  return ok(200, { Etag: 0, Configuration: null });
};

const postRevisionsConfig: Handler = async (call) => {
  const revisions = revisionsFromBody(readObject(call, "the revisions configuration"));
  if (typeof revisions === "string") throw badRequest(call, revisions);
  const changed = await ask<{ raftIndex: number }>(call, {
    type: "set-revisions",
    database: db(call),
    revisions,
  });
  return ok(200, { RaftCommandIndex: changed.raftIndex });
};

// ---------------------------------------------------------------------------------------------
// Dispatch.

const serverRoutes: Readonly<Record<string, Handler>> = {
  "GET cluster/topology": getClusterTopology,
  "GET cluster/node-info": getNodeInfo,
  "GET info/tcp": getTcpInfo,
  "PUT admin/cluster/node": putClusterNode,
  "DELETE admin/cluster/node": deleteClusterNode,
  "GET topology": getDatabaseTopology,
  "PUT admin/databases": putDatabase,
  "GET admin/databases": getDatabaseRecord,
  "DELETE admin/databases": deleteDatabases,
  "PUT admin/databases/node": putDatabaseNode,
  "GET databases": getDatabases,
  "GET build/version": getBuildVersion,
  "POST admin/replication/conflicts/solver": postConflictSolver,
};

const databaseRoutes: Readonly<Record<string, Handler>> = {
  "GET docs": getDocs,
  "POST docs": postDocs,
  "PUT docs": putDoc,
  "DELETE docs": deleteDoc,
  "POST bulk_docs": postBulkDocs,
  "GET healthcheck": getHealthcheck,
  "GET hilo/next": getHiloNext,
  "PUT hilo/return": putHiloReturn,
  "GET configuration/client": getClientConfiguration,
  "POST admin/revisions/config": postRevisionsConfig,
};

/** RavenDB features outside the subset, by the first part of their path: answered with 501. */
const databaseFeatures: Readonly<Record<string, string>> = {
  queries: "queries",
  indexes: "indexes",
  attachments: "attachments over HTTP",
  counters: "counters",
  timeseries: "time series",
  subscriptions: "subscriptions",
  changes: "the Changes API",
  streams: "streaming",
  operations: "long-running operations",
  revisions: "reading revisions over HTTP",
  cmpxchg: "compare-exchange",
  identity: "identities",
  bulk_insert: "bulk insert",
  stats: "database statistics",
  admin: "this database administration endpoint",
  debug: "debug endpoints",
  replication: "replication endpoints",
};

const serverFeatures: Readonly<Record<string, string>> = {
  admin: "this administration endpoint",
  configuration: "server-wide client configuration",
  certificates: "certificates",
  setup: "the setup wizard",
  studio: "the Studio",
  monitoring: "monitoring endpoints",
  debug: "debug endpoints",
  operations: "long-running operations",
  cmpxchg: "compare-exchange",
  license: "licensing",
  rachis: "Rachis endpoints",
};

function routeNotFound(call: Call, path: string): Refusal {
  return new Refusal(
    ravenError(
      400,
      ravenTypes.routeNotFound,
      `There is no handler for path: ${call.http.method} /${path}`,
      call.http.target,
    ),
  );
}

/** handlerFor finds the route of a request, or throws the 400/501 that names what is missing. */
function handlerFor(call: Call, segments: readonly string[]): Handler {
  const method = call.http.method.toUpperCase();
  if (call.database !== undefined) {
    const rest = segments.slice(2).join("/");
    const handler = databaseRoutes[`${method} ${rest}`];
    if (handler) return handler;
    const feature = databaseFeatures[segments[2] ?? ""];
    if (feature) throw notSupported(call, feature);
    throw routeNotFound(call, segments.join("/"));
  }
  const path = segments.join("/");
  const handler = serverRoutes[`${method} ${path}`];
  if (handler) return handler;
  const feature = serverFeatures[segments[0] ?? ""];
  if (feature) throw notSupported(call, feature);
  throw routeNotFound(call, path);
}

/** The routes whose answer is a topology: they never ask the client to fetch one again. */
const topologyRoutes = new Set([getDatabaseTopology, getClusterTopology]);

/**
 * refreshHeaders says Refresh-Topology when the server knows a newer topology than the client
 * sent (Topology-Etag on database routes, Cluster-Topology-Etag on the others), and only then:
 * a needless refresh would make the client fetch the topology on every request (§3.4).
 */
async function refreshHeaders(call: Call): Promise<Record<string, string>> {
  if (call.database !== undefined) {
    const sent = etagHeader(call.http.headers["topology-etag"]);
    const newer = sent !== undefined && call.topologyEtag !== undefined && sent < call.topologyEtag;
    return newer ? { "Refresh-Topology": "true" } : {};
  }
  const sent = etagHeader(call.http.headers["cluster-topology-etag"]);
  if (sent === undefined) return {};
  if (call.clusterEtag === undefined) {
    try {
      await clusterTopology(call);
    } catch {
      return {};
    }
  }
  return sent < call.clusterEtag! ? { "Refresh-Topology": "true" } : {};
}

/** shapeRefusal turns a server error into RavenDB's answer for the route it happened on. */
async function shapeRefusal(call: Call, error: ServerError): Promise<HttpResponse> {
  if (call.database !== undefined && error.code === "DatabaseDoesNotExist") {
    if (await isPassive(call).catch(() => false)) return nodeIsPassive(call).response;
  }
  const details = error.details ?? {};
  const fields: Record<string, unknown> = {};
  if (error.code === "DocumentConflict" && typeof details["id"] === "string")
    fields["DocId"] = details["id"];
  if (error.code === "ConcurrencyViolation") {
    fields["Id"] = details["id"];
    fields["ExpectedChangeVector"] = details["expectedChangeVector"];
    fields["ActualChangeVector"] = details["actualChangeVector"];
  }
  return fromServerError(error, call.http.target, { fields });
}

/**
 * answerHttp answers one HTTP request the way a RavenDB server would, through `api`. It never
 * throws: every failure becomes a RavenDB-shaped error response.
 */
export async function answerHttp(api: RequestApi, http: HttpRequest): Promise<HttpResponse> {
  const target = parseTarget(http.target);
  const call: Call = {
    api,
    http,
    params: isBadTarget(target) ? new URLSearchParams() : target.params,
    database: undefined,
    topologyEtag: undefined,
    clusterEtag: undefined,
  };
  let response: HttpResponse;
  let handler: Handler | undefined;
  try {
    if (isBadTarget(target)) throw badRequest(call, target.problem);
    const segments = target.segments;
    if (segments.some((segment) => segment === "." || segment === ".."))
      throw badRequest(call, `the path may not contain '.' or '..' segments: ${http.target}`);
    if (segments[0] === "databases" && segments.length > 2)
      call.database = databaseName(call, segments[1]!);
    handler = handlerFor(call, segments);
    response = await handler(call);
  } catch (error) {
    if (error instanceof Refusal) response = error.response;
    else if (error instanceof Refused) response = await shapeRefusal(call, error.error);
    else {
      const message = error instanceof Error ? error.message : String(error);
      response = ravenError(500, ravenTypes.invalidOperation, message, http.target);
    }
  }
  if (handler === undefined || topologyRoutes.has(handler)) return response;
  const refresh = await refreshHeaders(call);
  return { ...response, headers: { ...response.headers, ...refresh } };
}
