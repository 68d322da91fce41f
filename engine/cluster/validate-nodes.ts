import { escapeInvisible, isNodeTag } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type {
  AddNodeCommand,
  BootstrapCommand,
  PromoteNodeCommand,
  RemoveNodeCommand,
} from "./commands.ts";
import { clusterError } from "./errors.ts";
import type { ClusterError } from "./errors.ts";
import type { ClusterState } from "./model.ts";
import { normaliseServerUrl, urlScheme } from "./names.ts";
import {
  clusterNodeRole,
  clusterNodeTags,
  clusterNodeUrl,
  findTagByUrl,
  formatTags,
  isBootstrapped,
} from "./queries.ts";

/** validateBootstrap refuses to bootstrap a server that already belongs to a cluster. */
export function validateBootstrap(
  state: ClusterState,
  command: BootstrapCommand,
): ClusterError | undefined {
  if (isBootstrapped(state)) {
    return clusterError(
      "AlreadyBootstrapped",
      `This server already belongs to cluster ${state.topology.topologyId} ` +
        `(nodes: ${formatTags(clusterNodeTags(state))}); only a fresh server can bootstrap a new cluster.`,
      { topologyId: state.topology.topologyId },
    );
  }
  if (command.topologyId.trim() === "") {
    return clusterError("InvalidCommand", "Cannot bootstrap a cluster without a topology id.");
  }
  const url = normaliseServerUrl(command.url);
  if ("problem" in url) {
    return clusterError(
      "InvalidUrl",
      `Cannot bootstrap the cluster: '${escapeInvisible(command.url)}' ${url.problem}.`,
      { url: command.url },
    );
  }
  return undefined;
}

/**
 * validateAddNode checks the URL (a server address, not yet in the cluster, the cluster's
 * scheme) and an explicitly requested tag. The leader checks a request with it before it asks the
 * new server anything, so every server refuses the same input with the same error.
 */
export function validateAddNode(
  state: ClusterState,
  command: AddNodeCommand,
): ClusterError | undefined {
  const normalised = normaliseServerUrl(command.url);
  if ("problem" in normalised) {
    return clusterError(
      "InvalidUrl",
      `Cannot add node '${escapeInvisible(command.url)}': it ${normalised.problem}.`,
      { url: command.url },
    );
  }
  const url = normalised.url;
  const existing = findTagByUrl(state, url);
  if (existing !== undefined) {
    return clusterError(
      "NodeAlreadyInCluster",
      `Cannot add node '${escapeInvisible(url)}': it is already in the cluster as node ${existing}. ` +
        `Remove node ${existing} first if you want to add the server again.`,
      { url, tag: existing },
    );
  }
  const someUrl = clusterNodeUrl(state, clusterNodeTags(state)[0] ?? "");
  if (someUrl !== undefined && urlScheme(someUrl) !== urlScheme(url)) {
    return clusterError(
      "InvalidUrl",
      `Cannot add node '${url}': a cluster must be only HTTPS or only HTTP, and this one uses ` +
        `${urlScheme(someUrl)}.`,
      { url },
    );
  }
  if (command.tag !== undefined) return validateRequestedTag(state, url, command.tag);
  return undefined;
}

function validateRequestedTag(
  state: ClusterState,
  url: string,
  tag: NodeTag,
): ClusterError | undefined {
  if (!isNodeTag(tag)) {
    return clusterError(
      "InvalidNodeTag",
      `Cannot add node '${url}' as '${tag}': a node tag is a letter A–Z, after any number of Z's ` +
        `(A, B … Z, ZA … ZZ, ZZA …).`,
      { url, tag },
    );
  }
  const holder = clusterNodeUrl(state, tag);
  if (holder !== undefined) {
    return clusterError(
      "NodeTagInUse",
      `Cannot add node '${url}' as ${tag}: tag ${tag} belongs to ${holder}. ` +
        `Add ${url} again without a tag to get the next free one.`,
      { url, tag },
    );
  }
  return undefined;
}

function unknownNode(state: ClusterState, action: string, tag: NodeTag): ClusterError {
  return clusterError(
    "UnknownNode",
    `Cannot ${action} node ${escapeInvisible(tag)}: there is no such node in the cluster ` +
      `(nodes: ${formatTags(clusterNodeTags(state))}).`,
    { tag },
  );
}

/** validatePromoteNode accepts promotables and watchers only. */
export function validatePromoteNode(
  state: ClusterState,
  command: PromoteNodeCommand,
): ClusterError | undefined {
  const role = clusterNodeRole(state, command.tag);
  if (role === undefined) return unknownNode(state, "promote", command.tag);
  if (role === "member") {
    return clusterError("WrongRole", `Node ${command.tag} is already a member of the cluster.`, {
      tag: command.tag,
    });
  }
  return undefined;
}

/**
 * validateRemoveNode refuses to remove the last voter, and a node some database cannot do without:
 * removing the only member of a group would leave its clients with no node to talk to.
 */
export function validateRemoveNode(
  state: ClusterState,
  command: RemoveNodeCommand,
): ClusterError | undefined {
  const { tag } = command;
  const role = clusterNodeRole(state, tag);
  if (role === undefined) return unknownNode(state, "remove", tag);
  const members = Object.keys(state.topology.members);
  if (role === "member" && members.length === 1) {
    const only = clusterNodeTags(state).length === 1;
    return clusterError(
      "LastClusterNode",
      only
        ? `Cannot remove node ${tag}: it is the only node of the cluster.`
        : `Cannot remove node ${tag}: it is the only voting member of the cluster. Promote another node first.`,
      { tag },
    );
  }
  for (const record of Object.values(state.databases)) {
    const { members: dbMembers, promotables, rehabs } = record.topology;
    if (dbMembers.length !== 1 || dbMembers[0] !== tag) continue;
    const others = promotables.length + rehabs.length;
    return clusterError(
      "LastMember",
      others === 0
        ? `Cannot remove node ${tag}: it is the only node hosting '${record.name}'. ` +
            `Add another node to '${record.name}' or delete the database first.`
        : `Cannot remove node ${tag}: it is the only member of '${record.name}'. ` +
            `Promote another node of '${record.name}' (${formatTags([...promotables, ...rehabs])}) first.`,
      { tag, database: record.name },
    );
  }
  return undefined;
}
