/**
 * Calls a host makes to servers that run elsewhere (workers, OS processes) and awaits by id:
 * client requests, status refreshes. A call ends with the server's answer, with its own value
 * after a timeout, or when its server goes down — never not at all.
 */
import type { ServerRequest, ServerResponse } from "../transport/index.ts";

interface Pending<T> {
  readonly url: string;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly resolve: (value: T) => void;
}

/** PendingCalls keeps the calls waiting for an answer. */
export class PendingCalls<T> {
  private readonly calls = new Map<number, Pending<T>>();
  private nextId = 1;

  /**
   * call sends a call to the server at `url` (`send` gets its id) and resolves with its answer,
   * or with `late()` once `timeoutMs` passed without one.
   */
  call(url: string, timeoutMs: number, late: () => T, send: (id: number) => void): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        resolve(late());
      }, timeoutMs);
      this.calls.set(id, { url, timer, resolve });
      send(id);
    });
  }

  /** settle ends call `id` with `value` (an answer that comes after its timeout is dropped). */
  settle(id: number, value: T): void {
    const call = this.calls.get(id);
    if (!call) return;
    this.calls.delete(id);
    clearTimeout(call.timer);
    call.resolve(value);
  }

  /** abandon ends every call to `url` with `value()`: the server went down. */
  abandon(url: string, value: () => T): void {
    for (const [id, call] of this.calls) if (call.url === url) this.settle(id, value());
  }
}

/** unavailable is the answer of a server that cannot be reached (a refused connection). */
export function unavailable(url: string, why: string): ServerResponse {
  return {
    ok: false,
    error: { code: "ServerUnavailable", message: `connection to ${url} refused: ${why}` },
  };
}

/** timedOut is the answer of a server that did not answer in time. */
export function timedOut(url: string, request: ServerRequest, timeoutMs: number): ServerResponse {
  // The request may be malformed (the server refuses those), so its type is read with care.
  const type = (request as { type?: unknown } | null)?.type;
  const what = typeof type === "string" ? type : "a request";
  return {
    ok: false,
    error: {
      code: "RequestTimeout",
      message: `${url} did not answer ${what} within ${timeoutMs} ms`,
    },
  };
}

/** pairKey names the link between two servers the same way from either end. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
