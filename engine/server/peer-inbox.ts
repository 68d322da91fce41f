import { isRookeryError } from "../core/index.ts";
import { checkEnvelope, checkPeerMessage } from "../transport/index.ts";
import type { Envelope } from "../transport/index.ts";
import type { ClusterNode } from "./cluster-node.ts";
import type { ClusterOperations } from "./cluster-operations.ts";
import type { ServerContext } from "./context.ts";
import type { DatabaseHosting } from "./database-hosting.ts";
import type { Observer } from "./observer.ts";
import type { PeerCalls } from "./peer-calls.ts";

/**
 * PeerInbox takes what other servers send: it checks each message against its declared shape and
 * hands it to the part it is for (Raft to the cluster node, replication (internal and external) to database hosting,
 * health reports to the observer, forwarded operations to cluster operations, answers to peer
 * calls). A message that is malformed, or that its part refuses, is dropped and traced: the
 * sender is a server, so nobody waits for a refusal, and a sound sender sends it again.
 */
export class PeerInbox {
  constructor(
    private readonly context: ServerContext,
    private readonly node: ClusterNode,
    private readonly hosting: DatabaseHosting,
    private readonly observer: Observer,
    private readonly operations: ClusterOperations,
    private readonly peers: PeerCalls,
  ) {}

  /**
   * envelope checks an envelope's addresses; a malformed one is dropped and traced (there is
   * nobody to answer), and undefined comes back.
   */
  envelope(raw: Envelope): Envelope | undefined {
    try {
      return checkEnvelope(raw);
    } catch (error) {
      this.drop(error, "an envelope");
      return undefined;
    }
  }

  receive(fromUrl: string, raw: unknown): void {
    try {
      this.route(fromUrl, raw);
    } catch (error) {
      this.drop(error, `a message from ${fromUrl}`);
    }
  }

  private drop(error: unknown, what: string): void {
    if (!isRookeryError(error)) throw error;
    this.context.trace({
      type: "server",
      atMs: this.context.clock.nowMs(),
      url: this.context.url,
      text: `dropped ${what}: ${error.code}: ${error.message}`,
    });
  }

  private route(fromUrl: string, raw: unknown): void {
    const message = checkPeerMessage(raw);
    this.node.heardFrom(fromUrl);
    switch (message.type) {
      case "raft":
        return this.node.receiveRaft(fromUrl, message);
      case "replication":
        return this.hosting.receive(message.message);
      case "external-replication":
        return this.hosting.receiveExternal(fromUrl, message.envelope);
      case "node-info-request":
        return this.context.sendPeer(fromUrl, {
          type: "node-info-result",
          requestId: message.requestId,
          tag: this.node.tag,
          topologyId: this.node.topologyId,
          serverId: this.node.serverId,
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
