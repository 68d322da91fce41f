import { describe, expect, it } from "vitest";
import type { ClusterDescription, ServerSummary, TraceEvent } from "../../engine/index.ts";
import {
  appendTimeline,
  databaseRows,
  describeCuts,
  describeGroup,
  documentText,
  electionTimeoutMaxMs,
  connectionRows,
  describeRaftMessage,
  flowPosition,
  groupNodes,
  isCut,
  leaderLine,
  normalizeServerUrl,
  parseDocumentText,
  rachisRows,
  replicationGraph,
  serverName,
  serverRows,
  timelineEntries,
  timelineMax,
  timingForSpeed,
  validateDocumentId,
  visibleTimeline,
} from "../../playground/view-model.ts";
import type { TimelineCategory, TimelineEntry } from "../../playground/model.ts";
import {
  loadPlayground,
  loadSpeed,
  savePlayground,
  type KeyValueStore,
} from "../../playground/persistence.ts";
import { Atom } from "../../playground/atom.ts";

const u = (n: number) => `http://127.0.0.${n}:8080`;
const server = (
  n: number,
  tag: string,
  role: string,
  leader: string | null,
  alive = true,
  term = 2,
): ServerSummary => ({ url: u(n), tag, role, term, leader, alive });

const fiveNodes: ClusterDescription = {
  atMs: 0,
  cluster: [
    server(1, "A", "leader", "A"),
    server(2, "B", "follower", "A"),
    server(3, "C", "follower", "A"),
    server(4, "D", "down", null, false, 0),
    server(5, "E", "follower", "A"),
  ],
  leader: "A",
  term: 2,
  databases: [
    {
      name: "Pitchfork",
      members: ["C", "E"],
      promotables: [],
      rehabs: ["D"],
      replicationFactor: 3,
    },
    { name: "Spade", members: ["A"], promotables: ["B"], rehabs: [], replicationFactor: 2 },
  ],
  documents: {},
} as ClusterDescription;

describe("servers", () => {
  it("names a fresh server by URL and a joined one by tag; marks the leader and the selection", () => {
    expect(serverName({ tag: "?", url: u(2) })).toBe(u(2));
    expect(serverName({ tag: "B", url: u(2) })).toBe("node B");
    const rows = serverRows(fiveNodes.cluster, u(2));
    expect(rows.map((r) => [r.tag, r.role, r.isLeader, r.selected])).toEqual([
      ["A", "leader", true, false],
      ["B", "follower", false, true],
      ["C", "follower", false, false],
      ["D", "down", false, false],
      ["E", "follower", false, false],
    ]);
  });

  it("says who leads as the selected server sees it, including nobody", () => {
    expect(leaderLine(fiveNodes.cluster, u(2))).toBe("node B sees node A as leader, term 2.");
    expect(leaderLine([server(2, "B", "candidate", null, true, 5)], u(2))).toMatch(
      /sees no leader \(term 5\)/,
    );
    expect(leaderLine([server(2, "?", "passive", null, true, 0)], u(2))).toMatch(
      /not joined a cluster yet \(tag \?\)/,
    );
    expect(leaderLine(fiveNodes.cluster, u(4))).toBe("node D is down.");
  });
});

describe("databases", () => {
  it("lists a group members first (preferred marked), then promotables and rehabs", () => {
    expect(groupNodes(fiveNodes.databases[0]!)).toEqual([
      { tag: "C", role: "member", preferred: true },
      { tag: "E", role: "member", preferred: false },
      { tag: "D", role: "rehab", preferred: false },
    ]);
    expect(describeGroup(groupNodes(fiveNodes.databases[0]!))).toBe("members [C, E] · rehabs [D]");
  });

  it("lists the databases the selected server knows, with their status there, and offers the nodes not in each group", () => {
    const rows = databaseRows(fiveNodes, { Spade: "Offline", Pitchfork: "unknown here" });
    expect(rows.map((r) => [r.name, r.status, r.candidates])).toEqual([
      ["Spade", "Offline", ["C", "D", "E"]],
    ]);
    expect(
      databaseRows(fiveNodes, { Spade: "Online", Pitchfork: "Offline" }).map((r) => r.name),
    ).toEqual(["Pitchfork", "Spade"]);
    expect(databaseRows(null, {})).toEqual([]);
  });
});

describe("timeline", () => {
  const events: TraceEvent[] = [
    { type: "role", atMs: 1000, tag: "A", role: "leader", term: 2, leader: "A" },
    { type: "role", atMs: 1001, tag: "B", role: "follower", term: 2, leader: "A" },
    {
      type: "cluster-command",
      atMs: 1002,
      tag: "A",
      index: 5,
      text: "addNode http://127.0.0.2:8080",
      ok: true,
    },
    {
      type: "cluster-command",
      atMs: 1003,
      tag: "B",
      index: 5,
      text: "addNode http://127.0.0.2:8080",
      ok: true,
    },
    {
      type: "topology-change",
      atMs: 1004,
      database: "Spade",
      message: "A moved to the end of the members: no heartbeat for 1000 ms, so B is now preferred",
    },
    {
      type: "topology-change",
      atMs: 1005,
      database: "Spade",
      message: "B promoted to member: caught up with mentor A (etag 2)",
    },
    {
      type: "replication-batch",
      atMs: 1006,
      database: "Spade",
      from: "A",
      to: "B",
      text: "replicate Spade A→B etags 1..2 (1 tx, 2 items)",
      afterEtag: 0,
      lastEtag: 2,
      ids: ["users/1", "users/2"],
    },
    {
      type: "replication-applied",
      atMs: 1006.5,
      database: "Spade",
      from: "A",
      to: "B",
      afterEtag: 0,
      lastEtag: 2,
      items: [
        { id: "users/1", outcome: "written" },
        { id: "users/2", outcome: "written" },
      ],
      lagMs: 3.2,
    },
    { type: "server", atMs: 1007, url: u(1), text: "killed" },
  ];

  it("turns trace events into categorised lines relative to the start, each command once", () => {
    const entries = timelineEntries(events, 1000, 1);
    expect(entries.map((e) => [e.atMs, e.category, e.where])).toEqual([
      [0, "election", "A"],
      [2, "cluster", "A"],
      [4, "failover", "Spade"],
      [5, "topology", "Spade"],
      [6.5, "replication", "A→B"],
      [7, "server", "127.0.0.1:8080"],
    ]);
    expect(entries[0]!.text).toBe("A won the election: leader of term 2");
    // The batch shows once, when B applied it, naming its documents and the lag; never when sent.
    expect(entries[4]!.text).toBe(
      "Spade: B applied A's batch: users/1, users/2 written · lag 3 ms",
    );
    expect(entries.some((e) => /replicate/.test(e.text))).toBe(false);
  });

  it("shows echoes stopped by change vectors, conflicts, failed sends and write-assurance waits as such", () => {
    const more: TraceEvent[] = [
      {
        type: "replication-applied",
        atMs: 10,
        database: "Pitchfork",
        from: "E",
        to: "C",
        afterEtag: 4,
        lastEtag: 4,
        items: [{ id: "tines/1", outcome: "already-had" }],
      },
      {
        type: "replication-applied",
        atMs: 11,
        database: "Pitchfork",
        from: "D",
        to: "C",
        afterEtag: 6,
        lastEtag: 7,
        items: [{ id: "tines/1", outcome: "resolved", kept: "local" }],
        lagMs: 40,
      },
      {
        type: "message-dropped",
        atMs: 12,
        kind: "replication",
        from: "A",
        to: "B",
        database: "Spade",
        ids: ["users/3"],
        what: "batch",
        reason: "no connection to http://127.0.0.2:8080: it is not running",
      },
      {
        type: "message-dropped",
        atMs: 12,
        kind: "raft",
        from: "A",
        to: "B",
        what: "append",
        reason: "cut",
      },
      {
        type: "write-assurance",
        atMs: 13,
        tag: "A",
        database: "Spade",
        ids: ["tasks/1"],
        wanted: 1,
        reached: 0,
        waitedMs: 1500.4,
        outcome: "timed-out",
      },
    ];
    const entries = timelineEntries(more, 0, 1);
    expect(entries.map((e) => [e.category, e.where, e.muted ?? false])).toEqual([
      ["replication", "E→C", true],
      ["conflict", "D→C", false],
      ["failed", "A→B", true],
      ["assurance", "A", false],
    ]);
    expect(entries[0]!.text).toMatch(/echo stopped: C already had tines\/1/);
    expect(entries[1]!.text).toMatch(
      /conflict on tines\/1 resolved to the latest: C's own version won/,
    );
    expect(entries[2]!.text).toMatch(/users\/3 not delivered: .*not running/);
    expect(entries[2]!.text).not.toMatch(/replicate/);
    expect(entries[3]!.text).toMatch(/waited 1500 ms for 1 replica: timed out with 0 of 1/);

    // A send that keeps failing is one line with a count, moved to the newest place.
    const again = timelineEntries([more[2]!], 0, 50);
    const merged = appendTimeline(
      appendTimeline(entries, again),
      timelineEntries([more[2]!], 0, 60),
    );
    expect(merged.filter((e) => e.category === "failed")).toHaveLength(1);
    expect(merged.at(-1)).toMatchObject({ category: "failed", repeats: 3 });
  });

  it("shows the newest first, filtered by category and text, and keeps a bounded history", () => {
    const entries = timelineEntries(events, 1000, 1);
    const all = new Set<TimelineCategory>([
      "election",
      "cluster",
      "topology",
      "failover",
      "replication",
      "server",
      "action",
    ]);
    expect(visibleTimeline(entries, all, "").map((e) => e.atMs)).toEqual([7, 6.5, 5, 4, 2, 0]);
    expect(visibleTimeline(entries, new Set(["failover"]), "").map((e) => e.where)).toEqual([
      "Spade",
    ]);
    expect(visibleTimeline(entries, all, "PROMOTED").map((e) => e.atMs)).toEqual([5]);
    const many: TimelineEntry[] = Array.from({ length: timelineMax + 10 }, (_, i) => ({
      id: i,
      atMs: i,
      category: "server",
      where: "x",
      text: `t${i}`,
    }));
    const kept = appendTimeline([], many);
    expect(kept).toHaveLength(timelineMax);
    expect(kept[0]!.text).toBe("t10");
    // A command already shown is not shown again when another server reports it later.
    const once = appendTimeline(entries, timelineEntries([events[3]!], 1000, 100));
    expect(once).toHaveLength(entries.length);
  });
});

describe("network and the replication graph", () => {
  it("knows which pairs a cut separates and says so in words", () => {
    const cuts = [{ a: [u(1)], b: [u(2), u(3)] }];
    expect(isCut(cuts, u(2), u(1))).toBe(true);
    expect(isCut(cuts, u(2), u(3))).toBe(false);
    expect(describeCuts(cuts, fiveNodes.cluster)).toBe("cut between {A} and {B, C}.");
    expect(describeCuts([], fiveNodes.cluster)).toMatch(/whole/);
  });

  it("draws the mesh of members and rehabs, marks dead or cut links, and places batches on edges", () => {
    const flows = [
      { id: 1, database: "Pitchfork", from: "C", to: "E", text: "batch", atMs: 5, failed: false },
    ];
    const graph = replicationGraph(fiveNodes, "Pitchfork", [{ a: [u(3)], b: [u(5)] }], flows)!;
    expect(graph.nodes.map((n) => [n.tag, n.role, n.preferred, n.alive])).toEqual([
      ["C", "member", true, true],
      ["E", "member", false, true],
      ["D", "rehab", false, false],
    ]);
    expect(graph.edges).toEqual([
      { from: "C", to: "E", live: false },
      { from: "C", to: "D", live: false },
      { from: "E", to: "D", live: false },
    ]);
    const c = graph.nodes[0]!;
    const e = graph.nodes[1]!;
    expect(graph.flows).toEqual([
      { id: 1, x1: c.x, y1: c.y, x2: e.x, y2: e.y, text: "batch", atMs: 5, failed: false },
    ]);
    expect(graph.summary).toMatch(/0 of 3 connections are up/);
    for (const node of graph.nodes) {
      expect(node.x).toBeGreaterThan(0);
      expect(node.x).toBeLessThan(graph.width);
    }
  });

  it("draws a promotable's incoming link only once a batch shows its mentor", () => {
    expect(replicationGraph(fiveNodes, "Spade", [], [])!.edges).toEqual([]);
    const withBatch = replicationGraph(
      fiveNodes,
      "Spade",
      [],
      [{ id: 2, database: "Spade", from: "A", to: "B", text: "t", atMs: 0, failed: false }],
    )!;
    expect(withBatch.edges).toEqual([{ from: "A", to: "B", live: true }]);
    expect(replicationGraph(fiveNodes, "Nope", [], [])).toBeNull();
  });
});

describe("batches in motion, lags and Rachis", () => {
  const flow = { id: 1, x1: 0, y1: 0, x2: 100, y2: 50, text: "t", atMs: 1_000, failed: false };

  it("a batch's dot travels from sender to receiver on the event's time, then leaves", () => {
    const at = (now: number) => flowPosition(flow, now, 400);
    expect(at(1_000)).toMatchObject({ x: 0, y: 0, progress: 0 });
    expect(at(1_100)).toMatchObject({ x: 25, y: 12.5 });
    expect(at(1_300)).toMatchObject({ x: 75, y: 37.5 });
    expect(at(1_450)).toMatchObject({ x: 100, y: 50, progress: 1 });
    expect(at(1_600)).toBeNull();
    // A failed send stops part way and fades; reduced motion puts a dot where its trip ends.
    const failed = { ...flow, failed: true };
    expect(flowPosition(failed, 1_390, 400)!.progress).toBeLessThan(0.5);
    expect(flowPosition(failed, 1_390, 400)!.opacity).toBeLessThan(0.5);
    expect(flowPosition(flow, 1_000, 400, true)).toMatchObject({ x: 100, progress: 1 });
  });

  it("each connection direction shows its state and its last measured lag", () => {
    const graph = replicationGraph(fiveNodes, "Pitchfork", [{ a: [u(3)], b: [u(5)] }], [])!;
    const rows = connectionRows(graph, [
      { database: "Pitchfork", from: "C", to: "E", lagMs: 9, atMs: 1 },
      { database: "Pitchfork", from: "C", to: "E", lagMs: 4, atMs: 2 },
      { database: "Spade", from: "E", to: "C", lagMs: 7, atMs: 3 },
    ]);
    expect(rows.slice(0, 2)).toEqual([
      { from: "C", to: "E", live: false, lagMs: 4 },
      { from: "E", to: "C", live: false, lagMs: null },
    ]);
  });

  it("Raft messages read as what they are: heartbeats, appends, votes, and the ones lost", () => {
    const m = { id: 1, atMs: 0, from: "A", to: "B", term: 2, entries: 0 };
    expect(describeRaftMessage({ ...m, kind: "append" })).toBe("A→B heartbeat (term 2)");
    expect(describeRaftMessage({ ...m, kind: "append", entries: 2 })).toBe(
      "A→B append 2 entries (term 2)",
    );
    expect(describeRaftMessage({ ...m, kind: "voteResponse", ok: false })).toBe(
      "A→B vote refused (term 2)",
    );
    expect(describeRaftMessage({ ...m, kind: "append", dropped: "it is not running" })).toBe(
      "A→B heartbeat: lost, it is not running",
    );
  });

  it("Rachis rows run each election timer on from when its server reported it", () => {
    const view = {
      tag: "B",
      url: u(2),
      atMs: 1_000,
      role: "follower" as const,
      term: 3,
      vote: "A",
      leader: "A",
      commit: 7,
      applied: 7,
      lastIndex: 7,
      snapshotIndex: 0,
      snapshotTerm: 0,
      electionElapsedTicks: 10,
      electionTimeoutTicks: 40,
      heartbeatTicks: 3,
      voters: ["A", "B"],
      learners: [],
      entries: [],
      progress: {},
    };
    const servers = [server(1, "A", "leader", "A", false), server(2, "B", "follower", "A")];
    const rows = rachisRows(servers, [null, view], 1_100, 10);
    expect(rows.map((r) => [r.tag, r.view?.commit ?? null])).toEqual([
      ["A", null],
      ["B", 7],
    ]);
    expect(rows[1]!.timer).toBe(0.5);
    expect(rachisRows(servers, [null, view], 9_000, 10)[1]!.timer).toBe(1);
  });
});

describe("documents and inputs", () => {
  it("shows bodies as JSON text and accepts only JSON objects back", () => {
    expect(documentText({ name: "<b>Oren</b>" })).toBe('{\n  "name": "<b>Oren</b>"\n}');
    expect(parseDocumentText('{"a":1}')).toEqual({ ok: true, body: { a: 1 } });
    expect(parseDocumentText("[1]")).toMatchObject({ ok: false });
    expect(parseDocumentText("{oops")).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Not valid JSON/),
    });
    expect(validateDocumentId(" ")).toMatch(/id/);
    expect(validateDocumentId("users/4")).toBeNull();
  });

  it("normalises server URLs the way the chapter writes them", () => {
    expect(normalizeServerUrl("127.0.0.2:8080")).toEqual({ ok: true, url: u(2) });
    expect(normalizeServerUrl(" http://127.0.0.3:8080/ ")).toEqual({ ok: true, url: u(3) });
    expect(normalizeServerUrl("")).toMatchObject({ ok: false });
    expect(normalizeServerUrl("http://")).toMatchObject({ ok: false });
  });
});

describe("speed, persistence and the atom", () => {
  it("stretches every engine interval in slow motion and keeps cluster operations longer than an election", () => {
    const slow = timingForSpeed(0.25);
    const real = timingForSpeed(1);
    expect(real.tickMs).toBe(10);
    expect(slow.tickMs).toBe(40);
    expect(slow.supervisor.moveToRehabAfterMs).toBe(12_000);
    expect(electionTimeoutMaxMs(0.25)).toBe(2_400);
    expect(slow.clusterOperationTimeoutMs).toBeGreaterThanOrEqual(2 * electionTimeoutMaxMs(0.25));
  });

  it("saves and loads a playground, rejecting what is not one", () => {
    const map = new Map<string, string>();
    const store: KeyValueStore = {
      getItem: (k) => map.get(k) ?? null,
      setItem: (k, v) => void map.set(k, v),
      removeItem: (k) => void map.delete(k),
    };
    const saved = {
      version: 1 as const,
      clusterName: "c1",
      servers: 2,
      down: [u(1)],
      cuts: [],
      selectedUrl: u(2),
      selectedDatabase: "Spade",
      stepsDone: 3,
      killedUrl: u(1),
      originMs: 5,
      timeline: [],
    };
    savePlayground(store, "x", saved);
    expect(loadPlayground(store, "x")).toEqual(saved);
    map.set("rookery-playground:y", "{not json");
    expect(loadPlayground(store, "y")).toBeNull();
    map.set("rookery-playground:z", JSON.stringify({ version: 2 }));
    expect(loadPlayground(store, "z")).toBeNull();
    map.set("rookery-playground:speed", "0.5");
    expect(loadSpeed(store, [0.25, 0.5, 1], 0.25)).toBe(0.5);
    map.set("rookery-playground:speed", "7");
    expect(loadSpeed(store, [0.25, 0.5, 1], 0.25)).toBe(0.25);
    const throwing: KeyValueStore = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
      removeItem: () => {},
    };
    expect(loadPlayground(throwing, "x")).toBeNull();
    expect(() => savePlayground(throwing, "x", saved)).not.toThrow();
  });

  it("an atom notifies on change only", () => {
    const atom = new Atom(1);
    const seen: number[] = [];
    const stop = atom.subscribe((v) => seen.push(v));
    atom.set(1);
    atom.set(2);
    atom.update((v) => v + 1);
    stop();
    atom.set(9);
    expect(seen).toEqual([2, 3]);
  });
});
