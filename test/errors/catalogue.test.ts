/**
 * Every error code Rookery gives, with one input that triggers it (engine/core/error-codes.ts is
 * the catalogue). The table is checked both ways: each catalogued code has a row here, and each
 * code the sources raise is catalogued. Every message is checked too: it shows control characters
 * escaped (several inputs carry a NUL) and says each thing once.
 */
import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Worker from "web-worker";
import { afterAll, describe, expect, it } from "vitest";
import { benchSuites } from "../../cli/commands/bench.ts";
import { Cluster, DocumentStore } from "../../engine/index.ts";
import type { ClientNetwork, ClusterHandle } from "../../engine/index.ts";
import { errorCodes, isRookeryError, parseChangeVector } from "../../engine/core/index.ts";
import { DatabaseInstance } from "../../engine/database/index.ts";
import { ManualClock } from "../../engine/core/index.ts";
import { serverLimits } from "../../engine/server/limits.ts";
import { Waiters } from "../../engine/server/waiters.ts";
import { OutgoingReplication } from "../../engine/replication/index.ts";
import { WorkerCluster } from "../../engine/runtime/host/index.ts";
import type { HostPlatform } from "../../engine/runtime/host/index.ts";
import { nodePlatform } from "../../engine/runtime/host/node-platform.ts";
import { freeBasePort } from "../../engine/runtime/process/addresses.ts";
import { SimCluster } from "../../engine/runtime/sim/index.ts";
import { ServerRuntime } from "../../engine/runtime/worker/server-runtime.ts";
import { checkEnvelope, checkPeerMessage } from "../../engine/transport/index.ts";
import type { ServerRequest, ServerResponse } from "../../engine/transport/index.ts";
import {
  openFsStorage,
  openIndexedDbStorage,
  openMemoryStorage,
  MemoryDisk,
} from "../../engine/storage/node.ts";
import { ClusterLog, clusterOf } from "../cluster/harness.ts";
import { instance } from "../database/helpers.ts";

const repo = resolve(import.meta.dirname, "../..");
const scratch = mkdtempSync(join(tmpdir(), "rookery-errors-"));
const clusters: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const cluster of clusters) await cluster.stop().catch(() => {});
  rmSync(scratch, { recursive: true, force: true });
});

/** What a row produced: the code and the message a user reads. */
interface Refusal {
  readonly code: string;
  readonly message: string;
}

/** thrown runs `action` and returns what it threw (sync or async). */
async function thrown(action: () => unknown): Promise<Refusal> {
  try {
    await action();
  } catch (error) {
    if (error instanceof Error && typeof (error as { code?: unknown }).code === "string")
      return error as unknown as Refusal;
    throw error;
  }
  throw new Error("expected an error, nothing was thrown");
}

/** refused returns a server's refusal (failing when the request succeeded). */
function refused(response: ServerResponse): Refusal {
  if (response.ok) throw new Error(`expected a refusal, got ${JSON.stringify(response.result)}`);
  return response.error;
}

const url = (n: number): string => `http://127.0.0.${n}:8080`;

/** sim starts a sim cluster of `servers` (stopped at the end). */
async function sim(servers: number): Promise<SimCluster> {
  const cluster = new SimCluster({ servers, seed: 3 });
  clusters.push(cluster);
  return cluster;
}

/** spade is a sim cluster of `servers` nodes (A, B …) with Spade on A. */
async function spade(servers = 1): Promise<SimCluster> {
  const cluster = await sim(servers);
  ok(await cluster.request(url(1), { type: "create-database", name: "Spade" }));
  for (let n = 2; n <= servers; n++)
    ok(await cluster.request(url(1), { type: "add-node", url: url(n) }));
  await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null));
  return cluster;
}

function ok(response: ServerResponse): unknown {
  if (!response.ok) throw new Error(`${response.error.code}: ${response.error.message}`);
  return response.result;
}

function storeOn(cluster: ClusterHandle, database?: string): DocumentStore {
  return new DocumentStore({
    urls: cluster.urls,
    network: cluster.network,
    ...(database ? { database } : {}),
  }).initialize();
}

/** cluster-layer rows: the command applied to a log, as every server would. */
const log = {
  refuse: (setup: (log: ClusterLog) => void, command: unknown) => async (): Promise<Refusal> => {
    const cluster = clusterOf(3);
    setup(cluster);
    return cluster.refuse(command);
  },
};
const spadeOnAB = (c: ClusterLog): void => {
  c.propose({ type: "createDatabase", name: "Spade", nodes: ["A", "B"] });
};
const spadeOnA = (c: ClusterLog): void => {
  c.propose({ type: "createDatabase", name: "Spade", nodes: ["A"] });
};
const backup = "http://127.0.1.1:8080";

/** A worker that starts but never answers a control call: a hung server thread. */
const hungWorker = join(scratch, "hung-worker.mjs");
writeFileSync(
  hungWorker,
  `import { expose } from ${JSON.stringify(new URL("../../node_modules/comlink/dist/esm/comlink.mjs", import.meta.url).href)};
expose({
  init: async (config) => ({ ok: true, value: { url: config.url, tag: "?", role: "passive", term: 0, leader: null, databases: null, appliedIndex: 0, documents: {}, hosted: [], atMs: Date.now() } }),
  connectPeer: () => new Promise(() => {}),
  setLinkFaults: () => {},
  crash: async () => null,
  shutdown: async () => null,
});
`,
);
const hungPlatform: HostPlatform = {
  ...nodePlatform,
  async spawn(name) {
    const worker = new Worker(`file://${hungWorker}`, { type: "module", name });
    return {
      endpoint: worker as never,
      terminate: async () => worker.terminate(),
      onExit: () => {},
    };
  },
};

type Row = readonly [code: string, input: string, trigger: () => Promise<Refusal>];

const rows: readonly Row[] = [
  // --- cluster-wide operations, as the state machine refuses them -------------------------------
  [
    "AlreadyBootstrapped",
    "bootstrap a server that is node A",
    log.refuse(() => {}, { type: "bootstrap", url: url(1), topologyId: "other" }),
  ],
  [
    "DatabaseExists",
    "create Spade twice",
    log.refuse(spadeOnA, { type: "createDatabase", name: "spade" }),
  ],
  [
    "DatabaseNotFound",
    "delete a database that does not exist",
    log.refuse(() => {}, { type: "deleteDatabase", name: "Rake\u0000" }),
  ],
  [
    "DatabaseOnAllNodes",
    "grow Spade's group when it is on A, B and C",
    log.refuse((c) => c.propose({ type: "createDatabase", name: "Spade", replicationFactor: 3 }), {
      type: "addDatabaseNode",
      database: "Spade",
    }),
  ],
  [
    "InvalidCommand",
    "a log entry of an unknown type",
    log.refuse(() => {}, { type: "launchMissiles" }),
  ],
  [
    "InvalidDatabaseName",
    "a database name with a NUL in it",
    log.refuse(() => {}, { type: "createDatabase", name: "Sp\u0000de" }),
  ],
  [
    "InvalidDestination",
    "replicate to a database name with a space",
    log.refuse(spadeOnA, {
      type: "updateExternalReplication",
      database: "Spade",
      destinationDatabase: "bad name",
      destinationUrls: [backup],
    }),
  ],
  [
    "InvalidMentor",
    "add C to Spade with B (not a member) as mentor",
    log.refuse(spadeOnA, { type: "addDatabaseNode", database: "Spade", tag: "C", mentor: "B" }),
  ],
  [
    "InvalidNodeTag",
    "add a server asking for the tag a1",
    log.refuse(() => {}, { type: "addNode", url: url(4), tag: "a1" }),
  ],
  [
    "InvalidReplicationFactor",
    "replication factor 0",
    log.refuse(() => {}, { type: "createDatabase", name: "Spade", replicationFactor: 0 }),
  ],
  [
    "InvalidSetting",
    "keep -1 revisions",
    log.refuse(spadeOnA, {
      type: "setRevisions",
      database: "Spade",
      revisions: {
        default: { disabled: false, minimumRevisionsToKeep: -1, purgeOnDelete: false },
        collections: {},
      },
    }),
  ],
  [
    "InvalidUrl",
    "add a server by an address without a scheme",
    log.refuse(() => {}, { type: "addNode", url: "127.0.0.4\u0000" }),
  ],
  [
    "LastClusterNode",
    "remove the only node",
    async () => clusterOf(1).refuse({ type: "removeNode", tag: "A" }),
  ],
  [
    "LastMember",
    "remove Spade's only member",
    log.refuse(spadeOnA, {
      type: "removeDatabaseNode",
      database: "Spade",
      tag: "A",
      reason: "test",
    }),
  ],
  [
    "NodeAlreadyInGroup",
    "add A to Spade, which A hosts",
    log.refuse(spadeOnA, { type: "addDatabaseNode", database: "Spade", tag: "A" }),
  ],
  [
    "NodeNotInGroup",
    "move C (not hosting Spade) to rehab",
    log.refuse(spadeOnAB, { type: "moveToRehab", database: "Spade", tag: "C", reason: "test" }),
  ],
  [
    "NodeTagInUse",
    "add a server asking for tag A",
    log.refuse(() => {}, { type: "addNode", url: url(4), tag: "A" }),
  ],
  [
    "NotBootstrapped",
    "create a database on a server in no cluster",
    async () => new ClusterLog().refuse({ type: "createDatabase", name: "Spade" }),
  ],
  [
    "NotEnoughNodes",
    "replication factor 5 on three nodes",
    log.refuse(() => {}, { type: "createDatabase", name: "Spade", replicationFactor: 5 }),
  ],
  [
    "StaleTopology",
    "rotate Spade's preferred node away from B, which is not preferred",
    log.refuse(spadeOnAB, { type: "rotatePreferred", database: "Spade", tag: "B", reason: "test" }),
  ],
  [
    "TaskNameInUse",
    "two external replications named Backup",
    log.refuse(
      (c) => {
        spadeOnA(c);
        c.propose({
          type: "updateExternalReplication",
          database: "Spade",
          name: "Backup",
          destinationDatabase: "Spade",
          destinationUrls: [backup],
        });
      },
      {
        type: "updateExternalReplication",
        database: "Spade",
        name: "backup",
        destinationDatabase: "Other",
        destinationUrls: [backup],
      },
    ),
  ],
  [
    "TaskNotFound",
    "delete external replication task 99",
    log.refuse(spadeOnA, { type: "deleteExternalReplication", database: "Spade", taskId: 99 }),
  ],
  [
    "TooManyDatabases",
    "one database more than the cluster may hold",
    async () => {
      const c = clusterOf(1);
      spadeOnA(c);
      // 10 000 proposals would take long; the limit counts records, so copies of Spade's do.
      const record = c.record("Spade");
      c.state = {
        ...c.state,
        databases: Object.fromEntries(Array.from({ length: 10_000 }, (_, k) => [`db${k}`, record])),
      };
      return c.refuse({ type: "createDatabase", name: "OneTooMany" });
    },
  ],
  [
    "TooManyTasks",
    "a 65th external replication",
    log.refuse(
      (c) => {
        spadeOnA(c);
        for (let k = 0; k < 64; k++)
          c.propose({
            type: "updateExternalReplication",
            database: "Spade",
            name: `Backup ${k}`,
            destinationDatabase: `Copy${k}`,
            destinationUrls: [backup],
          });
      },
      {
        type: "updateExternalReplication",
        database: "Spade",
        name: "One more",
        destinationDatabase: "More",
        destinationUrls: [backup],
      },
    ),
  ],
  [
    "UnknownNode",
    "remove node Q, with a NUL",
    log.refuse(() => {}, { type: "removeNode", tag: "Q\u0000" }),
  ],
  [
    "WrongRole",
    "promote A, already a member of Spade",
    log.refuse(spadeOnA, {
      type: "promoteDatabaseNode",
      database: "Spade",
      tag: "A",
      reason: "test",
    }),
  ],
  // --- cluster-wide operations, as a server answers them ----------------------------------------
  [
    "NodeAlreadyInCluster",
    "add a node already in the cluster, whoever leads (A, then B after A dies)",
    async () => {
      const cluster = await spade(3);
      const onA = refused(await cluster.request(url(1), { type: "add-node", url: url(1) }));
      const viaB = refused(await cluster.request(url(2), { type: "add-node", url: url(3) }));
      await cluster.kill("A");
      await cluster.waitFor((c) => c.servers.some((s) => s.alive && s.role === "leader"));
      const leader = cluster.servers.find((s) => s.alive && s.role === "leader")!;
      const onNew = refused(
        await cluster.request(leader.url, { type: "add-node", url: leader.url }),
      );
      expect([onA.code, viaB.code, onNew.code]).toEqual(Array(3).fill("NodeAlreadyInCluster"));
      return onNew;
    },
  ],
  [
    "NodeUnreachable",
    "add a server nobody runs",
    async () => refused(await (await spade()).request(url(1), { type: "add-node", url: url(9) })),
  ],
  [
    "NoLeader",
    "create a database with one of two nodes down",
    async () => {
      const cluster = await spade(2);
      await cluster.kill("A");
      return refused(
        await cluster.request(url(2), { type: "create-database", name: "Pitch\u0000fork" }),
      );
    },
  ],
  [
    "NotInCluster",
    "remove a node on a fresh server",
    async () => refused(await (await sim(1)).request(url(1), { type: "remove-node", tag: "B" })),
  ],
  [
    "NotLeader",
    "a request forwarded to A after A stopped leading",
    async () => {
      const cluster = await spade(3);
      const answers: ServerResponse[] = [];
      const send = cluster.net.send.bind(cluster.net);
      cluster.net.send = (envelope) => {
        if (envelope.kind === "peer" && envelope.message.type === "forward-result")
          answers.push(envelope.message.response);
        send(envelope);
      };
      // B forwards to C, as if it still took C for the leader.
      send({
        kind: "peer",
        from: url(2),
        to: url(3),
        message: {
          type: "forward",
          requestId: 1,
          request: { type: "create-database", name: "Rake" },
          description: "creating database 'Rake'",
        },
      });
      await cluster.runFor(100);
      return refused(answers[0]!);
    },
  ],
  [
    "TopologyMismatch",
    "add a server that founded a cluster of its own",
    async () => {
      const cluster = await sim(2);
      ok(await cluster.request(url(1), { type: "create-database", name: "Spade" }));
      ok(await cluster.request(url(2), { type: "create-database", name: "Elsewhere" }));
      return refused(await cluster.request(url(1), { type: "add-node", url: url(2) }));
    },
  ],
  // --- documents and replication -----------------------------------------------------------------
  [
    "AttachmentTooLarge",
    "an attachment over the limit",
    async () =>
      thrown(() => {
        const db = new DatabaseInstance({
          database: "Spade",
          nodeTag: "A",
          databaseId: "dbAid",
          limits: { attachmentBytesMax: 4 },
        });
        db.applyTransaction(
          {
            puts: [{ id: "users/1", body: {} }],
            attachmentPuts: [{ documentId: "users/1", name: "a.txt", content: "12345" }],
          },
          { nowMs: 1 },
        );
      }),
  ],
  [
    "ConcurrencyViolation",
    "a put expecting an older change vector",
    async () =>
      thrown(() => {
        const db = instance();
        db.applyTransaction({ puts: [{ id: "users/1", body: { v: 1 } }] }, { nowMs: 1 });
        db.applyTransaction(
          { puts: [{ id: "users/1", body: { v: 2 }, expectedChangeVector: "A:7-dbAid" }] },
          { nowMs: 2 },
        );
      }),
  ],
  [
    "DatabaseDoesNotExist",
    "read from a database nobody created, named with a NUL",
    async () =>
      refused(
        await (
          await spade()
        ).request(url(1), { type: "get-documents", database: "Ra\u0000ke", ids: ["users/1"] }),
      ),
  ],
  [
    "DatabaseNotRelevant",
    "read Spade on B, which does not host it",
    async () =>
      refused(
        await (
          await spade(2)
        ).request(url(2), { type: "get-documents", database: "Spade", ids: ["users/1"] }),
      ),
  ],
  [
    "DocumentConflict",
    "read a document written on both sides of a partition, resolution none",
    async () => {
      const cluster = await sim(2);
      ok(
        await cluster.request(url(1), {
          type: "create-database",
          name: "Spade",
          conflictResolution: "none",
        }),
      );
      ok(await cluster.request(url(1), { type: "add-node", url: url(2) }));
      ok(await cluster.request(url(1), { type: "add-database-node", database: "Spade", tag: "B" }));
      await cluster.waitFor((c) => c.describe().databases[0]?.members.length === 2);
      cluster.partition(["A"], ["B"]);
      for (const n of [1, 2])
        ok(
          await cluster.request(url(n), {
            type: "batch",
            database: "Spade",
            transaction: { puts: [{ id: "users/1", body: { n } }] },
          }),
        );
      cluster.heal();
      await cluster.runFor(3_000);
      return refused(
        await cluster.request(url(1), {
          type: "get-documents",
          database: "Spade",
          ids: ["users/1"],
        }),
      );
    },
  ],
  [
    "DocumentDoesNotExist",
    "an attachment on a document that does not exist",
    async () =>
      thrown(() =>
        instance().applyTransaction(
          { attachmentPuts: [{ documentId: "users/404", name: "a.txt", content: "x" }] },
          { nowMs: 1 },
        ),
      ),
  ],
  [
    "DocumentTooLarge",
    "a document over the limit",
    async () =>
      thrown(() =>
        new DatabaseInstance({
          database: "Spade",
          nodeTag: "A",
          databaseId: "dbAid",
          limits: { documentBytesMax: 8 },
        }).applyTransaction(
          { puts: [{ id: "users/1", body: { name: "Oren Eini" } }] },
          { nowMs: 1 },
        ),
      ),
  ],
  [
    "InvalidAttachment",
    "attachment content that is a number",
    async () =>
      thrown(() =>
        instance().applyTransaction(
          {
            puts: [{ id: "users/1", body: {} }],
            attachmentPuts: [
              { documentId: "users/1", name: "a.txt", content: 42 as unknown as string },
            ],
          },
          { nowMs: 1 },
        ),
      ),
  ],
  [
    "InvalidAttachmentName",
    "an attachment name with a NUL",
    async () =>
      thrown(() =>
        instance().applyTransaction(
          {
            puts: [{ id: "users/1", body: {} }],
            attachmentPuts: [{ documentId: "users/1", name: "a\u0000b", content: "x" }],
          },
          { nowMs: 1 },
        ),
      ),
  ],
  [
    "InvalidChangeVector",
    "a change vector that is not one",
    async () => thrown(() => parseChangeVector("A:one-\u0000")),
  ],
  [
    "InvalidDatabaseId",
    "an instance whose database id has a space",
    async () =>
      thrown(
        () => new DatabaseInstance({ database: "Spade", nodeTag: "A", databaseId: "not base64" }),
      ),
  ],
  [
    "InvalidDatabaseSettings",
    "conflict resolution 'maybe'",
    async () => thrown(() => instance({ conflictResolution: "maybe" as never })),
  ],
  [
    "InvalidDocumentBody",
    "a body that is an array",
    async () =>
      thrown(() =>
        instance().applyTransaction(
          { puts: [{ id: "users/1", body: [1] as never }] },
          { nowMs: 1 },
        ),
      ),
  ],
  [
    "InvalidDocumentId",
    "an id with a NUL",
    async () =>
      refused(
        await (
          await spade()
        ).request(url(1), {
          type: "batch",
          database: "Spade",
          transaction: { puts: [{ id: "users/\u00001", body: {} }] },
        }),
      ),
  ],
  [
    "InvalidReplication",
    "replicate from A to A",
    async () => thrown(() => new OutgoingReplication({ from: "A", to: "A" } as never)),
  ],
  [
    "InvalidReplicationBatch",
    "a replicated item of an unknown kind",
    async () =>
      thrown(() =>
        instance({}, "B").applyReplicatedBatch({
          sourceDatabaseId: "dbAid",
          lastEtag: 1,
          transactions: [{ items: [{ kind: "mystery" } as never] }],
        }),
      ),
  ],
  [
    "InvalidPeerMessage",
    "a peer message of an unknown type, named with a NUL",
    async () => thrown(() => checkPeerMessage({ type: "gossip\u0000" })),
  ],
  [
    "InvalidEnvelope",
    "an envelope without addresses",
    async () => thrown(() => checkEnvelope({ kind: "peer", message: {} })),
  ],
  [
    "InvalidRequest",
    "a request of an unknown type",
    async () =>
      refused(
        await (
          await spade()
        ).request(url(1), { type: "launch-missiles" } as unknown as ServerRequest),
      ),
  ],
  [
    "TransactionTooLarge",
    "three puts where two are allowed",
    async () =>
      thrown(() =>
        new DatabaseInstance({
          database: "Spade",
          nodeTag: "A",
          databaseId: "dbAid",
          limits: { transactionCommandsMax: 2 },
        }).applyTransaction(
          { puts: [1, 2, 3].map((n) => ({ id: `users/${n}`, body: {} })) },
          { nowMs: 1 },
        ),
      ),
  ],
  [
    "WriteAssuranceTimeout",
    "wait for one replica while B is down",
    async () => {
      const cluster = await spade(2);
      ok(await cluster.request(url(1), { type: "add-database-node", database: "Spade", tag: "B" }));
      await cluster.waitFor((c) => c.describe().databases[0]?.members.length === 2);
      await cluster.kill("B");
      const session = storeOn(cluster, "Spade").openSession();
      session.store({ task: "Buy milk" }, "tasks/1");
      session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 500 });
      return thrown(() => session.saveChanges());
    },
  ],
  [
    "InvalidWriteAssurance",
    "wait for -1 replicas",
    async () =>
      thrown(() =>
        storeOn(new SimCluster({ servers: 1 }), "Spade")
          .openSession()
          .advanced.waitForReplicationAfterSaveChanges({ replicas: -1 }),
      ),
  ],
  // --- the client ----------------------------------------------------------------------------------
  [
    "AllTopologyNodesDown",
    "read when every server is down",
    async () => {
      const cluster = await spade();
      const store = storeOn(cluster, "Spade");
      await cluster.kill("A");
      return thrown(() => store.openSession().load("users/1"));
    },
  ],
  [
    "InvalidConventions",
    "read balance 'sideways'",
    async () =>
      thrown(
        () =>
          new DocumentStore({
            urls: [url(1)],
            network: new SimCluster({ servers: 1 }).network,
            conventions: { readBalance: "sideways" as never },
          }),
      ),
  ],
  [
    "InvalidEntity",
    "store an array",
    async () =>
      thrown(() =>
        storeOn(new SimCluster({ servers: 1 }), "Spade")
          .openSession()
          .store([1] as never, "users/1"),
      ),
  ],
  [
    "InvalidEvent",
    "listen for 'gossip'",
    async () => thrown(async () => (await sim(1)).on("gossip" as never, () => {})),
  ],
  [
    "InvalidNetwork",
    "a store given network: undefined",
    async () => thrown(() => new DocumentStore({ urls: [url(1)], network: undefined as never })),
  ],
  [
    "InvalidOperation",
    "store an id the session deleted",
    async () =>
      thrown(() => {
        const session = storeOn(new SimCluster({ servers: 1 }), "Spade").openSession();
        session.delete("users/1");
        session.store({}, "users/1");
      }),
  ],
  [
    "InvalidResponse",
    "a server that answers the topology request with nonsense",
    async () => {
      const network: ClientNetwork = {
        request: async () => ({ ok: true, result: "nonsense" }),
        nowMs: () => 0,
      };
      const error = await thrown(() =>
        new DocumentStore({ urls: [url(1)], database: "Spade", network })
          .initialize()
          .openSession()
          .load("users/1"),
      );
      expect(error.code).toBe("AllTopologyNodesDown");
      expect(error.message).toContain("InvalidResponse");
      return { code: "InvalidResponse", message: error.message };
    },
  ],
  [
    "InvalidUrls",
    "a store with no URLs",
    async () =>
      thrown(
        () => new DocumentStore({ urls: [], network: new SimCluster({ servers: 1 }).network }),
      ),
  ],
  [
    "NetworkError",
    "a network that throws",
    async () => {
      const network: ClientNetwork = {
        request: async () => {
          throw new Error("cable cut");
        },
        nowMs: () => 0,
      };
      const error = await thrown(() =>
        new DocumentStore({ urls: [url(1)], database: "Spade", network })
          .initialize()
          .openSession()
          .load("users/1"),
      );
      expect(error.message).toContain("NetworkError");
      return { code: "NetworkError", message: error.message };
    },
  ],
  [
    "NoDatabase",
    "open a session on a store that names no database",
    async () => thrown(() => storeOn(new SimCluster({ servers: 1 })).openSession()),
  ],
  [
    "NonUniqueObject",
    "store two objects under one id",
    async () =>
      thrown(() => {
        const session = storeOn(new SimCluster({ servers: 1 }), "Spade").openSession();
        session.store({ a: 1 }, "users/1");
        session.store({ b: 2 }, "users/1");
      }),
  ],
  [
    "NotInitialized",
    "open a session before initialize()",
    async () =>
      thrown(() =>
        new DocumentStore({
          urls: [url(1)],
          database: "Spade",
          network: new SimCluster({ servers: 1 }).network,
        }).openSession(),
      ),
  ],
  [
    "NoTopology",
    "ask the request executor for the topology before any request",
    async () => {
      const store = storeOn(new SimCluster({ servers: 1 }), "Spade") as unknown as {
        requireExecutor(): { requireTopology(): unknown };
      };
      return thrown(() => store.requireExecutor().requireTopology());
    },
  ],
  // --- running clusters --------------------------------------------------------------------------
  [
    "AlreadyStarted",
    "start a server's worker twice",
    async () => {
      const runtime = new ServerRuntime();
      const start = () =>
        runtime.init({
          url: url(1),
          storage: { kind: "memory" },
          seed: 1,
          statusIntervalMs: 1_000,
          hostPort: new MessageChannel().port1,
        });
      expect((await start()).ok).toBe(true);
      const second = await start();
      await runtime.shutdown();
      if (second.ok) throw new Error("started twice");
      return second;
    },
  ],
  [
    "ClusterStopped",
    "kill a server of a stopped cluster",
    async () => {
      const cluster = await Cluster.start({ runtime: "worker", servers: 1, storage: "memory" });
      await cluster.stop();
      return thrown(() => cluster.kill("A"));
    },
  ],
  [
    "ExistingData",
    "start over a data folder an earlier run filled",
    async () => {
      const dataDir = join(scratch, "earlier");
      const first = await Cluster.start({ runtime: "worker", servers: 1, dataDir });
      ok(await first.network.request(url(1), { type: "create-database", name: "Spade" }));
      await first.stop();
      return thrown(() => Cluster.start({ runtime: "worker", servers: 1, dataDir }));
    },
  ],
  [
    "InvalidOption",
    "network faults in the worker runtime",
    async () =>
      thrown(() => Cluster.start({ runtime: "worker", faults: { lossRate: 0.1 } as never })),
  ],
  [
    "InvalidRuntime",
    "runtime 'cloud'",
    async () => thrown(() => Cluster.start({ runtime: "cloud" as never })),
  ],
  ["InvalidServers", "zero servers", async () => thrown(() => Cluster.start({ servers: 0 }))],
  [
    "InvalidTiming",
    "a tick of 0 ms",
    async () => thrown(() => Cluster.start({ timing: { tickMs: 0 } })),
  ],
  [
    "InvalidStorage",
    "fs storage in the sim runtime",
    async () => thrown(() => Cluster.start({ runtime: "sim", storage: "fs" })),
  ],
  [
    "RequestTimeout",
    "ask a server cut off from everyone",
    async () => {
      const cluster = await spade();
      cluster.isolate("A");
      return refused(
        await cluster.request(
          url(1),
          { type: "database-status", database: "Spade" },
          { timeoutMs: 200 },
        ),
      );
    },
  ],
  [
    "NoFreePort",
    "a process cluster of more servers on consecutive ports than there are ports",
    async () => thrown(() => freeBasePort("ports", 70_000)),
  ],
  [
    "ServerDown",
    "kill a server twice",
    async () => {
      const cluster = await sim(1);
      await cluster.kill("http://127.0.0.1:8080");
      return thrown(() => cluster.kill("http://127.0.0.1:8080"));
    },
  ],
  [
    "ServerBusy",
    "one wait more than waitersMax at once",
    async () => {
      const waiters = new Waiters(new ManualClock(), url(1));
      for (let k = 0; k < serverLimits.waitersMax; k++) void waiters.until(() => false, 1);
      return thrown(() => waiters.until(() => false, 1));
    },
  ],
  [
    "ServerRunning",
    "restart a running server",
    async () => thrown(async () => (await sim(1)).restart(url(1))),
  ],
  [
    "ServerStartFailed",
    "a worker whose disk throws something unexpected",
    async () => {
      const runtime = new ServerRuntime(async () => {
        throw new TypeError("the disk is on fire");
      });
      const result = await runtime.init({
        url: url(1),
        storage: { kind: "fs", dir: scratch },
        seed: 1,
        statusIntervalMs: 1_000,
        hostPort: new MessageChannel().port1,
      });
      if (result.ok) throw new Error("started");
      return result;
    },
  ],
  [
    "ServerUnavailable",
    "ask a server that was killed",
    async () => {
      const cluster = await spade();
      await cluster.kill("A");
      return refused(await cluster.request(url(1), { type: "database-status", database: "Spade" }));
    },
  ],
  [
    "UnknownServer",
    "kill server Q, with a NUL",
    async () => thrown(async () => (await sim(1)).kill("Q\u0000")),
  ],
  [
    "WaitTimedOut",
    "wait for something that never happens",
    async () =>
      thrown(async () =>
        (await sim(1)).waitFor(() => false, { timeoutMs: 50, what: "pigs to fly" }),
      ),
  ],
  [
    "WorkerTimeout",
    "a server thread that never answers the host",
    async () =>
      thrown(async () => {
        const cluster = await WorkerCluster.start({
          platform: hungPlatform,
          servers: 2,
          storage: "memory",
        });
        clusters.push(cluster);
      }),
  ],
  // --- storage -------------------------------------------------------------------------------------
  [
    "InvalidStorageBatch",
    "a batch that is not an array",
    async () =>
      thrown(() => openMemoryStorage({ disk: new MemoryDisk("x") }).write("nope" as never)),
  ],
  [
    "InvalidStorageKey",
    "a key that is a number",
    async () =>
      thrown(() =>
        openMemoryStorage({ disk: new MemoryDisk("x") }).write([
          { store: "documents", op: "put", key: 7 as never, value: {} },
        ]),
      ),
  ],
  [
    "InvalidStorageValue",
    "a value holding a function",
    async () =>
      thrown(() =>
        openMemoryStorage({ disk: new MemoryDisk("x") }).write([
          { store: "documents", op: "put", key: "k", value: { f: () => 1 } as never },
        ]),
      ),
  ],
  [
    "InvalidStoreName",
    "a store named 'Docs!'",
    async () =>
      thrown(() =>
        openMemoryStorage({ disk: new MemoryDisk("x") }).write([
          { store: "Docs!", op: "put", key: "k", value: 1 },
        ]),
      ),
  ],
  [
    "StorageAlreadyOpen",
    "open one memory disk twice",
    async () => {
      const disk = new MemoryDisk("twice");
      openMemoryStorage({ disk });
      return thrown(() => openMemoryStorage({ disk }));
    },
  ],
  [
    "StorageBatchTooLarge",
    "a batch over the operations limit",
    async () =>
      thrown(() =>
        openMemoryStorage({ disk: new MemoryDisk("x"), limits: { batchOperationsMax: 1 } }).write(
          [1, 2].map((k) => ({ store: "documents", op: "put" as const, key: `k${k}`, value: k })),
        ),
      ),
  ],
  [
    "StorageClosed",
    "write after close",
    async () => {
      const storage = openMemoryStorage({ disk: new MemoryDisk("closed") });
      await storage.close();
      return thrown(() => storage.write([{ store: "documents", op: "put", key: "k", value: 1 }]));
    },
  ],
  [
    "StorageCompactionFailed",
    "compact when the compaction file's name is taken by a folder",
    async () => {
      const dir = join(scratch, "compaction");
      const storage = await openFsStorage({ dir });
      await storage.write([{ store: "documents", op: "put", key: "k", value: 1 }]);
      mkdirSync(join(dir, "storage.log.compacting"));
      const error = await thrown(() => storage.compact());
      await storage.close();
      return error;
    },
  ],
  [
    "StorageCorrupt",
    "a byte flipped in the middle of the log",
    async () => {
      const dir = join(scratch, "corrupt");
      const storage = await openFsStorage({ dir });
      for (let k = 0; k < 3; k++)
        await storage.write([{ store: "documents", op: "put", key: `k${k}`, value: k }]);
      await storage.close();
      const log = join(dir, "storage.log");
      const bytes = readFileSync(log);
      bytes[40] = bytes[40]! ^ 0xff;
      writeFileSync(log, bytes);
      return thrown(() => openFsStorage({ dir }));
    },
  ],
  [
    "StorageFailed",
    "a data folder whose name is too long for the file system",
    async () => thrown(() => openFsStorage({ dir: join(scratch, "x".repeat(300)) })),
  ],
  [
    "StorageNotDirectory",
    "a data folder that is a file",
    async () => {
      writeFileSync(join(scratch, "file"), "x");
      return thrown(() => openFsStorage({ dir: join(scratch, "file") }));
    },
  ],
  [
    "StorageNotWritable",
    "a data folder the process may not write",
    async () => {
      const asRoot = process.getuid?.() === 0;
      const dir = asRoot ? "/proc/sys/kernel" : join(scratch, "read-only");
      if (!asRoot) mkdirSync(dir, { mode: 0o500 });
      return thrown(() => openFsStorage({ dir }));
    },
  ],
  [
    "StorageOverloaded",
    "more queued than the storage accepts",
    async () => {
      const storage = openMemoryStorage({
        disk: new MemoryDisk("x"),
        sync: "manual",
        limits: { queueBytesMax: 100 },
      });
      void storage.write([{ store: "documents", op: "put", key: "a", value: 1 }]);
      return thrown(() =>
        storage.write([{ store: "documents", op: "put", key: "b", value: "x".repeat(200) }]),
      );
    },
  ],
  [
    "StorageUnavailable",
    "IndexedDB storage in Node, without a factory",
    async () => {
      const global = globalThis as { indexedDB?: unknown };
      const saved = global.indexedDB;
      delete global.indexedDB;
      try {
        return await thrown(() => openIndexedDbStorage({ cluster: "c", server: "A" }));
      } finally {
        global.indexedDB = saved;
      }
    },
  ],
  [
    "StorageUnknownFormat",
    "a storage.log that is not Rookery's",
    async () => {
      const dir = join(scratch, "foreign");
      mkdirSync(dir);
      writeFileSync(join(dir, "storage.log"), "Hello, I am a text file\n");
      return thrown(() => openFsStorage({ dir }));
    },
  ],
  [
    "StorageWriteFailed",
    "a write after the IndexedDB connection closed underneath",
    async () => {
      const storage = await openIndexedDbStorage({
        cluster: "closing",
        server: "A",
        factory: new IDBFactory(),
      });
      (storage as unknown as { db: { close(): void } }).db.close();
      return thrown(() => storage.write([{ store: "documents", op: "put", key: "k", value: 1 }]));
    },
  ],
  // --- the command line ------------------------------------------------------------------------
  [
    "BenchNeedsRepository",
    "rookery bench from the installed package",
    async () => thrown(() => benchSuites(false)),
  ],
];

describe("every error code, with one input that triggers it", () => {
  it("the table and the catalogue list the same codes", () => {
    expect(rows.map(([code]) => code).sort()).toEqual(Object.keys(errorCodes).sort());
  });

  it("every code the sources raise is in the catalogue", () => {
    const raised = new Set<string>();
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (name === "dist" || name === "node_modules") continue;
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith(".ts")) {
          const text = readFileSync(path, "utf8");
          const patterns = [
            /RookeryError\(\s*"([A-Za-z]+)"/g,
            /(?:failure|clusterError|unavailable)\(\s*"([A-Za-z]+)"/g,
            // A value, not a type's union of codes (`readonly code: "A" | "B"`).
            /(?<!readonly )\bcode: "([A-Za-z]+)"(?! \|)/g,
          ];
          for (const pattern of patterns)
            for (const match of text.matchAll(pattern)) raised.add(match[1]!);
        }
      }
    };
    walk(join(repo, "engine"));
    walk(join(repo, "cli"));
    expect([...raised].filter((code) => !(code in errorCodes))).toEqual([]);
  });

  it.each(rows)("%s: %s", async (code, _input, trigger) => {
    const error = await trigger();
    expect(error.code, error.message).toBe(code);
    // Control characters are shown escaped, never printed as they are.
    expect(error.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    if (_input.includes("NUL")) expect(error.message).toContain("\\u0000");
    // Each thing is said once: no clause of 30 characters or more appears twice.
    // (URLs and file paths are names, and may be named twice: "restore DIR, or move DIR/x aside".)
    const plain = error.message.replace(/http:\/\/127\.0\.\d+\.\d+:8080|\/[^\s"':,;)]+/g, "NAME");
    const repeated = /(.{30,}).*\1/s.exec(plain);
    expect(repeated?.[1], error.message).toBeUndefined();
  });
});
