import { describe, expect, it } from "vitest";
import { DatabaseInstance } from "../../engine/database/index.ts";
import type { DatabaseSettings } from "../../engine/database/index.ts";
import {
  ExternalReplication,
  receiveExternal,
  refuseExternal,
} from "../../engine/replication/index.ts";
import type {
  ExternalSend,
  ExternalTaskConfig,
  ReplicationAck,
  ExternalRefusal,
} from "../../engine/replication/index.ts";
import { Group } from "./driver.ts";

const retryMs = 300;
const backup1 = "http://127.0.1.1:8080";
const backup2 = "http://127.0.1.2:8080";

/**
 * Destination is another cluster, seen from the wire: servers by URL, some hosting the "Backup"
 * database (their instances are tagged A and B, like the source's: tags are per cluster).
 */
class Destination {
  readonly instances = new Map<string, DatabaseInstance>();
  readonly down = new Set<string>();
  readonly received: ExternalSend[] = [];

  host(url: string, tag: string, settings: DatabaseSettings = {}): DatabaseInstance {
    const instance = new DatabaseInstance({
      database: "Backup",
      nodeTag: tag,
      databaseId: `backup${tag}id`,
      settings,
    });
    this.instances.set(url, instance);
    return instance;
  }

  /** answer is what the server at `send.url` replies, or undefined when it does not answer. */
  answer(send: ExternalSend): ReplicationAck | ExternalRefusal | undefined {
    this.received.push(send);
    if (this.down.has(send.url)) return undefined;
    const message = send.envelope.message;
    if (message.type !== "replication-connect" && message.type !== "replication-wire-batch")
      throw new Error(`a destination got ${message.type}`);
    const instance = this.instances.get(send.url);
    if (!instance) {
      return refuseExternal(message, "DatabaseNotHosted", `Backup is not on ${send.url}`, [
        ...this.instances.keys(),
      ]);
    }
    return receiveExternal(instance, message).reply;
  }
}

function config(overrides: Partial<ExternalTaskConfig> = {}): ExternalTaskConfig {
  return {
    taskId: 7,
    name: "offsite",
    sourceDatabase: "Spade",
    sourceTag: "A",
    destinationDatabase: "Backup",
    destinationUrls: [backup1],
    ...overrides,
  };
}

/** run pumps the task and delivers every send and answer until nothing moves (or `steps` run). */
function run(
  task: ExternalReplication,
  source: DatabaseInstance,
  destination: Destination,
  startMs = 0,
  steps = 200,
): number {
  let nowMs = startMs;
  for (let step = 0; step < steps; step++) {
    let sends = task.pump(source, nowMs, retryMs);
    let moved = false;
    while (sends.length > 0) {
      const next: ExternalSend[] = [];
      for (const send of sends) {
        const answer = destination.answer(send);
        if (answer) {
          moved = true;
          next.push(...task.receive(send.url, answer, source, nowMs, retryMs));
        }
      }
      sends = next;
    }
    if (!moved && task.status(source).connected && !task.status(source).lastError) {
      if (task.lastAcceptedEtag === source.lastEtag) return nowMs;
    }
    nowMs += retryMs;
  }
  return nowMs;
}

describe("external replication: one way, to a database of another cluster", () => {
  it("carries documents, deletes (tombstones), attachments and revisions", () => {
    const group = new Group(["A"], { settings: { revisions: { default: { enabled: true } } } });
    const source = group.node("A");
    group.write("A", { puts: [{ id: "users/1", body: { name: "Oren" } }] }, 10);
    group.write("A", { puts: [{ id: "users/2", body: { name: "Tal" } }] }, 11);
    group.write(
      "A",
      { attachmentPuts: [{ documentId: "users/1", name: "photo.png", content: "png!" }] },
      12,
    );
    group.write("A", { deletes: [{ id: "users/2" }] }, 13);
    const destination = new Destination();
    const backup = destination.host(backup1, "A");
    const task = new ExternalReplication(config(), {});
    run(task, source, destination);

    expect(backup.get("users/1")?.body).toEqual({ name: "Oren" });
    expect(backup.get("users/1")?.metadata["@change-vector"]).toBe(
      source.get("users/1")?.metadata["@change-vector"],
    );
    expect(new TextDecoder().decode(backup.getAttachment("users/1", "photo.png")?.content)).toBe(
      "png!",
    );
    expect(backup.get("users/2")).toBeUndefined();
    const kinds = [...backup.itemsAfterEtag(0)].map(
      (item) => `${item.kind}:${"id" in item ? item.id : item.documentId}`,
    );
    expect(kinds).toContain("tombstone:users/2");
    expect(kinds.filter((kind) => kind.startsWith("revision:users/1")).length).toBeGreaterThan(0);
    expect(task.status(source)).toMatchObject({
      connected: true,
      destinationUrl: backup1,
      lastAcceptedEtag: source.lastEtag,
      lastError: null,
    });
  });

  it("finds the servers that host the destination when it reaches one that does not", () => {
    const group = new Group(["A"]);
    group.write("A", { puts: [{ id: "users/1", body: {} }] }, 10);
    const destination = new Destination();
    const backup = destination.host(backup2, "B");
    const task = new ExternalReplication(config(), {});
    run(task, group.node("A"), destination);
    expect(backup.get("users/1")).toBeDefined();
    expect(task.status(group.node("A")).destinationUrl).toBe(backup2);
    expect(destination.received[0]!.url).toBe(backup1);
  });

  it("tries the next destination server when one stops answering", () => {
    const group = new Group(["A"]);
    group.write("A", { puts: [{ id: "users/1", body: {} }] }, 10);
    const destination = new Destination();
    destination.host(backup1, "A");
    const second = destination.host(backup2, "B");
    destination.down.add(backup1);
    const task = new ExternalReplication(config({ destinationUrls: [backup1, backup2] }), {});
    run(task, group.node("A"), destination);
    expect(second.get("users/1")).toBeDefined();
    const status = task.status(group.node("A"));
    expect(status.destinationUrl).toBe(backup2);
    const toFirst = destination.received.filter((send) => send.url === backup1);
    expect(toFirst.length).toBe(2);
  });

  it("resumes after a restart from what the destination acknowledged, not from etag 0", () => {
    const group = new Group(["A"]);
    for (let i = 1; i <= 5; i++) group.write("A", { puts: [{ id: `users/${i}`, body: { i } }] }, i);
    const destination = new Destination();
    const backup = destination.host(backup1, "A");
    const before = new ExternalReplication(config(), {});
    run(before, group.node("A"), destination);
    const acknowledged = before.lastAcceptedEtag;
    expect(acknowledged).toBe(5);

    group.write("A", { puts: [{ id: "users/6", body: { i: 6 } }] }, 6);
    const restarted = new ExternalReplication(config(), { cursor: before.cursor() });
    destination.received.length = 0;
    run(restarted, group.node("A"), destination, 10_000);
    const batches = destination.received.flatMap((send) => (send.batch ? [send.batch] : []));
    expect(batches.map((batch) => batch.afterEtag)).toEqual([acknowledged]);
    expect(batches[0]!.transactions.flatMap((t) => t.items.map((item) => item.etag))).toEqual([6]);
    expect(backup.get("users/6")?.body).toEqual({ i: 6 });
  });

  it("moved to another node of the group, it sends only what the destination lacks", () => {
    const group = new Group(["A", "B"]);
    for (let i = 1; i <= 4; i++) group.write("A", { puts: [{ id: `users/${i}`, body: { i } }] }, i);
    group.settle();
    const destination = new Destination();
    const backup = destination.host(backup1, "A");
    run(new ExternalReplication(config(), {}), group.node("A"), destination);
    expect(backup.list()).toHaveLength(4);

    // A fails; B takes the task over. B's etags are its own, so the destination has nothing
    // from B's database id and B starts at its etag 0, but leaves out what the destination has.
    group.write("B", { puts: [{ id: "users/5", body: { i: 5 } }] }, 5);
    const onB = new ExternalReplication(config({ sourceTag: "B" }), {});
    destination.received.length = 0;
    const backupEtag = backup.lastEtag;
    run(onB, group.node("B"), destination);
    const items = destination.received.flatMap((send) =>
      (send.batch?.transactions ?? []).flatMap((t) =>
        t.items.map((item) => (item.kind === "attachment" ? item.documentId : item.id)),
      ),
    );
    expect(items).toEqual(["users/5"]);
    expect(backup.get("users/5")?.body).toEqual({ i: 5 });
    expect(backup.lastEtag).toBe(backupEtag + 1);
  });

  it("writes at the destination meet the source's under the destination's own conflict policy", () => {
    const group = new Group(["A"]);
    group.write("A", { puts: [{ id: "users/1", body: { from: "source" } }] }, 10);
    const destination = new Destination();
    const kept = destination.host(backup1, "A", { conflictResolution: "none" });
    kept.applyTransaction(
      { puts: [{ id: "users/1", body: { from: "destination" } }] },
      { nowMs: 20 },
    );
    run(new ExternalReplication(config(), {}), group.node("A"), destination);
    expect(kept.conflictsOf("users/1")).toHaveLength(2);

    const latest = new Destination();
    const resolved = latest.host(backup1, "A", { conflictResolution: "latest" });
    resolved.applyTransaction(
      { puts: [{ id: "users/1", body: { from: "destination" } }] },
      { nowMs: 20 },
    );
    run(new ExternalReplication(config(), {}), group.node("A"), latest);
    expect(resolved.get("users/1")?.body).toEqual({ from: "destination" });
  });

  it("ignores an answer from a server it no longer talks to", () => {
    const group = new Group(["A"]);
    group.write("A", { puts: [{ id: "users/1", body: {} }] }, 10);
    const source = group.node("A");
    const task = new ExternalReplication(config({ destinationUrls: [backup1, backup2] }), {});
    const [connect] = task.pump(source, 0, retryMs);
    expect(connect!.url).toBe(backup1);
    const stale: ReplicationAck = {
      type: "replication-ack",
      database: "Spade",
      from: "task-7",
      to: "A",
      sourceDatabaseId: source.databaseId,
      lastAcceptedEtag: 99,
      changeVector: "",
      reason: "connect",
      answers: null,
    };
    expect(task.receive(backup2, stale, source, 1, retryMs)).toEqual([]);
    expect(task.status(source)).toMatchObject({ connected: false, lastAcceptedEtag: 0 });
  });

  it("says why it is stuck when the destination cluster has no such database", () => {
    const group = new Group(["A"]);
    const source = group.node("A");
    const task = new ExternalReplication(config(), {});
    const [connect] = task.pump(source, 0, retryMs);
    const message = connect!.envelope.message;
    if (message.type !== "replication-connect") throw new Error("expected a connect");
    const refusal = refuseExternal(
      message,
      "DatabaseDoesNotExist",
      "Database 'Backup' does not exist on the cluster of http://127.0.1.1:8080",
      [],
    );
    expect(task.receive(backup1, refusal, source, 1, retryMs)).toEqual([]);
    expect(task.status(source)).toMatchObject({
      connected: false,
      lastError: "Database 'Backup' does not exist on the cluster of http://127.0.1.1:8080",
    });
    expect(task.pump(source, 2, retryMs)).toEqual([]);
    expect(task.pump(source, retryMs + 1, retryMs)).toHaveLength(1);
  });
});
