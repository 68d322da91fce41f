import { describe, expect, it } from "vitest";
import { superviseCluster, supervisorTimingDefault } from "../../engine/cluster/index.ts";
import type { DatabaseNodeReport, SupervisorInput } from "../../engine/cluster/index.ts";
import { AssertionError, SeededRandom } from "../../engine/core/index.ts";
import type { NodeTag } from "../../engine/core/index.ts";
import { ClusterLog, clusterOf } from "./harness.ts";

const nowMs = 100_000;

/** heard says each tag was last heard `silentMs` ago (every other cluster node: just now). */
function heard(log: ClusterLog, silentMs: Record<NodeTag, number> = {}): SupervisorInput["nodes"] {
  const nodes: Record<NodeTag, { lastHeardMs: number }> = {};
  for (const tag of Object.keys(log.state.topology.members))
    nodes[tag] = { lastHeardMs: nowMs - (silentMs[tag] ?? 0) };
  return nodes;
}

function round(
  log: ClusterLog,
  silentMs: Record<NodeTag, number> = {},
  databases: SupervisorInput["databases"] = {},
  extra: Partial<SupervisorInput> = {},
) {
  return superviseCluster({
    state: log.state,
    nowMs,
    nodes: heard(log, silentMs),
    databases,
    ...extra,
  });
}

const report = (lastEtag: number, acceptedEtags: Record<NodeTag, number>): DatabaseNodeReport => ({
  lastEtag,
  acceptedEtags,
});

function spadeOn(nodes: NodeTag[], clusterSize = 5): ClusterLog {
  const log = clusterOf(clusterSize);
  log.propose({ type: "createDatabase", name: "Spade", nodes });
  return log;
}

describe("the supervisor (cluster observer)", () => {
  it("uses teaching timings measured in seconds, not RavenDB's 5 s and 60 s", () => {
    expect(supervisorTimingDefault).toEqual({
      rotatePreferredAfterMs: 1_000,
      moveToRehabAfterMs: 3_000,
      heardWithinMs: 1_000,
    });
  });

  it("does nothing while every node answers", () => {
    const log = spadeOn(["A", "B", "C"]);
    expect(round(log)).toEqual({ commands: [], notes: [] });
  });

  it("moves a silent preferred node to the end of the members after rotatePreferredAfterMs", () => {
    const log = spadeOn(["A", "B", "C"]);
    expect(round(log, { A: 999 }).commands).toEqual([]);
    const { commands } = round(log, { A: 1_200 });
    expect(commands).toEqual([
      { type: "rotatePreferred", database: "Spade", tag: "A", reason: "no heartbeat for 1200 ms" },
    ]);
    log.accept(commands[0]!);
    expect(log.record("Spade").topology.members).toEqual(["B", "C", "A"]);
    expect(log.record("Spade").recentChanges.at(-1)?.message).toBe(
      "A is no longer the preferred node, B is: no heartbeat for 1200 ms",
    );
  });

  it("does not notice a silent alternate until it is time to move it to rehab", () => {
    const log = spadeOn(["A", "B", "C"]);
    expect(round(log, { C: 2_999 }).commands).toEqual([]);
    const { commands } = round(log, { C: 3_000 });
    expect(commands).toEqual([
      { type: "moveToRehab", database: "Spade", tag: "C", reason: "no heartbeat for 3000 ms" },
    ]);
    log.accept(commands[0]!);
    const spade = log.record("Spade");
    expect(spade.topology).toEqual({ members: ["A", "B"], promotables: [], rehabs: ["C"] });
    expect(spade.recentChanges.at(-1)?.message).toBe("C moved to rehab: no heartbeat for 3000 ms");
    expect(spade.topologyEtag).toBe(log.index);
  });

  it("the chapter: the failed preferred node is demoted, and comes back as the last member once caught up", () => {
    const log = spadeOn(["A", "B", "C"]);
    log.accept(round(log, { A: 1_500 }).commands[0]!);
    expect(log.record("Spade").topology.members).toEqual(["B", "C", "A"]);
    log.accept(round(log, { A: 4_000 }).commands[0]!);
    expect(log.record("Spade").topology).toEqual({
      members: ["B", "C"],
      promotables: [],
      rehabs: ["A"],
    });

    // A is back, but B has sent it only part of what was written meanwhile.
    const partial = { Spade: { B: report(40, { C: 40, A: 31 }), C: report(35, { B: 35, A: 35 }) } };
    const waiting = round(log, {}, partial);
    expect(waiting.commands).toEqual([]);
    expect(waiting.notes).toEqual([
      {
        database: "Spade",
        tag: "A",
        status: "catchingUp",
        message: "A is catching up: it accepted etag 31 of 40 from mentor B",
      },
    ]);

    const caughtUp = {
      Spade: { B: report(40, { C: 40, A: 40 }), C: report(35, { B: 35, A: 35 }) },
    };
    const { commands } = round(log, {}, caughtUp);
    expect(commands).toEqual([
      {
        type: "promoteDatabaseNode",
        database: "Spade",
        tag: "A",
        reason: "caught up with mentor B (etag 40)",
      },
    ]);
    log.accept(commands[0]!);
    expect(log.record("Spade").topology.members).toEqual(["B", "C", "A"]);
    expect(log.record("Spade").recentChanges.at(-1)?.message).toBe(
      "A recovered from rehab and is a member again: caught up with mentor B (etag 40)",
    );
  });

  it("keeps a rehab in rehab while it is silent, or while its mentor has not reported on it", () => {
    const log = spadeOn(["A", "B", "C"]);
    log.accept({ type: "moveToRehab", database: "Spade", tag: "C", reason: "test" });
    const silent = round(
      log,
      { C: 5_000 },
      { Spade: { A: report(1, { C: 1 }), B: report(1, { C: 1 }) } },
    );
    expect(silent.commands).toEqual([]);
    expect(silent.notes[0]).toMatchObject({ tag: "C", status: "notResponding" });
    const unreported = round(log, {}, { Spade: { B: report(1, { C: 1 }) } });
    expect(unreported.commands).toEqual([]);
    expect(unreported.notes[0]).toMatchObject({
      status: "waitingForReport",
      message: "mentor A has not reported sending to C yet",
    });
  });

  it("does not count a silent member's stale report when deciding that a rehab caught up", () => {
    const log = spadeOn(["A", "B", "C"]);
    log.accept({ type: "moveToRehab", database: "Spade", tag: "C", reason: "test" });
    const { commands } = round(
      log,
      { B: 2_000 },
      { Spade: { A: report(9, { C: 9 }), B: report(12, { C: 3 }) } },
    );
    expect(commands).toEqual([
      {
        type: "promoteDatabaseNode",
        database: "Spade",
        tag: "C",
        reason: "caught up with mentor A (etag 9)",
      },
    ]);
  });

  it("promotes a rehab on its mentor's word alone, as RavenDB's TryPromote does, not every member's", () => {
    const log = spadeOn(["A", "B", "C"]);
    log.accept({ type: "moveToRehab", database: "Spade", tag: "C", reason: "test" });
    // B's link to C is still down (B never reported sending to C); A, C's mentor, has sent it all.
    const { commands } = round(
      log,
      {},
      { Spade: { A: report(9, { B: 9, C: 9 }), B: report(12, {}) } },
    );
    expect(commands).toEqual([
      {
        type: "promoteDatabaseNode",
        database: "Spade",
        tag: "C",
        reason: "caught up with mentor A (etag 9)",
      },
    ]);
    // Another member having sent everything does not count while the mentor has not.
    const behind = round(
      log,
      {},
      { Spade: { A: report(9, { B: 9, C: 5 }), B: report(12, { A: 12, C: 12 }) } },
    );
    expect(behind.commands).toEqual([]);
    expect(behind.notes[0]?.message).toBe(
      "C is catching up: it accepted etag 5 of 9 from mentor A",
    );
  });

  it("promotes a promotable only when its mentor has sent it everything", () => {
    const log = spadeOn(["A", "B"]);
    log.propose({ type: "addDatabaseNode", database: "Spade", tag: "D" });
    expect(log.record("Spade").mentors).toEqual({ D: "A" });
    const notConnected = round(log, {}, { Spade: { A: report(7, { B: 7 }) } });
    expect(notConnected.notes).toEqual([
      {
        database: "Spade",
        tag: "D",
        status: "waitingForReport",
        message: "mentor A has not reported sending to D yet",
      },
    ]);
    expect(round(log, {}, { Spade: { A: report(7, { B: 7, D: 6 }) } }).commands).toEqual([]);
    const mentorSilent = round(
      log,
      { A: 900, D: 0 },
      { Spade: { A: report(7, { D: 7 }) } },
      { timing: { heardWithinMs: 500 } },
    );
    expect(mentorSilent.notes[0]?.message).toBe(
      "no mentor of D is responding, so its progress is unknown",
    );
    const { commands } = round(
      log,
      {},
      { Spade: { A: report(7, { B: 7, D: 7 }), B: report(0, {}) } },
    );
    expect(commands).toEqual([
      {
        type: "promoteDatabaseNode",
        database: "Spade",
        tag: "D",
        reason: "caught up with mentor A (etag 7)",
      },
    ]);
    log.accept(commands[0]!);
    expect(log.record("Spade").topology.members).toEqual(["A", "B", "D"]);
  });

  it("never demotes the last member, and never rotates onto a silent node", () => {
    const single = spadeOn(["A"]);
    const lone = round(single, { A: 60_000 });
    expect(lone.commands).toEqual([]);
    expect(lone.notes).toEqual([
      {
        database: "Spade",
        tag: "A",
        status: "lastMember",
        message: "A is silent (no heartbeat for 60000 ms) but is the last member of 'Spade'; kept",
      },
    ]);
    const pair = spadeOn(["A", "B"]);
    const bothSilent = round(pair, { A: 1_500, B: 1_500 });
    expect(bothSilent.commands).toEqual([]);
    expect(bothSilent.notes[0]?.status).toBe("notResponding");
    // Both silent past the rehab time: the first goes to rehab, the second stays as the last member.
    pair.accept(round(pair, { A: 5_000, B: 5_000 }).commands[0]!);
    expect(pair.record("Spade").topology).toEqual({
      members: ["B"],
      promotables: [],
      rehabs: ["A"],
    });
    expect(round(pair, { A: 6_000, B: 6_000 }).commands).toEqual([]);
  });

  it("makes at most one change per database per round, and one for each database that needs one", () => {
    const log = spadeOn(["A", "B", "C"]);
    log.propose({ type: "addDatabaseNode", database: "Spade", tag: "D" });
    log.propose({ type: "createDatabase", name: "Rake", nodes: ["B", "A"] });
    log.propose({ type: "createDatabase", name: "Hoe", nodes: ["E"] });
    const reports = { Spade: { A: report(3, { B: 3, C: 3, D: 3 }) } };
    const { commands } = round(log, { A: 5_000, B: 5_000 }, reports);
    expect(commands).toEqual([
      { type: "moveToRehab", database: "Spade", tag: "A", reason: "no heartbeat for 5000 ms" },
      { type: "moveToRehab", database: "Rake", tag: "B", reason: "no heartbeat for 5000 ms" },
    ]);
  });

  it("works through a failure one round at a time until the topology is stable", () => {
    const log = spadeOn(["A", "B", "C", "D"]);
    const proposed: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { commands } = round(log, { A: 10_000, B: 10_000 });
      if (commands.length === 0) break;
      expect(commands).toHaveLength(1);
      const command = commands[0]!;
      proposed.push(`${command.type} ${"tag" in command ? command.tag : command.to}`);
      log.accept(commands[0]!);
    }
    expect(proposed).toEqual(["moveToRehab A", "moveToRehab B"]);
    expect(log.record("Spade").topology).toEqual({
      members: ["C", "D"],
      promotables: [],
      rehabs: ["A", "B"],
    });
  });

  it("a newly elected leader counts silence only from when it started observing", () => {
    const log = spadeOn(["A", "B", "C"]);
    const input: SupervisorInput = {
      state: log.state,
      nowMs,
      nodes: {},
      databases: {},
      observingSinceMs: nowMs - 500,
    };
    expect(superviseCluster(input).commands).toEqual([]);
    const later = superviseCluster({
      ...input,
      nowMs: nowMs + 600,
      nodes: { B: { lastHeardMs: nowMs + 600 }, C: { lastHeardMs: nowMs + 600 } },
    });
    expect(later.commands).toEqual([
      { type: "rotatePreferred", database: "Spade", tag: "A", reason: "no heartbeat for 1100 ms" },
    ]);
  });

  it("accepts other timings", () => {
    const log = spadeOn(["A", "B", "C"]);
    const timing = { rotatePreferredAfterMs: 5_000, moveToRehabAfterMs: 60_000 };
    expect(round(log, { A: 4_000 }, {}, { timing }).commands).toEqual([]);
    expect(round(log, { A: 5_000 }, {}, { timing }).commands[0]?.type).toBe("rotatePreferred");
    expect(round(log, { A: 60_000 }, {}, { timing }).commands[0]?.type).toBe("moveToRehab");
  });

  it("with shuffleAfterPromotion (the product's behaviour) a promotion carries a new members order", () => {
    const log = spadeOn(["A", "B", "C", "D"]);
    log.propose({ type: "addDatabaseNode", database: "Spade", tag: "E" });
    const reports = { Spade: { A: report(5, { B: 5, C: 5, D: 5, E: 5 }) } };
    const plain = round(log, {}, reports);
    expect(plain.commands[0]).not.toHaveProperty("membersOrder");
    const shuffled = (seed: number) =>
      round(log, {}, reports, { shuffleAfterPromotion: true, random: new SeededRandom(seed) })
        .commands[0]!;
    const first = shuffled(7);
    expect(first).toEqual(shuffled(7));
    if (first.type !== "promoteDatabaseNode") throw new Error("expected a promotion");
    expect([...(first.membersOrder ?? [])].sort()).toEqual(["A", "B", "C", "D", "E"]);
    const orders = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => JSON.stringify(shuffled(seed))));
    expect(orders.size).toBeGreaterThan(1);
    log.accept(first);
    expect(log.record("Spade").topology.members).toEqual(first.membersOrder);
    expect(() => round(log, {}, reports, { shuffleAfterPromotion: true })).toThrow(AssertionError);
  });

  it("is a pure function: the same input gives the same round, and the state is not touched", () => {
    const log = spadeOn(["A", "B", "C"]);
    log.accept({ type: "moveToRehab", database: "Spade", tag: "C", reason: "test" });
    const before = JSON.stringify(log.state);
    const input = { A: 1_200 };
    expect(round(log, input)).toEqual(round(log, input));
    expect(JSON.stringify(log.state)).toBe(before);
  });
});
