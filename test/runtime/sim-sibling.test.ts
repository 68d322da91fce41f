import { describe, expect, it } from "vitest";
import { Cluster } from "../../engine/index.ts";
import { SimCluster } from "../../engine/runtime/sim/index.ts";

describe("two simulated clusters on one network", () => {
  it("a sibling has its own servers, addresses and tags, on the same virtual clock", async () => {
    const first = new SimCluster({ servers: 2, seed: 3 });
    const second = await first.startSibling({ servers: 3 });
    expect(first.urls).toEqual(["http://127.0.0.1:8080", "http://127.0.0.2:8080"]);
    expect(second.urls).toEqual([
      "http://127.0.1.1:8080",
      "http://127.0.1.2:8080",
      "http://127.0.1.3:8080",
    ]);
    expect(second.networkIndex).toBe(1);
    expect(first.siblings).toEqual([second]);
    const created = await first.request(first.urls[0]!, { type: "create-database", name: "Spade" });
    const other = await second.request(second.urls[0]!, {
      type: "create-database",
      name: "Backup",
    });
    expect(created.ok && other.ok).toBe(true);
    // Both bootstrapped a cluster of their own: each has a node A.
    expect(first.servers[0]!.tag).toBe("A");
    expect(second.servers[0]!.tag).toBe("A");
    expect(second.describe().databases.map((db) => db.name)).toEqual(["Backup"]);
    expect(first.describe().databases.map((db) => db.name)).toEqual(["Spade"]);
    await second.runFor(100);
    expect(first.nowMs()).toBe(second.nowMs());
    await first.stop();
  });

  it("either cluster's network reaches the other's servers; partition cuts them and heal restores", async () => {
    const first = new SimCluster({ servers: 1 });
    const second = await first.startSibling({ servers: 1 });
    const there = second.urls[0]!;
    expect((await first.network.request(there, { type: "node-info" })).ok).toBe(true);
    first.partition(first.urls, second.urls);
    expect(first.net.linkUp(first.urls[0]!, there)).toBe(false);
    expect(first.net.linkUp(there, first.urls[0]!)).toBe(false);
    first.heal();
    expect(first.net.linkUp(first.urls[0]!, there)).toBe(true);
    await first.stop();
  });

  it("heal on one cluster leaves a cut inside the other", async () => {
    const first = new SimCluster({ servers: 2 });
    const second = await first.startSibling({ servers: 2 });
    second.partition(["http://127.0.1.1:8080"], ["http://127.0.1.2:8080"]);
    first.isolate("http://127.0.0.2:8080");
    first.heal();
    expect(first.net.linkUp(first.urls[0]!, first.urls[1]!)).toBe(true);
    expect(second.net.linkUp(second.urls[0]!, second.urls[1]!)).toBe(false);
    second.heal();
    expect(second.net.linkUp(second.urls[0]!, second.urls[1]!)).toBe(true);
    await first.stop();
  });

  it("is offered by Cluster.start's handle", async () => {
    const first = await Cluster.start({ servers: 1 });
    const second = await first.startSibling!({ servers: 2 });
    expect(second.urls).toEqual(["http://127.0.1.1:8080", "http://127.0.1.2:8080"]);
    await first.stop();
  });
});
