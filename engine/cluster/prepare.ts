import { nextNodeTag } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type { ClusterCommand } from "./commands.ts";
import type { ClusterError } from "./errors.ts";
import type { ClusterState } from "./model.ts";
import { chooseMentor, chooseNodeToAdd, placeDatabase, placedByLoad } from "./placement.ts";
import { findDatabase } from "./queries.ts";
import { validateClusterCommand } from "./validate.ts";

/** PreparedCommand is a command ready to propose, or why it would be refused. */
export type PreparedCommand =
  | { readonly ok: true; readonly command: ClusterCommand }
  | { readonly ok: false; readonly error: ClusterError };

/**
 * prepareClusterCommand is what the leader runs before proposing: it validates the command and
 * writes the leader's choices into it — where a new database goes, which node joins a group and
 * who mentors it — so the log (and its one-line rendering) records the decision, as RavenDB puts
 * the placed topology into the record it proposes, and the tag a new server gets, as RavenDB's
 * leader does (GenerateNodeTag when it modifies the topology). Two additions prepared from the same
 * state get the same tag; the one committed second is refused when it applies (NodeTagInUse), and
 * asking again gets the next tag.
 */
export function prepareClusterCommand(
  state: ClusterState,
  command: unknown,
  unreachable: readonly NodeTag[] = [],
): PreparedCommand {
  const error = validateClusterCommand(state, command);
  if (error !== undefined) return { ok: false, error };
  const valid = command as ClusterCommand;
  if (valid.type === "createDatabase" && valid.nodes === undefined) {
    const nodes = placeDatabase(state, valid.replicationFactor ?? 1, unreachable);
    const reason = valid.reason ?? placedByLoad(nodes.length);
    return { ok: true, command: { ...valid, replicationFactor: nodes.length, nodes, reason } };
  }
  if (valid.type === "addNode" && valid.tag === undefined) {
    const tag = nextNodeTag(state.topology.lastNodeTag ?? undefined);
    return { ok: true, command: { ...valid, tag } };
  }
  if (valid.type === "addDatabaseNode") {
    const record = findDatabase(state, valid.database)!;
    const tag = valid.tag ?? chooseNodeToAdd(state, record.topology)!;
    const mentor = valid.mentor ?? chooseMentor(record.topology.members, record.mentors);
    return { ok: true, command: { ...valid, tag, mentor } };
  }
  return { ok: true, command: valid };
}
