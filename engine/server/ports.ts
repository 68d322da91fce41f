import type { Clock, Random } from "../core/index.ts";
import type { ReplicatedItemOutcome } from "../database/index.ts";
import type { ReplicationLimits } from "../replication/index.ts";
import type { ServerTransport } from "../transport/index.ts";
import type { TimingOptions } from "./timing.ts";

/** StorageWrite is one put or delete in a named store. */
export interface StorageWrite {
  readonly store: string;
  readonly op: "put" | "delete";
  readonly key: string;
  readonly value?: unknown;
  /**
   * The exact JSON.stringify of `value`, which the caller promises is plain JSON data: no
   * Uint8Array, no object key "\u0000". A backend may keep it instead of checking and encoding.
   */
  readonly json?: string;
}

/**
 * ServerStorage is the durability port a server needs. `write` is atomic and durable once it
 * returns (synchronous backends) or its promise resolves; batches apply in call order, so a
 * server may issue a write before the previous one finished; `load` returns everything kept.
 */
export interface ServerStorage {
  write(batch: readonly StorageWrite[]): void | Promise<void>;
  load():
    | ReadonlyMap<string, ReadonlyMap<string, unknown>>
    | Promise<ReadonlyMap<string, ReadonlyMap<string, unknown>>>;
}

/**
 * TraceEvent is something the UI's timeline shows; the server (or its runtime, for what the
 * network did) emits them where and when they happen, timed by that server's clock. A batch is
 * traced three ways: sent (by its sender), applied (by its receiver, once durable), or dropped
 * (by the transport that could not deliver it, with the reason).
 */
export type TraceEvent =
  | {
      readonly type: "role";
      readonly atMs: number;
      readonly tag: string;
      readonly role: string;
      readonly term: number;
      readonly leader: string | null;
    }
  | {
      readonly type: "cluster-command";
      readonly atMs: number;
      readonly tag: string;
      readonly index: number;
      readonly text: string;
      readonly ok: boolean;
    }
  | {
      readonly type: "topology-change";
      readonly atMs: number;
      readonly database: string;
      readonly message: string;
    }
  | {
      /** A batch handed to the transport by its sender: not yet delivered, let alone applied. */
      readonly type: "replication-batch";
      readonly atMs: number;
      readonly database: string;
      readonly from: string;
      readonly to: string;
      readonly text: string;
      readonly afterEtag: number;
      readonly lastEtag: number;
      /** The documents it carries (see batchDocumentIds). */
      readonly ids: readonly string[];
    }
  | {
      /** A batch the receiver applied and made durable, about to be acknowledged. */
      readonly type: "replication-applied";
      readonly atMs: number;
      readonly database: string;
      readonly from: string;
      readonly to: string;
      readonly afterEtag: number;
      readonly lastEtag: number;
      /** What the receiver did with each document version of the batch, in order. */
      readonly items: readonly ReplicatedItemOutcome[];
      /**
       * duplicate: the receiver had applied it all before (nothing written); gap: refused, since
       * it starts after etags the receiver never got from this source (the sender goes back).
       */
      readonly note?: "duplicate" | "gap";
      /** From the newest write the batch carried (its @last-modified) to its application here. */
      readonly lagMs?: number;
    }
  | {
      /** A message the network did not deliver, and why (a cut, a dead server, a lossy link). */
      readonly type: "message-dropped";
      readonly atMs: number;
      readonly kind: "replication" | "raft";
      /** Node tags when the message names them, else URLs. */
      readonly from: string;
      readonly to: string;
      readonly database?: string;
      readonly ids?: readonly string[];
      /** What it was: "batch", "ack", "connect", "append", "vote" … */
      readonly what: string;
      readonly reason: string;
    }
  | {
      /** A write that waited for replicas (write assurance) stopped waiting: how long, how many. */
      readonly type: "write-assurance";
      readonly atMs: number;
      readonly tag: string;
      readonly database: string;
      readonly ids: readonly string[];
      readonly wanted: number;
      readonly reached: number;
      readonly waitedMs: number;
      readonly outcome: "satisfied" | "timed-out";
    }
  | {
      /**
       * A Raft message sent (only while the runtime asks for them: the book's Rachis panel). The
       * network drops it or delivers it; a drop is traced as message-dropped.
       */
      readonly type: "raft-message";
      readonly atMs: number;
      readonly from: string;
      readonly to: string;
      /** preVote, vote, preVoteResponse, voteResponse, append, appendResponse, installSnapshot. */
      readonly kind: string;
      readonly term: number;
      /** Entries an append carries (0: a heartbeat). */
      readonly entries: number;
      /** A response's answer: granted, success; undefined for requests. */
      readonly ok?: boolean;
    }
  | {
      /** A batch an external replication task sent to another cluster's server. */
      readonly type: "external-replication";
      readonly atMs: number;
      readonly database: string;
      readonly task: string;
      /** The responsible node that sent it. */
      readonly from: string;
      /** The destination server's URL. */
      readonly to: string;
      readonly text: string;
    }
  | { readonly type: "server"; readonly atMs: number; readonly url: string; readonly text: string };

/**
 * ServerFailure is why a server stopped by itself: a write its storage refused (an I/O error, a
 * full disk). `message` names the write and the storage's error.
 */
export interface ServerFailure {
  /** The storage's error code (StorageFailed, StorageClosed …). */
  readonly code: string;
  readonly message: string;
  /** When it stopped, on the server's clock. */
  readonly atMs: number;
}

/** ServerOptions wires a server to its runtime. */
export interface ServerOptions {
  readonly url: string;
  readonly storage: ServerStorage;
  readonly transport: ServerTransport;
  readonly clock: Clock;
  readonly random: Random;
  readonly timing?: TimingOptions;
  readonly replicationLimits?: Partial<ReplicationLimits>;
  readonly trace?: (event: TraceEvent) => void;
  /**
   * onFailStop is how the runtime hears that the server stopped after a failed storage write (as
   * RavenDB does on an I/O error): nothing after the last durable write is known to be on disk,
   * so it serves nothing more. The runtime reports it crashed (sim and worker mark it down; a
   * process runtime exits) and a restart recovers from what is durable.
   */
  readonly onFailStop?: (failure: ServerFailure) => void;
  /** Trace every Raft message sent (raft-message events); off unless a view asks for them. */
  readonly traceRaftMessages?: boolean;
}
