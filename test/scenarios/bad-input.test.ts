import { describe, expect, it } from "vitest";
import type { ServerResponse } from "../../engine/transport/index.ts";
import { Chapter, ok } from "./helpers.ts";

function refused(response: ServerResponse): { code: string; message: string } {
  if (response.ok) throw new Error(`expected a refusal, got ${JSON.stringify(response.result)}`);
  return response.error;
}

async function threeNodes(): Promise<Chapter> {
  const book = Chapter.start(4);
  ok(await book.ask(0, { type: "create-database", name: "Spade" }));
  ok(await book.ask("A", { type: "add-node", url: "http://127.0.0.2:8080" }));
  ok(await book.ask("A", { type: "add-node", url: "http://127.0.0.3:8080" }));
  await book.cluster.waitFor(
    () => book.cluster.servers.slice(0, 3).every((s) => s.leader !== null),
    { what: "three nodes" },
  );
  return book;
}

describe("bad input gets a clear error and changes nothing", () => {
  it("adding a server: already in the cluster, the server itself, an address nobody answers, another cluster, a malformed URL", async () => {
    const book = await threeNodes();
    const again = refused(await book.ask("A", { type: "add-node", url: "http://127.0.0.2:8080" }));
    expect(again.code).toBe("NodeAlreadyInCluster");
    expect(again.message).toContain("already in the cluster as node B");

    const itself = refused(await book.ask("A", { type: "add-node", url: "http://127.0.0.1:8080" }));
    expect(itself.message).toMatch(/this server|already in the cluster as node A/);

    const nobody = refused(await book.ask("A", { type: "add-node", url: "http://127.0.0.9:8080" }));
    expect(nobody.code).toBe("NodeUnreachable");
    expect(nobody.message).toContain("did not answer");

    // The fourth server founds a cluster of its own, then A tries to take it.
    ok(await book.ask(3, { type: "create-database", name: "Elsewhere" }));
    const foreign = refused(
      await book.ask("A", { type: "add-node", url: "http://127.0.0.4:8080" }),
    );
    expect(foreign.code).toBe("TopologyMismatch");
    expect(foreign.message).toContain("belongs to another cluster");

    const malformed = refused(await book.ask("A", { type: "add-node", url: "127.0.0.5" }));
    expect(malformed.code).toBe("InvalidUrl");
    expect(Object.keys(book.cluster.server("A")!.clusterState!.topology.members).sort()).toEqual([
      "A",
      "B",
      "C",
    ]);
  });

  it("creating databases: factor 0, a factor above the cluster size, an unknown tag, a duplicate or invalid name", async () => {
    const book = await threeNodes();
    expect(
      refused(await book.ask("A", { type: "create-database", name: "Zero", replicationFactor: 0 }))
        .message,
    ).toMatch(/replication factor/i);
    const tooMany = refused(
      await book.ask("A", { type: "create-database", name: "Pitchfork", replicationFactor: 4 }),
    );
    expect(tooMany.message).toContain("the cluster has 3 nodes");
    expect(
      refused(await book.ask("A", { type: "create-database", name: "Hoe", nodes: ["A", "Q"] }))
        .message,
    ).toContain("Q");
    expect(
      refused(await book.ask("A", { type: "create-database", name: "spade" })).message,
    ).toMatch(/already exists/i);
    expect(
      refused(await book.ask("A", { type: "create-database", name: "no spaces please" })).code,
    ).toBeDefined();
    expect(
      refused(await book.ask("A", { type: "add-database-node", database: "Spade", tag: "Q" }))
        .message,
    ).toContain("Q");
    expect(
      refused(await book.ask("A", { type: "add-database-node", database: "Shovel", tag: "B" }))
        .message,
    ).toContain("Shovel");
    expect(Object.keys(book.cluster.server("A")!.clusterState!.databases)).toEqual(["spade"]);
  });

  it("documents: invalid ids, bodies that are not objects, unknown databases, stale change vectors", async () => {
    const book = await threeNodes();
    const badId = refused(
      await book.ask("A", {
        type: "batch",
        database: "Spade",
        transaction: { puts: [{ id: "   ", body: {} }] },
      }),
    );
    expect(badId.message.length).toBeGreaterThan(10);
    const notObject = refused(
      await book.ask("A", {
        type: "batch",
        database: "Spade",
        transaction: { puts: [{ id: "users/1", body: [1, 2] }] },
      }),
    );
    expect(notObject.message).toMatch(/object/i);
    const unknown = refused(
      await book.ask("A", { type: "get-documents", database: "Shovel", ids: ["users/1"] }),
    );
    expect(unknown.code).toBe("DatabaseDoesNotExist");
    expect(unknown.message).toContain("'Shovel' does not exist");
    const offline = refused(await book.ask("B", { type: "list-documents", database: "Spade" }));
    expect(offline.code).toBe("DatabaseNotRelevant");
    expect(offline.message).toContain("offline on node B");

    ok(await book.put("A", "Spade", { "users/1": { name: "Oren" } }));
    const first = ok<{ metadata: { "@change-vector": string } }[]>(
      await book.ask("A", { type: "get-documents", database: "Spade", ids: ["users/1"] }),
    );
    const vector = first[0]!.metadata["@change-vector"];
    ok(
      await book.ask("A", {
        type: "batch",
        database: "Spade",
        transaction: {
          puts: [{ id: "users/1", body: { name: "Oren 2" }, expectedChangeVector: vector }],
        },
      }),
    );
    const stale = refused(
      await book.ask("A", {
        type: "batch",
        database: "Spade",
        transaction: {
          puts: [
            { id: "users/1", body: { name: "lost?" }, expectedChangeVector: vector },
            { id: "users/2", body: {} },
          ],
        },
      }),
    );
    expect(stale.code).toBe("ConcurrencyViolation");
    expect(stale.message).toContain("users/1");
    expect(book.body("A", "Spade", "users/1")).toEqual({ name: "Oren 2" });
    expect(book.ids("A", "Spade")).toEqual(["users/1"]);
  });

  it("an unknown request type is refused by name", async () => {
    const book = await threeNodes();
    const response = await book.cluster.request(book.url("A"), { type: "make-coffee" } as never);
    expect(refused(response).message).toContain("make-coffee");
  });
});
