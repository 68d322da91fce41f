/**
 * What every route of the wire layer shares: the call on its way through (the request, its
 * parameters, the etags the server reported), reading RavenDB's request (query parameters, JSON
 * bodies, database names), asking the server, and the two ways out before a normal answer.
 */
import { databaseNameProblem } from "../cluster/index.ts";
import type { ServerError, ServerRequest } from "../transport/index.ts";
import { ravenError, ravenTypes } from "./errors.ts";
import { isObject } from "./shapes.ts";
import type { ClusterTopologyResult, NodeInfoResult } from "./shapes.ts";
import type { HttpRequest, HttpResponse, RequestApi } from "./types.ts";

/** Call is one request on its way through a route. */
export interface Call {
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

export type Handler = (call: Call) => Promise<HttpResponse>;

/** EarlyAnswer carries an answer out of a route from wherever it was decided. */
export class EarlyAnswer extends Error {
  constructor(readonly response: HttpResponse) {
    super(`HTTP ${response.status}`);
  }
}

/** ServerRefusal is a server error on its way out of a route; the dispatcher shapes it. */
export class ServerRefusal extends Error {
  constructor(readonly error: ServerError) {
    super(error.message);
  }
}

const json = "application/json; charset=utf-8";

export function ok(status: number, body: unknown): HttpResponse {
  return { status, headers: { "Content-Type": json }, body: JSON.stringify(body) };
}

export const noContent: HttpResponse = { status: 204, headers: {}, body: "" };

export function badRequest(call: Call, message: string): EarlyAnswer {
  return new EarlyAnswer(ravenError(400, ravenTypes.badRequest, message, call.http.target));
}

export function notSupported(call: Call, what: string): EarlyAnswer {
  return new EarlyAnswer(
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

/** ask sends one request to the server and returns its result, or throws ServerRefusal. */
export async function ask<T>(call: Call, request: ServerRequest): Promise<T> {
  const response = await call.api.handleRequest(request);
  if (response.topologyEtag !== undefined) call.topologyEtag = response.topologyEtag;
  if (!response.ok) throw new ServerRefusal(response.error);
  return response.result as T;
}

export async function clusterTopology(call: Call): Promise<ClusterTopologyResult> {
  const result = await ask<ClusterTopologyResult>(call, { type: "cluster-topology" });
  call.clusterEtag = result.etag;
  return result;
}

export function param(call: Call, name: string): string {
  const value = call.params.get(name);
  if (value === null || value.trim() === "")
    throw badRequest(call, `the query parameter '${name}' is required`);
  return value;
}

export function wholeNumber(call: Call, name: string, value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw badRequest(call, `'${name}' must be a whole number, got '${value}'`);
  return Number(value);
}

/** readJson parses the request body; an empty or malformed body is the client's mistake (400). */
export function readJson(call: Call): unknown {
  if (call.http.body.trim() === "") throw badRequest(call, "this request needs a JSON body");
  try {
    return JSON.parse(call.http.body) as unknown;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw badRequest(call, `the request body is not valid JSON: ${why}`);
  }
}

export function readObject(call: Call, what: string): Record<string, unknown> {
  const body = readJson(call);
  if (!isObject(body)) throw badRequest(call, `${what} must be a JSON object`);
  return body;
}

export function databaseName(call: Call, name: string): string {
  const problem = databaseNameProblem(name);
  if (problem) throw badRequest(call, `'${name}' is not a valid database name: ${problem}`);
  return name;
}

/** ifMatch reads an If-Match header's change vector (quotes removed). */
export function ifMatch(call: Call): string | undefined {
  const value = call.http.headers["if-match"];
  return value === undefined ? undefined : value.trim().replace(/^"|"$/g, "");
}

/** isPassive tells whether this server has never joined a cluster (its tag is "?"). */
export async function isPassive(call: Call): Promise<boolean> {
  const info = await ask<NodeInfoResult>(call, { type: "node-info" });
  return info.tag === "?";
}

export function nodeIsPassive(call: Call): EarlyAnswer {
  return new EarlyAnswer(
    ravenError(
      503,
      ravenTypes.nodeIsPassive,
      `${call.api.url} is not part of any cluster yet (tag ?): it hosts no databases. ` +
        "Create a database on it or add it to a cluster first.",
      call.http.target,
    ),
  );
}
