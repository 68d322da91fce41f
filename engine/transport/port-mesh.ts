/**
 * The MessagePort mesh, a server's transport inside its worker (the one file of the engine that
 * talks to MessagePorts on a server's behalf). Each other server is one port, handed over by the host; the host
 * itself is one more port, carrying client requests in and responses and status out.
 *
 * Faults are applied here, at the ports: the sender drops (blocked, lost) or delays messages on
 * a link; the receiver drops what arrives on a blocked link, so a partition holds from the moment
 * either end knows of it.
 */
import type { Random } from "../core/index.ts";
import type { Envelope, ServerTransport } from "./messages.ts";

/**
 * LinkFaults is what one end of a link does to traffic: drop everything (a partition), delay each
 * message, or lose a fraction. Both ends apply their own, so a partition is set on both.
 */
export interface LinkFaults {
  readonly blocked: boolean;
  readonly latencyMs: number;
  /** Probability in [0, 1] that one message is lost. */
  readonly lossRate: number;
}

/** noFaults is a healthy link. */
export const noFaults: LinkFaults = { blocked: false, latencyMs: 0, lossRate: 0 };

/** clientLink names the link between a server and its clients (the host), for setLinkFaults. */
export const clientLink = "client";

/** TimedResponse is a response envelope with the moment the server sent it (epoch ms). */
export interface TimedResponse {
  readonly kind: "timed-response";
  readonly envelope: Extract<Envelope, { kind: "response" }>;
  readonly sentAtMs: number;
}

/**
 * WorkerBound is everything the host posts on a worker's host port: client requests, and refresh
 * requests, answered by a push on the same port, so the answer arrives after every earlier push.
 */
export type WorkerBound =
  Extract<Envelope, { kind: "request" }> | { readonly kind: "refresh"; readonly id: number };

/** PeerBound is what travels on a peer port: envelopes, and pings for measuring the link. */
export type PeerBound =
  | Envelope
  | { readonly kind: "ping"; readonly id: number }
  | { readonly kind: "pong"; readonly id: number };

/** Pings a link keeps unanswered at most; pingPeer asks for fewer. */
const pingsInFlightMax = 100_000;

/** PortMeshEvents are what the mesh hands to its server. */
export interface PortMeshEvents {
  /** An envelope for this server arrived (from a peer or a client), faults already applied. */
  readonly deliver: (envelope: Envelope) => void;
  /** A response is about to leave for the host: the runtime pushes its status first. */
  readonly beforeResponse: () => void;
  /** The host asked for a status push now (observation: faults do not apply). */
  readonly refresh: (id: number) => void;
  readonly nowMs: () => number;
}

/**
 * PortMesh connects one server to its peers and its host over MessagePorts. `Push` is what the
 * runtime pushes to its host besides responses (the worker's status pushes).
 */
export class PortMesh<Push extends object> implements ServerTransport {
  private readonly peers = new Map<string, MessagePort>();
  private readonly faults = new Map<string, LinkFaults>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly pings = new Map<number, (pongAtMs: number) => void>();
  private nextPingId = 1;
  private closed = false;

  constructor(
    private readonly hostPort: MessagePort,
    private readonly random: Random,
    private readonly events: PortMeshEvents,
  ) {
    hostPort.onmessage = (event: MessageEvent<WorkerBound>) => this.fromHost(event.data);
  }

  /** connectPeer takes this server's end of the channel to `url`, closing an older one. */
  connectPeer(url: string, port: MessagePort): void {
    if (this.closed) {
      port.close();
      return;
    }
    this.peers.get(url)?.close();
    this.peers.set(url, port);
    port.onmessage = (event: MessageEvent<PeerBound>) => this.fromPeer(url, port, event.data);
  }

  /** setFaults changes what this end does on the link to `url` (a peer or clientLink). */
  setFaults(url: string, faults: LinkFaults): void {
    const { blocked, latencyMs, lossRate } = faults;
    if (!blocked && latencyMs === 0 && lossRate === 0) this.faults.delete(url);
    else
      this.faults.set(url, {
        blocked,
        latencyMs: Math.max(0, latencyMs),
        lossRate: Math.min(1, Math.max(0, lossRate)),
      });
  }

  /** send is the server's transport: peer envelopes to their port, responses to the host. */
  send(envelope: Envelope): void {
    if (this.closed) return;
    if (envelope.kind === "peer") {
      const port = this.peers.get(envelope.to);
      if (port) this.post(envelope.to, port, envelope);
      return;
    }
    if (envelope.kind === "response") {
      this.events.beforeResponse();
      const message: TimedResponse = {
        kind: "timed-response",
        envelope,
        sentAtMs: this.events.nowMs(),
      };
      this.post(clientLink, this.hostPort, message);
    }
    // A server never sends requests of its own; servers reach each other with peer envelopes.
  }

  /** pushToHost posts a status push; observation is not traffic, so faults do not apply. */
  pushToHost(message: Push): void {
    if (!this.closed) this.hostPort.postMessage(message);
  }

  /** ping measures one round trip to `url` over its port (faults apply); null if none answers. */
  ping(url: string, timeoutMs: number): Promise<number | null> {
    const port = this.peers.get(url);
    if (!port || this.closed || this.pings.size >= pingsInFlightMax) return Promise.resolve(null);
    const id = this.nextPingId++;
    const startedMs = performance.now();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.pings.delete(id);
        resolve(null);
      }, timeoutMs);
      this.timers.add(timer);
      this.pings.set(id, () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(performance.now() - startedMs);
      });
      this.post(url, port, { kind: "ping", id });
    });
  }

  /** close stops all traffic at once: ports closed, delayed messages dropped (a crash). */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const port of this.peers.values()) port.close();
    this.peers.clear();
    this.hostPort.close();
  }

  private fromHost(message: WorkerBound): void {
    // Anything but an object is no message at all; the server checks the rest of its shape.
    if (this.closed || typeof message !== "object" || message === null) return;
    if (message.kind === "refresh") return this.events.refresh(message.id);
    if (this.dropsIncoming(clientLink)) return;
    this.events.deliver(message);
  }

  private fromPeer(url: string, port: MessagePort, message: PeerBound): void {
    if (this.closed || this.dropsIncoming(url)) return;
    if (typeof message !== "object" || message === null) return;
    if (message.kind === "ping") {
      this.post(url, port, { kind: "pong", id: message.id });
      return;
    }
    if (message.kind === "pong") {
      const done = this.pings.get(message.id);
      this.pings.delete(message.id);
      done?.(performance.now());
      return;
    }
    this.events.deliver(message);
  }

  private dropsIncoming(link: string): boolean {
    return this.faults.get(link)?.blocked === true;
  }

  private post(link: string, port: MessagePort, message: PeerBound | TimedResponse): void {
    const faults = this.faults.get(link) ?? noFaults;
    if (faults.blocked || this.random.chance(faults.lossRate)) return;
    if (faults.latencyMs <= 0) {
      port.postMessage(message);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) port.postMessage(message);
    }, faults.latencyMs);
    this.timers.add(timer);
  }
}
