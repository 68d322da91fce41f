import { assert, type NodeTag } from "../core/index.ts";
import type { ReplicatedBatchResult } from "../database/index.ts";
import { answerConnect, receiveBatch } from "./incoming.ts";
import type { ReplicationLimits } from "./limits.ts";
import { batchItemCount } from "./messages.ts";
import type {
  ReplicationAck,
  ReplicationBatch,
  ReplicationConnect,
  ReplicationMessage,
} from "./messages.ts";
import { externalPeerName, OutgoingReplication } from "./outgoing.ts";
import type { DestinationCursor } from "./outgoing.ts";
import type { ReplicationSource, ReplicationTarget } from "./ports.ts";
import { unpackBatch } from "./wire.ts";
import type { ReplicationWireBatch } from "./wire.ts";

/*
 * External replication: a database group's responsible node replicates, one way, to a database in
 * another cluster. It is the group's own protocol (connect, batches of whole transactions, acks
 * of what is durable) with three differences. The destination is found by URL, not by tag: tags
 * are per cluster, and the destination's servers may well be called A, B and C too. The sender
 * tries the destination cluster's servers in turn until one that hosts the database answers
 * (a server that does not host it says which servers do). And the destination knows where a
 * task stands only per source instance: a task that moves to another node of the group starts
 * from that node's etag 0 there, sends the whole database once more, and the destination keeps
 * only what it lacks. (RavenDB's sender also leaves out versions the destination's change vector
 * already covers; here a conflict resolved to the latest version keeps the merged vector without
 * a new entry, so that test would skip resolved versions the destination has never seen.)
 */

/**
 * ExternalRefusal is what a destination server answers when it cannot take a task's traffic: it
 * does not host the database (`urls` lists the servers of its cluster that do, preferred first),
 * or there is no such database in its cluster.
 */
export interface ExternalRefusal {
  readonly type: "external-refused";
  /** The source database and ends, echoed from the connect or batch refused. */
  readonly database: string;
  readonly from: string;
  readonly to: NodeTag;
  readonly code: "DatabaseNotHosted" | "DatabaseDoesNotExist" | "NotInCluster";
  readonly message: string;
  readonly urls: readonly string[];
}

/** ExternalMessage is anything a task's connection carries, in either direction. */
export type ExternalMessage =
  ReplicationConnect | ReplicationWireBatch | ReplicationAck | ExternalRefusal;

/**
 * ExternalEnvelope is one message of a task between two clusters, with what the receiving server
 * needs to route it: the destination database (to deliver a connect or batch) and the task (to
 * deliver an ack or a refusal back to the task's connection).
 */
export interface ExternalEnvelope {
  readonly taskId: number;
  readonly destinationDatabase: string;
  readonly message: ExternalMessage;
}

/** ExternalSend is an envelope to post to the server at `url`, with the batch it carries. */
export interface ExternalSend {
  readonly url: string;
  readonly envelope: ExternalEnvelope;
  /** The batch, when the envelope carries one (for the trace). */
  readonly batch?: ReplicationBatch;
}

/** ExternalTaskConfig is what the responsible node needs to run one task. */
export interface ExternalTaskConfig {
  readonly taskId: number;
  readonly name: string;
  readonly sourceDatabase: string;
  readonly sourceTag: NodeTag;
  readonly destinationDatabase: string;
  readonly destinationUrls: readonly string[];
}

/** ExternalReplicationStatus is one running task as describe() and the UI show it. */
export interface ExternalReplicationStatus {
  readonly taskId: number;
  readonly name: string;
  readonly runningOn: NodeTag;
  /** The destination server the task talks to now. */
  readonly destinationUrl: string;
  readonly connected: boolean;
  /** The last etag of this node that the destination acknowledged. */
  readonly lastAcceptedEtag: number;
  /** This node's last etag: the task is up to date when the two are equal. */
  readonly lastEtag: number;
  /** Why the last attempt failed, until the destination answers again. */
  readonly lastError: string | null;
}

/** Unanswered sends to one destination server before the task tries the next one. */
const missesBeforeNextServer = 2;
/** Destination servers a task remembers (the configured ones plus those it was pointed to). */
const candidatesMax = 32;

/**
 * ExternalReplication is one task on its responsible node: a connection to the destination that
 * hands out one batch at a time from the destination's last acknowledged etag, moves between
 * the destination cluster's servers when one stops answering or points elsewhere, and reports
 * its state. Deterministic: time comes in as `nowMs`, messages leave as values.
 */
export class ExternalReplication {
  readonly config: ExternalTaskConfig;
  private readonly connection: OutgoingReplication;
  private candidates: string[];
  private target = 0;
  private connected = false;
  private lastSentMs = -Infinity;
  /** Whether the last send to the current server is still unanswered. */
  private unanswered = false;
  private lastRedirectMs = -Infinity;
  private misses = 0;
  private lastError: string | null = null;

  constructor(
    config: ExternalTaskConfig,
    options: { readonly limits?: Partial<ReplicationLimits>; readonly cursor?: DestinationCursor },
  ) {
    assert(config.destinationUrls.length > 0, "an external replication needs a destination URL");
    this.config = config;
    this.candidates = [...config.destinationUrls];
    this.connection = new OutgoingReplication({
      database: config.sourceDatabase,
      from: config.sourceTag,
      to: externalPeerName(config.taskId),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.cursor ? { cursor: options.cursor } : {}),
    });
  }

  /** destinationUrl is the destination server the task talks to now. */
  get destinationUrl(): string {
    return this.candidates[this.target]!;
  }

  get lastAcceptedEtag(): number {
    return this.connection.lastAcceptedEtag;
  }

  /**
   * pump returns what to send now: a connect until the destination answers, then the next batch;
   * anything unanswered for `retryMs` is sent again, and after missesBeforeNextServer misses in a
   * row the task tries the next destination server.
   */
  pump(
    source: ReplicationSource,
    nowMs: number,
    retryMs: number,
    durableEtag = Infinity,
  ): ExternalSend[] {
    const stale = nowMs - this.lastSentMs >= retryMs;
    if (!this.connected) {
      if (!stale) return [];
      if (this.unanswered) this.missed(`no answer from ${this.destinationUrl}`);
      return [this.connect(source, nowMs)];
    }
    if (this.connection.pending !== undefined) {
      if (!stale) return [];
      this.connection.retry();
      if (this.missed(`${this.destinationUrl} stopped answering`)) {
        return [this.connect(source, nowMs)];
      }
    }
    const batch = this.connection.nextBatch(source, durableEtag);
    if (batch === undefined) return [];
    this.lastSentMs = nowMs;
    this.unanswered = true;
    const wire = this.connection.wireOf(batch);
    this.connection.prepareNext(source, durableEtag);
    return [{ url: this.destinationUrl, envelope: this.envelope(wire), batch }];
  }

  /**
   * receive handles the destination's answer: an ack moves the task on (and sends the next batch
   * at once); a refusal points the task to the servers that host the database, or records why
   * none does. Answers from any server but the current one are stale and ignored.
   */
  receive(
    fromUrl: string,
    message: ReplicationAck | ExternalRefusal,
    source: ReplicationSource,
    nowMs: number,
    retryMs: number,
    durableEtag = Infinity,
  ): ExternalSend[] {
    if (fromUrl !== this.destinationUrl) return [];
    if (message.type === "external-refused") {
      this.connected = false;
      this.unanswered = false;
      this.connection.retry();
      this.lastError = message.message;
      const hosting = message.urls.filter((url) => url !== fromUrl);
      if (hosting.length === 0) {
        this.next();
        return [];
      }
      this.candidates = [...new Set([...hosting, ...this.candidates])].slice(0, candidatesMax);
      this.target = 0;
      this.misses = 0;
      // Servers with an old view of their cluster could point at each other; one redirect per
      // retry period keeps that from becoming a storm.
      const recently = nowMs - this.lastRedirectMs < retryMs;
      this.lastRedirectMs = nowMs;
      return recently ? [] : [this.connect(source, nowMs)];
    }
    // Only the answer to what is in flight counts (see OutgoingReplication.answersInFlight): a
    // late copy of an old ack must neither move the task nor make it send again.
    if (message.reason === "connect" && this.connected) return [];
    if (this.connection.onAck(message) === "ignored") return [];
    this.connected = true;
    this.unanswered = false;
    this.misses = 0;
    this.lastError = null;
    // The answer frees the connection: what follows leaves now rather than at the next tick.
    return this.pump(source, nowMs, retryMs, durableEtag);
  }

  /** status describes the task for describe() and the UI. */
  status(source: ReplicationSource): ExternalReplicationStatus {
    return {
      taskId: this.config.taskId,
      name: this.config.name,
      runningOn: this.config.sourceTag,
      destinationUrl: this.destinationUrl,
      connected: this.connected,
      lastAcceptedEtag: this.connection.lastAcceptedEtag,
      lastEtag: source.lastEtag,
      lastError: this.lastError,
    };
  }

  /** cursor is what to persist so a restarted node shows where the task was. */
  cursor(): DestinationCursor {
    return this.connection.cursor();
  }

  private connect(source: ReplicationSource, nowMs: number): ExternalSend {
    this.lastSentMs = nowMs;
    this.unanswered = true;
    const connect: ReplicationConnect = {
      type: "replication-connect",
      database: this.config.sourceDatabase,
      from: this.config.sourceTag,
      to: externalPeerName(this.config.taskId),
      sourceDatabaseId: source.databaseId,
    };
    return { url: this.destinationUrl, envelope: this.envelope(connect) };
  }

  private envelope(message: ExternalMessage): ExternalEnvelope {
    return {
      taskId: this.config.taskId,
      destinationDatabase: this.config.destinationDatabase,
      message,
    };
  }

  /** missed counts an unanswered send; returns whether the task moved to the next server. */
  private missed(why: string): boolean {
    this.misses++;
    if (this.misses < missesBeforeNextServer) return false;
    this.lastError = why;
    this.next();
    return true;
  }

  private next(): void {
    this.connected = false;
    this.misses = 0;
    this.target = (this.target + 1) % this.candidates.length;
  }
}

/** ExternalReceipt is what a destination does with a task's message: the answer, and what to persist. */
export interface ExternalReceipt {
  readonly reply: ReplicationAck;
  /** A batch's commit: persist it before sending the reply (acks count only what is durable). */
  readonly commit: ReplicatedBatchResult | undefined;
}

/**
 * receiveExternal applies a task's connect or batch on the destination instance, exactly as a
 * sibling's would be: the source's items keep their change vectors, the instance's own conflict
 * resolution settles concurrent writes, and its own group then replicates them onward.
 */
export function receiveExternal(
  target: ReplicationTarget,
  message: ReplicationConnect | ReplicationWireBatch,
): ExternalReceipt {
  if (message.type === "replication-connect") {
    return { reply: answerConnect(target, message), commit: undefined };
  }
  const { ack, commit } = receiveBatch(target, unpackBatch(message));
  return { reply: ack, commit: commit?.duplicate ? undefined : commit };
}

/**
 * refuseExternal builds the answer of a server that cannot take a task's message. `urls` are the
 * servers of its cluster that host the destination database, preferred first.
 */
export function refuseExternal(
  message: ReplicationMessage | ReplicationWireBatch,
  code: ExternalRefusal["code"],
  text: string,
  urls: readonly string[],
): ExternalRefusal {
  return {
    type: "external-refused",
    database: message.database,
    from: message.to,
    to: message.from,
    code,
    message: text,
    urls,
  };
}

/**
 * describeExternalBatch renders a task's batch for the trace, e.g.
 * `replicate Spade B→Backup@http://127.0.1.1:8080 etags 5..9 (2 tx, 3 items) for 'offsite'`.
 */
export function describeExternalBatch(task: string, batch: ReplicationBatch, url: string): string {
  const items = batchItemCount(batch);
  return (
    `replicate ${batch.database} ${batch.from}→${url} etags ${batch.afterEtag + 1}..${batch.lastEtag} ` +
    `(${batch.transactions.length} tx, ${items} item${items === 1 ? "" : "s"}) for '${task}'`
  );
}

/** isExternalEnvelope narrows an unknown value to an external replication envelope. */
export function isExternalEnvelope(value: unknown): value is ExternalEnvelope {
  if (typeof value !== "object" || value === null) return false;
  const fields = value as Record<string, unknown>;
  const message = fields.message as Record<string, unknown> | null | undefined;
  return (
    typeof fields.taskId === "number" &&
    typeof fields.destinationDatabase === "string" &&
    typeof message === "object" &&
    message !== null &&
    typeof message.type === "string"
  );
}
