import type { NodeTag } from "../core/index.ts";
import { clusterNodeTags, superviseCluster } from "../cluster/index.ts";
import type { ClusterCommand, DatabaseNodeReport, NodeHealthReport } from "../cluster/index.ts";
import type { SoftState } from "../raft/index.ts";
import type { PeerMessage } from "../transport/index.ts";
import type { ClusterNode } from "./cluster-node.ts";
import type { ServerContext } from "./context.ts";
import type { DatabaseHosting } from "./database-hosting.ts";

type HealthReport = Extract<PeerMessage, { type: "health-report" }>;

interface KnownHealth {
  readonly lastHeardMs: number;
  readonly databases: Record<string, DatabaseNodeReport>;
}

/**
 * Observer is the cluster observer of RavenDB, in two halves. On every server it sends the
 * leader a health report (each hosted database's progress) every healthReportIntervalMs. On the
 * leader it keeps the reports, runs the supervisor every supervisorIntervalMs (one proposed
 * change per database at a time), and keeps the Raft configuration equal to the cluster
 * topology, one membership change at a time, promoting a caught-up promotable to member.
 */
export class Observer {
  private readonly healthReports = new Map<NodeTag, KnownHealth>();
  private leaderSinceMs = 0;
  private lastSupervisorMs = 0;
  private lastHealthReportMs = 0;
  /** Databases with a supervisor change proposed and not yet applied. */
  private readonly supervisorInFlight = new Set<string>();
  private promotingNode = false;

  constructor(
    private readonly context: ServerContext,
    private readonly node: ClusterNode,
    private readonly hosting: DatabaseHosting,
  ) {}

  /** busy tells whether a proposal of the observer's own is still waiting for its outcome. */
  get busy(): boolean {
    return this.supervisorInFlight.size > 0 || this.promotingNode;
  }

  tick(nowMs: number): void {
    this.sendHealthReport(nowMs);
    this.superviseIfLeading(nowMs);
    this.reconcileMembership();
  }

  /** receiveReport keeps a follower's health report (used while this server leads). */
  receiveReport(message: HealthReport): void {
    this.healthReports.set(message.tag, {
      lastHeardMs: this.context.clock.nowMs(),
      databases: { ...message.databases },
    });
  }

  /** onRoleChanged starts observing afresh when this server becomes the leader. */
  onRoleChanged(soft: SoftState): void {
    if (soft.role !== "leader") return;
    this.leaderSinceMs = this.context.clock.nowMs();
    this.healthReports.clear();
    this.supervisorInFlight.clear();
  }

  /** onApplied frees a database for the supervisor's next change once a change to it applied. */
  onApplied(command: ClusterCommand): void {
    if ("database" in command) this.supervisorInFlight.delete(command.database.toLowerCase());
  }

  /** reconcileMembership keeps the Raft configuration equal to the cluster topology, one change at a time. */
  reconcileMembership(): void {
    const rachis = this.node.rachis;
    if (!rachis?.isLeaderInOffice()) return;
    const status = rachis.status();
    if (status.commit < status.membershipIndex) return;
    const topologyTags = clusterNodeTags(rachis.state);
    const raftTags = [...status.membership.voters, ...status.membership.learners];
    const missing = topologyTags.find((tag) => !raftTags.includes(tag));
    if (missing) {
      rachis.proposeMembership({ op: "addLearner", node: missing });
      return;
    }
    const removed = raftTags.find((tag) => !topologyTags.includes(tag));
    if (removed) {
      rachis.proposeMembership({ op: "remove", node: removed });
      return;
    }
    // A promotable whose Raft learner caught up and now votes becomes a member of the cluster.
    const promoted = Object.keys(rachis.state.topology.promotables).find((tag) =>
      status.membership.voters.includes(tag),
    );
    if (promoted && !this.promotingNode) {
      const proposal = rachis.propose({ type: "promoteNode", tag: promoted });
      if (proposal.accepted) {
        this.promotingNode = true;
        void proposal.outcome.then(() => {
          this.promotingNode = false;
        });
      }
    }
  }

  private sendHealthReport(nowMs: number): void {
    const rachis = this.node.rachis;
    if (!rachis || nowMs - this.lastHealthReportMs < this.context.timing.healthReportIntervalMs)
      return;
    this.lastHealthReportMs = nowMs;
    const leader = rachis.soft().leader;
    if (leader === null) return;
    const tag = this.node.tag;
    if (leader === tag) {
      this.healthReports.set(tag, { lastHeardMs: nowMs, databases: this.hosting.report() });
      return;
    }
    const url = this.node.urlOf(leader);
    if (url)
      this.context.sendPeer(url, { type: "health-report", tag, databases: this.hosting.report() });
  }

  private superviseIfLeading(nowMs: number): void {
    const rachis = this.node.rachis;
    if (
      !rachis?.isLeaderInOffice() ||
      nowMs - this.lastSupervisorMs < this.context.timing.supervisorIntervalMs
    )
      return;
    this.lastSupervisorMs = nowMs;
    const state = rachis.state;
    const nodes: Record<NodeTag, NodeHealthReport> = {};
    const databases: Record<string, Record<NodeTag, DatabaseNodeReport>> = {};
    for (const tag of clusterNodeTags(state)) {
      const report = this.healthReports.get(tag);
      nodes[tag] = {
        lastHeardMs: tag === this.node.tag ? nowMs : (report?.lastHeardMs ?? -Infinity),
      };
      for (const [name, dbReport] of Object.entries(report?.databases ?? {})) {
        (databases[name] ??= {})[tag] = dbReport;
      }
    }
    const round = superviseCluster({
      state,
      nowMs,
      nodes,
      databases,
      observingSinceMs: this.leaderSinceMs,
      timing: this.context.timing.supervisor,
    });
    for (const command of round.commands) {
      const key = command.database.toLowerCase();
      if (this.supervisorInFlight.has(key)) continue;
      const proposal = rachis.propose(command);
      if (proposal.accepted) {
        this.supervisorInFlight.add(key);
        void proposal.outcome.then(() => this.supervisorInFlight.delete(key));
      }
    }
  }
}
