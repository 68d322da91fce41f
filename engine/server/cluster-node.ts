import { UNASSIGNED_TAG } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import {
  clusterNodeUrl,
  findDatabase,
  findTagByUrl,
  renderClusterCommand,
} from "../cluster/index.ts";
import type { ClusterCommand, ClusterCommandResult, ClusterState } from "../cluster/index.ts";
import type { Message as RaftMessage, SoftState } from "../raft/index.ts";
import type { PeerMessage } from "../transport/index.ts";
import { newId } from "./context.ts";
import type { ServerContext } from "./context.ts";
import { RachisHost } from "./rachis-host.ts";
import type { StorageWrite } from "./ports.ts";

/** The store that keeps who this server is in its cluster (tag, cluster id, database ids). */
export const metaStore = "server";

/** ClusterNodeEvents are what the node tells the rest of its server. */
export interface ClusterNodeEvents {
  /** A committed cluster command was applied (after its trace events went out). */
  applied(command: ClusterCommand, state: ClusterState): void;
  /** A snapshot replaced the cluster state. */
  restored(state: ClusterState): void;
  /** This node's Raft role, term or leader changed. */
  roleChanged(soft: SoftState): void;
}

type RaftEnvelope = Extract<PeerMessage, { type: "raft" }>;

/**
 * ClusterNode is a server's place in its cluster: its tag and cluster id, its Rachis node (none
 * while the server is passive, tag "?"), the Raft traffic in and out, and when each peer was last
 * heard from. A passive server becomes a node by bootstrapping a one-node cluster or by joining
 * the cluster that added it, when that cluster first addresses it.
 *
 * Identity: each server has a server id, drawn when it is first needed and kept in its storage.
 * The cluster records the id of the server it added under each tag, and every Raft message names
 * the sender's id and the id it expects at the other end. A server that lost its storage (a new
 * data folder, a deleted log) comes back passive with a new id, so it neither joins under its old
 * tag nor votes with an empty log on entries it once acknowledged; it must be removed and added
 * again, as RavenDB requires of a server with a new data folder.
 */
export class ClusterNode {
  private tagValue: NodeTag = UNASSIGNED_TAG;
  private clusterId: string | null = null;
  private serverIdValue: string | undefined;
  private host: RachisHost | undefined;
  private readonly lastHeardMs = new Map<NodeTag, number>();
  /** Where peers are, learnt from their messages before this node has the topology. */
  private readonly peerUrls = new Map<NodeTag, string>();
  /** Peers' server ids, learnt from their messages before this node has the topology. */
  private readonly peerServerIds = new Map<NodeTag, string>();
  /** Refusals already traced, so a stranger's every message does not fill the trace. */
  private readonly refusalsTraced = new Set<string>();

  constructor(
    private readonly context: ServerContext,
    private readonly events: ClusterNodeEvents,
  ) {}

  get tag(): NodeTag {
    return this.tagValue;
  }

  get topologyId(): string | null {
    return this.clusterId;
  }

  /**
   * serverId is this server's identity in its storage, drawn (and kept) when first needed. The
   * time it was drawn is part of it: a runtime that seeds each run alike (workers do) would
   * otherwise draw the same id again for a server that starts over with empty storage.
   */
  get serverId(): string {
    if (this.serverIdValue === undefined) {
      const drawnAt = Math.floor(this.context.clock.nowMs()).toString(36);
      this.serverIdValue = `${newId(this.context.random)}-${drawnAt}`;
      const write: StorageWrite = {
        store: metaStore,
        op: "put",
        key: "serverId",
        value: this.serverIdValue,
      };
      this.context.writes.persist([write], () => {});
    }
    return this.serverIdValue;
  }

  /** rachis is this server's Raft node, undefined while it is passive. */
  get rachis(): RachisHost | undefined {
    return this.host;
  }

  get state(): ClusterState | undefined {
    return this.host?.state;
  }

  soft(): SoftState | undefined {
    return this.host?.soft();
  }

  isLeaderInOffice(): boolean {
    return this.host?.isLeaderInOffice() ?? false;
  }

  /** urlOf finds a cluster node's URL in the topology this server applied. */
  urlOf(tag: NodeTag): string | undefined {
    return this.host ? clusterNodeUrl(this.host.state, tag) : undefined;
  }

  /** recover takes the server's place back from storage; a server that never joined stays "?". */
  recover(stores: ReadonlyMap<string, ReadonlyMap<string, unknown>>): void {
    const meta = stores.get(metaStore);
    const serverId = meta?.get("serverId");
    if (typeof serverId === "string") this.serverIdValue = serverId;
    const tag = meta?.get("tag");
    const topologyId = meta?.get("topologyId");
    if (typeof tag !== "string" || typeof topologyId !== "string") return;
    this.tagValue = tag;
    this.clusterId = topologyId;
    this.host = this.newRachis(RachisHost.readPersisted(stores));
    this.host.start();
  }

  /** bootstrap makes a passive server node A of a new one-node cluster, and its leader. */
  bootstrap(): void {
    this.tagValue = "A";
    this.clusterId = newId(this.context.random);
    this.persistIdentity();
    const rachis = (this.host = this.newRachis(undefined));
    rachis.bootstrap();
    this.emit(`bootstrapped a one-node cluster and became node A`);
    const proposed = rachis.propose({
      type: "bootstrap",
      url: this.context.url,
      topologyId: this.clusterId,
      serverId: this.serverId,
    });
    if (!proposed.accepted)
      throw new Error(
        `bootstrap proposal refused: ${proposed.result.accepted ? "" : proposed.result.reason}`,
      );
  }

  /** heardFrom notes that a message came from `url`, if it is a node of the cluster. */
  heardFrom(url: string): void {
    const tag = this.host ? findTagByUrl(this.host.state, url) : undefined;
    if (tag) this.lastHeardMs.set(tag, this.context.clock.nowMs());
  }

  /** reachable tells whether `tag` was heard from within timing.reachableWithinMs. */
  reachable(tag: NodeTag, nowMs: number): boolean {
    const heard = this.lastHeardMs.get(tag) ?? -Infinity;
    return nowMs - heard <= this.context.timing.reachableWithinMs;
  }

  /**
   * receiveRaft steps a Raft message. A passive server first joins the cluster it comes from, if
   * that cluster added this very server (the message names its id); a message for a node this
   * server is not, or from a server that is not the node it claims to be, is refused.
   */
  receiveRaft(fromUrl: string, envelope: RaftEnvelope): void {
    const { topologyId, toTag, message } = envelope;
    if (envelope.toServerId !== null && envelope.toServerId !== this.serverId) {
      this.refuseForAnother(topologyId, toTag, message.from);
      return;
    }
    if (!this.host) {
      // Only the cluster that added this server (and so knows its id) makes it a node.
      if (envelope.toServerId !== this.serverId) return;
      this.tagValue = toTag;
      this.clusterId = topologyId;
      this.persistIdentity();
      this.host = this.newRachis(undefined);
      this.emit(`joined cluster ${topologyId} as node ${toTag}`);
    }
    if (topologyId !== this.clusterId || toTag !== this.tagValue) return;
    const known = this.host.state.topology.serverIds?.[message.from];
    if (known !== undefined && known !== envelope.fromServerId) {
      this.refuseImpostor(fromUrl, message.from, known, envelope.fromServerId);
      return;
    }
    this.lastHeardMs.set(message.from, this.context.clock.nowMs());
    // A joining server learns where its peers are from their messages, before it has the topology.
    this.peerUrls.set(message.from, fromUrl);
    this.peerServerIds.set(message.from, envelope.fromServerId);
    this.host.step(message);
  }

  private sendRaft(tag: NodeTag, message: RaftMessage): void {
    const url = this.urlOf(tag) ?? this.peerUrls.get(tag);
    if (!url || !this.clusterId) return;
    if (this.context.detail.raftMessages) this.traceRaft(message);
    const toServerId =
      this.host?.state.topology.serverIds?.[tag] ?? this.peerServerIds.get(tag) ?? null;
    this.context.sendPeer(url, {
      type: "raft",
      topologyId: this.clusterId,
      toTag: tag,
      fromServerId: this.serverId,
      toServerId,
      message,
    });
  }

  /** A message for the node this server was before it lost its storage: say what to do, once. */
  private refuseForAnother(topologyId: string, toTag: NodeTag, from: NodeTag): void {
    this.traceOnce(
      `for ${topologyId}/${toTag}`,
      `refused Raft messages from node ${from} of cluster ${topologyId}: they are for node ` +
        `${toTag}, and this server is not node ${toTag} (server id ${this.serverId}; its storage ` +
        `holds none of that node's state, as after a new data folder). It stays out of that ` +
        `cluster and votes in none of its elections. To bring it back, remove node ${toTag} from ` +
        `the cluster and add this server again; it joins under a new tag and catches up.`,
    );
  }

  /** A message from a server that is not the one the cluster added under its tag. */
  private refuseImpostor(fromUrl: string, tag: NodeTag, known: string, claimed: string): void {
    this.traceOnce(
      `from ${tag}/${claimed}`,
      `refused Raft messages from ${fromUrl} as node ${tag}: the cluster added node ${tag} as ` +
        `server ${known}, and this is server ${claimed}. Remove node ${tag} from the cluster ` +
        `and add that server again.`,
    );
  }

  private traceOnce(key: string, text: string): void {
    if (this.refusalsTraced.has(key)) return;
    this.refusalsTraced.add(key);
    this.emit(text);
  }

  private traceRaft(message: RaftMessage): void {
    const ok =
      message.type === "voteResponse" || message.type === "preVoteResponse"
        ? message.granted
        : message.type === "appendResponse"
          ? message.success
          : undefined;
    this.context.trace({
      type: "raft-message",
      atMs: this.context.clock.nowMs(),
      from: message.from,
      to: message.to,
      kind: message.type,
      term: message.term,
      entries: message.type === "append" ? message.entries.length : 0,
      ...(ok !== undefined ? { ok } : {}),
    });
  }

  private persistIdentity(): void {
    const writes: StorageWrite[] = [
      { store: metaStore, op: "put", key: "tag", value: this.tagValue },
      { store: metaStore, op: "put", key: "topologyId", value: this.clusterId },
      { store: metaStore, op: "put", key: "serverId", value: this.serverId },
    ];
    this.context.writes.persist(writes, () => {});
  }

  private newRachis(persisted: ReturnType<typeof RachisHost.readPersisted>): RachisHost {
    return new RachisHost(
      this.tagValue,
      this.context.random.fork(),
      this.context.timing,
      {
        send: (tag, message) => this.sendRaft(tag, message),
        persist: (writes, done) => this.context.writes.persist(writes, done),
        applied: (index, command, result, state) => this.onApplied(index, command, result, state),
        restored: (state) => this.events.restored(state),
        roleChanged: (soft) => this.onRoleChanged(soft),
      },
      persisted,
    );
  }

  private onApplied(
    index: number,
    command: ClusterCommand,
    result: ClusterCommandResult,
    state: ClusterState,
  ): void {
    const atMs = this.context.clock.nowMs();
    const text = renderClusterCommand(command);
    this.context.trace({
      type: "cluster-command",
      atMs,
      tag: this.tagValue,
      index,
      text,
      ok: result.ok,
    });
    if (result.ok && "database" in command && this.host?.soft().role === "leader") {
      const record = findDatabase(state, command.database);
      const change = record?.recentChanges[record.recentChanges.length - 1];
      if (record && change && change.raftIndex === index)
        this.context.trace({
          type: "topology-change",
          atMs,
          database: record.name,
          message: change.message,
        });
    }
    this.events.applied(command, state);
  }

  private onRoleChanged(soft: SoftState): void {
    this.events.roleChanged(soft);
    this.context.trace({
      type: "role",
      atMs: this.context.clock.nowMs(),
      tag: this.tagValue,
      role: soft.role,
      term: soft.term,
      leader: soft.leader,
    });
  }

  private emit(text: string): void {
    this.context.trace({
      type: "server",
      atMs: this.context.clock.nowMs(),
      url: this.context.url,
      text,
    });
  }
}
