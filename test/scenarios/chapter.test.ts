import { describe, expect, it } from "vitest";
import { Chapter, ok } from "./helpers.ts";

/**
 * The chapter "Setting up a RavenDB Cluster", told as executable stories in virtual time. Each
 * test names the section it follows.
 */
/** Spade with users/1 and users/2 on A, and 127.0.0.2 joined as B (not in Spade's group yet). */
async function spadeOnAWithBJoined(): Promise<Chapter> {
  const book = Chapter.start(2);
  ok(await book.ask(0, { type: "create-database", name: "Spade" }));
  ok(await book.put("A", "Spade", { "users/1": { name: "Oren" }, "users/2": { name: "Eini" } }));
  const added = ok<{ tag: string }>(
    await book.ask("A", { type: "add-node", url: "http://127.0.0.2:8080" }),
  );
  expect(added.tag).toBe("B");
  await book.cluster.waitFor(
    () =>
      book.cluster.servers[1]!.tag === "B" &&
      book.cluster.server("B")!.clusterState!.databases["spade"] !== undefined,
    { what: "B to learn the cluster" },
  );
  return book;
}

describe("Your first RavenDB Cluster", () => {
  it("claim 5: a single server is a cluster — Spade on a fresh server makes it node A, leader of one; the other server still shows ?", async () => {
    const book = Chapter.start(2);
    expect(book.cluster.servers.map((s) => s.tag)).toEqual(["?", "?"]);
    ok(await book.ask(0, { type: "create-database", name: "Spade" }));
    ok(await book.put("A", "Spade", { "users/1": { name: "Oren" }, "users/2": { name: "Eini" } }));
    expect(book.cluster.servers.map((s) => s.tag)).toEqual(["A", "?"]);
    expect(book.cluster.servers[0]!.role).toBe("leader");
    expect(book.ids("A", "Spade")).toEqual(["users/1", "users/2"]);
  });

  it("claim 6: adding 127.0.0.2 by URL makes it node B, chosen by the leader; B sees Spade but Offline, since Spade is not on B", async () => {
    const book = await spadeOnAWithBJoined();
    expect(book.cluster.servers.map((s) => s.tag)).toEqual(["A", "B"]);
    expect(
      ok<{ status: string }>(await book.ask("B", { type: "database-status", database: "Spade" }))
        .status,
    ).toBe("Offline");
    expect(book.ids("B", "Spade")).toEqual([]);
  });

  it("claim 7: adding B to Spade's group makes it a promotable fed by its mentor A; users/1 and users/2 arrive by replication and B becomes a member", async () => {
    const book = await spadeOnAWithBJoined();
    const joined = ok<{ mentor: string }>(
      await book.ask("A", { type: "add-database-node", database: "Spade", tag: "B" }),
    );
    expect(joined.mentor).toBe("A");
    expect(book.topology("Spade").promotables).toEqual(["B"]);
    await book.cluster.waitFor(() => book.ids("B", "Spade").length === 2, {
      what: "users/1 and users/2 on B",
    });
    await book.cluster.waitFor(() => book.topology("Spade").members.includes("B"), {
      what: "B promoted to member",
    });
    expect(book.topology("Spade").members).toEqual(["A", "B"]);
    expect(
      ok<{ status: string }>(await book.ask("B", { type: "database-status", database: "Spade" }))
        .status,
    ).toBe("Online");
    expect(book.body("B", "Spade", "users/1")).toEqual({ name: "Oren" });
  });
});

/** A two-node cluster with Spade on both, as the chapter has it before it kicks the tires. */
async function spadeOnTwo(): Promise<Chapter> {
  const book = Chapter.start(2);
  ok(await book.ask(0, { type: "create-database", name: "Spade" }));
  ok(await book.put("A", "Spade", { "users/1": { name: "Oren" }, "users/2": { name: "Eini" } }));
  ok(await book.ask("A", { type: "add-node", url: "http://127.0.0.2:8080" }));
  ok(await book.ask("A", { type: "add-database-node", database: "Spade", tag: "B" }));
  await book.cluster.waitFor(() => book.topology("Spade").members.length === 2, {
    what: "Spade on A and B",
  });
  return book;
}

describe("Kicking the tires of your RavenDB Cluster", () => {
  it("with A killed there is no leader: cluster-wide operations fail clearly, yet Spade on B takes users/3", async () => {
    const book = await spadeOnTwo();
    await book.cluster.kill("A");
    await book.cluster.runFor(2000);
    expect(book.cluster.servers.filter((s) => s.role === "leader")).toEqual([]);

    const refused = await book.ask("B", { type: "create-database", name: "Pitchfork" });
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.code).toBe("NoLeader");
      expect(refused.error.message).toContain(
        "creating database 'Pitchfork' needs 2 of 2 nodes; 1 reachable",
      );
    }
    ok(await book.put("B", "Spade", { "users/3": { name: "Written without a leader" } }));
    expect(book.ids("B", "Spade")).toEqual(["users/1", "users/2", "users/3"]);
  });

  it("claim 8: two servers cannot lose either — with A down there is no leader, B still takes users/3, and users/3 reaches A when it returns", async () => {
    const book = await spadeOnTwo();
    await book.cluster.kill("A");
    await book.cluster.runFor(2000);
    expect(book.cluster.servers.filter((s) => s.alive && s.role === "leader")).toEqual([]);
    ok(await book.put("B", "Spade", { "users/3": { name: "Written without a leader" } }));
    await book.cluster.restart("A");
    await book.cluster.waitFor(() => book.cluster.servers.some((s) => s.role === "leader"), {
      what: "a leader",
    });
    await book.cluster.waitFor(() => book.ids("A", "Spade").includes("users/3"), {
      what: "users/3 on A",
    });
    expect(book.body("A", "Spade", "users/3")).toEqual({ name: "Written without a leader" });
  });
});

async function fiveNodes(): Promise<Chapter> {
  const book = await spadeOnTwo();
  for (const url of ["http://127.0.0.3:8080", "http://127.0.0.4:8080", "http://127.0.0.5:8080"]) {
    await book.cluster.addServer();
    ok(await book.ask("A", { type: "add-node", url }));
  }
  await book.cluster.waitFor(
    () => book.cluster.servers.every((s) => s.tag !== "?" && s.leader !== null),
    { what: "five nodes with a leader" },
  );
  return book;
}

describe("Expanding your cluster", () => {
  it("C, D and E join; every server sees the whole topology, and Spade is offline on D", async () => {
    const book = await fiveNodes();
    expect(book.cluster.servers.map((s) => s.tag)).toEqual(["A", "B", "C", "D", "E"]);
    for (const tag of ["A", "B", "C", "D", "E"]) {
      await book.cluster.waitFor(
        () => Object.keys(book.cluster.server(tag)!.clusterState!.topology.members).length === 5,
        { what: `${tag} to see five members` },
      );
      const topology = ok<{ members: Record<string, string> }>(
        await book.ask(tag, { type: "cluster-topology" }),
      );
      expect(Object.keys(topology.members).sort()).toEqual(["A", "B", "C", "D", "E"]);
    }
    expect(
      ok<{ status: string }>(await book.ask("D", { type: "database-status", database: "Spade" }))
        .status,
    ).toBe("Offline");
  });

  it("claim 9: given only a factor of 3, the cluster places Pitchfork on three of five servers itself, and a document written there reaches all three", async () => {
    const book = await fiveNodes();
    const created = ok<{ nodes: string[] }>(
      await book.ask("D", { type: "create-database", name: "Pitchfork", replicationFactor: 3 }),
    );
    expect(created.nodes).toHaveLength(3);
    // Placement goes to the least loaded servers: Spade already sits on A and B.
    expect([...created.nodes].sort()).toEqual(["C", "D", "E"]);
    ok(await book.put(created.nodes[0]!, "Pitchfork", { "tines/1": { count: 3 } }));
    for (const tag of created.nodes) {
      await book.cluster.waitFor(() => book.ids(tag, "Pitchfork").includes("tines/1"), {
        what: `tines/1 on ${tag}`,
      });
    }
  });

  it("claim 10: the garden shed — eight databases on five nodes, the book's factors; any one node can fail, and of all pairs only A and B together take databases down", async () => {
    const book = await fiveNodes();
    // The book's table (expanding.mdx): created in this order after Spade, factors 3 and 2 alternating.
    const shed: [string, number][] = [
      ["Pitchfork", 3],
      ["Rake", 2],
      ["Hoe", 3],
      ["Shears", 2],
      ["Trowel", 3],
      ["Shovel", 2],
      ["Wheelbarrow", 3],
    ];
    for (const [name, replicationFactor] of shed)
      ok(await book.ask("A", { type: "create-database", name, replicationFactor }));
    const names = ["Spade", ...shed.map(([name]) => name)];
    expect(Object.fromEntries(names.map((name) => [name, book.topology(name).members]))).toEqual({
      Spade: ["A", "B"],
      Pitchfork: ["C", "D", "E"],
      Rake: ["B", "A"],
      Hoe: ["D", "E", "C"],
      Shears: ["A", "B"],
      Trowel: ["E", "C", "D"],
      Shovel: ["B", "A"],
      Wheelbarrow: ["C", "D", "E"],
    });
    const tags = ["A", "B", "C", "D", "E"];
    const hosting = (tag: string) =>
      names.filter((name) => book.topology(name).members.includes(tag));
    const preferring = (tag: string) =>
      names.filter((name) => book.topology(name).members[0] === tag);
    for (const tag of tags) {
      expect(hosting(tag), tag).toHaveLength(4);
      expect(preferring(tag).length, tag).toBeLessThanOrEqual(2);
    }
    const groups = Object.fromEntries(
      names.map((name) => [name, [...book.topology(name).members]]),
    );

    // Every single failure and every pair: a database with a live node takes a write there; one
    // whose every node is down cannot.
    const failures = [
      ...tags.map((tag) => [tag]),
      ...tags.flatMap((a, i) => tags.slice(i + 1).map((b) => [a, b])),
    ];
    const lost: Record<string, string[]> = {};
    for (const down of failures) {
      for (const tag of down) await book.cluster.kill(tag);
      for (const name of names) {
        const alive = groups[name]!.filter((tag) => !down.includes(tag));
        if (alive.length === 0) {
          (lost[down.join("+")] ??= []).push(name);
          expect((await book.put(groups[name]![0]!, name, { "down/x": { down } })).ok).toBe(false);
          continue;
        }
        ok(await book.put(alive[0]!, name, { [`survived/${down.join("")}`]: { down } }));
      }
      for (const tag of down) await book.cluster.restart(tag);
      // Each failure starts from a healthy cluster: a restarted server applies its log only up to
      // the commit index it had stored, and learns the rest from a leader, so wait for that.
      await book.cluster.waitFor(
        (c) =>
          tags.every((tag) => {
            const state = c.server(tag)?.clusterState;
            return names.every((name) => state?.databases[name.toLowerCase()] !== undefined);
          }),
        { what: "every server to know every database again" },
      );
    }
    expect(lost).toEqual({ "A+B": ["Spade", "Rake", "Shears", "Shovel"] });
  });
});

describe("The supervisor and the preferred node", () => {
  it("claim 17: a silent preferred node is rotated to the end, moved to rehab, and comes back last after catching up", async () => {
    const book = await fiveNodes();
    ok(await book.ask("A", { type: "create-database", name: "Hoe", nodes: ["C", "D", "E"] }));
    await book.cluster.waitFor(() => book.topology("Hoe").members.length === 3, {
      what: "Hoe on three nodes",
    });
    const preferred = book.topology("Hoe").members[0]!;
    const [second, third] = book.topology("Hoe").members.slice(1) as [string, string];
    await book.cluster.kill(preferred);
    await book.cluster.waitFor(() => book.topology("Hoe").members[0] !== preferred, {
      what: "the preferred node rotated",
      timeoutMs: 5000,
    });
    expect(book.topology("Hoe").members).toEqual([second, third, preferred]);
    await book.cluster.waitFor(() => book.topology("Hoe").rehabs.includes(preferred), {
      what: `${preferred} in rehab`,
      timeoutMs: 10_000,
    });

    ok(await book.put(second, "Hoe", { "handles/1": { wood: "ash" } }));
    await book.cluster.restart(preferred);
    await book.cluster.waitFor(() => book.topology("Hoe").members.includes(preferred), {
      what: `${preferred} promoted back`,
      timeoutMs: 10_000,
    });
    expect(book.topology("Hoe").members).toEqual([second, third, preferred]);
    expect(book.ids(preferred, "Hoe")).toContain("handles/1");
    const record = book.cluster.databaseRecord("Hoe")!;
    expect(record.recentChanges.map((change) => change.kind)).toEqual(
      expect.arrayContaining(["rotated", "movedToRehab", "promoted"]),
    );
  });
});

describe("Write assurance for high value data", () => {
  it("with a sibling down, waiting for 2 replicas fails naming 1 of 2, and the document is written all the same", async () => {
    const book = await fiveNodes();
    ok(await book.ask("A", { type: "create-database", name: "Hoe", nodes: ["C", "D", "E"] }));
    await book.cluster.waitFor(() => book.topology("Hoe").members.length === 3, {
      what: "Hoe on three nodes",
    });
    ok(
      await book.ask("C", {
        type: "batch",
        database: "Hoe",
        transaction: { puts: [{ id: "tasks/0", body: { task: "warm up" } }] },
        writeAssurance: { replicas: 2, timeoutMs: 1000 },
      }),
    );
    await book.cluster.kill("E");
    const response = await book.ask("C", {
      type: "batch",
      database: "Hoe",
      transaction: { puts: [{ id: "tasks/1", body: { task: "Buy milk" } }] },
      writeAssurance: { replicas: 2, timeoutMs: 500 },
    });
    expect(response.ok).toBe(false);
    if (!response.ok) {
      expect(response.error.code).toBe("WriteAssuranceTimeout");
      expect(response.error.details).toMatchObject({ reached: 1, wanted: 2 });
      expect(response.error.message).toContain("only replicated to 1");
    }
    expect(book.ids("C", "Hoe")).toContain("tasks/1");
    await book.cluster.waitFor(() => book.ids("D", "Hoe").includes("tasks/1"), {
      what: "tasks/1 on D",
    });
  });
});

describe("Placement leaves unreachable servers aside", () => {
  it("a database created while C is down goes to servers the leader can reach", async () => {
    const book = await fiveNodes();
    const leader = book.cluster.servers.find((s) => s.role === "leader")!.tag;
    const victim = ["C", "D", "E"].find((tag) => tag !== leader)!;
    await book.cluster.kill(victim);
    await book.cluster.runFor(2000);
    const created = ok<{ nodes: string[] }>(
      await book.ask(leader, { type: "create-database", name: "Trowel", replicationFactor: 3 }),
    );
    expect(created.nodes).not.toContain(victim);
    expect(created.nodes).toHaveLength(3);
  });
});
