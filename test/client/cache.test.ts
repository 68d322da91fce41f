import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import { mkdtemp, rm, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  IndexedDbTopologyCache,
  MemoryTopologyCache,
  topologyCacheKey,
} from "../../engine/client/index.ts";
import type { TopologyCache } from "../../engine/client/index.ts";
import { FsTopologyCache } from "../../engine/client/node.ts";
import type { TopologyView } from "../../engine/transport/index.ts";
import { caught, clusterWith, servedBy, storeFor } from "./helpers.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "rookery-client-"));
  dirs.push(dir);
  return dir;
}

const caches: [string, () => Promise<TopologyCache>][] = [
  ["memory", async () => new MemoryTopologyCache()],
  ["a file (Node)", async () => new FsTopologyCache(await tempDir())],
  ["IndexedDB (browser)", async () => new IndexedDbTopologyCache({ factory: new IDBFactory() })],
];

function topology(etag: number): TopologyView {
  return {
    database: "Spade",
    etag,
    members: ["B"],
    promotables: [],
    rehabs: [],
    nodes: [{ tag: "B", url: "http://127.0.0.2:8080", role: "member" }],
  };
}

describe.each(caches)("the topology cache in %s", (_name, makeCache) => {
  it("a client restarted while every URL it was given is down still reaches its database on a node it was never told about", async () => {
    // Spade lives on B and C; the client only ever lists A.
    const cluster = await clusterWith({
      servers: 3,
      seed: 9,
      database: "Spade",
      nodes: ["B", "C"],
    });
    const [a] = cluster.urls as [string];
    const cache = await makeCache();
    const before = storeFor(cluster, "Spade", { urls: [a], conventions: { topologyCache: cache } });
    const session = before.store.openSession();
    session.store({ name: "Oren" }, "users/1");
    await session.saveChanges();

    await cluster.kill("A");
    // "Restart": a new store with the same URLs and the same cache.
    const after = storeFor(cluster, "Spade", { urls: [a], conventions: { topologyCache: cache } });
    const user = await after.store.openSession().load("users/1");
    expect(user).toEqual({ name: "Oren" });
    expect(servedBy(after.events)).toEqual(["B"]);
    expect(after.store.requestExecutor.topologySource).toContain("cache");
  });

  it("keeps the newest topology when an older one is saved later", async () => {
    const cache = await makeCache();
    await cache.save("spade.1", topology(5));
    await cache.save("spade.1", topology(3));
    expect((await cache.load("spade.1"))?.etag).toBe(5);
    expect(await cache.load("spade.2")).toBeUndefined();
  });
});

describe("without a topology cache", () => {
  it("a new client whose listed URLs are all down gets one error naming each URL", async () => {
    const cluster = await clusterWith({
      servers: 3,
      seed: 9,
      database: "Spade",
      nodes: ["B", "C"],
    });
    const [a] = cluster.urls as [string];
    await cluster.kill("A");
    const { store } = storeFor(cluster, "Spade", { urls: [a] });
    const error = await caught(() => store.openSession().load("users/1"));
    expect(error.code).toBe("AllTopologyNodesDown");
    expect(error.message).toContain(a);
    expect(error.message).toContain("no topology cache");
  });
});

describe("the file cache", () => {
  it("reads a torn or foreign file as no topology", async () => {
    const dir = await tempDir();
    const cache = new FsTopologyCache(dir);
    await cache.save("spade.1", topology(2));
    const [file] = await readdir(dir);
    expect(file).toBe("spade.1.rookery-topology.json");
    await writeFile(join(dir, file!), '{"database":"Spa');
    expect(await cache.load("spade.1")).toBeUndefined();
  });

  it("names entries by database and the given URLs, whatever their order", () => {
    const one = topologyCacheKey("Spade", ["http://127.0.0.1:8080", "http://127.0.0.2:8080/"]);
    expect(one).toBe(topologyCacheKey("spade", ["http://127.0.0.2:8080", "http://127.0.0.1:8080"]));
    expect(one).not.toBe(topologyCacheKey("Spade", ["http://127.0.0.1:8080"]));
    expect(one).toMatch(/^spade\.[0-9a-f]{8}$/);
  });
});
