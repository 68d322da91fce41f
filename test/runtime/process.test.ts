/**
 * The process runtime: one operating-system process per server, on real addresses, with peers
 * over sockets. Its own client (cluster.network) drives it here; the official RavenDB client does
 * in test/http.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Cluster, isRookeryError } from "../../engine/index.ts";
import type { ServerRequest } from "../../engine/index.ts";
import type { ProcessCluster } from "../../engine/runtime/process/process-cluster.ts";
import { freeBasePort } from "../../engine/runtime/process/addresses.ts";
import { serverEntry } from "../../engine/runtime/host/node-bundles.ts";
import {
  isRunning,
  leftBehind,
  patientMs,
  processTiming,
  startProcesses,
} from "./process-helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track(cluster: ProcessCluster): ProcessCluster {
  cleanups.push(() => cluster.stop());
  return cluster;
}

async function ok(cluster: ProcessCluster, on: string, request: ServerRequest): Promise<unknown> {
  const response = await cluster.network.request(cluster.urls[Number(on)] ?? on, request, {
    timeoutMs: patientMs,
  });
  if (!response.ok)
    throw new Error(`${request.type} on ${on}: ${response.error.code}: ${response.error.message}`);
  return response.result;
}

function ids(cluster: ProcessCluster, tag: string, database: string): string[] {
  return cluster.describe().documents[tag]?.[database] ?? [];
}

const put = (database: string, id: string, body: Record<string, unknown>): ServerRequest => ({
  type: "batch",
  database,
  transaction: { puts: [{ id, body }] },
});

/** joined forms a cluster of every server, with database `name` on all of them. */
async function joined(cluster: ProcessCluster, name: string): Promise<void> {
  for (const url of cluster.urls.slice(1)) await ok(cluster, "0", { type: "add-node", url });
  await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null), {
    timeoutMs: patientMs,
    what: "every server in the cluster",
  });
  await ok(cluster, "0", {
    type: "create-database",
    name,
    replicationFactor: cluster.urls.length,
  });
}

describe("process runtime: one OS process per server on real HTTP", () => {
  it("kill is SIGKILL, restart recovers on the same folder and address, and stop leaves no process, socket or handle", async () => {
    // Building the server bundle (when sources changed) starts esbuild's service process, which
    // stays for later builds; it is this process's, not the cluster's.
    await serverEntry("process");
    const before = process.getActiveResourcesInfo();
    const dataDir = mkdtempSync(join(tmpdir(), "rookery-process-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const cluster = await startProcesses({ servers: 2, dataDir });
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : cluster.stop()));
    expect(cluster.urls).toEqual([
      `http://127.0.0.1:${cluster.port}`,
      `http://127.0.0.2:${cluster.port}`,
    ]);
    expect(cluster.servers.map((s) => s.tag)).toEqual(["?", "?"]);

    await ok(cluster, "0", { type: "create-database", name: "Spade" });
    await ok(cluster, "0", put("Spade", "users/1", { name: "Oren" }));
    expect(ids(cluster, "A", "Spade")).toEqual(["users/1"]);

    const firstPid = cluster.pid("A")!;
    await cluster.kill("A");
    expect(isRunning(firstPid)).toBe(false);
    const down = await cluster.network.request(cluster.urls[0]!, { type: "node-info" });
    expect(down.ok ? "answered" : down.error.code).toBe("ServerUnavailable");
    // Nothing listens at A's address any more: a client's connection is refused.
    await expect(fetch(`${cluster.urls[0]}/cluster/topology`)).rejects.toThrow();

    await cluster.restart("A");
    expect(cluster.pid("A")).not.toBe(firstPid);
    expect(cluster.servers[0]).toMatchObject({ url: cluster.urls[0], tag: "A", alive: true });
    expect(ids(cluster, "A", "Spade")).toEqual(["users/1"]);
    expect(existsSync(join(dataDir, "1"))).toBe(true);

    const pids = [cluster.pid("A")!, cluster.pid(cluster.urls[1]!)!];
    await cluster.stop();
    stopped = true;
    expect(await leftBehind(cluster, pids, before)).toEqual([]);
  });

  it("servers replicate over their own sockets; a partition cuts them and heal joins them again", async () => {
    const cluster = track(await startProcesses({ servers: 3 }));
    await joined(cluster, "Spade");
    await ok(cluster, "0", put("Spade", "users/1", { name: "Oren" }));
    await cluster.waitFor((c) => ["A", "B", "C"].every((t) => ids(c, t, "Spade").length === 1), {
      timeoutMs: patientMs,
      what: "users/1 on A, B and C",
    });

    cluster.partition(["A"], ["B", "C"]);
    await ok(cluster, "1", put("Spade", "users/2", { name: "written on B" }));
    await cluster.waitFor((c) => ids(c, "C", "Spade").includes("users/2"), {
      timeoutMs: patientMs,
      what: "users/2 on C",
    });
    await cluster.runFor(500);
    expect(ids(cluster, "A", "Spade")).toEqual(["users/1"]);
    // A alone is a minority: cluster-wide operations there fail with no leader.
    const alone = await cluster.network.request(
      cluster.urls[0]!,
      { type: "create-database", name: "Lonely" },
      { timeoutMs: patientMs },
    );
    expect(alone.ok ? "created" : alone.error.code).toBe("NoLeader");

    cluster.heal();
    await cluster.waitFor((c) => ids(c, "A", "Spade").includes("users/2"), {
      timeoutMs: patientMs,
      what: "users/2 on A after healing",
    });
  });

  it("with addresses 'ports', servers share 127.0.0.1 on consecutive ports and work the same", async () => {
    const cluster = track(await startProcesses({ servers: 2, addresses: "ports" }));
    expect(cluster.urls).toEqual([
      `http://127.0.0.1:${cluster.port}`,
      `http://127.0.0.1:${cluster.port + 1}`,
    ]);
    await joined(cluster, "Spade");
    await ok(cluster, "0", put("Spade", "users/1", { name: "Oren" }));
    await cluster.waitFor((c) => ids(c, "B", "Spade").includes("users/1"), {
      timeoutMs: patientMs,
      what: "users/1 on B",
    });
  });

  it("a server whose address is taken says so, and the cluster starts nothing", async () => {
    const port = await freeBasePort("loopback", 1);
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const error = await Cluster.start({
      runtime: "process",
      servers: 1,
      port,
      timing: processTiming,
    }).catch((e: unknown) => e);
    expect(isRookeryError(error)).toBe(true);
    expect((error as Error).message).toMatch(
      new RegExp(`http://127.0.0.1:${port} could not start: .*EADDRINUSE`),
    );
  });

  it("the process runtime refuses options it has no use for", async () => {
    await expect(Cluster.start({ runtime: "process", storage: "memory" })).rejects.toThrow(
      /storage "memory" is not available/,
    );
    await expect(Cluster.start({ runtime: "sim", port: 9000 })).rejects.toThrow(
      /for the process runtime/,
    );
  });
});
