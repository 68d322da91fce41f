import {
  assert,
  compareChangeVectors,
  isNodeTag,
  RookeryError,
  type NodeTag,
} from "../core/index.ts";
import type { StoredItem, VersionItem } from "../database/index.ts";
import { replicationLimits, type ReplicationLimits } from "./limits.ts";
import type { ReplicatedTransaction, ReplicationAck, ReplicationBatch } from "./messages.ts";
import type { ReplicationSource } from "./ports.ts";
import { packBatch, type ReplicationWireBatch } from "./wire.ts";

/** BatchHeader names the database and the two ends of a replication connection. */
export interface BatchHeader {
  readonly database: string;
  readonly from: NodeTag;
  readonly to: NodeTag;
}

/** Group is one source transaction as found in the etag index, with what it will send. */
interface Group {
  readonly transaction: number;
  readonly lastEtag: number;
  readonly items: StoredItem[];
  readonly bytes: number;
}

/**
 * buildBatch collects what a destination lacks after `afterEtag`: the current state of changed
 * items in etag order, grouped by source transaction. Limits are checked only between
 * transactions, and the first transaction always goes whole, so a batch never splits one.
 * Attachment content travels right before each version that refers to it (and not at its own
 * etag), so the receiver never holds a document without its attachments. Returns undefined when
 * the destination is up to date. `skip` leaves out versions the destination is known to have
 * (with their attachment content); the batch still covers their etags. Nothing after
 * `durableEtag` leaves: a write the source may still lose in a crash must not reach a replica,
 * where its etag would later stand for a different write.
 */
export function buildBatch(
  source: ReplicationSource,
  header: BatchHeader,
  afterEtag: number,
  limits: ReplicationLimits = replicationLimits,
  skip?: (item: VersionItem) => boolean,
  durableEtag = Infinity,
): ReplicationBatch | undefined {
  const transactions: ReplicatedTransaction[] = [];
  let lastEtag = afterEtag;
  let items = 0;
  let bytes = 0;
  for (const group of transactionGroups(source, afterEtag, skip)) {
    if (group.lastEtag > durableEtag) break;
    const full =
      items + group.items.length > limits.batchItemsMax ||
      bytes + group.bytes > limits.batchBytesMax;
    if (lastEtag > afterEtag && full) break;
    // A transaction whose items all changed again later sends nothing but still moves the cursor.
    if (group.items.length > 0)
      transactions.push({ transaction: group.transaction, items: group.items });
    lastEtag = group.lastEtag;
    items += group.items.length;
    bytes += group.bytes;
  }
  if (lastEtag === afterEtag) return undefined;
  return {
    type: "replication-batch",
    ...header,
    sourceDatabaseId: source.databaseId,
    afterEtag,
    lastEtag,
    transactions,
  };
}

function* transactionGroups(
  source: ReplicationSource,
  afterEtag: number,
  skip: ((item: VersionItem) => boolean) | undefined,
): Generator<Group> {
  let current:
    { transaction: number; lastEtag: number; items: StoredItem[]; sent: Set<string> } | undefined;
  let bytes = 0;
  for (const item of source.itemsAfterEtag(afterEtag)) {
    if (current !== undefined && current.transaction !== item.transaction) {
      yield {
        transaction: current.transaction,
        lastEtag: current.lastEtag,
        items: current.items,
        bytes,
      };
      current = undefined;
      bytes = 0;
    }
    current ??= { transaction: item.transaction, lastEtag: item.etag, items: [], sent: new Set() };
    assert(item.etag > current.lastEtag || current.items.length === 0, "items out of etag order");
    current.lastEtag = item.etag;
    if (item.kind === "attachment" || skip?.(item)) continue;
    for (const content of source.attachmentsReferencedBy(item)) {
      const key = [content.documentId.toLowerCase(), content.name.toLowerCase(), content.hash].join(
        "/",
      );
      if (current.sent.has(key)) continue;
      current.sent.add(key);
      current.items.push(content);
      bytes += source.itemJsonLength(content);
    }
    current.items.push(item);
    bytes += source.itemJsonLength(item);
  }
  if (current !== undefined) {
    yield {
      transaction: current.transaction,
      lastEtag: current.lastEtag,
      items: current.items,
      bytes,
    };
  }
}

/** DestinationCursor is what a sender remembers per destination, and persists to resume. */
export interface DestinationCursor {
  readonly kind: "replication-cursor";
  readonly database: string;
  readonly destination: NodeTag;
  readonly lastAcceptedEtag: number;
}

/** OutgoingReplicationOptions set up one outgoing connection. */
export interface OutgoingReplicationOptions extends BatchHeader {
  readonly limits?: Partial<ReplicationLimits>;
  /** A persisted cursor to resume from; without one, replication starts from etag 0. */
  readonly cursor?: DestinationCursor;
  /**
   * Leave out of each batch the versions the destination already has, judged by the change
   * vector its last ack reported (RavenDB's sender does this: "destination already has it"). An
   * external replication uses it: a task that moves to another node of the group starts from
   * that node's etag 0 at the destination, and should not send everything again.
   */
  readonly skipWhatDestinationHas?: boolean;
}

/** externalPeerName names an external replication task's destination in batch headers. */
export function externalPeerName(taskId: number): string {
  return `task-${taskId}`;
}

const externalPeerPattern = /^task-\d+$/;

/**
 * OutgoingReplication is one sender→destination connection: it hands out one batch at a time
 * from the last acknowledged etag and moves on when the destination acknowledges it. A full sync
 * of a new node is simply a connection that starts at etag 0.
 */
export class OutgoingReplication {
  readonly header: BatchHeader;
  private readonly limits: ReplicationLimits;
  private acceptedEtag: number;
  private inFlight: ReplicationBatch | undefined;
  /** The in-flight batch's wire form, when it was packed ahead (see wireOf). */
  private inFlightWire: ReplicationWireBatch | undefined;
  /** The batch after the one in flight and its wire form, made while waiting for the ack. */
  private prepared:
    { readonly batch: ReplicationBatch; readonly wire: ReplicationWireBatch } | undefined;
  /** What to leave out of batches (skipWhatDestinationHas), from the destination's last ack. */
  private readonly skip: ((item: VersionItem) => boolean) | undefined;
  private destinationVector = "";

  constructor(options: OutgoingReplicationOptions) {
    const destinationOk = isNodeTag(options.to) || externalPeerPattern.test(options.to);
    if (!isNodeTag(options.from) || !destinationOk || options.from === options.to) {
      throw new RookeryError(
        "InvalidReplication",
        `cannot replicate from "${options.from}" to "${options.to}"`,
      );
    }
    this.header = { database: options.database, from: options.from, to: options.to };
    this.limits = { ...replicationLimits, ...options.limits };
    assert(
      this.limits.batchItemsMax >= 1 && this.limits.batchBytesMax >= 1,
      "batch limits must be positive",
    );
    const cursor = options.cursor;
    if (cursor !== undefined) {
      assert(
        cursor.destination === options.to && cursor.database === options.database,
        "cursor of another connection",
      );
    }
    this.acceptedEtag = cursor?.lastAcceptedEtag ?? 0;
    this.skip = options.skipWhatDestinationHas
      ? (item) => {
          if (this.destinationVector === "") return false;
          const order = compareChangeVectors(this.destinationVector, item.changeVector);
          return order === "equal" || order === "already-merged";
        }
      : undefined;
  }

  /** lastAcceptedEtag is the last source etag the destination acknowledged. */
  get lastAcceptedEtag(): number {
    return this.acceptedEtag;
  }

  /** pending is the batch sent and not yet acknowledged, if any. */
  get pending(): ReplicationBatch | undefined {
    return this.inFlight;
  }

  /**
   * nextBatch returns the next batch to send, or undefined when one is still unacknowledged or
   * the destination has everything up to `durableEtag` (what the source's disk holds). One batch
   * at a time keeps transactions applied in order.
   */
  nextBatch(source: ReplicationSource, durableEtag = Infinity): ReplicationBatch | undefined {
    if (this.inFlight !== undefined) return undefined;
    const prepared = this.prepared;
    this.prepared = undefined;
    const usable = prepared?.batch.afterEtag === this.acceptedEtag;
    this.inFlight = usable
      ? prepared.batch
      : buildBatch(source, this.header, this.acceptedEtag, this.limits, this.skip, durableEtag);
    this.inFlightWire = usable ? prepared.wire : undefined;
    return this.inFlight;
  }

  /**
   * prepareNext builds the batch that follows the one in flight, so that it can leave the moment
   * the ack arrives: the sender builds while the destination applies, instead of each waiting for
   * the other (a node catching up receives batch after batch). Still one batch in flight, as in
   * RavenDB. The prepared batch is the items' state when it was built; anything written since has
   * a later etag and follows in a later batch. It is used only if the ack lands exactly at its
   * start; a gap, a reconnect or a retry throws it away. Its wire form is packed now too.
   */
  prepareNext(source: ReplicationSource, durableEtag = Infinity): void {
    if (this.inFlight === undefined || this.prepared !== undefined) return;
    const batch = buildBatch(
      source,
      this.header,
      this.inFlight.lastEtag,
      this.limits,
      this.skip,
      durableEtag,
    );
    if (batch !== undefined) this.prepared = { batch, wire: packBatch(batch) };
  }

  /** wireOf returns what to post for `batch`: its wire form packed ahead, or packed now. */
  wireOf(batch: ReplicationBatch): ReplicationWireBatch {
    return batch === this.inFlight && this.inFlightWire !== undefined
      ? this.inFlightWire
      : packBatch(batch);
  }

  /**
   * answersInFlight tells whether `ack` is the answer to the batch in flight (or to a connect),
   * the only acks a sender acts on. Any other is old news: a copy of an ack already acted on, or
   * the answer to a batch given up on; acting on it would re-send what is already on its way.
   */
  answersInFlight(ack: ReplicationAck): boolean {
    const ours = ack.from === this.header.to && ack.to === this.header.from;
    if (!ours || ack.database !== this.header.database) return false;
    if (ack.answers === null) return ack.reason === "connect";
    const inFlight = this.inFlight;
    return (
      inFlight !== undefined &&
      ack.answers.afterEtag === inFlight.afterEtag &&
      ack.answers.lastEtag === inFlight.lastEtag
    );
  }

  /**
   * onAck acts on the answer to the batch in flight or to a connect, and ignores any other (see
   * answersInFlight). Normal acks only move the cursor forward; "gap" and "connect" acks state
   * what the destination really has, so they may move it back, and the missing batches are sent
   * again. Returns "ignored", or whether the cursor moved.
   */
  onAck(ack: ReplicationAck): "ignored" | "moved" | "unchanged" {
    if (!this.answersInFlight(ack)) return "ignored";
    const before = this.acceptedEtag;
    if (this.skip !== undefined) this.destinationVector = ack.changeVector;
    const authoritative = ack.reason === "gap" || ack.reason === "connect";
    this.acceptedEtag = authoritative
      ? ack.lastAcceptedEtag
      : Math.max(before, ack.lastAcceptedEtag);
    if (authoritative || ack.lastAcceptedEtag >= this.inFlight!.lastEtag) this.inFlight = undefined;
    if (authoritative) this.prepared = undefined;
    return this.acceptedEtag !== before ? "moved" : "unchanged";
  }

  /** retry forgets the unacknowledged batch (lost, or the connection broke) to build it again. */
  retry(): void {
    this.inFlight = undefined;
    this.inFlightWire = undefined;
    this.prepared = undefined;
  }

  /** cursor returns what to persist so that replication resumes here after a restart. */
  cursor(): DestinationCursor {
    return {
      kind: "replication-cursor",
      database: this.header.database,
      destination: this.header.to,
      lastAcceptedEtag: this.acceptedEtag,
    };
  }
}
