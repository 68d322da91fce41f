import { quote, RookeryError } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import { normaliseServerUrl } from "../cluster/index.ts";
import type { ClusterState } from "../cluster/index.ts";
import type { SoftState } from "../raft/index.ts";
import type {
  Envelope,
  PeerMessage,
  ServerRequest,
  ServerResponse,
  ServerTransport,
} from "../transport/index.ts";
import { isClusterOperation } from "./cluster-commands.ts";
import { ClusterNode } from "./cluster-node.ts";
import { ClusterOperations } from "./cluster-operations.ts";
import { fromError } from "./context.ts";
import type { ServerContext } from "./context.ts";
import { DatabaseHosting } from "./database-hosting.ts";
import type { HostedDatabase } from "./hosted-database.ts";
import { LocalRequests } from "./local-requests.ts";
import { Observer } from "./observer.ts";
import { PeerCalls } from "./peer-calls.ts";
import type { ServerOptions } from "./ports.ts";
import type { RachisHost } from "./rachis-host.ts";
import { withTiming, type ServerTiming, type TimingOptions } from "./timing.ts";
import type { RachisView } from "./rachis-view.ts";
import { Waiters } from "./waiters.ts";
import { WriteChain } from "./write-chain.ts";

type Stores = ReadonlyMap<string, ReadonlyMap<string, unknown>>;

/**
 * Server is one RavenDB-style server: Rachis for the cluster layer, database instances with
 * multi-master replication for the database layer, the supervisor when it leads, and one request
 * API for clients and the UI. It owns no timer and no socket: its runtime calls tick() every
 * tickMs, hands it envelopes, and gives it a Storage, a Transport and a Clock.
 *
 * This file only composes the parts, each with one job: ClusterNode (its place in the cluster
 * and its Raft node), ClusterOperations (cluster-wide operations through the leader),
 * DatabaseHosting (the databases it hosts), Observer (health reports, supervisor, membership),
 * LocalRequests (what it answers alone), PeerCalls and Waiters (bounded waits), WriteChain (its
 * ordered writes to storage).
 */
export class Server {
  readonly url: string;
  private readonly transport: ServerTransport;
  private readonly context: ServerContext;
  private readonly writes: WriteChain;
  private readonly waiters: Waiters;
  private readonly peers: PeerCalls;
  private readonly node: ClusterNode;
  private readonly hosting: DatabaseHosting;
  private readonly observer: Observer;
  private readonly operations: ClusterOperations;
  private readonly local: LocalRequests;
  private requestsInFlight = 0;

  private constructor(options: ServerOptions) {
    const normalised = normaliseServerUrl(options.url);
    if ("problem" in normalised)
      throw new RookeryError(
        "InvalidUrl",
        `cannot start a server at ${quote(options.url)}: it ${normalised.problem}`,
      );
    this.url = normalised.url;
    this.transport = options.transport;
    this.writes = new WriteChain(options.storage);
    this.waiters = new Waiters(options.clock);
    const send = (url: string, message: PeerMessage): void =>
      this.transport.send({ kind: "peer", from: this.url, to: url, message });
    this.context = {
      url: this.url,
      clock: options.clock,
      random: options.random,
      timing: withTiming(options.timing),
      writes: this.writes,
      waiters: this.waiters,
      trace: options.trace ?? (() => {}),
      detail: { raftMessages: options.traceRaftMessages ?? false },
      sendPeer: send,
    };
    this.peers = new PeerCalls(send);
    this.node = new ClusterNode(this.context, {
      applied: (command, state) => {
        this.observer.onApplied(command);
        this.hosting.reconcile(state);
      },
      restored: (state) => this.hosting.reconcile(state),
      roleChanged: (soft) => this.observer.onRoleChanged(soft),
    });
    this.hosting = new DatabaseHosting(this.context, this.node, options.replicationLimits ?? {});
    this.observer = new Observer(this.context, this.node, this.hosting);
    this.operations = new ClusterOperations(this.context, this.node, this.peers, this.observer);
    this.local = new LocalRequests(this.context, this.node, this.hosting);
  }

  /**
   * start opens a server on its storage: a fresh one is passive and shows "?"; one that was in a
   * cluster recovers its tag, its Raft log, the cluster state and its databases.
   */
  static async start(options: ServerOptions): Promise<Server> {
    const server = new Server(options);
    server.recover(await options.storage.load());
    return server;
  }

  /** startSync is start() for storage whose load is synchronous (the simulator's). */
  static startSync(options: ServerOptions): Server {
    const server = new Server(options);
    const loaded = options.storage.load();
    if (loaded instanceof Promise)
      throw new Error("startSync needs synchronous storage; use Server.start");
    server.recover(loaded);
    return server;
  }

  private recover(stores: Stores): void {
    this.hosting.recover(stores);
    this.node.recover(stores);
  }

  get tag(): NodeTag {
    return this.node.tag;
  }

  // The runtime may re-time a running server (Raft counts ticks: only its pace changes), ask for
  // more in its trace, and show its Rachis (the book's panels).
  get timing(): ServerTiming {
    return this.context.timing;
  }
  tune(change: { readonly timing?: TimingOptions; readonly raftMessages?: boolean }): void {
    if (change.timing) this.context.timing = withTiming(change.timing);
    if (change.raftMessages !== undefined) this.context.detail.raftMessages = change.raftMessages;
  }
  rachisView(): RachisView | undefined {
    return this.node.rachis?.view();
  }

  get clusterState(): ClusterState | undefined {
    return this.node.state;
  }

  soft(): SoftState | undefined {
    return this.node.soft();
  }

  /** appliedIndex is the Raft index of the cluster state this server applied (0 without a cluster). */
  appliedIndex(): number {
    return this.node.rachis?.appliedIndex() ?? 0;
  }

  raftStatus(): ReturnType<RachisHost["status"]> | undefined {
    return this.node.rachis?.status();
  }

  hostedDatabase(name: string): HostedDatabase | undefined {
    return this.hosting.get(name);
  }

  hostedDatabaseNames(): string[] {
    return this.hosting.names();
  }

  // ---------------------------------------------------------------------------------------------
  // The runtime's entry points.

  /** tick is called every timing.tickMs by the runtime. */
  tick(): void {
    const now = this.context.clock.nowMs();
    this.node.rachis?.tick();
    this.hosting.tick(now);
    this.observer.tick(now);
    this.waiters.settle(now);
    this.peers.expire(now);
  }

  /** receive handles one envelope addressed to this server. */
  receive(envelope: Envelope): void {
    if (envelope.kind === "request") {
      void this.handleRequest(envelope.request).then((response) =>
        this.transport.send({
          kind: "response",
          from: this.url,
          to: envelope.from,
          requestId: envelope.requestId,
          response,
        }),
      );
      return;
    }
    if (envelope.kind === "peer") this.receivePeer(envelope.from, envelope.message);
  }

  /** handleRequest answers one request; it never throws, errors travel as ServerError. */
  async handleRequest(request: ServerRequest): Promise<ServerResponse> {
    this.requestsInFlight++;
    try {
      if (isClusterOperation(request)) return await this.operations.run(request);
      return this.local.withTopologyEtag(request, await this.local.answer(request));
    } catch (error) {
      // Errors carry the topology etag too: "offline here" is how a client learns it is stale.
      return this.local.withTopologyEtag(request, fromError(error));
    } finally {
      this.requestsInFlight--;
    }
  }

  /**
   * hasPendingWork tells a virtual-time runtime that promise continuations inside this server may
   * be waiting to run, so it should let them run before the next simulated event.
   */
  hasPendingWork(): boolean {
    return (
      this.requestsInFlight > 0 ||
      this.waiters.size > 0 ||
      this.peers.size > 0 ||
      this.writes.busy ||
      this.observer.busy ||
      this.operations.busy
    );
  }

  private receivePeer(fromUrl: string, message: PeerMessage): void {
    this.node.heardFrom(fromUrl);
    switch (message.type) {
      case "raft":
        return this.node.receiveRaft(fromUrl, message.topologyId, message.toTag, message.message);
      case "replication":
        return this.hosting.receive(message.message);
      case "node-info-request":
        return this.context.sendPeer(fromUrl, {
          type: "node-info-result",
          requestId: message.requestId,
          tag: this.node.tag,
          topologyId: this.node.topologyId,
        });
      case "forward":
        void this.operations.answerForward(fromUrl, message.requestId, message.request);
        return;
      case "health-report":
        return this.observer.receiveReport(message);
      case "node-info-result":
      case "forward-result":
        return this.peers.answer(message);
    }
  }
}
