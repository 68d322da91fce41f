/**
 * The server-level routes of the wire subset: the cluster (topology, node info, adding and
 * removing nodes) and its databases (create, read, delete, grow a group, list, conflict
 * resolution), plus the database topology clients ask any server for.
 */
import type { DatabaseRecord, DatabaseSummary } from "../cluster/index.ts";
import type { ServerError, ServerRequest, TopologyView } from "../transport/index.ts";
import {
  ask,
  badRequest,
  clusterTopology,
  databaseName,
  EarlyAnswer,
  isPassive,
  nodeIsPassive,
  noContent,
  notSupported,
  ok,
  param,
  readObject,
  ServerRefusal,
  wholeNumber,
} from "./call.ts";
import type { Call, Handler } from "./call.ts";
import { ravenError, ravenTypes } from "./errors.ts";
import {
  buildInfo,
  clusterTopologyBody,
  databaseRecordBody,
  databaseTopologyBody,
  groupTopologyBody,
  isObject,
  nodeInfoBody,
  revisionsFromBody,
  stringList,
  tcpInfoBody,
} from "./shapes.ts";
import type { NodeInfoResult } from "./shapes.ts";

export const getClusterTopology: Handler = async (call) =>
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

/** databaseMissing answers RavenDB's way for an unknown database: the client throws at once. */
function databaseMissing(
  call: Call,
  name: string,
  status: number,
  error: ServerError,
): EarlyAnswer {
  return new EarlyAnswer(
    ravenError(status, ravenTypes.databaseDoesNotExist, error.message, call.http.target, {
      headers: { "Database-Missing": name },
    }),
  );
}

export const getDatabaseTopology: Handler = async (call) => {
  const name = databaseName(call, param(call, "name"));
  try {
    return ok(200, databaseTopologyBody(await ask<TopologyView>(call, topologyOf(name))));
  } catch (error) {
    if (!(error instanceof ServerRefusal) || error.error.code !== "DatabaseDoesNotExist")
      throw error;
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
    if (!(error instanceof ServerRefusal) || error.error.code !== "DatabaseDoesNotExist")
      throw error;
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

/**
 * Rookery's own client speaks the server's request API rather than RavenDB's REST: over HTTP it
 * posts one request as JSON here and reads the server's answer back as it is
 * (engine/client/http-network.ts). The server checks each request as it does from any runtime.
 */
const postRookeryRequest: Handler = async (call) => {
  const body = readObject(call, "the request");
  if (typeof body["type"] !== "string")
    throw badRequest(call, "a Rookery request is a JSON object with a string 'type'");
  return ok(200, await call.api.handleRequest(body as unknown as ServerRequest));
};

/** The server-level routes, by "METHOD path". */
export const serverRoutes: Readonly<Record<string, Handler>> = {
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
  "POST rookery/request": postRookeryRequest,
};

/** Server-level RavenDB features outside the subset, by their path's first part: a 501. */
export const serverFeatures: Readonly<Record<string, string>> = {
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
