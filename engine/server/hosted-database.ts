import type { NodeTag } from "../core/index.ts";
import type { DatabaseRecord } from "../cluster/index.ts";
import type {
  DatabaseInstance,
  DatabaseSettings,
  PersistenceBatch,
  ReplicatedItemOutcome,
  RevisionsConfiguration as InstanceRevisions,
} from "../database/index.ts";
import {
  answerConnect,
  receiveExternal,
  OutgoingReplication,
  receiveBatch,
  unpackBatch,
  WriteAssuranceWait,
} from "../replication/index.ts";
import type {
  DestinationCursor,
  ExternalEnvelope,
  ReplicationAck,
  ReplicationBatch,
  ReplicationConnect,
  ReplicationLimits,
  ReplicationWireBatch,
  ReplicationWireMessage,
  WriteAssuranceOutcome,
} from "../replication/index.ts";
import { ExternalTasks } from "./external-tasks.ts";
import type { ExternalTasksEvents } from "./external-tasks.ts";
import { serverBusy, serverLimits } from "./limits.ts";
import type { StorageWrite } from "./ports.ts";

/** HostedDatabaseEvents connect one hosted database to its server. */
export interface HostedDatabaseEvents extends Partial<ExternalTasksEvents> {
  send(to: NodeTag, message: ReplicationWireMessage): void;
  persist(writes: readonly StorageWrite[], done: () => void): void;
  batchSent(batch: ReplicationBatch): void;
  /**
   * A received batch was applied and is durable (its ack leaves next), or was a duplicate, or was
   * refused for a gap: `result` says what happened to each of its documents.
   */
  batchApplied(batch: ReplicationBatch, result: BatchOutcome): void;
}

/** BatchOutcome is what receiving one batch did, for the trace. */
export interface BatchOutcome {
  readonly outcomes: readonly ReplicatedItemOutcome[];
  readonly note?: "duplicate" | "gap";
}

interface Destination {
  readonly connection: OutgoingReplication;
  connected: boolean;
  lastSentMs: number;
  lastAck: { readonly lastAcceptedEtag: number; readonly changeVector: string } | undefined;
}

interface AssuranceWaiter {
  readonly wait: WriteAssuranceWait;
  readonly settle: (outcome: WriteAssuranceOutcome) => void;
  readonly fail: (error: Error) => void;
}

/**
 * databaseStore names the storage store that keeps one kind of item for every database on a
 * server ("db-documents", "db-revisions" …); store names stay within what every backend accepts.
 */
export function databaseStore(store: string): string {
  return `db-${store}`;
}

/** databaseKey prefixes an item's key with its database, so one store serves all databases. */
export function databaseKey(database: string, key: string): string {
  return `${database.toLowerCase()}|${key}`;
}

/** databaseOfKey splits a stored key back into its database and the item's own key. */
export function splitDatabaseKey(stored: string): { database: string; key: string } {
  const bar = stored.indexOf("|");
  return { database: stored.slice(0, bar), key: stored.slice(bar + 1) };
}

export const cursorStore = "replication-cursors";

/** instanceSettings converts a database record's settings into what an instance follows. */
export function instanceSettings(record: DatabaseRecord): DatabaseSettings {
  const revisions = record.revisions;
  let converted: InstanceRevisions | undefined;
  if (revisions) {
    const collections: Record<string, { enabled: boolean }> = {};
    for (const [name, setting] of Object.entries(revisions.collections))
      collections[name] = { enabled: !setting.disabled };
    converted = {
      ...(revisions.default ? { default: { enabled: !revisions.default.disabled } } : {}),
      collections,
    };
  }
  return {
    ...(converted ? { revisions: converted } : {}),
    conflictResolution: record.conflictResolution,
  };
}

/**
 * HostedDatabase is one database instance on one server with its replication: an outgoing
 * connection to each destination of the group's mesh (one batch in flight each, resent after
 * replicationRetryMs), incoming batches applied and acknowledged only once durable, and the write
 * assurance waits that listen to the acknowledgements.
 */
export class HostedDatabase {
  private readonly destinations = new Map<NodeTag, Destination>();
  private readonly waiters: AssuranceWaiter[] = [];
  /** Destinations whose cursor moved since the last save (see saveCursors). */
  private readonly movedCursors = new Set<NodeTag>();
  /** When saveCursors last wrote (ms on the server's clock). */
  private cursorsSavedAtMs = -Infinity;
  /** The external replication tasks of this database that this node runs. */
  readonly external: ExternalTasks;
  /**
   * The last etag this server's disk holds. The instance applies a write in memory before its
   * batch is durable; replication sends nothing past this, since a crash may still lose it.
   * Reserving etags ahead (so a restart skips them) is not enough to send earlier: a sibling that
   * holds a write this node then lost keeps it, and the restarted node's next writes build on the
   * state without it. The two versions of the node's own documents then merge document by
   * document, and a transaction of each shows half (the db sweep, seeds 8000027 and 8000089).
   */
  private durableEtag: number;

  constructor(
    readonly name: string,
    readonly instance: DatabaseInstance,
    private readonly tag: NodeTag,
    private readonly events: HostedDatabaseEvents,
    private readonly limits: Partial<ReplicationLimits>,
    private readonly cursors: ReadonlyMap<NodeTag, DestinationCursor> = new Map(),
  ) {
    this.external = new ExternalTasks(
      name,
      tag,
      instance,
      {
        sendExternal: (url, envelope) => events.sendExternal?.(url, envelope),
        externalBatchSent: (task, batch, url) => events.externalBatchSent?.(task, batch, url),
      },
      limits,
      cursors,
      () => this.durableEtag,
    );
    // What an instance was opened with came from the disk (or is empty).
    this.durableEtag = instance.lastEtag;
  }

  /**
   * receiveFromExternal applies an external replication task's connect or batch, sent by a node
   * of another cluster, and answers it by URL once what it applied is durable. The items keep
   * their change vectors, this instance's conflict resolution settles concurrent writes, and the
   * group's own replication carries them on to the siblings.
   */
  receiveFromExternal(
    fromUrl: string,
    envelope: ExternalEnvelope & {
      readonly message: ReplicationConnect | ReplicationWireBatch;
    },
  ): void {
    const receipt = receiveExternal(this.instance, envelope.message);
    const reply = (): void =>
      this.events.sendExternal?.(fromUrl, {
        taskId: envelope.taskId,
        destinationDatabase: envelope.destinationDatabase,
        message: receipt.reply,
      });
    // As for the group's own acks (see acknowledge): even an answer from memory waits for every
    // write before it to be durable.
    const writes = receipt.commit ? persistenceWrites(receipt.commit.persistence) : [];
    const etag = this.instance.lastEtag;
    this.events.persist(writes, () => {
      this.markDurable(etag);
      reply();
    });
  }

  /** markDurable records that everything up to `etag` is on disk (writes are durable in order). */
  markDurable(etag: number): void {
    this.durableEtag = Math.max(this.durableEtag, etag);
  }

  /** destinationTags lists where this instance replicates to now. */
  destinationTags(): NodeTag[] {
    return [...this.destinations.keys()];
  }

  /** acceptedEtags is what each destination acknowledged, for the supervisor's reports. */
  acceptedEtags(): Record<NodeTag, number> {
    const result: Record<NodeTag, number> = {};
    for (const [tag, destination] of this.destinations)
      result[tag] = destination.connection.lastAcceptedEtag;
    return result;
  }

  /** setDestinations follows the group's mesh: new destinations connect, old ones are dropped. */
  setDestinations(tags: readonly NodeTag[], nowMs: number): void {
    for (const tag of [...this.destinations.keys()])
      if (!tags.includes(tag)) this.destinations.delete(tag);
    for (const tag of tags) {
      if (this.destinations.has(tag)) continue;
      const cursor = this.cursors.get(tag);
      const connection = new OutgoingReplication({
        database: this.name,
        from: this.tag,
        to: tag,
        limits: this.limits,
        ...(cursor ? { cursor } : {}),
      });
      this.destinations.set(tag, {
        connection,
        connected: false,
        lastSentMs: -Infinity,
        lastAck: undefined,
      });
    }
    this.pump(nowMs, Infinity);
  }

  /**
   * pump sends what each destination is missing: a connect until it answers, then batches, one at
   * a time; anything unanswered for `retryMs` is sent again.
   */
  pump(nowMs: number, retryMs: number): void {
    this.external.pump(nowMs, retryMs);
    for (const [tag, destination] of this.destinations) {
      const stale = nowMs - destination.lastSentMs >= retryMs;
      if (!destination.connected) {
        if (!stale) continue;
        const connect: ReplicationConnect = {
          type: "replication-connect",
          database: this.name,
          from: this.tag,
          to: tag,
          sourceDatabaseId: this.instance.databaseId,
        };
        destination.lastSentMs = nowMs;
        this.events.send(tag, connect);
        continue;
      }
      if (destination.connection.pending && stale) destination.connection.retry();
      const batch = destination.connection.nextBatch(this.instance, this.durableEtag);
      if (!batch) continue;
      destination.lastSentMs = nowMs;
      this.events.send(tag, destination.connection.wireOf(batch));
      this.events.batchSent(batch);
      // The next batch is built and packed now, while the destination applies this one.
      destination.connection.prepareNext(this.instance, this.durableEtag);
    }
  }

  /** receive handles a replication message addressed to this instance. */
  receive(message: ReplicationWireMessage, nowMs: number, retryMs: number): void {
    switch (message.type) {
      case "replication-connect": {
        this.acknowledge(answerConnect(this.instance, message), []);
        // A sibling that just opened the database connects to us; our own connect to it may
        // have arrived before it hosted the database, so try again now rather than after a retry.
        const back = this.destinations.get(message.from);
        if (back && !back.connected) {
          back.lastSentMs = -Infinity;
          this.pump(nowMs, retryMs);
        }
        return;
      }
      case "replication-wire-batch":
        return this.receiveBatch(message);
      case "replication-ack":
        return this.receiveAck(message, nowMs, retryMs);
    }
  }

  private receiveBatch(wire: ReplicationWireBatch): void {
    const batch = unpackBatch(wire);
    const { ack, commit } = receiveBatch(this.instance, batch);
    if (!commit || commit.duplicate) {
      this.events.batchApplied(batch, { outcomes: [], note: commit ? "duplicate" : "gap" });
      return this.acknowledge(ack, []);
    }
    // The batch shows as applied when it is durable, as its ack goes. Even a batch that wrote
    // nothing (an echo: every version in it was here already) writes where this node now stands
    // with its source before its ack says so (checkAckDurability holds every ack to that).
    const writes = persistenceWrites(commit.persistence);
    this.acknowledge(ack, writes, () =>
      this.events.batchApplied(batch, { outcomes: commit.outcomes }),
    );
  }

  /**
   * acknowledge sends `ack` once `writes` and every write before them are durable, after calling
   * `durable`. The sender counts an ack towards write assurance, so it may state only what a
   * crash would keep: a duplicate that arrives while the first copy is being written, a gap or a
   * reconnect is answered from memory, and what memory holds may not be on disk yet.
   */
  private acknowledge(
    ack: ReplicationAck,
    writes: readonly StorageWrite[],
    durable?: () => void,
  ): void {
    const etag = this.instance.lastEtag;
    this.events.persist(writes, () => {
      this.markDurable(etag);
      durable?.();
      this.events.send(ack.to, ack);
    });
  }

  /**
   * receiveAck acts only on the answer to what is in flight: the batch, or the connect while not
   * yet connected. Anything else is an old copy and changes nothing, and in particular does not
   * send the batch in flight again: that waits for retryMs, so re-sends stay paced whatever the
   * network duplicates.
   */
  private receiveAck(ack: ReplicationAck, nowMs: number, retryMs: number): void {
    const destination = this.destinations.get(ack.from);
    if (!destination) return;
    if (ack.reason === "connect" && destination.connected) return;
    const outcome = destination.connection.onAck(ack);
    if (outcome === "ignored") return;
    destination.connected = true;
    destination.lastAck = {
      lastAcceptedEtag: destination.connection.lastAcceptedEtag,
      changeVector: ack.changeVector,
    };
    if (outcome === "moved") this.movedCursors.add(ack.from);
    for (let k = this.waiters.length - 1; k >= 0; k--) {
      const waiter = this.waiters[k]!;
      const outcome = waiter.wait.onAck(ack.from, destination.lastAck);
      if (outcome.status !== "pending") {
        this.waiters.splice(k, 1);
        waiter.settle(outcome);
      }
    }
    this.pump(nowMs, retryMs);
  }

  /**
   * waitForReplicas resolves once `replicas` siblings (or a majority) hold everything up to
   * `etag`, or with a timed-out outcome at `deadlineMs`. The write itself is never undone. With
   * assuranceWaitsMax waits pending it rejects with ServerBusy (the write stays written).
   */
  waitForReplicas(
    etag: number,
    changeVector: string,
    options: { replicas?: number; majority?: boolean; deadlineMs: number },
  ): Promise<WriteAssuranceOutcome> {
    const wait = new WriteAssuranceWait({
      write: { etag, changeVector },
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      ...(options.majority !== undefined ? { majority: options.majority } : {}),
      siblings: this.destinations.size,
      deadlineMs: options.deadlineMs,
    });
    for (const [tag, destination] of this.destinations) {
      if (destination.lastAck) wait.onAck(tag, destination.lastAck);
    }
    if (wait.outcome.status !== "pending") return Promise.resolve(wait.outcome);
    if (this.waiters.length >= serverLimits.assuranceWaitsMax)
      return Promise.reject(
        serverBusy(
          `node ${this.tag}`,
          `too many writes of ${this.name} wait for replicas`,
          "assuranceWaitsMax",
        ),
      );
    return new Promise((settle, fail) => this.waiters.push({ wait, settle, fail }));
  }

  /**
   * close answers every write still waiting for its replicas with `error`: this server stops
   * hosting the database, so no acknowledgement will be counted and no tick will time them out.
   */
  close(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.fail(error);
  }

  /**
   * tick times out write assurance waits whose deadline passed, resends what is due and, at most
   * once every `cursorSaveMs`, saves the cursors that moved.
   */
  tick(nowMs: number, retryMs: number, cursorSaveMs = 0): void {
    if (nowMs - this.cursorsSavedAtMs >= cursorSaveMs && this.saveCursors())
      this.cursorsSavedAtMs = nowMs;
    for (let k = this.waiters.length - 1; k >= 0; k--) {
      const waiter = this.waiters[k]!;
      const outcome = waiter.wait.onTime(nowMs);
      if (outcome.status !== "pending") {
        this.waiters.splice(k, 1);
        waiter.settle(outcome);
      }
    }
    this.pump(nowMs, retryMs);
  }

  /**
   * saveCursors persists the cursors that moved, in one write, and tells whether it wrote. A
   * cursor is only where to resume after a restart, and the destination's answer to the
   * reconnect says where it really is, so a cursor saved late costs at most a batch sent again.
   * Saving it on every ack cost the sender a durable write (an fsync on disk) per batch, in the
   * middle of catching a node up; saving it every tick still cost one per write under a steady
   * stream of single writes, each a stall of the sender's thread (see ServerTiming's
   * replicationCursorSaveMs).
   */
  private saveCursors(): boolean {
    const writes: StorageWrite[] = this.external.takeMovedCursors().map(([key, cursor]) => ({
      store: cursorStore,
      op: "put",
      key: `${this.name.toLowerCase()}/${key}`,
      value: cursor,
    }));
    if (this.movedCursors.size === 0 && writes.length === 0) return false;
    for (const tag of this.movedCursors) {
      const destination = this.destinations.get(tag);
      if (destination)
        writes.push({
          store: cursorStore,
          op: "put",
          key: `${this.name.toLowerCase()}/${tag}`,
          value: destination.connection.cursor(),
        });
    }
    this.movedCursors.clear();
    if (writes.length > 0) this.events.persist(writes, () => {});
    return writes.length > 0;
  }

  /** connectionStates describes the live replication links, for the UI's graph. */
  connectionStates(): {
    to: NodeTag;
    connected: boolean;
    lastAcceptedEtag: number;
    pending: boolean;
  }[] {
    return [...this.destinations].map(([to, d]) => ({
      to,
      connected: d.connected,
      lastAcceptedEtag: d.connection.lastAcceptedEtag,
      pending: d.connection.pending !== undefined,
    }));
  }
}

/** persistenceWrites maps a database's persistence batch onto the server's named stores. */
export function persistenceWrites(batch: PersistenceBatch): StorageWrite[] {
  return batch.operations.map((operation) => {
    const store = databaseStore(operation.store);
    const key = databaseKey(batch.database, operation.key);
    if (operation.op === "delete") return { store, op: "delete" as const, key };
    // The database's own JSON text of the value travels on, so storage need not make it again.
    return operation.json === undefined
      ? { store, op: "put" as const, key, value: operation.value }
      : { store, op: "put" as const, key, value: operation.value, json: operation.json };
  });
}
