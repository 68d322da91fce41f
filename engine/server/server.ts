import type { NodeTag } from "../core/index.ts";
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
import { checkedRequest, fromError, serverAddress } from "./context.ts";
import type { ServerContext } from "./context.ts";
import { DatabaseHosting } from "./database-hosting.ts";
import { HiloRanges } from "./hilo.ts";
import type { HostedDatabase } from "./hosted-database.ts";
import { LocalRequests } from "./local-requests.ts";
import { Observer } from "./observer.ts";
import { PeerCalls } from "./peer-calls.ts";
import { FailStop } from "./fail-stop.ts";
import { PeerInbox } from "./peer-inbox.ts";
import type { ServerFailure, ServerOptions } from "./ports.ts";
import type { RachisHost } from "./rachis-host.ts";
import { withTiming, type ServerTiming, type TimingOptions } from "./timing.ts";
import type { RachisView } from "./rachis-view.ts";
import { Waiters } from "./waiters.ts";
import { WriteChain } from "./write-chain.ts";

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
  private readonly inbox: PeerInbox;
  private readonly hilo: HiloRanges;
  private requestsInFlight = 0;
  private readonly stopped: FailStop;

  private constructor(options: ServerOptions) {
    this.url = serverAddress(options.url);
    this.transport = options.transport;
    const trace = options.trace ?? (() => {});
    this.stopped = new FailStop(this.url, options.clock, trace, options.onFailStop ?? (() => {}));
    this.writes = new WriteChain(options.storage, this.url, this.stopped.stop);
    this.waiters = new Waiters(options.clock, this.url);
    const send = (url: string, message: PeerMessage): void =>
      this.transport.send({ kind: "peer", from: this.url, to: url, message });
    this.context = {
      url: this.url,
      clock: options.clock,
      random: options.random,
      timing: withTiming(options.timing),
      writes: this.writes,
      waiters: this.waiters,
      trace,
      detail: { raftMessages: options.traceRaftMessages ?? false },
      sendPeer: send,
    };
    this.peers = new PeerCalls(send, this.url);
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
    this.hilo = new HiloRanges(this.context);
    this.local = new LocalRequests(this.context, this.node, this.hosting, this.hilo);
    this.inbox = new PeerInbox(
      this.context,
      this.node,
      this.hosting,
      this.observer,
      this.operations,
      this.peers,
    );
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

  private recover(stores: ReadonlyMap<string, ReadonlyMap<string, unknown>>): void {
    this.hosting.recover(stores);
    this.hilo.recover(stores);
    this.node.recover(stores);
  }

  get tag(): NodeTag {
    return this.node.tag;
  }

  /** failure is why this server stopped by itself (a failed storage write), if it did. */
  get failure(): ServerFailure | undefined {
    return this.stopped.failure;
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

  /** tick is called every timing.tickMs by the runtime. */
  tick(): void {
    if (this.stopped.failure) return;
    const now = this.context.clock.nowMs();
    this.node.rachis?.tick();
    this.hosting.tick(now);
    this.observer.tick(now);
    this.waiters.settle(now);
    this.peers.expire(now);
  }

  /** receive handles one envelope addressed to this server; the inbox checks what it carries. */
  receive(raw: Envelope): void {
    if (this.stopped.failure) return;
    const envelope = this.inbox.envelope(raw);
    if (!envelope) return;
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
    if (envelope.kind === "peer") this.inbox.receive(envelope.from, envelope.message);
  }

  /**
   * handleRequest answers one request; it never throws, errors travel as ServerError. A request
   * that does not match its declared shape is refused with InvalidRequest, naming the field.
   */
  async handleRequest(raw: ServerRequest): Promise<ServerResponse> {
    if (this.stopped.failure) return this.stopped.refusal();
    const checked = checkedRequest(raw);
    if ("refusal" in checked) return checked.refusal;
    const { request } = checked;
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
}
