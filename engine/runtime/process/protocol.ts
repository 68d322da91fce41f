/**
 * What a process cluster's parent and each server process say to each other over the IPC channel
 * Node opens with fork(). It is a control channel only: servers reach each other over their own
 * sockets, and clients over HTTP; the parent uses it to start and stop a server, cut its links,
 * read its status for describe(), and send the requests of Rookery's own client (cluster.network).
 * Plain JSON types only.
 */
import type { ReplicationLimits } from "../../replication/index.ts";
import type { TimingOptions } from "../../server/index.ts";
import type { ServerRequest, ServerResponse } from "../../transport/index.ts";
import type { StatusUpdate } from "../status-reporter.ts";
import type { WorkerStatus } from "../worker/protocol.ts";

/** HttpLimitOptions tune a server's HTTP listener (see httpLimits for the defaults). */
export interface HttpLimitOptions {
  readonly requestBytesMax?: number;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/** ProcessServerConfig starts one server process. */
export interface ProcessServerConfig {
  /** The server's URL as peers and clients use it (http://127.0.0.2:8080). */
  readonly url: string;
  /** Where to listen: usually the URL's host and port; 0.0.0.0 to listen on every interface. */
  readonly host: string;
  readonly port: number;
  /** The server's data folder (fs storage). */
  readonly dataDir: string;
  /** Seeds the server's randomness (election timeouts). */
  readonly seed: number;
  readonly timing?: TimingOptions;
  readonly replicationLimits?: Partial<ReplicationLimits>;
  readonly http?: HttpLimitOptions;
  /** How often buffered trace events and a changed status go to the parent (default 50 ms). */
  readonly statusIntervalMs?: number;
}

/** ToServer is what the parent sends a server process. */
export type ToServer =
  | { readonly kind: "request"; readonly id: number; readonly request: ServerRequest }
  /** links says which peers this server may not talk to, and whether clients are cut off too. */
  | { readonly kind: "links"; readonly blocked: readonly string[]; readonly isolated: boolean }
  | { readonly kind: "refresh"; readonly id: number }
  /** shutdown stops gracefully: queued writes finish, sockets and files close, the process exits. */
  | { readonly kind: "shutdown" };

/** FromServer is what a server process sends its parent. */
export type FromServer =
  | { readonly kind: "ready"; readonly status: WorkerStatus; readonly port: number }
  | { readonly kind: "failed"; readonly code: string; readonly message: string }
  | { readonly kind: "response"; readonly id: number; readonly response: ServerResponse }
  | ({ readonly kind: "status"; readonly refreshed?: number } & StatusUpdate);
