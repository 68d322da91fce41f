import { describe, expect, it } from "vitest";
import {
  checkAckDurability,
  reliableNetwork,
  reliableStorage,
  SimCluster,
} from "../../engine/runtime/sim/index.ts";

/**
 * Defect 8 of issue 12: a replica must not acknowledge what its disk does not hold yet. The
 * sender counts every ack towards write assurance, so an ack sent from memory (for a duplicate
 * batch that arrived while the first copy was still being written, for a reconnect, for a gap)
 * would count a replica that loses the write in a crash.
 */
describe("a replication ack states only what its sender's disk holds", () => {
  it("a duplicate batch that arrives while the first copy is being written is acknowledged once that copy is durable", async () => {
    const cluster = new SimCluster({
      servers: 2,
      seed: 11,
      storageFaults: { ...reliableStorage, fsyncMinMs: 50, fsyncMaxMs: 50 },
    });
    const broken: string[] = [];
    cluster.watchSends((envelope) =>
      checkAckDurability(cluster, envelope, (_property, message) => broken.push(message)),
    );
    const [a, b] = cluster.urls as [string, string];
    expect(await cluster.request(a, { type: "create-database", name: "Spade" })).toMatchObject({
      ok: true,
    });
    expect(await cluster.request(a, { type: "add-node", url: b })).toMatchObject({ ok: true });
    expect(
      await cluster.request(a, { type: "add-database-node", database: "Spade", tag: "B" }),
    ).toMatchObject({ ok: true });
    // From now on every message arrives twice, and every fsync takes 50 ms: the second copy of
    // a batch always arrives while the first is still being written.
    cluster.net.faults = { ...reliableNetwork, duplicateRate: 1 };
    for (let i = 1; i <= 5; i++) {
      const response = await cluster.request(a, {
        type: "batch",
        database: "Spade",
        transaction: { puts: [{ id: `users/${i}`, body: { i } }] },
        writeAssurance: { replicas: 1, timeoutMs: 2_000 },
      });
      expect(response).toMatchObject({ ok: true });
      // What write assurance counted is on B's disk: a crash of B now keeps it.
      expect(cluster.storageOf("B").durableValue("db-documents", `spade|users/${i}`)).toMatchObject(
        { kind: "document", id: `users/${i}` },
      );
    }
    await cluster.runFor(1_000);
    expect(broken).toEqual([]);
    expect(cluster.server("B")!.hostedDatabase("Spade")!.instance.list()).toHaveLength(5);
    await cluster.stop();
  });
});
