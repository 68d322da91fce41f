import { describe, expect, it } from "vitest";
import { exercises } from "../../exercises/index.ts";
import { ExerciseSession } from "../../playground/exercise-session.ts";
import { exerciseInfo, loadSolved } from "../../playground/exercise-support.ts";
import type { KeyValueStore } from "../../playground/persistence.ts";
import { url } from "../../playground/scenarios.ts";

function memoryStore(): KeyValueStore & { readonly map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

function exerciseSession(id: string, store = memoryStore()) {
  const index = exercises.findIndex((e) => e.id === id);
  const info = exerciseInfo(exercises[index]!, index + 1);
  const s = new ExerciseSession({
    info,
    runtime: "sim",
    store,
    refreshMs: 0,
    driveSimClock: false,
    stepTimeoutMs: 30_000,
    checkDelayMs: 60_000,
  });
  return { s, store };
}

/** advance lets virtual time pass until `done` holds (or fails the test). */
async function advance(s: ExerciseSession, done: () => boolean, what: string): Promise<void> {
  await s.session.handle!.waitFor(() => done(), { timeoutMs: 60_000, what });
}

const ok = (s: ExerciseSession) =>
  Object.fromEntries(s.state.get().rows.map((row) => [row.id, row.state]));

describe("ExerciseSession on the sim runtime: the exercise's own checks over what the reader did", () => {
  it("grow-group: the checklist is open at the start, ticks line by line, and the solved mark is kept", async () => {
    const { s, store } = exerciseSession("grow-group");
    await s.open();
    expect(s.session.state.get().servers.map((server) => server.tag)).toEqual(["A", "?"]);
    await s.check();
    expect(Object.values(ok(s))).toEqual(["open", "open", "open", "open"]);

    await s.session.addNode(url(2));
    await advance(s, () => s.session.handle!.servers[1]!.tag === "B", "B to join");
    await s.check();
    expect(ok(s)["b-joined"]).toBe("done");
    expect(ok(s)["b-member"]).toBe("open");
    expect(s.state.get().solved).toBeNull();

    await s.session.addNodeToGroup("Spade", "B");
    await advance(
      s,
      () =>
        s.session.handle!.describe().databases[0]!.members.includes("B") &&
        (s.session.handle!.describe().documents["B"]?.["Spade"]?.length ?? 0) === 2,
      "B a member with both users",
    );
    await s.check();
    expect(ok(s)).toEqual({
      "b-joined": "done",
      "b-in-group": "done",
      "b-member": "done",
      "documents-on-b": "done",
    });
    expect(s.state.get().allHoldNow).toBe(true);
    expect(s.state.get().solved).not.toBeNull();
    expect(loadSolved(store, "grow-group")).not.toBeNull();

    // Reset: a fresh starting state and an open checklist; the solved mark stays.
    await s.reset();
    expect(Object.values(ok(s))).toEqual(["open", "open", "open", "open"]);
    await s.check();
    expect(ok(s)["b-joined"]).toBe("open");
    expect(s.state.get().solved).not.toBeNull();
    await s.dispose();
  });

  it("failover: saves through the page's client, a kill of its preferred node, and a failover without an error", async () => {
    const { s } = exerciseSession("failover");
    await s.open();
    await s.session.clientSave("users/1", '{ "name": "Oren" }', false);
    expect(s.session.state.get().message?.error).toBe(false);
    const preferred = s.store!.preferredNode!;
    await s.session.kill(preferred.url);
    await s.session.clientSave("users/2", '{ "name": "after the crash" }', false);
    expect(s.session.state.get().message).toEqual({
      text: expect.stringMatching(/The client saved users\/2 on node [^A]/),
      error: false,
      area: "client",
    });
    await s.session.handle!.runFor(1_000);
    await s.check();
    expect(ok(s)).toEqual({
      "preferred-killed": "done",
      "failed-over": "done",
      "no-error": "done",
      "write-replicated": "done",
    });
    await s.dispose();
  });

  it("write-assurance: a client save waiting for a replica fails with the other node down, and the data stays", async () => {
    const { s } = exerciseSession("write-assurance");
    await s.open();
    await s.session.kill(url(1));
    await s.session.clientSave("tasks/1", '{ "task": "Buy milk" }', true);
    expect(s.session.state.get().message?.text).toMatch(/WriteAssuranceTimeout/);
    await s.session.restart(url(1));
    await advance(
      s,
      () => s.session.handle!.describe().documents["A"]?.["Spade"]?.includes("tasks/1") ?? false,
      "tasks/1 on A",
    );
    await s.check();
    expect(ok(s)).toEqual({
      "assurance-failed": "done",
      "replicas-possible": "done",
      "sibling-killed": "done",
      "data-stayed": "done",
      "reached-everyone": "done",
    });
    await s.dispose();
  });

  it("bootstrap: Read the cluster topology on 127.0.0.3 is the request the last check needs", async () => {
    const { s } = exerciseSession("bootstrap");
    await s.open();
    await s.session.createDatabase("Spade", 1);
    for (const n of [2, 3]) await s.session.addNode(url(n));
    await advance(
      s,
      () =>
        s.session.handle!.servers.every((server) => server.tag !== "?" && server.leader !== null),
      "all three joined",
    );
    await s.session.handle!.runFor(500);
    s.session.select(url(3));
    await s.session.readTopology();
    expect(s.session.state.get().message?.text).toMatch(/lists 3 members: A, B, C/);
    await s.check();
    expect(ok(s)).toEqual({
      tags: "done",
      "one-leader": "done",
      spade: "done",
      "read-from-c": "done",
    });
    await s.dispose();
  });

  it("leaderless-writes by the Studio's buttons: kill A, a refused New database on B, users/3 on B, restart A", async () => {
    const { s } = exerciseSession("leaderless-writes");
    await s.open();
    await s.session.kill(url(1));
    await s.session.handle!.runFor(2_000);
    s.session.select(url(2));
    await s.session.createDatabase("Rake", 1);
    expect(s.session.state.get().message?.text).toMatch(/^NoLeader/);
    s.session.selectDatabase("Spade");
    await s.session.saveDocument("users/3", '{ "name": "Grace Hopper" }');
    await s.session.restart(url(1));
    await advance(
      s,
      () =>
        (s.session.handle!.describe().documents["A"]?.["Spade"]?.includes("users/3") ?? false) &&
        s.session.handle!.describe().leader !== null,
      "users/3 on A, and a leader",
    );
    await s.check();
    expect(ok(s)).toEqual({
      "no-leader": "done",
      "cluster-op-refused": "done",
      "write-without-leader": "done",
      "leader-back": "done",
      "replicated-to-a": "done",
    });
    await s.dispose();
  });

  it("conflicts by clicking: cut, writes on both sides, conflict resolution none, a conflicted load through the client, a fix", async () => {
    const { s } = exerciseSession("conflicts");
    await s.open();
    s.session.selectDatabase("Spade");
    const bothSides = async (id: string) => {
      await s.session.cut([url(1)]);
      s.session.select(url(1));
      await s.session.saveDocument(id, '{ "name": "written on A" }');
      await s.session.handle!.runFor(50);
      s.session.select(url(2));
      await s.session.saveDocument(id, '{ "name": "written on B" }');
      await s.session.heal();
      await s.session.handle!.runFor(6_000);
    };
    await bothSides("users/2");
    await s.session.setConflictResolution("Spade", "none");
    await s.session.handle!.runFor(1_000);
    await bothSides("users/1");
    await s.session.clientLoad("users/1");
    expect(s.session.state.get().message?.text).toMatch(/DocumentConflict/);
    await s.session.saveDocument("users/1", '{ "name": "Oren, resolved by hand" }');
    await s.session.handle!.runFor(6_000);
    await s.check();
    expect(ok(s)).toEqual({
      "concurrent-users-2": "done",
      "resolved-to-latest": "done",
      "conflict-kept": "done",
      "resolved-by-hand": "done",
    });
    await s.dispose();
  });

  it("a CLI-only exercise never ticks in the page", async () => {
    const { s } = exerciseSession("partial-transaction");
    expect(s.support.where).toBe("cli");
    expect(s.state.get().rows.every((row) => row.state === "cli")).toBe(true);
  });
});
