/**
 * The chapter's client listings, almost line for line, against the public entry (DESIGN.md §7).
 */
import { describe, expect, it } from "vitest";
import { Cluster, DocumentStore, isRookeryError } from "../../engine/index.ts";

interface ToDoTask {
  dueDate: string;
  task: string;
}

interface Account {
  amount: number;
}

describe("the chapter's listings through the client", () => {
  it("Listing 6.1 lists every node; Listing 6.2 saves a task with write assurance; Listings 6.3 and 6.4 move money", async () => {
    const cluster = await Cluster.start({ runtime: "sim", servers: 5, seed: 6 });
    const setup = new DocumentStore({ urls: cluster.urls, network: cluster.network }).initialize();
    for (const url of cluster.urls.slice(1)) await setup.maintenance.addNodeToCluster(url);
    await setup.maintenance.createDatabase({ name: "Spade", nodes: ["B", "A"] });

    // Listing 6.1: creating a document store to talk to a cluster.
    const store = new DocumentStore({
      urls: [
        "http://127.0.0.1:8080",
        "http://127.0.0.2:8080",
        "http://127.0.0.3:8080",
        "http://127.0.0.4:8080",
        "http://127.0.0.5:8080",
      ],
      database: "Spade",
      network: cluster.network,
    });
    store.initialize();

    // Listing 6.2: saving a very important task, ensuring it resides on multiple nodes.
    {
      const session = store.openSession();
      const task: ToDoTask = { dueDate: "2017-09-19", task: "Buy milk" };
      session.store(task, "ToDoTasks/1-A");
      session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1 });
      await session.saveChanges();
    }
    // Spade lives on B and A only, and B is its preferred node.
    expect(store.topology?.members).toEqual(["B", "A"]);
    const described = cluster.describe();
    expect(described.documents["A"]?.["Spade"]).toEqual(["ToDoTasks/1-A"]);
    expect(described.documents["B"]?.["Spade"]).toEqual(["ToDoTasks/1-A"]);

    {
      const session = store.openSession();
      session.store({ amount: 100 }, "accounts/1234-A");
      session.store({ amount: 100 }, "accounts/4321-C");
      session.store({ amount: 0 }, "accounts/48879-B");
      await session.saveChanges();
    }
    // Listing 6.3: the classic bank transaction.
    {
      const session = store.openSession();
      const you = await session.load<Account>("accounts/1234-A");
      const me = await session.load<Account>("accounts/4321-C");
      you!.amount += 10;
      me!.amount -= 10;
      await session.saveChanges();
    }
    // Listing 6.4: paying the taxman.
    {
      const session = store.openSession();
      const you = await session.load<Account>("accounts/1234-A");
      const tax = await session.load<Account>("accounts/48879-B");
      you!.amount -= 3;
      tax!.amount += 3;
      await session.saveChanges();
    }
    const check = store.openSession();
    expect(
      await check.load<Account>(["accounts/1234-A", "accounts/4321-C", "accounts/48879-B"]),
    ).toEqual({
      "accounts/1234-A": { amount: 107 },
      "accounts/4321-C": { amount: 90 },
      "accounts/48879-B": { amount: 3 },
    });

    // "If Node A is down, we will be able to write to Node B, but we'll later fail because we
    // can't replicate the write to Node A. The client is going to get an error, but the data was
    // written to Node B."
    await cluster.kill("A");
    const session = store.openSession();
    session.store({ dueDate: "2017-09-20", task: "Buy eggs" }, "ToDoTasks/2-A");
    session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 1_000 });
    const error = await session.saveChanges().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRookeryError(error, "WriteAssuranceTimeout")).toBe(true);
    expect(cluster.describe().documents["B"]?.["Spade"]).toContain("ToDoTasks/2-A");
    await cluster.stop();
  });
});
