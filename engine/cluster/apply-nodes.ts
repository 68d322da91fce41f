import { assert, compareNodeTags, nextNodeTag } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type {
  AddNodeCommand,
  BootstrapCommand,
  PromoteNodeCommand,
  RemoveNodeCommand,
} from "./commands.ts";
import type { ClusterState, ClusterTopology, DatabaseRecord } from "./model.ts";
import { normaliseServerUrl } from "./names.ts";
import { clusterNodeUrl, isInGroup } from "./queries.ts";
import { without, withTopologyChange } from "./record-change.ts";
import type { Applied } from "./results.ts";

function requireUrl(url: string): string {
  const normalised = normaliseServerUrl(url);
  assert("url" in normalised, () => `a validated command carries a bad URL: ${url}`);
  return normalised.url;
}

function withoutKey(map: Readonly<Record<NodeTag, string>>, tag: NodeTag): Record<NodeTag, string> {
  return Object.fromEntries(Object.entries(map).filter(([key]) => key !== tag));
}

/** applyBootstrap makes the server the only member of a new cluster, as "A". */
export function applyBootstrap(
  state: ClusterState,
  command: BootstrapCommand,
  raftIndex: number,
): Applied {
  const tag = nextNodeTag(undefined);
  const url = requireUrl(command.url);
  const topology: ClusterTopology = {
    topologyId: command.topologyId,
    members: { [tag]: url },
    promotables: {},
    watchers: {},
    lastNodeTag: tag,
    etag: raftIndex,
    ...(command.serverId !== undefined ? { serverIds: { [tag]: command.serverId } } : {}),
  };
  const message = `${url} bootstrapped cluster ${command.topologyId} as ${tag}`;
  return { state: { ...state, topology }, message, tag };
}

/**
 * applyAddNode gives the server the tag in the command (the leader's choice, or an old tag the
 * server asked for), or the next unused one when there is none. lastNodeTag only grows, so a
 * removed server's tag is never handed to another server.
 */
export function applyAddNode(
  state: ClusterState,
  command: AddNodeCommand,
  raftIndex: number,
): Applied {
  const url = requireUrl(command.url);
  const last = state.topology.lastNodeTag ?? undefined;
  const tag = command.tag ?? nextNodeTag(last);
  assert(clusterNodeUrl(state, tag) === undefined, () => `tag ${tag} is already in use`);
  const role = command.joinAs ?? "member";
  const key = role === "member" ? "members" : role === "promotable" ? "promotables" : "watchers";
  const lastNodeTag = last === undefined || compareNodeTags(tag, last) > 0 ? tag : last;
  const serverIds =
    command.serverId === undefined
      ? state.topology.serverIds
      : { ...state.topology.serverIds, [tag]: command.serverId };
  const topology: ClusterTopology = {
    ...state.topology,
    [key]: { ...state.topology[key], [tag]: url },
    lastNodeTag,
    etag: raftIndex,
    ...(serverIds ? { serverIds } : {}),
  };
  return {
    state: { ...state, topology },
    message: `${url} joined the cluster as ${tag} (${role})`,
    tag,
  };
}

/** applyPromoteNode makes a promotable or watcher server a voting member. */
export function applyPromoteNode(
  state: ClusterState,
  command: PromoteNodeCommand,
  raftIndex: number,
): Applied {
  const url = clusterNodeUrl(state, command.tag);
  assert(url !== undefined, () => `promoteNode: unknown tag ${command.tag}`);
  const topology: ClusterTopology = {
    ...state.topology,
    members: { ...state.topology.members, [command.tag]: url },
    promotables: withoutKey(state.topology.promotables, command.tag),
    watchers: withoutKey(state.topology.watchers, command.tag),
    etag: raftIndex,
  };
  const message = `${command.tag} is now a member of the cluster`;
  return { state: { ...state, topology }, message, tag: command.tag };
}

function leaveGroup(record: DatabaseRecord, tag: NodeTag, raftIndex: number): DatabaseRecord {
  const { members, promotables, rehabs } = record.topology;
  return withTopologyChange(
    record,
    {
      kind: "removed",
      tag,
      headline: `${tag} removed from the group`,
      reason: `node ${tag} was removed from the cluster`,
      topology: {
        members: without(members, tag),
        promotables: without(promotables, tag),
        rehabs: without(rehabs, tag),
      },
    },
    raftIndex,
  );
}

/**
 * applyRemoveNode removes the server from the cluster and from every group it hosted (RavenDB
 * deletes those copies too). lastNodeTag is kept, so the tag stays retired.
 */
export function applyRemoveNode(
  state: ClusterState,
  command: RemoveNodeCommand,
  raftIndex: number,
): Applied {
  const { tag } = command;
  const topology: ClusterTopology = {
    ...state.topology,
    members: withoutKey(state.topology.members, tag),
    promotables: withoutKey(state.topology.promotables, tag),
    watchers: withoutKey(state.topology.watchers, tag),
    etag: raftIndex,
    ...(state.topology.serverIds ? { serverIds: withoutKey(state.topology.serverIds, tag) } : {}),
  };
  const databases: Record<string, DatabaseRecord> = {};
  for (const [key, record] of Object.entries(state.databases)) {
    databases[key] = isInGroup(record.topology, tag) ? leaveGroup(record, tag, raftIndex) : record;
  }
  return {
    state: { ...state, topology, databases },
    message: `${tag} was removed from the cluster`,
    tag,
  };
}
