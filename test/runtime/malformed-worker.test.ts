/**
 * Defect 4 in the worker runtime: a malformed request used to throw inside the server's worker,
 * which then died and stayed down. It is refused with InvalidRequest and the server carries on.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ServerRequest } from "../../engine/index.ts";
import type { WorkerCluster } from "../../engine/runtime/host/index.ts";
import { formCluster, ok, patientMs, put, startWorkers, url } from "./helpers.ts";

let cluster: WorkerCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe("a worker server and malformed requests", () => {
  it("refuses them with InvalidRequest, a forwarded one included, and keeps serving", async () => {
    cluster = await startWorkers({ servers: 2, storage: "memory" });
    await ok(cluster, url(1), { type: "create-database", name: "Spade" });
    await formCluster(cluster, 2);
    const bad: unknown[] = [
      { type: "add-node", url: undefined },
      { type: "batch", database: "Spade" },
      { type: "get-documents", database: "Spade", ids: "a" },
      null,
    ];
    for (const target of [url(1), url(2)]) {
      for (const request of bad) {
        const response = await cluster.network.request(target, request as ServerRequest, {
          timeoutMs: patientMs,
        });
        expect(response, JSON.stringify(request)).toMatchObject({
          ok: false,
          error: { code: "InvalidRequest" },
        });
      }
    }
    expect(cluster.servers.map((s) => s.alive)).toEqual([true, true]);
    expect(await put(cluster, url(1), "Spade", "users/1", { name: "Oren" })).toMatchObject({
      ok: true,
    });
    expect(await put(cluster, url(2), "Spade", "users/2", { name: "Ayende" })).toMatchObject({
      ok: false,
      error: { code: "DatabaseNotRelevant" },
    });
  });
});
