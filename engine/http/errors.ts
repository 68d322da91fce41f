/**
 * RavenDB-shaped errors: the JSON body RavenDB's server writes for every failed request, and the
 * status and exception type each of the engine's error codes becomes. The official client turns
 * `Type` into its exception class (the last dotted part of a `Raven.Client.Exceptions.` name) and
 * decides by status whether to fail over (408, 410, 502, 503, 504) or throw at once
 * (shared/reference/ravendb-wire.md §1.6).
 */
import type { ServerError } from "../transport/index.ts";
import type { HttpResponse } from "./types.ts";

const exceptions = "Raven.Client.Exceptions";

/** The exception types this layer answers with, by what they mean. */
export const ravenTypes = {
  badRequest: `${exceptions}.BadRequestException`,
  routeNotFound: `${exceptions}.Routing.RouteNotFoundException`,
  notSupported: "System.NotSupportedException",
  invalidOperation: "System.InvalidOperationException",
  concurrency: `${exceptions}.ConcurrencyException`,
  documentConflict: `${exceptions}.Documents.DocumentConflictException`,
  databaseDoesNotExist: `${exceptions}.Database.DatabaseDoesNotExistException`,
  databaseNotRelevant: `${exceptions}.Database.DatabaseNotRelevantException`,
  noLeader: `${exceptions}.Cluster.NoLeaderException`,
  nodeIsPassive: `${exceptions}.Cluster.NodeIsPassiveException`,
  timeout: `${exceptions}.RavenTimeoutException`,
  serverUnavailable: `${exceptions}.ServerLoadFailureException`,
} as const;

/** ErrorShape is the status and exception type one engine error code is answered with. */
interface ErrorShape {
  readonly status: number;
  readonly type: string;
}

const badRequest: ErrorShape = { status: 400, type: ravenTypes.badRequest };
const invalidOperation: ErrorShape = { status: 500, type: ravenTypes.invalidOperation };

/**
 * The engine's error codes with a shape of their own. Of the others, codes starting with
 * "Invalid" are input the client got wrong (400); the rest are refusals of the cluster (500,
 * InvalidOperationException, as RavenDB answers a refused cluster command).
 */
const shapeByCode: Readonly<Record<string, ErrorShape>> = {
  ConcurrencyViolation: { status: 409, type: ravenTypes.concurrency },
  DatabaseExists: { status: 409, type: ravenTypes.concurrency },
  DocumentConflict: { status: 409, type: ravenTypes.documentConflict },
  DatabaseDoesNotExist: { status: 500, type: ravenTypes.databaseDoesNotExist },
  DatabaseNotFound: { status: 500, type: ravenTypes.databaseDoesNotExist },
  DatabaseNotRelevant: { status: 410, type: ravenTypes.databaseNotRelevant },
  NoLeader: { status: 503, type: ravenTypes.noLeader },
  NotLeader: { status: 503, type: ravenTypes.noLeader },
  NotInCluster: { status: 503, type: ravenTypes.nodeIsPassive },
  WriteAssuranceTimeout: { status: 408, type: ravenTypes.timeout },
  ServerUnavailable: { status: 503, type: ravenTypes.serverUnavailable },
  RequestTimeout: { status: 504, type: ravenTypes.timeout },
  TransactionTooLarge: badRequest,
  DocumentTooLarge: badRequest,
  AttachmentTooLarge: badRequest,
};

/** errorShape is how an engine error code travels over HTTP. */
export function errorShape(code: string): ErrorShape {
  const known = shapeByCode[code];
  if (known) return known;
  if (code.startsWith("Invalid")) return badRequest;
  return invalidOperation;
}

/** ErrorOptions add what some errors carry beyond the common fields. */
export interface ErrorOptions {
  /** Extra response headers (Database-Missing). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Extra body fields (DocId for a conflict). */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/**
 * ravenError builds RavenDB's error body: Url, Type, Message, and Error, which the client shows as
 * the exception's message. A timeout also says FailImmediately, as RavenDB 5.4+ does (the Node
 * client ignores it; RavenDB's C# client stops instead of failing over).
 */
export function ravenError(
  status: number,
  type: string,
  message: string,
  target: string,
  options: ErrorOptions = {},
): HttpResponse {
  const body: Record<string, unknown> = {
    Url: target,
    Type: type,
    Message: message,
    Error: `${type}: ${message}`,
    ...options.fields,
  };
  if (type === ravenTypes.timeout) body["FailImmediately"] = true;
  return {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...options.headers },
    body: JSON.stringify(body),
  };
}

/** fromServerError answers an engine error the RavenDB way (status and type from its code). */
export function fromServerError(
  error: ServerError,
  target: string,
  options: ErrorOptions = {},
): HttpResponse {
  const shape = errorShape(error.code);
  return ravenError(shape.status, shape.type, error.message, target, {
    ...options,
    fields: { Code: error.code, ...options.fields },
  });
}
