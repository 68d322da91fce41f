/**
 * Rookery's own DocumentStore over HTTP: given only the servers' URLs (no `network`), it talks to
 * server processes with fetch, and fails over when the node it writes to is killed.
 */
import { afterAll, describe, expect, it } from "vitest";
import { DocumentStore } from "../../engine/index.ts";
import type { ClientEvent } from "../../engine/index.ts";
import type { ProcessCluster } from "../../engine/runtime/process/process-cluster.ts";
import { patientMs, startProcesses } from "../runtime/process-helpers.ts";

const clusters: ProcessCluster[] = [];
afterAll(async () => {
  for (const cluster of clusters) await cluster.stop();
});

describe("Rookery's DocumentStore against server processes", () => {
  it(
    "with urls alone it forms a cluster, creates Spade, writes and reads over HTTP, and fails over from a killed node",
    async () => {
      const cluster = await startProcesses({ servers: 2 });
      clusters.push(cluster);
      const [a, b] = cluster.urls as [string, string];
      const admin = new DocumentStore({ urls: [a] });
      await admin.maintenance.addNodeToCluster(b);
      await admin.maintenance.createDatabase({ name: "Spade", replicationFactor: 2 });

      const store = new DocumentStore({ urls: [a, b], database: "Spade" }).initialize();
      const events: ClientEvent[] = [];
      store.on("event", (event) => events.push(event));
      const session = store.openSession();
      session.store({ name: "Oren" }, "users/1");
      await session.saveChanges();
      expect(await store.openSession().load("users/1")).toMatchObject({ name: "Oren" });

      const preferred = store.topology!.members[0]!;
      await cluster.kill(preferred);
      const later = store.openSession();
      later.store({ name: "Ayende" }, "users/2");
      await later.saveChanges();
      expect(events.some((e) => e.type === "failover")).toBe(true);
      expect(await store.openSession().load("users/2")).toMatchObject({ name: "Ayende" });
    },
    patientMs * 2,
  );

  it("a URL where no server listens fails at once, with an error that names it", async () => {
    const store = new DocumentStore({
      urls: ["http://127.0.0.1:9"],
      database: "Spade",
    }).initialize();
    await expect(store.openSession().load("users/1")).rejects.toThrow(/127\.0\.0\.1:9/);
  });
});
