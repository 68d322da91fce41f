import type { Clock, Random } from "../core/index.ts";
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

/** TraceEvent is something the UI's timeline shows; the server emits them as they happen. */
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
      readonly type: "replication-batch";
      readonly atMs: number;
      readonly database: string;
      readonly from: string;
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
}
