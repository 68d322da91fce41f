import { afterEach, describe, expect, it } from "vitest";
import type { TraceEvent } from "../../engine/index.ts";
import type { WorkerCluster } from "../../engine/runtime/host/index.ts";
import { formCluster, ok, patientMs, put, startWorkers, url } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(servers: number): Promise<{ cluster: WorkerCluster; events: TraceEvent[] }> {
  const cluster = await startWorkers({ servers, storage: "memory" });
  cleanups.push(() => cluster.stop());
  const events: TraceEvent[] = [];
  cluster.on("trace", (batch) => events.push(...batch));
  // A lone server takes its tag with its first database (the test creates it).
  if (servers > 1) await formCluster(cluster, servers);
  return { cluster, events };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("worker runtime: suspend, resume and re-time without restarting a server", () => {
  it("a pause ten election timeouts long causes no election: terms and leader stay as they were", async () => {
    const { cluster, events } = await started(3);
    const before = cluster.servers.map((s) => `${s.tag}:${s.term}:${s.leader}`);
    await cluster.suspend();
    const frozenAt = cluster.nowMs();
    await sleep(1_000); // elections time out after 100–200 ms at these timings
    expect(cluster.nowMs()).toBe(frozenAt);
    const mark = events.length;
    await cluster.resume();
    await sleep(500);
    await cluster.refresh();
    expect(cluster.servers.map((s) => `${s.tag}:${s.term}:${s.leader}`)).toEqual(before);
    expect(events.slice(mark).filter((e) => e.type === "role" && e.role !== "follower")).toEqual(
      [],
    );
    // The cluster works on: a cluster command commits.
    await ok(cluster, url(1), { type: "create-database", name: "Spade", replicationFactor: 3 });
  });

  it("a request sent while suspended waits and is answered after resume", async () => {
    const { cluster } = await started(1);
    await ok(cluster, url(1), { type: "create-database", name: "Spade" });
    await cluster.suspend();
    let answered = false;
    const write = put(cluster, url(1), "Spade", "users/1", { name: "Ada" }).then((response) => {
      answered = true;
      return response;
    });
    await sleep(300);
    expect(answered).toBe(false);
    await cluster.resume();
    expect((await write).ok).toBe(true);
  });

  it("setTiming re-times the running servers: the term stays, and the trace keeps flowing", async () => {
    const { cluster } = await started(2);
    const term = cluster.servers[0]!.term;
    await cluster.setTiming({
      tickMs: 10,
      raft: { heartbeatTicks: 4, electionTicks: 20 },
      replicationRetryMs: 200,
    });
    await sleep(600);
    await cluster.refresh();
    expect(cluster.servers.map((s) => s.term)).toEqual([term, term]);
  });
});

describe("worker runtime: what the network did", () => {
  it("replication toward a killed server is traced as not delivered, never as applied there", async () => {
    const { cluster, events } = await started(2);
    await ok(cluster, url(1), { type: "create-database", name: "Spade", replicationFactor: 2 });
    expect((await put(cluster, url(1), "Spade", "users/1", { n: 1 })).ok).toBe(true);
    await cluster.waitFor(
      () =>
        events.some(
          (e) =>
            e.type === "replication-applied" &&
            e.to === "B" &&
            e.items.some((item) => item.id === "users/1" && item.outcome === "written"),
        ),
      { timeoutMs: patientMs, what: "users/1 applied on B" },
    );
    await cluster.kill("B");
    const mark = events.length;
    expect((await put(cluster, url(1), "Spade", "users/2", { n: 2 })).ok).toBe(true);
    await cluster.waitFor(
      () =>
        events
          .slice(mark)
          .some((e) => e.type === "message-dropped" && e.to === "B" && e.ids?.includes("users/2")),
      { timeoutMs: patientMs, what: "the batch toward B traced as not delivered" },
    );
    const dropped = events
      .slice(mark)
      .find((e) => e.type === "message-dropped" && e.ids?.includes("users/2"));
    expect(dropped).toMatchObject({ kind: "replication", what: "batch", from: "A", to: "B" });
    expect(
      events.slice(mark).filter((e) => e.type === "replication-applied" && e.to === "B"),
    ).toEqual([]);
  });

  it("each server's Rachis reaches the host, with every commit index at the leader's after a command", async () => {
    const { cluster } = await started(3);
    await ok(cluster, url(1), { type: "create-database", name: "Pitchfork", replicationFactor: 2 });
    await cluster.waitFor(
      () => {
        const views = cluster.rachis();
        const leader = views.find((v) => v?.role === "leader");
        return !!leader && views.every((v) => v?.commit === leader.commit);
      },
      { timeoutMs: patientMs, what: "every commit index at the leader's" },
    );
    const leader = cluster.rachis().find((v) => v?.role === "leader")!;
    expect(leader.entries.some((entry) => /Pitchfork/.test(entry.text))).toBe(true);
    await cluster.kill("C");
    expect(cluster.rachis()[2]).toBeNull();
  });
});
