/**
 * The database-level routes of the wire subset (/databases/{name}/…): documents by id with
 * includes, bulk_docs with optimistic concurrency and write assurance, HiLo, health checks, the
 * client configuration and revisions settings.
 */
import type { DocumentDelete, DocumentPut, TransactionInput } from "../database/index.ts";
import type {
  DocumentView,
  HiloRange,
  LoadResult,
  WriteAssuranceRequest,
} from "../transport/index.ts";
import {
  ask,
  badRequest,
  ifMatch,
  noContent,
  notSupported,
  ok,
  param,
  readObject,
  ServerRefusal,
  wholeNumber,
} from "./call.ts";
import type { Call, Handler } from "./call.ts";
import { parseTimeSpan } from "./query.ts";
import { documentBody, isObject, revisionsFromBody, stringList } from "./shapes.ts";
import type { HttpResponse } from "./types.ts";

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
  throw new ServerRefusal({
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

/** The routes under /databases/{name}/, by "METHOD rest-of-path". */
export const databaseRoutes: Readonly<Record<string, Handler>> = {
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

/** Database-level RavenDB features outside the subset, by their path's first part: a 501. */
export const databaseFeatures: Readonly<Record<string, string>> = {
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
