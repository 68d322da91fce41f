import type { ServerRequest, ServerResponse } from "../transport/index.ts";

/**
 * ClientNetwork is the port the client sends requests through: one request, one response. The
 * simulator's `cluster.network` implements it in virtual time; a worker or HTTP runtime implements
 * it for real. It never throws for a server-side failure: those come back as `ok: false`
 * responses (`ServerUnavailable` for a refused connection, `RequestTimeout` when nothing came back
 * in time). A thrown error is treated like a transport failure all the same.
 */
export interface ClientNetwork {
  request(
    url: string,
    request: ServerRequest,
    options?: { readonly timeoutMs?: number; readonly from?: string },
  ): Promise<ServerResponse>;
  /** nowMs is the network's clock (virtual under the simulator); the client reads no other. */
  nowMs(): number;
}

/**
 * Codes after which the client tries the next node instead of failing: the node is down, did not
 * answer in time, or does not host the database (RavenDB's TCP error, 503 and 408/504, and 410).
 */
const failoverCodes = new Set([
  "ServerUnavailable",
  "RequestTimeout",
  "DatabaseNotRelevant",
  "NetworkError",
]);

/** isFailoverCode tells whether an error code means "this node cannot serve us; try another". */
export function isFailoverCode(code: string): boolean {
  return failoverCodes.has(code);
}

/**
 * send calls the network and folds a thrown error into a response, so every caller has one shape
 * to handle and a broken transport behaves like an unreachable server.
 */
export async function send(
  network: ClientNetwork,
  url: string,
  request: ServerRequest,
  timeoutMs: number,
  from: string,
): Promise<ServerResponse> {
  try {
    return await network.request(url, request, { timeoutMs, from });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: "NetworkError", message: `${url}: ${message}` } };
  }
}
