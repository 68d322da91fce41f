import { assert } from "../core/index.ts";
import type { NodeTag, Random } from "../core/index.ts";
import type {
  MoveExternalReplicationCommand,
  MoveToRehabCommand,
  PromoteDatabaseNodeCommand,
  RotatePreferredCommand,
  SupervisorCommand,
} from "./commands.ts";
import type { ClusterState, DatabaseRecord, ExternalReplicationTask } from "./model.ts";
import { chooseMentor } from "./placement.ts";
import { databaseRoleOn } from "./status.ts";
import { externalReplicationsOf, responsibleNodeFor } from "./tasks.ts";

/**
 * SupervisorTiming holds the observer's thresholds. RavenDB waits 5 s before rotating a silent
 * preferred node and 60 s before moving a member to rehab; the defaults here are scaled down so a
 * reader who kills a node sees the cluster react while still looking at the page.
 */
export interface SupervisorTiming {
  /** A preferred node (members[0]) silent this long is moved to the end of the members. */
  readonly rotatePreferredAfterMs: number;
  /** A member silent this long is moved to rehab (unless it is the last member). */
  readonly moveToRehabAfterMs: number;
  /**
   * A node heard from within this window counts as up: only up nodes are promoted, and only the
   * reports of up nodes are trusted to say a candidate has caught up (RavenDB: fresh reports).
   */
  readonly heardWithinMs: number;
}

/** supervisorTimingDefault is the teaching timing: seconds, not RavenDB's 5 s / 60 s. */
export const supervisorTimingDefault: SupervisorTiming = {
  rotatePreferredAfterMs: 1_000,
  moveToRehabAfterMs: 3_000,
  heardWithinMs: 1_000,
};

/** NodeHealthReport is what the leader knows of one server's health. */
export interface NodeHealthReport {
  /** When the leader last heard from the server, on the leader's clock. */
  readonly lastHeardMs: number;
}

/** DatabaseNodeReport is one server's report about its instance of one database. */
export interface DatabaseNodeReport {
  /** The last etag of this instance. */
  readonly lastEtag: number;
  /**
   * For each destination this instance replicates to, the last etag of this instance that the
   * destination has accepted. A destination missing here has not connected yet.
   */
  readonly acceptedEtags: Readonly<Record<NodeTag, number>>;
}

/** SupervisorInput is everything one round of the observer looks at. */
export interface SupervisorInput {
  readonly state: ClusterState;
  readonly nowMs: number;
  /** Health per server; a server missing here has not been heard from by this leader. */
  readonly nodes: Readonly<Record<NodeTag, NodeHealthReport>>;
  /** Reports per database name (as in the record), then per server. */
  readonly databases: Readonly<Record<string, Readonly<Record<NodeTag, DatabaseNodeReport>>>>;
  /**
   * When this leader started observing. Silence is counted from here at the earliest, so a newly
   * elected leader does not punish servers for what happened before it could hear them. Default 0.
   */
  readonly observingSinceMs?: number;
  readonly timing?: Partial<SupervisorTiming>;
  /**
   * Shuffle the members after a promotion, as RavenDB does since 4.2 to spread preferred nodes.
   * Off by default: the chapter has a recovered node come back as the last member.
   */
  readonly shuffleAfterPromotion?: boolean;
  /** Where the shuffle draws from; required when shuffleAfterPromotion is on. */
  readonly random?: Random;
}

/** SupervisorNoteStatus says why a node was left as it is this round. */
export type SupervisorNoteStatus =
  "notResponding" | "lastMember" | "waitingForReport" | "catchingUp";

/** SupervisorNote explains a decision not taken, for the UI (RavenDB's promotable status). */
export interface SupervisorNote {
  readonly database: string;
  readonly tag: NodeTag;
  readonly status: SupervisorNoteStatus;
  readonly message: string;
}

/** SupervisorRound is the outcome of one round: commands to propose, and notes. */
export interface SupervisorRound {
  readonly commands: SupervisorCommand[];
  readonly notes: SupervisorNote[];
}

interface Round {
  readonly input: SupervisorInput;
  readonly timing: SupervisorTiming;
  readonly notes: SupervisorNote[];
}

function silenceMs(round: Round, tag: NodeTag): number {
  const since = round.input.observingSinceMs ?? 0;
  const heard = round.input.nodes[tag]?.lastHeardMs ?? since;
  return Math.max(0, round.input.nowMs - Math.max(heard, since));
}

const isUp = (round: Round, tag: NodeTag): boolean =>
  silenceMs(round, tag) < round.timing.heardWithinMs;

function note(
  round: Round,
  record: DatabaseRecord,
  tag: NodeTag,
  status: SupervisorNoteStatus,
  message: string,
): undefined {
  round.notes.push({ database: record.name, tag, status, message });
  return undefined;
}

/**
 * superviseCluster runs one round of the cluster observer (on the leader only) and returns the
 * topology commands to propose: at most one per database, each with the reason the UI shows.
 * Per database, in order: a member silent for moveToRehabAfterMs goes to rehab; a silent preferred
 * node is rotated to the end of the members after rotatePreferredAfterMs; a rehab, then a
 * promotable, whose mentor has sent it everything is promoted to the end of the members; last, an
 * external replication task whose responsible node is no longer where the task belongs (a member
 * chosen by responsibleNodeFor) is handed to that member. The last member is never demoted
 * (RavenDB demotes it too, then promotes the most up-to-date rehab back with an alert; the book's
 * supervisor page lists the difference). Pure: the same input gives the same round.
 */
export function superviseCluster(input: SupervisorInput): SupervisorRound {
  const timing = { ...supervisorTimingDefault, ...input.timing };
  assert(timing.rotatePreferredAfterMs > 0, "rotatePreferredAfterMs must be positive");
  assert(timing.moveToRehabAfterMs > 0, "moveToRehabAfterMs must be positive");
  assert(
    input.shuffleAfterPromotion !== true || input.random !== undefined,
    "shuffleAfterPromotion needs a Random to draw the new order from",
  );
  const round: Round = { input, timing, notes: [] };
  const commands: SupervisorCommand[] = [];
  for (const record of Object.values(input.state.databases)) {
    const command =
      superviseMembers(round, record) ??
      superviseCandidates(round, record) ??
      superviseTasks(round, record);
    if (command !== undefined) commands.push(command);
  }
  return { commands, notes: round.notes };
}

function superviseMembers(
  round: Round,
  record: DatabaseRecord,
): MoveToRehabCommand | RotatePreferredCommand | undefined {
  const { members } = record.topology;
  const { rotatePreferredAfterMs, moveToRehabAfterMs } = round.timing;
  for (const [position, tag] of members.entries()) {
    const silent = silenceMs(round, tag);
    const reason = `no heartbeat for ${silent} ms`;
    if (silent >= moveToRehabAfterMs) {
      if (members.length > 1) return { type: "moveToRehab", database: record.name, tag, reason };
      const message = `${tag} is silent (${reason}) but is the last member of '${record.name}'; kept`;
      note(round, record, tag, "lastMember", message);
    } else if (position === 0 && silent >= rotatePreferredAfterMs) {
      // Rotating onto another silent node would only start a rotation every round.
      const successor = members
        .slice(1)
        .find((other) => silenceMs(round, other) < rotatePreferredAfterMs);
      if (successor !== undefined)
        return { type: "rotatePreferred", database: record.name, tag, reason };
      const message = `${tag} is silent (${reason}) and no other member answers; not rotated`;
      note(round, record, tag, "notResponding", message);
    }
  }
  return undefined;
}

function superviseCandidates(
  round: Round,
  record: DatabaseRecord,
): PromoteDatabaseNodeCommand | undefined {
  const { members, promotables, rehabs } = record.topology;
  for (const tag of rehabs) {
    // Like a promotable, a rehab comes back on its mentor's word (RavenDB's TryPromote with the
    // node WhoseTaskIsIt picks); Rookery's mentor for it is the least busy member that answers.
    const upMembers = members.filter((member) => isUp(round, member));
    const mentor = upMembers.length > 0 ? chooseMentor(upMembers, record.mentors) : undefined;
    const caughtUp = checkCaughtUp(round, record, tag, mentor);
    if (caughtUp !== undefined) return promote(round, record, tag, caughtUp);
  }
  for (const tag of promotables) {
    const mentor = record.mentors[tag];
    assert(mentor !== undefined, () => `promotable ${tag} of '${record.name}' has no mentor`);
    const caughtUp = checkCaughtUp(round, record, tag, isUp(round, mentor) ? mentor : undefined);
    if (caughtUp !== undefined) return promote(round, record, tag, caughtUp);
  }
  return undefined;
}

/**
 * checkCaughtUp returns the promotion reason when `tag` is up and its mentor (undefined when no
 * mentor answers) has seen it accept the mentor's last etag; otherwise it leaves a note and
 * returns undefined.
 */
function checkCaughtUp(
  round: Round,
  record: DatabaseRecord,
  tag: NodeTag,
  mentor: NodeTag | undefined,
): string | undefined {
  if (!isUp(round, tag)) {
    const message = `${tag} is not responding (no heartbeat for ${silenceMs(round, tag)} ms)`;
    return note(round, record, tag, "notResponding", message);
  }
  if (mentor === undefined) {
    const message = `no mentor of ${tag} is responding, so its progress is unknown`;
    return note(round, record, tag, "waitingForReport", message);
  }
  const report = round.input.databases[record.name]?.[mentor];
  const accepted = report?.acceptedEtags[tag];
  if (report === undefined || accepted === undefined) {
    const message = `mentor ${mentor} has not reported sending to ${tag} yet`;
    return note(round, record, tag, "waitingForReport", message);
  }
  if (accepted < report.lastEtag) {
    const message = `${tag} is catching up: it accepted etag ${accepted} of ${report.lastEtag} from mentor ${mentor}`;
    return note(round, record, tag, "catchingUp", message);
  }
  return `caught up with mentor ${mentor} (etag ${report.lastEtag})`;
}

function promote(
  round: Round,
  record: DatabaseRecord,
  tag: NodeTag,
  reason: string,
): PromoteDatabaseNodeCommand {
  const database = record.name;
  const command: PromoteDatabaseNodeCommand = {
    type: "promoteDatabaseNode",
    database,
    tag,
    reason,
  };
  if (round.input.shuffleAfterPromotion !== true) return command;
  return {
    ...command,
    membersOrder: shuffle([...record.topology.members, tag], round.input.random!),
  };
}

/** shuffle is Fisher–Yates over a copy, drawing from `random`. */
function shuffle(tags: readonly NodeTag[], random: Random): NodeTag[] {
  const order = [...tags];
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * superviseTasks moves an external replication task to the member responsibleNodeFor picks when
 * its responsible node is another one: the old node left the members (moved to rehab, removed),
 * or the task's mentor or its place by hash is a member again. RavenDB computes that node on
 * every server from the topology; here the supervisor writes the move into the record, so the
 * move is one Raft command with a reason. A move waits while the new node is not answering.
 */
function superviseTasks(
  round: Round,
  record: DatabaseRecord,
): MoveExternalReplicationCommand | undefined {
  for (const task of externalReplicationsOf(record)) {
    const wanted = responsibleNodeFor(record, task);
    if (wanted === null || wanted === task.responsibleNode) continue;
    if (!isUp(round, wanted)) {
      const message =
        `task '${task.name}' belongs on ${wanted}, which is not responding ` +
        `(no heartbeat for ${silenceMs(round, wanted)} ms); it stays on ${task.responsibleNode ?? "no node"}`;
      note(round, record, wanted, "notResponding", message);
      continue;
    }
    return {
      type: "moveExternalReplication",
      database: record.name,
      taskId: task.taskId,
      from: task.responsibleNode,
      to: wanted,
      reason: whyMove(record, task, wanted),
    };
  }
  return undefined;
}

function whyMove(record: DatabaseRecord, task: ExternalReplicationTask, to: string): string {
  const from = task.responsibleNode;
  if (from === null) return `no node ran the task; ${to} is a member`;
  const role = databaseRoleOn(record, from);
  if (role === undefined) return `${from} no longer hosts '${record.name}'`;
  if (role === "rehab") return `${from} is in rehab and no longer a member`;
  if (role === "promotable") return `${from} is a promotable, not a member`;
  if (to === task.mentorNode) return `${to} is the task's mentor node and a member again`;
  return `${to} is a member again and the task's place by hash`;
}
