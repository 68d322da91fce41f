import { isRookeryError, quote, RookeryError } from "../core/index.ts";
import type { Clock, Random } from "../core/index.ts";
import { normaliseServerUrl } from "../cluster/index.ts";
import { checkRequest } from "../transport/index.ts";
import type { PeerMessage, ServerRequest, ServerResponse } from "../transport/index.ts";
import type { TraceEvent } from "./ports.ts";
import type { ServerTiming } from "./timing.ts";
import type { Waiters } from "./waiters.ts";
import type { WriteChain } from "./write-chain.ts";

/**
 * ServerContext is what every part of one server shares: its address, clock, randomness and
 * timings, its one write chain to storage, its waiters, its trace, and its way to other servers.
 * The composition root (server.ts) makes it once and hands it to each part.
 */
export interface ServerContext {
  readonly url: string;
  readonly clock: Clock;
  readonly random: Random;
  /** Every interval; read at each use, since Server.tune may replace it while the server runs. */
  timing: ServerTiming;
  readonly writes: WriteChain;
  readonly waiters: Waiters;
  readonly trace: (event: TraceEvent) => void;
  /** What the trace includes beyond its usual events (the runtime may change it while running). */
  readonly detail: { raftMessages: boolean };
  sendPeer(url: string, message: PeerMessage): void;
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

/** newId draws a fresh 12-character id (cluster ids, database ids) from the server's random. */
export function newId(random: Random): string {
  let id = "";
  for (let i = 0; i < 12; i++) id += idAlphabet[random.int(idAlphabet.length)];
  return id;
}

/** failure builds a refused response with a stable code and a message that says what to do. */
export function failure(
  code: string,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): ServerResponse {
  return { ok: false, error: { code, message, ...(details ? { details } : {}) } };
}

/** fromError turns a RookeryError into a refused response; anything else is a bug and rethrown. */
export function fromError(error: unknown): ServerResponse {
  if (isRookeryError(error)) return failure(error.code, error.message, error.details);
  throw error;
}

/**
 * checkedRequest checks a request against its declared shape: the request as checked (only its
 * declared fields), or the InvalidRequest refusal that names the field and why.
 */
export function checkedRequest(
  raw: ServerRequest,
): { readonly request: ServerRequest } | { readonly refusal: ServerResponse } {
  try {
    return { request: checkRequest(raw) };
  } catch (error) {
    return { refusal: fromError(error) };
  }
}

/** serverAddress is a server's own URL, normalised; a malformed one cannot start a server. */
export function serverAddress(url: string): string {
  const normalised = normaliseServerUrl(url);
  if ("problem" in normalised)
    throw new RookeryError(
      "InvalidUrl",
      `cannot start a server at ${quote(url)}: it ${normalised.problem}`,
    );
  return normalised.url;
}
