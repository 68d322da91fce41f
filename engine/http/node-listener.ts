/**
 * The HTTP listener for Node (the one file of the wire layer that touches node:http). It reads
 * each request whole, within limits, hands it to answerHttp and writes the answer with a
 * Content-Length always set. Bad HTTP never reaches a route and never stops the server: a body
 * over requestBytesMax, a client that does not finish its headers or its body in time, a
 * malformed request line — each gets a RavenDB-shaped JSON error and the connection is closed.
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server as NodeHttpServer, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { ravenError, ravenTypes } from "./errors.ts";
import { answerHttp } from "./routes.ts";
import type { HttpResponse, RequestApi } from "./types.ts";

/** httpLimits are the listener's defaults; each can be set per listener. */
export const httpLimits = {
  /** Bytes of one request body (a bulk_docs of a few thousand documents fits easily). */
  requestBytesMax: 32 * 1024 * 1024,
  /** How long a client may take to send its request line and headers. */
  headersTimeoutMs: 10_000,
  /** How long a client may take to send its whole request, body included. */
  requestTimeoutMs: 30_000,
  /** How often Node checks those two timeouts. */
  timeoutCheckMs: 500,
} as const;

/** HttpListenerOptions say where to listen and what to answer with. */
export interface HttpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly api: RequestApi;
  readonly requestBytesMax?: number;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /**
   * upgrade takes a connection that asked to switch protocols (servers' own peer links); it
   * returns false for a protocol it does not speak, and the connection is refused.
   */
  readonly upgrade?: (request: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
}

const reasons: Readonly<Record<number, string>> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Payload Too Large",
  431: "Request Header Fields Too Large",
};

/** rawResponse is an HTTP response as bytes, for a socket that has no response object. */
function rawResponse(response: HttpResponse): string {
  const headers = {
    ...response.headers,
    "Content-Length": String(Buffer.byteLength(response.body)),
    Connection: "close",
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  const reason = reasons[response.status] ?? "Error";
  return `HTTP/1.1 ${response.status} ${reason}\r\n${lines.join("\r\n")}\r\n\r\n${response.body}`;
}

/** HttpListener serves one server's HTTP address. */
export class HttpListener {
  private closed = false;
  private readonly sockets = new Set<Socket>();
  /** While set, new connections are reset at once (an isolated server). */
  private refusing = false;

  private constructor(
    private readonly server: NodeHttpServer,
    readonly address: { readonly host: string; readonly port: number },
  ) {}

  /** listen starts listening; it rejects with the system's error (EADDRINUSE …) when it cannot. */
  static async listen(options: HttpListenerOptions): Promise<HttpListener> {
    const requestBytesMax = options.requestBytesMax ?? httpLimits.requestBytesMax;
    const server = createServer({
      headersTimeout: options.headersTimeoutMs ?? httpLimits.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? httpLimits.requestTimeoutMs,
      connectionsCheckingInterval: httpLimits.timeoutCheckMs,
      keepAliveTimeout: 5_000,
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const bound = server.address();
    const port = typeof bound === "object" && bound !== null ? bound.port : options.port;
    const listener = new HttpListener(server, { host: options.host, port });
    server.on("connection", (socket: Socket) => {
      if (listener.refusing || listener.closed) {
        socket.destroy();
        return;
      }
      listener.sockets.add(socket);
      socket.once("close", () => listener.sockets.delete(socket));
    });
    server.on("request", (request: IncomingMessage, response: ServerResponse) =>
      listener.serve(options.api, requestBytesMax, request, response),
    );
    server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) =>
      HttpListener.clientError(error, socket),
    );
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (listener.refusing || !options.upgrade?.(request, socket, head)) socket.destroy();
    });
    return listener;
  }

  /**
   * refuse makes the server unreachable (true) or reachable again (false): every open connection
   * is reset at once, and new ones are reset as they arrive, so clients fail over as they would
   * for a server they cannot reach.
   */
  refuse(refusing: boolean): void {
    this.refusing = refusing;
    if (refusing) for (const socket of this.sockets) socket.destroy();
  }

  /** close stops listening and ends every connection, idle or not. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await stopped;
  }

  private serve(
    api: RequestApi,
    requestBytesMax: number,
    request: IncomingMessage,
    response: ServerResponse,
  ): void {
    const target = request.url ?? "/";
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > requestBytesMax) {
      this.tooLarge(response, target, declared, requestBytesMax);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let refused = false;
    request.on("data", (chunk: Buffer) => {
      if (refused) return;
      received += chunk.length;
      if (received > requestBytesMax) {
        refused = true;
        this.tooLarge(response, target, received, requestBytesMax);
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (refused || this.closed) return;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers))
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      void answerHttp(api, {
        method: request.method ?? "GET",
        target,
        headers,
        body: Buffer.concat(chunks).toString("utf8"),
      }).then((answer) => {
        if (response.destroyed || response.writableEnded) return;
        response.writeHead(answer.status, {
          ...answer.headers,
          "Content-Length": String(Buffer.byteLength(answer.body)),
        });
        response.end(answer.body);
      });
    });
  }

  private tooLarge(response: ServerResponse, target: string, bytes: number, max: number): void {
    const answer = ravenError(
      413,
      ravenTypes.badRequest,
      `the request body is ${bytes} bytes or more; a Rookery server accepts at most ${max}. ` +
        "Send fewer documents per batch.",
      target,
    );
    response.shouldKeepAlive = false;
    response.writeHead(answer.status, {
      ...answer.headers,
      "Content-Length": String(Buffer.byteLength(answer.body)),
      Connection: "close",
    });
    // The rest of the body is not read: the connection closes once the answer is out.
    response.end(answer.body, () => response.socket?.destroy());
  }

  /**
   * clientError answers what never became a request: a timeout while the client was still
   * sending, headers too large, a malformed request. The socket has no response object, so the
   * answer is written to it directly; then it is closed.
   */
  private static clientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    // Node keeps the socket's response (if a request got that far) as _httpMessage; once its
    // headers went out, nothing more can be written in front of them.
    const started = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || started?.headersSent) {
      socket.destroy();
      return;
    }
    const timeout = error.code === "ERR_HTTP_REQUEST_TIMEOUT";
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
    const status = timeout ? 408 : tooLarge ? 431 : 400;
    const message = timeout
      ? "the request was not received in time: the client stopped sending its headers or body"
      : tooLarge
        ? "the request's headers are too large"
        : `the request is not valid HTTP (${error.code ?? error.message})`;
    const type = timeout ? ravenTypes.timeout : ravenTypes.badRequest;
    socket.end(rawResponse(ravenError(status, type, message, "")), () => socket.destroy());
  }
}
