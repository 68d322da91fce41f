import type { ServerRequest, ServerResponse } from "../transport/index.ts";

/** HttpRequest is one HTTP request as the wire layer reads it, whatever listener received it. */
export interface HttpRequest {
  readonly method: string;
  /** The request target as sent: path and query, still percent-encoded. */
  readonly target: string;
  /** Header values by lower-case name. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body as UTF-8 text; "" when there is none. */
  readonly body: string;
}

/** HttpResponse is what the wire layer answers; the listener writes it as it is. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body; "" for none (the listener still sends Content-Length: 0, which the client needs). */
  readonly body: string;
}

/**
 * RequestApi is all the wire layer needs of a server: its URL and its one request API. Every
 * route is a translation onto it; no route decides anything the server does not.
 */
export interface RequestApi {
  readonly url: string;
  handleRequest(request: ServerRequest): Promise<ServerResponse>;
}
