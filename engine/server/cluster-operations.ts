import type { NodeTag } from "../core/index.ts";
import {
  clusterNodeTags,
  isBootstrapped,
  normaliseServerUrl,
  prepareClusterCommand,
  validateClusterCommand,
} from "../cluster/index.ts";
import type { ClusterCommand, ClusterCommandResult } from "../cluster/index.ts";
import { quorum } from "../raft/index.ts";
import { checkRequest } from "../transport/index.ts";
import type { ServerRequest, ServerResponse } from "../transport/index.ts";
import {
  bootstrapsACluster,
  commandFor,
  describeOperation,
  isClusterOperation,
} from "./cluster-commands.ts";
import type { ClusterOperationRequest } from "./cluster-commands.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { failure, fromError } from "./context.ts";
import type { ServerContext } from "./context.ts";
import type { Observer } from "./observer.ts";
import type { PeerCalls } from "./peer-calls.ts";

/**
 * ClusterOperations runs the cluster-wide operations (add or remove a node, create or delete a
 * database, database settings): on the leader it validates and proposes the command; elsewhere it
 * forwards the request to the leader; without a leader it waits, bounded by
 * clusterOperationTimeoutMs, then fails with an error that names the operation and the quorum.
 */
export class ClusterOperations {
  /** Forwarded requests being answered. */
  private forwardsInFlight = 0;

  constructor(
    private readonly context: ServerContext,
    private readonly node: ClusterNode,
    private readonly peers: PeerCalls,
    private readonly observer: Observer,
  ) {}

  /** run answers a cluster-wide operation sent to this server. */
  async run(request: ClusterOperationRequest): Promise<ServerResponse> {
    if (!this.node.rachis) {
      if (!bootstrapsACluster(request)) {
        return failure(
          "NotInCluster",
          `${this.context.url} is not part of a cluster yet; ${describeOperation(request)} needs one. Create a database or add a node first.`,
        );
      }
      this.node.bootstrap();
    }
    const deadline = this.context.clock.nowMs() + this.context.timing.clusterOperationTimeoutMs;
    for (;;) {
      const rachis = this.node.rachis!;
      const soft = rachis.soft();
      if (soft.role === "leader") {
        await this.context.waiters.until(
          () => this.readyToLead() || rachis.soft().role !== "leader",
          deadline,
        );
        if (this.readyToLead()) return await this.executeAsLeader(request, deadline);
      } else if (soft.leader !== null) {
        const forwarded = await this.forward(request, soft.leader, deadline);
        if (forwarded) return forwarded;
      }
      if (this.context.clock.nowMs() >= deadline) return this.noLeader(request);
      const term = soft.term;
      await this.context.waiters.until(
        () =>
          rachis.soft().leader !== null && (rachis.soft().term !== term || soft.leader === null),
        deadline,
      );
    }
  }

  /** busy tells whether a forwarded request is still being answered. */
  get busy(): boolean {
    return this.forwardsInFlight > 0;
  }

  /** answerForward runs a request another server forwarded to this one, and sends the result. */
  async answerForward(fromUrl: string, requestId: number, request: unknown): Promise<void> {
    this.forwardsInFlight++;
    try {
      const response = await this.runForwarded(request);
      this.context.sendPeer(fromUrl, { type: "forward-result", requestId, response });
    } finally {
      this.forwardsInFlight--;
    }
  }

  /** runForwarded checks a forwarded request as the boundary it crossed, then runs it here. */
  private async runForwarded(raw: unknown): Promise<ServerResponse> {
    try {
      const request = checkRequest(raw);
      if (!isClusterOperation(request))
        return failure("InvalidRequest", `${request.type} is not a cluster-wide operation`);
      if (!this.node.isLeaderInOffice())
        return failure("NotLeader", `node ${this.node.tag} is no longer the leader`);
      const deadline = this.context.clock.nowMs() + this.context.timing.clusterOperationTimeoutMs;
      return await this.executeAsLeader(request, deadline);
    } catch (error) {
      return fromError(error);
    }
  }

  /** forward asks the leader to run the request; undefined when it did not answer in time. */
  private async forward(
    request: ServerRequest,
    leader: NodeTag,
    deadline: number,
  ): Promise<ServerResponse | undefined> {
    const leaderUrl = this.node.urlOf(leader);
    if (!leaderUrl) return undefined;
    const reply = await this.peers.call(
      leaderUrl,
      (requestId) => ({
        type: "forward",
        requestId,
        request,
        description: describeOperation(request),
      }),
      deadline,
    );
    if (reply?.type !== "forward-result") return undefined;
    return await this.afterForward(reply.response, deadline);
  }

  /**
   * readyToLead: this leader is in office and has applied everything it committed (its own
   * bootstrap included), so a command is validated against the latest cluster state. With
   * synchronous storage that holds as soon as it is in office; with asynchronous storage
   * (fs, IndexedDB) applying trails committing by one write.
   */
  private readyToLead(): boolean {
    const rachis = this.node.rachis!;
    if (!rachis.isLeaderInOffice() || !isBootstrapped(rachis.state)) return false;
    const status = rachis.status();
    return status.applied >= status.commit;
  }

  /** afterForward waits until this server applied what the leader did, so reads see it here. */
  private async afterForward(response: ServerResponse, deadline: number): Promise<ServerResponse> {
    if (response.ok) {
      const index = (response.result as { raftIndex?: number } | undefined)?.raftIndex ?? 0;
      const rachis = this.node.rachis!;
      await this.context.waiters.until(() => rachis.status().applied >= index, deadline);
    }
    return response;
  }

  /** unreachableTags lists the servers this leader has not heard from lately. */
  private unreachableTags(): NodeTag[] {
    const now = this.context.clock.nowMs();
    return clusterNodeTags(this.node.rachis!.state).filter(
      (tag) => tag !== this.node.tag && !this.node.reachable(tag, now),
    );
  }

  private noLeader(request: ServerRequest): ServerResponse {
    const status = this.node.rachis!.status();
    const voters = status.membership.voters.length;
    const now = this.context.clock.nowMs();
    const reachable =
      1 +
      status.membership.voters.filter(
        (tag) => tag !== this.node.tag && this.node.reachable(tag, now),
      ).length;
    return failure(
      "NoLeader",
      `no leader: ${describeOperation(request)} needs ${quorum(voters)} of ${voters} nodes; ${reachable} reachable from node ${this.node.tag}. ` +
        `Cluster-wide operations wait for a majority; documents can still be read and written.`,
      { needed: quorum(voters), voters, reachable },
    );
  }

  private async executeAsLeader(request: ServerRequest, deadline: number): Promise<ServerResponse> {
    if (request.type === "add-node")
      return await this.addNodeAsLeader(request.url, request.tag, deadline);
    return await this.proposeCommand(commandFor(request), deadline, request);
  }

  private async proposeCommand(
    raw: ClusterCommand,
    deadline: number,
    request: ServerRequest,
  ): Promise<ServerResponse> {
    const rachis = this.node.rachis!;
    const prepared = prepareClusterCommand(rachis.state, raw, this.unreachableTags());
    if (!prepared.ok)
      return failure(prepared.error.code, prepared.error.message, prepared.error.details);
    const proposal = rachis.propose(prepared.command);
    const refused = proposal.accepted ? undefined : proposal.result;
    if (refused && !refused.accepted && refused.reason === "too-many-uncommitted") {
      const why = refused.detail ?? "too many entries wait to commit (uncommittedEntriesMax)";
      return failure(
        "ServerBusy",
        `${this.context.url} is busy: ${describeOperation(request)} cannot be proposed now: ${why}. Try again shortly.`,
      );
    }
    if (!proposal.accepted) return this.noLeader(request);
    const outcome = await Promise.race([
      proposal.outcome,
      this.context.waiters.until(() => false, deadline).then(() => "timeout" as const),
    ]);
    if (outcome === "timeout" || outcome === "lost") return this.noLeader(request);
    // Applying it here deleted this server's copy of what left (DatabaseHosting): the operation
    // is done once those deletes are durable, so a restart cannot bring them back.
    if (outcome.ok && leavesDatabaseGroups.has(raw.type))
      await this.context.writes.persistAsync([]);
    return commandResponse(outcome);
  }

  /**
   * addNodeAsLeader checks the new server like RavenDB does (its URL, that it answers, that it is
   * not in another cluster), records it through Rachis (which gives it the next tag), and lets it
   * join the Raft group as a learner that votes once it has caught up.
   */
  private async addNodeAsLeader(
    rawUrl: string,
    wantedTag: NodeTag | undefined,
    deadline: number,
  ): Promise<ServerResponse> {
    const checked = await this.checkNewNode(rawUrl, deadline);
    if ("refused" in checked) return checked.refused;
    // It joins as a promotable: a Raft learner that catches up before it votes. Only then is it a
    // member, so the cluster never counts on a vote the new server cannot give yet.
    // The command records which server was added (its id), so a server that later comes back
    // under this URL with empty storage is not taken for this node.
    const response = await this.proposeCommand(
      {
        type: "addNode",
        url: checked.url,
        joinAs: "promotable",
        serverId: checked.serverId,
        ...(wantedTag ? { tag: wantedTag } : {}),
      },
      deadline,
      { type: "add-node", url: checked.url },
    );
    if (!response.ok) return response;
    this.observer.reconcileMembership();
    const tag = (response.result as { tag: NodeTag }).tag;
    const rachis = this.node.rachis!;
    await this.context.waiters.until(
      () => rachis.state.topology.members[tag] !== undefined,
      deadline,
    );
    return response;
  }

  /** checkNewNode refuses a URL that is malformed, this server, known, silent or taken. */
  private async checkNewNode(
    rawUrl: string,
    deadline: number,
  ): Promise<{ url: string; serverId: string } | { refused: ServerResponse }> {
    // The checks the cluster applies to the addNode entry, made here first: whichever server
    // leads, a URL already in the cluster (this server's own included) gets the same error.
    const invalid = validateClusterCommand(this.node.rachis!.state, {
      type: "addNode",
      url: rawUrl,
      joinAs: "promotable",
    });
    if (invalid) return refused(invalid.code, invalid.message, invalid.details);
    const url = (normaliseServerUrl(rawUrl) as { url: string }).url;
    const tag = this.node.tag;
    const joinTimeoutMs = this.context.timing.joinTimeoutMs;
    const joinDeadline = Math.min(deadline, this.context.clock.nowMs() + joinTimeoutMs);
    const info = await this.peers.call(
      url,
      (requestId) => ({ type: "node-info-request", requestId }),
      joinDeadline,
    );
    if (!info || info.type !== "node-info-result") {
      return refused(
        "NodeUnreachable",
        `${url} did not answer within ${joinTimeoutMs} ms. Is it running, and can node ${tag} reach it?`,
        { url },
      );
    }
    if (info.topologyId !== null && info.topologyId !== this.node.topologyId) {
      return refused(
        "TopologyMismatch",
        `${url} (node ${info.tag}) belongs to another cluster (${info.topologyId}). Remove it from that cluster first, or start a fresh server.`,
        { url },
      );
    }
    return { url, serverId: info.serverId };
  }
}

function refused(
  code: string,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): { refused: ServerResponse } {
  return { refused: failure(code, message, details) };
}

/** Commands after which a server may host fewer databases, and delete their records. */
const leavesDatabaseGroups = new Set<ClusterCommand["type"]>([
  "deleteDatabase",
  "removeDatabaseNode",
  "removeNode",
]);

function commandResponse(result: ClusterCommandResult): ServerResponse {
  if (!result.ok) return failure(result.error.code, result.error.message, result.error.details);
  const { ok: _ok, ...rest } = result;
  return { ok: true, result: rest };
}
