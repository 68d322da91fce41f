import type { NodeTag } from "../core/index.ts";
import type { ExternalReplicationTask } from "../cluster/index.ts";
import { ExternalReplication, externalPeerName } from "../replication/index.ts";
import type {
  DestinationCursor,
  ExternalEnvelope,
  ExternalRefusal,
  ExternalReplicationStatus,
  ReplicationAck,
  ReplicationBatch,
  ReplicationLimits,
  ReplicationSource,
} from "../replication/index.ts";

/** ExternalTasksEvents connect a database's external replication tasks to their server. */
export interface ExternalTasksEvents {
  /** Post an envelope to a server of another cluster, by URL. */
  sendExternal(url: string, envelope: ExternalEnvelope): void;
  /** A batch left for the destination (for the trace). */
  externalBatchSent(taskName: string, batch: ReplicationBatch, url: string): void;
}

/**
 * ExternalTasks runs the external replication tasks of one hosted database that the record gives
 * to this node (their responsible node), and only while they are enabled: it starts a task's
 * connection when the task comes here, drops it when the task moves away, pumps each one, and
 * hands over each task's moved cursor, kept on disk so a restarted node shows where it was.
 */
export class ExternalTasks {
  private readonly running = new Map<number, ExternalReplication>();
  /** Tasks whose cursor moved since the last tick saved them. */
  private readonly moved = new Set<number>();

  constructor(
    private readonly database: string,
    private readonly tag: NodeTag,
    private readonly source: ReplicationSource,
    private readonly events: ExternalTasksEvents,
    private readonly limits: Partial<ReplicationLimits>,
    private readonly cursors: ReadonlyMap<string, DestinationCursor> = new Map(),
    /** The last etag the source's disk holds: a task sends nothing past it (a crash may lose it). */
    private readonly durableEtag: () => number = () => Infinity,
  ) {}

  /**
   * follow runs exactly the tasks of `tasks` that are enabled and whose responsible node is this
   * node. A task whose destination changed starts over with a new connection.
   */
  follow(tasks: readonly ExternalReplicationTask[], nowMs: number, retryMs: number): void {
    const mine = tasks.filter((task) => task.responsibleNode === this.tag && !task.disabled);
    for (const taskId of [...this.running.keys()]) {
      if (!mine.some((task) => task.taskId === taskId)) this.running.delete(taskId);
    }
    for (const task of mine) {
      const current = this.running.get(task.taskId);
      const same =
        current !== undefined &&
        current.config.destinationDatabase === task.destinationDatabase &&
        current.config.destinationUrls.join(" ") === task.destinationUrls.join(" ") &&
        current.config.name === task.name;
      if (same) continue;
      const cursor = this.cursors.get(externalPeerName(task.taskId));
      this.running.set(
        task.taskId,
        new ExternalReplication(
          {
            taskId: task.taskId,
            name: task.name,
            sourceDatabase: this.database,
            sourceTag: this.tag,
            destinationDatabase: task.destinationDatabase,
            destinationUrls: task.destinationUrls,
          },
          {
            limits: this.limits,
            // A cursor kept for another destination says nothing about this one.
            ...(cursor && current === undefined ? { cursor } : {}),
          },
        ),
      );
    }
    this.pump(nowMs, retryMs);
  }

  /** pump sends what each running task has to send now. */
  pump(nowMs: number, retryMs: number): void {
    for (const task of this.running.values())
      this.post(task, task.pump(this.source, nowMs, retryMs, this.durableEtag()));
  }

  /** receive hands a destination's answer to the task it is for. */
  receive(
    fromUrl: string,
    taskId: number,
    message: ReplicationAck | ExternalRefusal,
    nowMs: number,
    retryMs: number,
  ): void {
    const task = this.running.get(taskId);
    if (task === undefined) return;
    const before = task.lastAcceptedEtag;
    this.post(
      task,
      task.receive(fromUrl, message, this.source, nowMs, retryMs, this.durableEtag()),
    );
    if (task.lastAcceptedEtag !== before) this.moved.add(taskId);
  }

  /** statuses describes the tasks running here. */
  statuses(): ExternalReplicationStatus[] {
    return [...this.running.values()].map((task) => task.status(this.source));
  }

  /**
   * takeMovedCursors returns the cursors that moved since the last call, by their key under the
   * database in the cursors store; the hosted database saves them with its own, in one write.
   */
  takeMovedCursors(): [string, DestinationCursor][] {
    const moved: [string, DestinationCursor][] = [];
    for (const taskId of this.moved) {
      const task = this.running.get(taskId);
      if (task) moved.push([externalPeerName(taskId), task.cursor()]);
    }
    this.moved.clear();
    return moved;
  }

  private post(task: ExternalReplication, sends: ReturnType<ExternalReplication["pump"]>): void {
    for (const send of sends) {
      this.events.sendExternal(send.url, send.envelope);
      if (send.batch) this.events.externalBatchSent(task.config.name, send.batch, send.url);
    }
  }
}
