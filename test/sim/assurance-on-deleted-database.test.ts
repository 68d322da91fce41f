import { describe, expect, it } from "vitest";
import { SimCluster } from "../../engine/runtime/sim/index.ts";

/**
 * A write that waits for its replicas (write assurance) and whose database is deleted meanwhile
 * must get an answer: the database that would count the replicas' acknowledgements is gone, so
 * nothing would ever settle the wait, and its deadline was checked only by that database's tick.
 */
describe("write assurance on a database that is deleted while the write waits", () => {
  it("the waiting write is answered at once with DatabaseDoesNotExist, naming the database, instead of never", async () => {
    const cluster = new SimCluster({ servers: 3, seed: 5 });
    const [a, b, c] = cluster.urls as [string, string, string];
    for (const url of [b, c])
      expect(await cluster.request(a, { type: "add-node", url })).toMatchObject({ ok: true });
    expect(
      await cluster.request(a, { type: "create-database", name: "Spade", replicationFactor: 2 }),
    ).toMatchObject({ ok: true });
    const hosts = cluster.databaseRecord("Spade")!.topology.members;
    const [writer, sibling] = hosts.map((tag) => cluster.urls["ABC".indexOf(tag)]!) as [
      string,
      string,
    ];
    await cluster.waitFor((sim) => sim.server(writer)?.hostedDatabase("Spade") !== undefined, {
      what: "the writer to host Spade",
    });
    // The sibling is cut off: the write is made on the writer but no replica acknowledges it.
    cluster.isolate(sibling);
    const assuranceTimeoutMs = 60_000;
    const startedMs = cluster.nowMs();
    const write = cluster.request(
      writer,
      {
        type: "batch",
        database: "Spade",
        transaction: { puts: [{ id: "users/1", body: { name: "Oren" } }] },
        writeAssurance: { replicas: 1, timeoutMs: assuranceTimeoutMs },
      },
      { timeoutMs: assuranceTimeoutMs * 2 },
    );
    await cluster.runFor(500);
    const leaderSide = cluster.urls.find((url) => url !== sibling)!;
    expect(
      await cluster.request(leaderSide, { type: "delete-database", name: "Spade" }),
    ).toMatchObject({ ok: true });
    const answer = await write;
    expect(answer).toMatchObject({ ok: false, error: { code: "DatabaseDoesNotExist" } });
    expect(answer.ok ? "" : answer.error.message).toMatch(/Spade/);
    expect(cluster.nowMs() - startedMs).toBeLessThan(assuranceTimeoutMs);
    await cluster.stop();
  });
});
