import { describe, expect, it } from "vitest";
import { SimCluster } from "../../engine/runtime/sim/index.ts";
import type { TraceEvent } from "../../engine/server/index.ts";
import type { ServerRequest } from "../../engine/transport/index.ts";

type Of<T extends TraceEvent["type"]> = Extract<TraceEvent, { type: T }>;

const url = (n: number): string => `http://127.0.0.${n}:8080`;

/** A simulated cluster with every trace event kept, and Spade on the first `group` servers. */
async function traced(servers: number, group: number) {
  const cluster = new SimCluster({ servers, seed: 7 });
  const events: TraceEvent[] = [];
  cluster.on("trace", (batch) => events.push(...batch));
  const ask = async (n: number, request: ServerRequest) => {
    const response = await cluster.request(url(n), request);
    if (!response.ok) throw new Error(`${response.error.code}: ${response.error.message}`);
    return response.result;
  };
  await ask(1, { type: "create-database", name: "Spade" });
  for (let n = 2; n <= servers; n++) {
    await ask(1, { type: "add-node", url: url(n) });
    await cluster.waitFor((c) => c.servers[n - 1]!.tag !== "?", { timeoutMs: 10_000 });
  }
  for (const tag of "BCDE".slice(0, group - 1)) {
    await ask(1, { type: "add-database-node", database: "Spade", tag });
    await cluster.waitFor((c) => c.describe().databases[0]!.members.includes(tag), {
      timeoutMs: 10_000,
    });
  }
  const put = (n: number, id: string, body: Record<string, unknown>) =>
    ask(n, { type: "batch", database: "Spade", transaction: { puts: [{ id, body }] } });
  const of = <T extends TraceEvent["type"]>(type: T): Of<T>[] =>
    events.filter((e): e is Of<T> => e.type === type);
  return { cluster, events, ask, put, of };
}

describe("the trace is the truth: batches sent, applied by their receiver, or dropped", () => {
  it("a batch is traced when sent and, by its receiver, when applied: naming its documents, with the lag since the write", async () => {
    const { cluster, put, of } = await traced(2, 2);
    const from = of("replication-applied").length;
    await put(1, "users/9", { name: "Ada" });
    await cluster.runFor(500);
    const sent = of("replication-batch").filter((e) => e.ids.includes("users/9"));
    expect(sent.map((e) => `${e.from}→${e.to}`)).toContain("A→B");
    const applied = of("replication-applied")
      .slice(from)
      .filter((e) => e.items.some((item) => item.id === "users/9"));
    const onB = applied.find((e) => e.to === "B")!;
    expect(onB).toMatchObject({ from: "A", database: "Spade" });
    expect(onB.items).toEqual([{ id: "users/9", outcome: "written" }]);
    expect(onB.lagMs).toBeGreaterThanOrEqual(0);
    expect(onB.lagMs).toBeLessThan(100);
    // Applied after it was sent, on the receiver's clock.
    expect(onB.atMs).toBeGreaterThan(sent.find((e) => e.to === "B")!.atMs);
    await cluster.stop();
  });

  it("the echo of A's write that B sends back is applied on A as already had: its change vector says so", async () => {
    const { cluster, put, of } = await traced(2, 2);
    await put(1, "users/9", { name: "Ada" });
    await cluster.runFor(1_000);
    const echo = of("replication-applied").find(
      (e) => e.from === "B" && e.to === "A" && e.items.some((item) => item.id === "users/9"),
    );
    expect(echo?.items).toEqual([{ id: "users/9", outcome: "already-had" }]);
    expect(echo?.lagMs).toBeUndefined();
    await cluster.stop();
  });

  it("a batch toward a killed server is traced as dropped, with why, and never as applied there", async () => {
    const { cluster, put, of } = await traced(2, 2);
    await cluster.kill(url(2));
    const before = of("replication-applied").length;
    await put(1, "tasks/1", { title: "rake" });
    await cluster.runFor(1_000);
    const dropped = of("message-dropped").filter(
      (e) => e.kind === "replication" && e.what === "batch" && e.ids?.includes("tasks/1"),
    );
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped[0]).toMatchObject({ from: "A", to: "B", database: "Spade" });
    expect(dropped[0]!.reason).toMatch(/not running/);
    expect(
      of("replication-applied")
        .slice(before)
        .filter((e) => e.to === "B"),
    ).toEqual([]);

    // A cut network says so too.
    await cluster.restart(url(2));
    await cluster.runFor(1_000);
    cluster.partition([url(1)], [url(2)]);
    await put(1, "tasks/2", { title: "hoe" });
    await cluster.runFor(1_000);
    const cut = of("message-dropped").find((e) => e.ids?.includes("tasks/2"));
    expect(cut?.reason).toMatch(/cut/);
    await cluster.stop();
  });

  it("concurrent changes are traced as a conflict resolved to the latest, saying whose version won", async () => {
    const { cluster, put, of } = await traced(2, 2);
    cluster.partition([url(1)], [url(2)]);
    await put(1, "users/1", { email: "a@example.com" });
    await cluster.runFor(50);
    await put(2, "users/1", { phone: "+44" }); // later: it wins
    cluster.heal();
    await cluster.runFor(1_500);
    const resolved = of("replication-applied").flatMap((e) =>
      e.items
        .filter((item) => item.id === "users/1" && item.outcome === "resolved")
        .map((item) => ({ to: e.to, kept: item.kept })),
    );
    // Whichever server met the two versions first resolved them to B's (the later write) and says
    // whose that was; the other then receives the resolution, which supersedes its own version.
    expect(resolved.length).toBeGreaterThan(0);
    for (const { to, kept } of resolved) expect(kept).toBe(to === "B" ? "local" : "incoming");
    await cluster.stop();
  });

  it("write assurance: how long the save waited and how many replicas it reached are traced", async () => {
    const { cluster, ask, of } = await traced(2, 2);
    await ask(1, {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "tasks/1", body: {} }] },
      writeAssurance: { replicas: 1, timeoutMs: 1_000 },
    });
    await cluster.kill(url(2));
    const refused = await cluster.request(url(1), {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "tasks/2", body: {} }] },
      writeAssurance: { replicas: 1, timeoutMs: 700 },
    });
    expect(refused.ok).toBe(false);
    const waits = of("write-assurance");
    expect(waits.map((w) => [w.ids, w.outcome, w.reached, w.wanted])).toEqual([
      [["tasks/1"], "satisfied", 1, 1],
      [["tasks/2"], "timed-out", 0, 1],
    ]);
    expect(waits[1]!.waitedMs).toBeGreaterThanOrEqual(700);
    expect(waits[1]!.waitedMs).toBeLessThan(800);
    await cluster.stop();
  });
});

describe("Rachis for the book's panel", () => {
  it("every server's view reaches the leader's commit index after a cluster operation; logs carry terms and words", async () => {
    const { cluster, ask } = await traced(3, 1);
    await ask(1, { type: "create-database", name: "Pitchfork", replicationFactor: 2 });
    await cluster.runFor(1_000);
    const views = cluster.rachis();
    const leader = views.find((v) => v?.role === "leader")!;
    expect(views.map((v) => v?.commit)).toEqual([leader.commit, leader.commit, leader.commit]);
    expect(leader.entries.at(-1)).toMatchObject({ kind: "command", term: leader.term });
    expect(leader.entries.at(-1)!.text).toMatch(/Pitchfork/);
    expect(leader.voters).toEqual(["A", "B", "C"]);
    expect(Object.keys(leader.progress).sort()).toEqual(["B", "C"]);
    const follower = views.find((v) => v?.role === "follower")!;
    expect(follower.electionElapsedTicks).toBeLessThan(follower.electionTimeoutTicks);
    expect(follower.vote === null || typeof follower.vote === "string").toBe(true);
    await cluster.stop();
  });

  it("Raft messages are traced only while asked for, and their drops with them", async () => {
    const { cluster, events, of } = await traced(2, 1);
    await cluster.runFor(300);
    expect(of("raft-message")).toEqual([]);
    cluster.traceRaftMessages(true);
    const mark = events.length;
    await cluster.runFor(300);
    const kinds = new Set(
      events.slice(mark).flatMap((e) => (e.type === "raft-message" ? [e.kind] : [])),
    );
    expect(kinds).toEqual(new Set(["append", "appendResponse"]));
    await cluster.kill(url(2));
    await cluster.runFor(300);
    expect(
      of("message-dropped").some((e) => e.kind === "raft" && e.what === "append" && e.to === "B"),
    ).toBe(true);
    cluster.traceRaftMessages(false);
    const after = events.length;
    await cluster.runFor(300);
    expect(
      events
        .slice(after)
        .filter(
          (e) => e.type === "raft-message" || (e.type === "message-dropped" && e.kind === "raft"),
        ),
    ).toEqual([]);
    await cluster.stop();
  });
});
