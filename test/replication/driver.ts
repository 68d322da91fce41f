/**
 * A small in-test driver for one database group: instances keyed by node tag, one outgoing
 * connection per ordered pair, and an in-memory "disk" per node that keeps what each commit
 * asked to persist (so a test can restart a node from it). Batches move only when a test says.
 */
import type { NodeTag } from "../../engine/core/index.ts";
import {
  DatabaseInstance,
  type CommitResult,
  type DatabaseSettings,
  type PersistedRecord,
  type PersistenceBatch,
  type TransactionInput,
} from "../../engine/database/index.ts";
import {
  OutgoingReplication,
  receiveBatch,
  type ReplicationAck,
  type ReplicationBatch,
  type ReplicationLimits,
} from "../../engine/replication/index.ts";

export interface GroupOptions {
  readonly database?: string;
  readonly settings?: DatabaseSettings;
  readonly limits?: Partial<ReplicationLimits>;
}

/** Disk keeps the outcome of persistence batches, as a storage backend would. */
export class Disk {
  private readonly records = new Map<string, PersistedRecord>();

  apply(batch: PersistenceBatch): void {
    for (const operation of batch.operations) {
      const key = `${operation.store}/${operation.key}`;
      if (operation.op === "put") {
        this.records.set(
          key,
          structuredClone({ store: operation.store, key: operation.key, value: operation.value }),
        );
      } else {
        this.records.delete(key);
      }
    }
  }

  load(): PersistedRecord[] {
    return structuredClone([...this.records.values()]);
  }
}

export const databaseIdOf = (tag: NodeTag): string => `db${tag}id`;

export class Group {
  readonly database: string;
  readonly nodes = new Map<NodeTag, DatabaseInstance>();
  readonly disks = new Map<NodeTag, Disk>();
  readonly connections = new Map<string, OutgoingReplication>();
  readonly log: ReplicationBatch[] = [];
  private readonly settings: DatabaseSettings;
  private readonly limits: Partial<ReplicationLimits>;

  constructor(tags: readonly NodeTag[], options: GroupOptions = {}) {
    this.database = options.database ?? "Spade";
    this.settings = options.settings ?? {};
    this.limits = options.limits ?? {};
    for (const tag of tags) this.addNode(tag);
  }

  addNode(tag: NodeTag): DatabaseInstance {
    const instance = new DatabaseInstance({
      database: this.database,
      nodeTag: tag,
      databaseId: databaseIdOf(tag),
      settings: this.settings,
    });
    this.nodes.set(tag, instance);
    this.disks.set(tag, new Disk());
    return instance;
  }

  node(tag: NodeTag): DatabaseInstance {
    const instance = this.nodes.get(tag);
    if (instance === undefined) throw new Error(`no node ${tag}`);
    return instance;
  }

  write(tag: NodeTag, input: TransactionInput, nowMs: number): CommitResult {
    const result = this.node(tag).applyTransaction(input, { nowMs });
    this.disks.get(tag)!.apply(result.persistence);
    return result;
  }

  connection(from: NodeTag, to: NodeTag): OutgoingReplication {
    const key = `${from}>${to}`;
    let connection = this.connections.get(key);
    if (connection === undefined) {
      connection = new OutgoingReplication({
        database: this.database,
        from,
        to,
        limits: this.limits,
      });
      this.connections.set(key, connection);
    }
    return connection;
  }

  /** send builds the next batch from→to without delivering it. */
  send(from: NodeTag, to: NodeTag): ReplicationBatch | undefined {
    const connection = this.connection(from, to);
    const batch = connection.nextBatch(this.node(from));
    if (batch !== undefined) this.log.push(batch);
    // As a server does: the next batch is built while this one waits for its ack.
    connection.prepareNext(this.node(from));
    return batch;
  }

  /** deliver applies a batch on its destination and returns the ack (not yet delivered). */
  deliver(batch: ReplicationBatch): ReplicationAck {
    const { ack, commit } = receiveBatch(this.node(batch.to), batch);
    if (commit !== undefined) this.disks.get(batch.to)!.apply(commit.persistence);
    return ack;
  }

  acknowledge(ack: ReplicationAck): void {
    this.connection(ack.to, ack.from).onAck(ack);
  }

  /** replicateOnce moves one batch from→to and its ack back; returns the batch, if any. */
  replicateOnce(from: NodeTag, to: NodeTag): ReplicationBatch | undefined {
    const batch = this.send(from, to);
    if (batch !== undefined) this.acknowledge(this.deliver(batch));
    return batch;
  }

  /** replicateAll moves batches from→to until the destination is up to date. */
  replicateAll(from: NodeTag, to: NodeTag): number {
    let batches = 0;
    while (this.replicateOnce(from, to) !== undefined) {
      batches += 1;
      if (batches > 10_000) throw new Error(`replication ${from}→${to} does not end`);
    }
    return batches;
  }

  /** settle replicates between every pair until no connection has anything left to send. */
  settle(): void {
    const tags = [...this.nodes.keys()];
    for (let round = 0; round < 100; round++) {
      let moved = 0;
      for (const from of tags) {
        for (const to of tags) if (from !== to) moved += this.replicateAll(from, to);
      }
      if (moved === 0) return;
    }
    throw new Error("the group did not settle in 100 rounds");
  }

  /** restart rebuilds a node from its disk, as after a crash. */
  restart(tag: NodeTag): DatabaseInstance {
    const instance = DatabaseInstance.recover(
      {
        database: this.database,
        nodeTag: tag,
        databaseId: databaseIdOf(tag),
        settings: this.settings,
      },
      this.disks.get(tag)!.load(),
    );
    this.nodes.set(tag, instance);
    return instance;
  }
}

/** visibleState is what readers of an instance can observe, for convergence checks. */
export function visibleState(instance: DatabaseInstance): unknown {
  const documents = instance
    .list()
    .map((document) => ({
      id: document.id.toLowerCase(),
      body: document.body,
      changeVector: document.metadata["@change-vector"],
      attachments: (document.metadata["@attachments"] ?? []).map((info) => ({
        ...info,
        content: Array.from(instance.getAttachment(document.id, info.name)?.content ?? []),
      })),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const conflicted = new Map<string, string[]>();
  for (const item of instance.itemsAfterEtag(0)) {
    if (item.kind !== "conflict") continue;
    const key = item.id.toLowerCase();
    conflicted.set(key, [...(conflicted.get(key) ?? []), item.changeVector].sort());
  }
  return { documents, conflicts: [...conflicted].sort(([a], [b]) => (a < b ? -1 : 1)) };
}
