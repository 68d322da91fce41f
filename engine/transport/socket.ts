/**
 * SocketTransport carries envelopes between server processes over TCP, one connection per
 * direction: a server opens its own connection to each peer it sends to and reads the one each
 * peer opened to it. A connection starts as an HTTP request on the peer's own address that
 * upgrades to the `rookery-peer` protocol (so a server needs one port, whichever machine it is
 * on), then carries newline-delimited JSON, one envelope per line.
 *
 * Nothing is retried here: Raft resends, replication resends after replicationRetryMs, and a
 * forwarded call times out. A link that is down drops what is sent on it until it reconnects;
 * a slow link drops once its unsent bytes pass a limit. Partitions are applied at both ends: a
 * blocked peer's connections are cut, nothing is sent to it and nothing it sends is read.
 */
import { request as httpRequest } from "node:http";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { Envelope, ServerTransport } from "./messages.ts";

/** The protocol name in the Upgrade header. */
export const peerProtocol = "rookery-peer";
/** The header that names the connecting server's URL. */
const fromHeader = "rookery-from";

/** socketLimits bound what a link holds; every limit names its unit. */
export const socketLimits = {
  /** Unsent bytes a link keeps (connecting or slow) before it drops what is sent on it. */
  queuedBytesMax: 64 * 1024 * 1024,
  /** Bytes of one line (one envelope) a reader accepts before it cuts the connection. */
  lineBytesMax: 64 * 1024 * 1024,
  /** How long a connection attempt may take. */
  connectTimeoutMs: 2_000,
  /** The first wait before connecting again after a failure; it doubles up to the max. */
  reconnectMinMs: 50,
  reconnectMaxMs: 1_000,
} as const;

interface OutgoingLink {
  socket: Socket | undefined;
  connecting: boolean;
  /** Lines waiting for the connection. */
  queue: string[];
  queuedBytes: number;
  /** No new attempt before this time (ms since the epoch). */
  retryAtMs: number;
  backoffMs: number;
}

/** SocketTransport is a server process's ServerTransport to its peers. */
export class SocketTransport implements ServerTransport {
  private readonly outgoing = new Map<string, OutgoingLink>();
  private readonly incoming = new Map<Duplex, string>();
  private blocked: ReadonlySet<string> = new Set();
  private closed = false;

  /**
   * @param selfUrl this server's URL, sent when connecting so the peer knows who speaks.
   * @param deliver hands an envelope that arrived to the server.
   */
  constructor(
    private readonly selfUrl: string,
    private readonly deliver: (envelope: Envelope) => void,
  ) {}

  /** send posts a peer envelope to its server; client envelopes never travel here. */
  send(envelope: Envelope): void {
    if (this.closed || envelope.kind !== "peer" || this.blocked.has(envelope.to)) return;
    const line = `${JSON.stringify(envelope)}\n`;
    const link = this.link(envelope.to);
    if (link.socket) {
      if (link.socket.writableLength + line.length > socketLimits.queuedBytesMax) return;
      link.socket.write(line);
      return;
    }
    if (!link.connecting) {
      if (Date.now() < link.retryAtMs) return;
      this.connect(envelope.to, link);
    }
    if (link.queuedBytes + line.length > socketLimits.queuedBytesMax) return;
    link.queue.push(line);
    link.queuedBytes += line.length;
  }

  /**
   * accept takes a connection that asked for the peer protocol (the HTTP listener's upgrade
   * hook); it returns false for any other protocol, which the listener then refuses.
   */
  accept(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (request.headers.upgrade?.toLowerCase() !== peerProtocol) return false;
    const from = request.headers[fromHeader];
    if (this.closed || typeof from !== "string" || this.blocked.has(from)) {
      socket.destroy();
      return true;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${peerProtocol}\r\nConnection: Upgrade\r\n\r\n`,
    );
    (socket as Socket).setNoDelay?.(true);
    this.incoming.set(socket, from);
    socket.on("close", () => this.incoming.delete(socket));
    socket.on("error", () => socket.destroy());
    this.readLines(socket, head, (line) => {
      if (this.closed || this.blocked.has(from)) return;
      let envelope: Envelope;
      try {
        envelope = JSON.parse(line) as Envelope;
      } catch {
        socket.destroy();
        return;
      }
      if (envelope.kind === "peer" && envelope.to === this.selfUrl) this.deliver(envelope);
    });
    return true;
  }

  /** block cuts every link with these peers at once and keeps them cut until unblocked. */
  block(urls: readonly string[]): void {
    this.blocked = new Set(urls);
    for (const url of this.blocked) {
      const link = this.outgoing.get(url);
      if (link) this.reset(link, true);
    }
    for (const [socket, from] of this.incoming) if (this.blocked.has(from)) socket.destroy();
  }

  /** close ends every connection; nothing is sent or delivered after it. */
  close(): void {
    this.closed = true;
    for (const link of this.outgoing.values()) this.reset(link, true);
    for (const socket of this.incoming.keys()) socket.destroy();
    this.incoming.clear();
  }

  private link(url: string): OutgoingLink {
    let link = this.outgoing.get(url);
    if (!link) {
      link = {
        socket: undefined,
        connecting: false,
        queue: [],
        queuedBytes: 0,
        retryAtMs: 0,
        backoffMs: socketLimits.reconnectMinMs,
      };
      this.outgoing.set(url, link);
    }
    return link;
  }

  private connect(url: string, link: OutgoingLink): void {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return this.failed(link);
    }
    link.connecting = true;
    const attempt = httpRequest({
      host: target.hostname,
      port: Number(target.port || 80),
      path: `/${peerProtocol}`,
      method: "GET",
      agent: false,
      timeout: socketLimits.connectTimeoutMs,
      headers: { Connection: "Upgrade", Upgrade: peerProtocol, [fromHeader]: this.selfUrl },
    });
    let settled = false;
    const fail = (): void => {
      if (settled) return;
      settled = true;
      attempt.destroy();
      if (this.outgoing.get(url) === link && link.connecting) this.failed(link);
    };
    attempt.on("upgrade", (_response: IncomingMessage, socket: Socket) => {
      settled = true;
      if (this.closed || this.blocked.has(url) || this.outgoing.get(url) !== link) {
        socket.destroy();
        return;
      }
      link.connecting = false;
      link.socket = socket;
      link.backoffMs = socketLimits.reconnectMinMs;
      socket.setNoDelay(true);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => {
        if (link.socket === socket) this.reset(link, false);
      });
      // The peer never writes on this connection; reading keeps its close noticed.
      socket.resume();
      for (const line of link.queue) socket.write(line);
      link.queue = [];
      link.queuedBytes = 0;
    });
    attempt.on("response", (response: IncomingMessage) => {
      response.resume();
      fail();
    });
    attempt.on("timeout", fail);
    attempt.on("error", fail);
    attempt.end();
  }

  /** failed drops what waited for a connection that did not come, and waits before the next. */
  private failed(link: OutgoingLink): void {
    link.connecting = false;
    link.queue = [];
    link.queuedBytes = 0;
    link.retryAtMs = Date.now() + link.backoffMs;
    link.backoffMs = Math.min(link.backoffMs * 2, socketLimits.reconnectMaxMs);
  }

  /** reset forgets a link's connection; `now` lets the next send reconnect at once. */
  private reset(link: OutgoingLink, now: boolean): void {
    const socket = link.socket;
    link.socket = undefined;
    link.connecting = false;
    link.queue = [];
    link.queuedBytes = 0;
    if (now) link.retryAtMs = 0;
    socket?.destroy();
  }

  /**
   * readLines splits what arrives on `socket` into lines, starting with `head`. A line's parts are
   * kept until its newline arrives, so a long batch costs one join, not one scan per chunk.
   */
  private readLines(socket: Duplex, head: Buffer, onLine: (line: string) => void): void {
    const decoder = new StringDecoder("utf8");
    let parts: string[] = [];
    let partsLength = 0;
    const take = (chunk: Buffer): void => {
      const text = decoder.write(chunk);
      let from = 0;
      for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n", from)) {
        parts.push(text.slice(from, newline));
        const line = parts.join("");
        parts = [];
        partsLength = 0;
        from = newline + 1;
        if (line !== "") onLine(line);
      }
      if (from < text.length) {
        parts.push(text.slice(from));
        partsLength += text.length - from;
        if (partsLength > socketLimits.lineBytesMax) socket.destroy();
      }
    };
    if (head.length > 0) take(head);
    socket.on("data", take);
  }
}
