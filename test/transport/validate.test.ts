import { describe, expect, it } from "vitest";
import { isRookeryError } from "../../engine/core/index.ts";
import { packBatch } from "../../engine/replication/index.ts";
import { checkPeerMessage, checkRequest } from "../../engine/transport/index.ts";
import { receivedItemsMax } from "../../engine/transport/validate.ts";
import type { ServerRequest } from "../../engine/transport/index.ts";

function refusal(check: () => unknown): { code: string; message: string; field: unknown } {
  try {
    check();
  } catch (error) {
    if (isRookeryError(error))
      return { code: error.code, message: error.message, field: error.details["field"] };
    throw error;
  }
  throw new Error("expected a refusal");
}

const everyRequest: ServerRequest[] = [
  { type: "node-info" },
  { type: "cluster-topology" },
  { type: "database-topology", database: "Spade" },
  { type: "database-status", database: "Spade" },
  { type: "add-node", url: "http://127.0.0.2:8080" },
  { type: "remove-node", tag: "B" },
  {
    type: "create-database",
    name: "Pitchfork",
    replicationFactor: 3,
    nodes: ["A", "B", "C"],
    revisions: {
      default: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: true },
      collections: { Users: { disabled: true, minimumRevisionsToKeep: 5, purgeOnDelete: false } },
    },
    conflictResolution: "none",
  },
  { type: "delete-database", name: "Pitchfork" },
  { type: "add-database-node", database: "Spade", tag: "B" },
  { type: "add-database-node", database: "Spade" },
  { type: "set-revisions", database: "Spade", revisions: null },
  { type: "set-conflict-resolution", database: "Spade", resolution: "latest" },
  { type: "get-documents", database: "Spade", ids: ["users/1", "users/2"] },
  { type: "list-documents", database: "Spade" },
  {
    type: "batch",
    database: "Spade",
    transaction: {
      puts: [{ id: "users/1", body: { name: "Oren", "@metadata": { "@collection": "Users" } } }],
      deletes: [{ id: "users/2", expectedChangeVector: "A:1-x" }],
      attachmentPuts: [{ documentId: "users/1", name: "a.png", content: new Uint8Array([1, 2]) }],
      attachmentDeletes: [{ documentId: "users/1", name: "b.txt" }],
    },
    writeAssurance: { replicas: 1, timeoutMs: 1_000, throwOnTimeout: false },
  },
];

describe("requests are checked against their declared shapes", () => {
  it("accepts every request type in its declared shape, unchanged", () => {
    for (const request of everyRequest) expect(checkRequest(request)).toEqual(request);
  });

  it("drops fields a request does not declare, at any depth", () => {
    const checked = checkRequest({
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "a", body: { kept: 1 }, sneaky: 2n }], extra: true },
      extra: { deep: [1] },
    } as unknown as ServerRequest);
    expect(checked).toEqual({
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "a", body: { kept: 1 } }] },
    });
  });

  it("names the field that is wrong, however deep, and what it must be", () => {
    const bad = {
      type: "batch",
      database: "Spade",
      transaction: {
        puts: [
          { id: "a", body: {} },
          { id: "b", body: {} },
          { id: 7, body: {} },
        ],
      },
    };
    expect(refusal(() => checkRequest(bad as unknown as ServerRequest))).toEqual({
      code: "InvalidRequest",
      message: "request.transaction.puts[2].id must be a string, got number 7",
      field: "request.transaction.puts[2].id",
    });
    const missing = refusal(() => checkRequest({ type: "add-node" } as ServerRequest));
    expect(missing.message).toBe("request.url is missing: it must be a string");
    const timeout = refusal(() =>
      checkRequest({
        type: "batch",
        database: "Spade",
        transaction: {},
        writeAssurance: { timeoutMs: Infinity },
      } as unknown as ServerRequest),
    );
    expect(timeout.message).toBe(
      "request.writeAssurance.timeoutMs must be a number, got number Infinity",
    );
  });

  it("refuses lists longer than any real message, without reading them all", () => {
    const ids = Array.from({ length: receivedItemsMax + 1 }, () => "a");
    const error = refusal(() =>
      checkRequest({ type: "get-documents", database: "Spade", ids } as ServerRequest),
    );
    expect(error.message).toBe(
      `request.ids holds ${ids.length} items; at most ${receivedItemsMax}`,
    );
  });

  it("says which request types exist when the type is unknown", () => {
    const error = refusal(() => checkRequest({ type: "drop" } as unknown as ServerRequest));
    expect(error.message).toMatch(
      /^request.type names an unknown request type "drop"; known: node-info, /,
    );
  });
});

describe("peer messages are checked against their declared shapes", () => {
  it("accepts a Raft append with entries of every kind and a packed replication batch", () => {
    const append = {
      type: "raft",
      topologyId: "c1",
      toTag: "B",
      fromServerId: "server-of-a",
      toServerId: null,
      message: {
        type: "append",
        from: "A",
        to: "B",
        term: 2,
        prevIndex: 1,
        prevTerm: 1,
        commit: 1,
        entries: [
          { index: 2, term: 2, type: "noop" },
          { index: 3, term: 2, type: "command", data: "{}" },
          {
            index: 4,
            term: 2,
            type: "membership",
            change: { op: "addLearner", node: "C" },
            membership: { voters: ["A", "B"], learners: ["C"] },
          },
        ],
      },
    };
    expect(checkPeerMessage(append)).toEqual(append);
    const wire = packBatch({
      type: "replication-batch",
      database: "Spade",
      from: "A",
      to: "B",
      sourceDatabaseId: "x",
      afterEtag: 0,
      lastEtag: 2,
      transactions: [
        {
          transaction: 1,
          items: [
            {
              kind: "document",
              id: "users/1",
              collection: "Users",
              changeVector: "A:1-x",
              lastModifiedMs: 5,
              body: { name: "Oren" },
              attachments: [],
              etag: 1,
              transaction: 1,
            },
            {
              kind: "tombstone",
              id: "users/2",
              collection: "Users",
              changeVector: "A:2-x",
              lastModifiedMs: 6,
              etag: 2,
              transaction: 1,
            },
          ],
        },
      ],
    });
    expect(checkPeerMessage({ type: "replication", message: wire })).toEqual({
      type: "replication",
      message: wire,
    });
  });

  it("refuses a Raft message with a negative term, naming the field", () => {
    const error = refusal(() =>
      checkPeerMessage({
        type: "raft",
        topologyId: "c1",
        toTag: "B",
        fromServerId: "server-of-a",
        toServerId: "server-of-b",
        message: { type: "vote", from: "A", to: "B", term: -1, lastLogIndex: 0, lastLogTerm: 0 },
      }),
    );
    expect(error).toMatchObject({
      code: "InvalidPeerMessage",
      field: "message.message.term",
      message: "message.message.term must be zero or more, got -1",
    });
  });
});
