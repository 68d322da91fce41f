/**
 * The RavenDB REST subset the official client needs for the chapter, over a server's one request
 * API (shared/reference/ravendb-wire.md). Each route reads RavenDB's request, asks the server,
 * and writes RavenDB's answer: the shape, the status, the headers (Refresh-Topology,
 * Database-Missing) and the error body. Nothing here decides what the cluster does. This file
 * finds a request's route and finishes its answer; the routes are in server-routes.ts and
 * database-routes.ts.
 */
import type { ServerError } from "../transport/index.ts";
import {
  badRequest,
  clusterTopology,
  databaseName,
  EarlyAnswer,
  isPassive,
  nodeIsPassive,
  notSupported,
  ServerRefusal,
} from "./call.ts";
import type { Call, Handler } from "./call.ts";
import { databaseFeatures, databaseRoutes } from "./database-routes.ts";
import { fromServerError, ravenError, ravenTypes } from "./errors.ts";
import { etagHeader, isBadTarget, parseTarget } from "./query.ts";
import {
  getClusterTopology,
  getDatabaseTopology,
  serverFeatures,
  serverRoutes,
} from "./server-routes.ts";
import type { HttpRequest, HttpResponse, RequestApi } from "./types.ts";

function routeNotFound(call: Call, path: string): EarlyAnswer {
  return new EarlyAnswer(
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
    if (error instanceof EarlyAnswer) response = error.response;
    else if (error instanceof ServerRefusal) response = await shapeRefusal(call, error.error);
    else {
      const message = error instanceof Error ? error.message : String(error);
      response = ravenError(500, ravenTypes.invalidOperation, message, http.target);
    }
  }
  if (handler === undefined || topologyRoutes.has(handler)) return response;
  const refresh = await refreshHeaders(call);
  return { ...response, headers: { ...response.headers, ...refresh } };
}
