import { describe, expect, it } from "vitest";
import {
  clusterNodeTags,
  databaseStatusOn,
  describeTopology,
  emptyClusterState,
  prepareClusterCommand,
  renderClusterCommand,
  replicationDestinations,
  superviseCluster,
} from "../../engine/cluster/index.ts";
import { UNASSIGNED_TAG, nodeTagAt } from "../../engine/core/index.ts";
import { ClusterLog, chapterUrl, clusterOf } from "./harness.ts";

describe("the chapter's first cluster, at the state-machine level", () => {
  it("a fresh server is in no cluster and shows '?' until its first cluster-wide operation", () => {
    const state = emptyClusterState();
    expect(state.topology.topologyId).toBeNull();
    expect(clusterNodeTags(state)).toEqual([]);
    expect(UNASSIGNED_TAG).toBe("?");
  });

  it("creating Spade on the first server bootstraps it as node A", () => {
    const log = new ClusterLog();
    const boot = log.accept({ type: "bootstrap", url: chapterUrl(1), topologyId: "t1" });
    expect(boot.tag).toBe("A");
    log.propose({ type: "createDatabase", name: "Spade" });
    expect(log.state.topology.members).toEqual({ A: "http://127.0.0.1:8080" });
    expect(log.record("Spade").topology).toEqual({ members: ["A"], promotables: [], rehabs: [] });
    expect(log.record("Spade").replicationFactor).toBe(1);
  });

  it("adding http://127.0.0.2:8080 makes it node B, and Spade is offline on B until B joins the group", () => {
    const log = clusterOf(1);
    log.propose({ type: "createDatabase", name: "Spade" });
    const added = log.accept({ type: "addNode", url: chapterUrl(2) });
    expect(added.tag).toBe("B");
    expect(log.state.topology.members).toEqual({ A: chapterUrl(1), B: chapterUrl(2) });
    expect(databaseStatusOn(log.record("Spade"), "A")).toBe("Online");
    expect(databaseStatusOn(log.record("Spade"), "B")).toBe("Offline");
  });

  it("'Add node to group' makes B a promotable mentored by A, then a member once it has caught up", () => {
    const log = clusterOf(2);
    log.propose({ type: "createDatabase", name: "Spade" });
    const added = log.propose({ type: "addDatabaseNode", database: "Spade" });
    expect(added).toMatchObject({ tag: "B", mentor: "A" });
    const spade = log.record("Spade");
    expect(spade.topology).toEqual({ members: ["A"], promotables: ["B"], rehabs: [] });
    expect(spade.mentors).toEqual({ B: "A" });
    expect(spade.replicationFactor).toBe(2);
    expect(databaseStatusOn(spade, "B")).toBe("Online");
    expect(replicationDestinations(spade, "A")).toEqual(["B"]);

    // users/1 and users/2 are etags 1 and 2 on A; A has sent both to B.
    const round = superviseCluster({
      state: log.state,
      nowMs: 10_000,
      observingSinceMs: 9_000,
      nodes: { A: { lastHeardMs: 9_900 }, B: { lastHeardMs: 9_950 } },
      databases: { Spade: { A: { lastEtag: 2, acceptedEtags: { B: 2 } } } },
    });
    expect(round.commands).toEqual([
      {
        type: "promoteDatabaseNode",
        database: "Spade",
        tag: "B",
        reason: "caught up with mentor A (etag 2)",
      },
    ]);
    log.accept(round.commands[0]!);
    expect(log.record("Spade").topology).toEqual({
      members: ["A", "B"],
      promotables: [],
      rehabs: [],
    });
    expect(log.record("Spade").mentors).toEqual({});
    expect(describeTopology(log.record("Spade"))).toBe(
      `Spade: members [A, B] preferred A, factor 2, etag ${log.index}`,
    );
  });

  it("five nodes: 127.0.0.3 to 127.0.0.5 become C, D and E", () => {
    const log = clusterOf(2);
    const tags = [3, 4, 5].map((n) => log.accept({ type: "addNode", url: chapterUrl(n) }).tag);
    expect(tags).toEqual(["C", "D", "E"]);
    expect(clusterNodeTags(log.state)).toEqual(["A", "B", "C", "D", "E"]);
  });

  it("Spade is offline on D: every server sees every database, only its hosts run it", () => {
    const log = clusterOf(2);
    log.propose({ type: "createDatabase", name: "Spade" });
    log.propose({ type: "addDatabaseNode", database: "Spade", tag: "B" });
    for (const n of [3, 4, 5]) log.accept({ type: "addNode", url: chapterUrl(n) });
    const spade = log.record("Spade");
    expect(["A", "B", "C", "D", "E"].map((tag) => databaseStatusOn(spade, tag))).toEqual([
      "Online",
      "Online",
      "Offline",
      "Offline",
      "Offline",
    ]);
  });

  it("Pitchfork with replication factor 3 goes to the three least loaded nodes, C, D and E", () => {
    const log = clusterOf(2);
    log.propose({ type: "createDatabase", name: "Spade" });
    log.propose({ type: "addDatabaseNode", database: "Spade", tag: "B" });
    for (const n of [3, 4, 5]) log.accept({ type: "addNode", url: chapterUrl(n) });
    const created = log.propose({
      type: "createDatabase",
      name: "Pitchfork",
      replicationFactor: 3,
    });
    expect(created.nodes).toEqual(["C", "D", "E"]);
    const pitchfork = log.record("Pitchfork");
    expect(pitchfork.topology.members[0]).toBe("C");
    expect(pitchfork.replicationFactor).toBe(3);
    expect(pitchfork.conflictResolution).toBe("latest");
    expect(pitchfork.recentChanges.at(-1)?.message).toBe(
      "created on C, D, E with C preferred: replication factor 3, placed on the least loaded nodes",
    );
    expect(replicationDestinations(pitchfork, "D")).toEqual(["C", "E"]);
  });

  it("after Z the next tags are ZA, ZB …", () => {
    const log = clusterOf(26);
    expect(log.state.topology.lastNodeTag).toBe("Z");
    expect(log.accept({ type: "addNode", url: "http://10.0.0.27:8080" }).tag).toBe("ZA");
    expect(log.accept({ type: "addNode", url: "http://10.0.0.28:8080" }).tag).toBe("ZB");
    expect(clusterNodeTags(log.state).slice(-3)).toEqual(["Z", "ZA", "ZB"]);
    expect(nodeTagAt(27)).toBe("ZB");
  });

  it("a removed node's tag is never given to another server", () => {
    const log = clusterOf(3);
    log.accept({ type: "removeNode", tag: "C" });
    expect(clusterNodeTags(log.state)).toEqual(["A", "B"]);
    expect(log.state.topology.lastNodeTag).toBe("C");
    expect(log.accept({ type: "addNode", url: chapterUrl(6) }).tag).toBe("D");
    log.accept({ type: "removeNode", tag: "D" });
    expect(log.accept({ type: "addNode", url: chapterUrl(7) }).tag).toBe("E");
  });

  it("a server that was removed may come back under its old tag when it asks for it", () => {
    const log = clusterOf(3);
    log.accept({ type: "removeNode", tag: "B" });
    expect(log.accept({ type: "addNode", url: chapterUrl(2), tag: "B" }).tag).toBe("B");
    expect(log.state.topology.lastNodeTag).toBe("C");
    expect(log.accept({ type: "addNode", url: chapterUrl(4) }).tag).toBe("D");
  });
});

describe("the leader, not the state machine, picks a new server's tag", () => {
  it("prepare writes the next tag into the addNode entry, so the log itself says who became B", () => {
    const log = clusterOf(1);
    const prepared = prepareClusterCommand(log.state, { type: "addNode", url: chapterUrl(2) });
    expect(prepared).toEqual({
      ok: true,
      command: { type: "addNode", url: chapterUrl(2), tag: "B" },
    });
    if (!prepared.ok) return;
    expect(renderClusterCommand(prepared.command)).toBe("addNode http://127.0.0.2:8080 as B");
    expect(log.accept(prepared.command).tag).toBe("B");
  });

  it("the tag of a removed server is not handed out again", () => {
    const log = clusterOf(3);
    log.accept({ type: "removeNode", tag: "C" });
    const prepared = prepareClusterCommand(log.state, { type: "addNode", url: chapterUrl(4) });
    expect(prepared.ok && prepared.command).toMatchObject({ tag: "D" });
  });

  it("two additions prepared from the same state: the second is refused with a clear error, not a crash", () => {
    const log = clusterOf(2);
    const first = prepareClusterCommand(log.state, { type: "addNode", url: chapterUrl(3) });
    const second = prepareClusterCommand(log.state, { type: "addNode", url: chapterUrl(4) });
    if (!first.ok || !second.ok) throw new Error("both should prepare");
    expect(log.accept(first.command).tag).toBe("C");
    const refused = log.refuse(second.command);
    expect(refused.code).toBe("NodeTagInUse");
    expect(refused.message).toContain("Add http://127.0.0.4:8080 again");
    expect(Object.keys(log.state.topology.members)).toEqual(["A", "B", "C"]);
  });
});
