import type { ServerRequest, ServerResponse } from "../transport/index.ts";
import type { ClientNetwork } from "./network.ts";

/** The path where a server process takes Rookery's own requests (engine/http/server-routes.ts). */
export const rookeryRequestPath = "/rookery/request";

/** How long a request waits when the caller gives no timeout. */
const requestTimeoutMsDefault = 30_000;

/**
 * httpNetwork is the ClientNetwork of a DocumentStore that talks to server processes over HTTP
 * (Cluster.start({ runtime: "process" }), `npm run serve`): each request is posted as JSON to the
 * server's /rookery/request and its answer read back as it is. A server that cannot be reached
 * answers ServerUnavailable, and one that does not answer in time RequestTimeout, so the client
 * fails over exactly as it does on the simulator's or the workers' network.
 */
export function httpNetwork(): ClientNetwork {
  return {
    nowMs: () => performance.timeOrigin + performance.now(),
    request: (url, request, options) =>
      post(url, request, options?.timeoutMs ?? requestTimeoutMsDefault),
  };
}

async function post(
  url: string,
  request: ServerRequest,
  timeoutMs: number,
): Promise<ServerResponse> {
  let status: number;
  let text: string;
  try {
    const response = await fetch(`${url.replace(/\/+$/, "")}${rookeryRequestPath}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    if (error instanceof Error && error.name === "TimeoutError")
      return refused("RequestTimeout", `${url} did not answer within ${timeoutMs} ms`);
    return refused("ServerUnavailable", `${url} cannot be reached: ${networkCause(error)}`);
  }
  if (status !== 200)
    return refused(
      "InvalidResponse",
      `${url} answered HTTP ${status} to ${rookeryRequestPath}; is it a Rookery server? ${text.slice(0, 200)}`,
    );
  try {
    return JSON.parse(text) as ServerResponse;
  } catch {
    return refused("InvalidResponse", `${url} answered with something that is not JSON`);
  }
}

function refused(code: string, message: string): ServerResponse {
  return { ok: false, error: { code, message } };
}

/** networkCause names why fetch failed: the socket's code (ECONNREFUSED …) when there is one. */
function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return error instanceof Error ? error.message : String(error);
}
