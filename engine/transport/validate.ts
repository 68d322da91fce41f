/**
 * The declared shapes of everything a server receives, checked at its boundary: client requests
 * (and the same requests forwarded by a follower), server-to-server messages, and the envelopes
 * around them. A value that does not match is refused with an error naming the field, before any
 * part of the server reads it. See shapes.ts for the checkers.
 */
import { RookeryError } from "../core/index.ts";
import type { Message as RaftMessage } from "../raft/index.ts";
import type {
  ExternalEnvelope,
  ExternalMessage,
  ReplicationWireMessage,
} from "../replication/index.ts";
import type { Envelope, PeerMessage, ServerRequest, ServerResponse } from "./messages.ts";
import {
  boolean,
  either,
  integer,
  list,
  nullable,
  number,
  object,
  oneOf,
  optional,
  record,
  ShapeError,
  string,
  tagged,
  unknownValue,
} from "./shapes.ts";
import type { Shape } from "./shapes.ts";

/** Items one received list may hold, and keys one received map: far above any real message. */
export const receivedItemsMax = 100_000;

/** count is an index, a term, an etag or an id number: a whole number, zero or more. */
const count: Shape<number> = (value, field) => {
  const n = integer(value, field);
  if (n < 0) throw new ShapeError(field, `must be zero or more, got ${n}`);
  return n;
};

const strings = list(string, receivedItemsMax);

const bytes: Shape<Uint8Array> = (value, field) => {
  if (!(value instanceof Uint8Array)) throw new ShapeError(field, "must be bytes (a Uint8Array)");
  return value;
};

// --- requests ------------------------------------------------------------------------------------

const revisionsCollection = object({
  disabled: boolean,
  minimumRevisionsToKeep: nullable(number),
  purgeOnDelete: boolean,
});

const revisions = nullable(
  object({
    default: nullable(revisionsCollection),
    collections: record(revisionsCollection, receivedItemsMax),
  }),
);

const conflictResolution = oneOf("latest", "none");

const expectedChangeVector = optional(string);

const transaction = object({
  puts: optional(
    list(object({ id: string, body: unknownValue, expectedChangeVector }), receivedItemsMax),
  ),
  deletes: optional(list(object({ id: string, expectedChangeVector }), receivedItemsMax)),
  attachmentPuts: optional(
    list(
      object({
        documentId: string,
        name: string,
        content: either(string, bytes, "text or bytes"),
        contentType: optional(string),
        expectedChangeVector,
      }),
      receivedItemsMax,
    ),
  ),
  attachmentDeletes: optional(
    list(object({ documentId: string, name: string, expectedChangeVector }), receivedItemsMax),
  ),
});

const writeAssurance = object({
  replicas: optional(number),
  majority: optional(boolean),
  timeoutMs: number,
  throwOnTimeout: optional(boolean),
});

/**
 * VariantShapes has one shape per member of a `type`-tagged union, so a new member that is not
 * declared here fails to compile instead of being refused as unknown at run time.
 */
type VariantShapes<U extends { readonly type: string }> = {
  readonly [T in U["type"]]: Shape<Omit<VariantOf<U, T>, "type">>;
};
/** VariantOf is the member of U that `type` T tags (a member may answer to several tags). */
type VariantOf<U, T> = U extends { readonly type: infer Tags }
  ? T extends Tags
    ? U
    : never
  : never;

/** requestShape is every ServerRequest, by type. */
export const requestShape: Shape<ServerRequest> = tagged("type", "request type", {
  "node-info": object({}),
  "cluster-topology": object({}),
  "database-topology": object({ database: string }),
  "database-status": object({ database: string }),
  "add-node": object({ url: string, tag: optional(string) }),
  "remove-node": object({ tag: string }),
  "create-database": object({
    name: string,
    replicationFactor: optional(number),
    nodes: optional(strings),
    revisions: optional(revisions),
    conflictResolution: optional(conflictResolution),
  }),
  "delete-database": object({ name: string }),
  "add-database-node": object({ database: string, tag: optional(string) }),
  "set-revisions": object({ database: string, revisions }),
  "set-conflict-resolution": object({ database: string, resolution: conflictResolution }),
  "update-external-replication": object({
    database: string,
    taskId: optional(count),
    name: optional(string),
    destinationDatabase: string,
    destinationUrls: strings,
    mentorNode: optional(nullable(string)),
    disabled: optional(boolean),
  }),
  "delete-external-replication": object({ database: string, taskId: count }),
  "ongoing-tasks": object({ database: string }),
  "get-documents": object({ database: string, ids: strings }),
  "load-documents": object({ database: string, ids: strings, include: optional(strings) }),
  "database-record": object({ database: string }),
  "list-databases": object({}),
  "hilo-next": object({ database: string, collection: string, lastMax: optional(number) }),
  "list-documents": object({ database: string }),
  "get-revisions": object({ database: string, id: string }),
  "get-attachment": object({ database: string, id: string, name: string }),
  batch: object({ database: string, transaction, writeAssurance: optional(writeAssurance) }),
} satisfies VariantShapes<ServerRequest>);

/** responseShape is a ServerResponse: a result, or an error with a code and a message. */
const responseShape: Shape<ServerResponse> = (value, field) => {
  const { ok } = object({ ok: boolean })(value, field);
  if (ok)
    return object({ ok: boolean, result: unknownValue, topologyEtag: optional(number) })(
      value,
      field,
    ) as ServerResponse;
  return object({
    ok: boolean,
    error: object({
      code: string,
      message: string,
      details: optional(record(unknownValue, receivedItemsMax)),
    }),
    topologyEtag: optional(number),
  })(value, field) as ServerResponse;
};

// --- Raft --------------------------------------------------------------------------------------------

const membership = object({ voters: strings, learners: strings });

const membershipChange = tagged("op", "membership change", {
  bootstrap: object({ voters: strings }),
  addLearner: object({ node: string }),
  promote: object({ node: string }),
  remove: object({ node: string }),
});

const entry = tagged("type", "log entry type", {
  command: object({ index: count, term: count, data: string }),
  noop: object({ index: count, term: count }),
  membership: object({ index: count, term: count, change: membershipChange, membership }),
});

const snapshot = object({ index: count, term: count, membership, data: string });

const vote = object({
  from: string,
  to: string,
  term: count,
  lastLogIndex: count,
  lastLogTerm: count,
});
const voteResponse = object({ from: string, to: string, term: count, granted: boolean });

const raftMessage: Shape<RaftMessage> = tagged("type", "Raft message type", {
  preVote: vote,
  vote,
  preVoteResponse: voteResponse,
  voteResponse,
  append: object({
    from: string,
    to: string,
    term: count,
    prevIndex: count,
    prevTerm: count,
    entries: list(entry, receivedItemsMax),
    commit: count,
  }),
  appendResponse: object({
    from: string,
    to: string,
    term: count,
    success: boolean,
    matchIndex: count,
    rejectedIndex: count,
    conflictIndex: count,
    conflictTerm: count,
  }),
  installSnapshot: object({ from: string, to: string, term: count, snapshot }),
} satisfies VariantShapes<RaftMessage>);

// --- replication -------------------------------------------------------------------------------------

const attachmentInfo = object({ name: string, hash: string, size: count, contentType: string });

const version = {
  id: string,
  collection: string,
  changeVector: string,
  lastModifiedMs: number,
  etag: count,
  transaction: count,
};
const withBody = { ...version, attachments: list(attachmentInfo, receivedItemsMax) };

const wireItem = tagged("kind", "replicated item kind", {
  document: object({ ...withBody, bodyJson: string }),
  conflict: object({ ...withBody, bodyJson: nullable(string) }),
  revision: object({ ...withBody, bodyJson: nullable(string) }),
  tombstone: object(version),
  attachment: object({
    name: string,
    hash: string,
    size: count,
    contentType: string,
    documentId: string,
    contentBase64: string,
    etag: count,
    transaction: count,
  }),
});

const link = { database: string, from: string, to: string, sourceDatabaseId: string };

const replicationConnect = object(link);
const replicationAck = object({
  ...link,
  lastAcceptedEtag: count,
  changeVector: string,
  reason: oneOf("applied", "duplicate", "gap", "connect"),
  answers: nullable(object({ afterEtag: count, lastEtag: count })),
});
const replicationWireBatch = object({
  ...link,
  afterEtag: count,
  lastEtag: count,
  transactions: list(
    object({ transaction: count, items: list(wireItem, receivedItemsMax) }),
    receivedItemsMax,
  ),
});

const replicationMessage: Shape<ReplicationWireMessage> = tagged(
  "type",
  "replication message type",
  {
    "replication-connect": replicationConnect,
    "replication-ack": replicationAck,
    "replication-wire-batch": replicationWireBatch,
  } satisfies VariantShapes<ReplicationWireMessage>,
);

/** externalMessage is what an external replication task's connection carries, either way. */
const externalMessage: Shape<ExternalMessage> = tagged("type", "external message type", {
  "replication-connect": replicationConnect,
  "replication-ack": replicationAck,
  "replication-wire-batch": replicationWireBatch,
  "external-refused": object({
    database: string,
    from: string,
    to: string,
    code: oneOf("DatabaseNotHosted", "DatabaseDoesNotExist", "NotInCluster"),
    message: string,
    urls: strings,
  }),
} satisfies VariantShapes<ExternalMessage>);

const externalEnvelope: Shape<ExternalEnvelope> = object({
  taskId: count,
  destinationDatabase: string,
  message: externalMessage,
});

// --- peers and envelopes ---------------------------------------------------------------------------

const databaseReport = object({
  lastEtag: number,
  acceptedEtags: record(number, receivedItemsMax),
});

/** A forwarded request passes as it is here: the leader checks it with checkRequest before use. */
const forwardedRequest = unknownValue as Shape<ServerRequest>;

/** peerMessageShape is every PeerMessage, by type. A forwarded request is checked on its own. */
export const peerMessageShape: Shape<PeerMessage> = tagged("type", "peer message type", {
  raft: object({
    topologyId: string,
    toTag: string,
    fromServerId: string,
    toServerId: nullable(string),
    message: raftMessage,
  }),
  replication: object({ message: replicationMessage }),
  "external-replication": object({ envelope: externalEnvelope }),
  forward: object({ requestId: count, request: forwardedRequest, description: string }),
  "forward-result": object({ requestId: count, response: responseShape }),
  "node-info-request": object({ requestId: count }),
  "node-info-result": object({
    requestId: count,
    tag: string,
    topologyId: nullable(string),
    serverId: string,
  }),
  "health-report": object({ tag: string, databases: record(databaseReport, receivedItemsMax) }),
} satisfies VariantShapes<PeerMessage>) as Shape<PeerMessage>;

/**
 * envelopeShape is an envelope with its addresses; what it carries (a request, a response, a peer
 * message) is checked on its own, so a malformed request can still be answered.
 */
const envelopeShape = tagged("kind", "envelope kind", {
  peer: object({ from: string, to: string, message: unknownValue }),
  request: object({ from: string, to: string, requestId: number, request: unknownValue }),
  response: object({ from: string, to: string, requestId: number, response: unknownValue }),
});

function refusal(code: string, error: unknown): never {
  if (error instanceof ShapeError)
    throw new RookeryError(code, `${error.field} ${error.problem}`, {
      field: error.field,
      problem: error.problem,
    });
  throw error;
}

/** checkRequest returns `value` as a ServerRequest, or throws InvalidRequest naming the field. */
export function checkRequest(value: unknown): ServerRequest {
  try {
    return requestShape(value, "request");
  } catch (error) {
    return refusal("InvalidRequest", error);
  }
}

/** checkPeerMessage returns `value` as a PeerMessage, or throws InvalidPeerMessage. */
export function checkPeerMessage(value: unknown): PeerMessage {
  try {
    return peerMessageShape(value, "message");
  } catch (error) {
    return refusal("InvalidPeerMessage", error);
  }
}

/** checkEnvelope returns `value` as an Envelope (its contents unchecked), or throws InvalidEnvelope. */
export function checkEnvelope(value: unknown): Envelope {
  try {
    return envelopeShape(value, "envelope") as Envelope;
  } catch (error) {
    return refusal("InvalidEnvelope", error);
  }
}
