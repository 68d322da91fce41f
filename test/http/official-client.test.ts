/**
 * The chapter, driven by RavenDB's own Node client (ravendb@7.2.2, unchanged) against five
 * Rookery server processes on real HTTP: Spade on A, B joining, A killed while writes go on
 * through B, A back with users/3, write assurance with too few replicas, five servers and
 * Pitchfork with factor 3, failover from a killed preferred node, and Listings 6.1–6.4.
 * The steps share one cluster and run in order, as the chapter's story does.
 */
import {
  AddClusterNodeCommand,
  AddDatabaseNodeOperation,
  ClusterRequestExecutor,
  ConfigureRevisionsOperation,
  CreateDatabaseOperation,
  DocumentStore,
  GetClusterTopologyCommand,
  GetDatabaseRecordOperation,
  RevisionsCollectionConfiguration,
  RevisionsConfiguration,
} from "ravendb";
import type { IDocumentStore } from "ravendb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProcessCluster } from "../../engine/runtime/process/process-cluster.ts";
import { patientMs, startProcesses } from "../runtime/process-helpers.ts";

class User {
  constructor(public name = "") {}
}

class ToDoTask {
  constructor(
    public task = "",
    public dueDate = new Date(),
  ) {}
}

class Account {
  constructor(public amount = 0) {}
}

/** What the client may call a write assurance that timed out (ravendb-wire.md §4). */
const timeoutNames = /^(RavenTimeoutException|TimeoutException|AllTopologyNodesDownException)$/;

let cluster: ProcessCluster;
let urls: string[];
const stores: IDocumentStore[] = [];
const executors: ClusterRequestExecutor[] = [];

/** open initializes a store and remembers it for disposal. */
function open(store: DocumentStore): DocumentStore {
  store.initialize();
  stores.push(store);
  return store;
}

/** onlyOn opens a store that talks to one server and never learns the topology. */
function onlyOn(url: string, database: string): DocumentStore {
  const store = new DocumentStore(url, database);
  store.conventions.disableTopologyUpdates = true;
  return open(store);
}

function clusterExecutor(url: string, admin: IDocumentStore): ClusterRequestExecutor {
  const executor = ClusterRequestExecutor.create([url], {
    documentConventions: admin.conventions,
  });
  executors.push(executor);
  return executor;
}

/** holds waits until server `tag` has document `id` of `database`, as its status reports. */
async function holds(tag: string, database: string, id: string): Promise<void> {
  await cluster.waitFor((c) => c.describe().documents[tag]?.[database]?.includes(id) ?? false, {
    timeoutMs: patientMs,
    what: `${id} of ${database} on ${tag}`,
  });
}

function urlOf(tag: string): string {
  return cluster.servers.find((server) => server.tag === tag)!.url;
}

/** membersOf reads a database group's members through the client, as the Studio shows them. */
async function membersOf(admin: IDocumentStore, database: string): Promise<string[]> {
  const record = await admin.maintenance.server.send(new GetDatabaseRecordOperation(database));
  return record.topology?.members ?? [];
}

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + patientMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited ${patientMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let admin: DocumentStore;
let store: DocumentStore;
let executor: ClusterRequestExecutor;

beforeAll(async () => {
  cluster = await startProcesses({ servers: 5 });
  urls = cluster.urls;
}, patientMs);

afterAll(async () => {
  for (const executor of executors) executor.dispose();
  for (const store of stores) store.dispose();
  await cluster?.stop();
});

describe("RavenDB's own client against Rookery server processes", () => {
  it("creates Spade on a fresh server, which becomes A, and stores users/1 and users/2 there", async () => {
    admin = open(new DocumentStore(urls[0]!, "Spade"));
    const created = await admin.maintenance.server.send(
      new CreateDatabaseOperation({ databaseName: "Spade" }),
    );
    expect(created.topology?.members).toEqual(["A"]);

    // Listing 6.1: a store that lists every server of the cluster, for the Spade database.
    store = open(new DocumentStore(urls, "Spade"));
    const session = store.openSession();
    await session.store(new User("Oren"), "users/1");
    await session.store(new User("Ayende"), "users/2");
    await session.saveChanges();
    await cluster.refresh();
    expect(cluster.describe().documents["A"]?.["Spade"]).toEqual(["users/1", "users/2"]);
  });

  it("B joins the cluster and Spade's group; the client learns the new topology; B serves users/1", async () => {
    executor = clusterExecutor(urls[0]!, admin);
    await executor.execute(new AddClusterNodeCommand(urls[1]!));
    const topology = new GetClusterTopologyCommand();
    await executor.execute(topology);
    expect(Object.keys(topology.result!.topology.members)).toEqual(["A", "B"]);
    expect(topology.result!.leader).toBe("A");

    await admin.maintenance.server.send(new AddDatabaseNodeOperation("Spade", "B"));
    await eventually("B a member of Spade", async () =>
      (await membersOf(admin, "Spade")).includes("B"),
    );
    expect(await membersOf(admin, "Spade")).toEqual(["A", "B"]);

    // A request carries the client's topology etag; the answer tells it to refresh.
    await store.openSession().load("users/2", User);
    await eventually("the client to know A and B", async () => {
      await store.openSession().load("users/2", User);
      const tags = store
        .getRequestExecutor()
        .getTopologyNodes()
        .map((node) => node.clusterTag);
      return tags.join() === "A,B";
    });

    await holds("B", "Spade", "users/1");
    const fromB = await onlyOn(urls[1]!, "Spade").openSession().load("users/1", User);
    expect(fromB).toBeInstanceOf(User);
    expect(fromB?.name).toBe("Oren");
  });

  it("with A killed, writes go on through B; A restarts on its folder and serves users/3", async () => {
    await cluster.kill("A");
    const session = store.openSession();
    await session.store(new User("Failover"), "users/3");
    await session.saveChanges();
    const preferred = await store.getRequestExecutor().getPreferredNode();
    expect(preferred.currentNode.clusterTag).toBe("B");

    await cluster.restart("A");
    await holds("A", "Spade", "users/3");
    const fromA = await onlyOn(urls[0]!, "Spade").openSession().load("users/3", User);
    expect(fromA?.name).toBe("Failover");
  });

  it("Listing 6.2: a task stored with a HiLo id waits until another replica has it", async () => {
    await eventually(
      "Spade's two members back in its topology",
      async () => (await membersOf(admin, "Spade")).length === 2,
    );
    const session = store.openSession();
    const task = new ToDoTask("Buy milk", new Date(Date.UTC(2017, 8, 19)));
    await session.store(task);
    session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1 });
    await session.saveChanges();
    const id = (task as ToDoTask & { id: string }).id;
    expect(id).toMatch(/^ToDoTasks\/\d+-[AB]$/);
    for (const url of urls.slice(0, 2)) {
      const copy = await onlyOn(url, "Spade").openSession().load<ToDoTask>(id, ToDoTask);
      expect(copy?.task).toBe("Buy milk");
      expect(copy?.dueDate).toEqual(new Date(Date.UTC(2017, 8, 19)));
    }
  });

  it("write assurance with too few replicas raises an error, and the write stays", async () => {
    await cluster.kill("B");
    const session = store.openSession();
    await session.store(new User("Important"), "users/4");
    session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 1_000 });
    const error = await session.saveChanges().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.name).toMatch(timeoutNames);
    expect(error?.message).toContain("Could not verify");
    const kept = await onlyOn(urls[0]!, "Spade").openSession().load("users/4", User);
    expect(kept?.name).toBe("Important");
    await cluster.restart("B");
    await holds("B", "Spade", "users/4");
  });

  it("C, D and E join; Pitchfork gets three members with a replication factor of 3", async () => {
    for (const url of urls.slice(2)) await executor.execute(new AddClusterNodeCommand(url));
    await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?"), {
      timeoutMs: patientMs,
      what: "five tagged servers",
    });
    expect(cluster.servers.map((s) => s.tag)).toEqual(["A", "B", "C", "D", "E"]);
    const created = await admin.maintenance.server.send(
      new CreateDatabaseOperation({ databaseName: "Pitchfork" }, 3),
    );
    expect(created.topology?.members).toHaveLength(3);
    expect(new Set(created.topology?.members).size).toBe(3);
  });

  it("when Pitchfork's preferred node is killed, the client fails over and the cluster moves it back", async () => {
    const pitchfork = open(new DocumentStore(urls, "Pitchfork"));
    {
      const session = pitchfork.openSession();
      await session.store(new User("before"), "users/1");
      session.advanced.waitForReplicationAfterSaveChanges({ replicas: 2 });
      await session.saveChanges();
    }
    const preferred = (await pitchfork.getRequestExecutor().getPreferredNode()).currentNode;
    const killedTag = preferred.clusterTag!;
    await cluster.kill(killedTag);
    {
      const session = pitchfork.openSession();
      expect((await session.load("users/1", User))?.name).toBe("before");
      await session.store(new User("after"), "users/2");
      await session.saveChanges();
    }
    const now = (await pitchfork.getRequestExecutor().getPreferredNode()).currentNode;
    expect(now.clusterTag).not.toBe(killedTag);
    // The supervisor moves the silent node from the front of the group; clients follow.
    await eventually("the killed node no longer preferred", async () => {
      await pitchfork.openSession().load("users/2", User);
      const first = pitchfork.getRequestExecutor().getTopologyNodes()[0]!;
      return first.clusterTag !== killedTag;
    });
    await cluster.restart(killedTag);
    await holds(killedTag, "Pitchfork", "users/2");
  });

  it("Pitchfork with two of its three members down refuses write assurance for 2 replicas; the survivor keeps the write", async () => {
    const members = await membersOf(admin, "Pitchfork");
    const survivor = members[0]!;
    const killed = members.slice(1);
    for (const tag of killed) await cluster.kill(tag);
    const pitchfork = open(new DocumentStore(urls, "Pitchfork"));
    const session = pitchfork.openSession();
    await session.store(new User("lonely"), "users/3");
    session.advanced.waitForReplicationAfterSaveChanges({ replicas: 2, timeout: 1_000 });
    const error = await session.saveChanges().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.name).toMatch(timeoutNames);
    expect(error?.message).toContain("Could not verify");
    const kept = await onlyOn(urlOf(survivor), "Pitchfork").openSession().load("users/3", User);
    expect(kept?.name).toBe("lonely");
    for (const tag of killed) await cluster.restart(tag);
  });

  it("Listings 6.3 and 6.4: two transfers, each one transaction, with revisions so no replica shows half of one", async () => {
    const revisions = new RevisionsConfiguration();
    revisions.defaultConfig = Object.assign(new RevisionsCollectionConfiguration(), {
      disabled: false,
      minimumRevisionsToKeep: 10,
    });
    await admin.maintenance.send(new ConfigureRevisionsOperation(revisions));
    const ids = ["accounts/1234-A", "accounts/4321-C", "accounts/48879-B"];
    {
      const session = store.openSession();
      await session.store(new Account(100), ids[0]);
      await session.store(new Account(100), ids[1]);
      await session.store(new Account(0), ids[2]);
      await session.saveChanges();
    }
    // A reader on the other member adds up the three accounts while the transfers replicate:
    // one load is one read on one server, so it sees whole transactions or none of them.
    const writer = (await store.getRequestExecutor().getPreferredNode()).currentNode.url;
    const reader = onlyOn(
      urls.slice(0, 2).find((url) => url !== writer)!,
      "Spade",
    );
    const totals: number[] = [];
    let reading = true;
    const observing = (async () => {
      while (reading) {
        const seen = await reader.openSession().load(ids, Account);
        if (ids.every((id) => seen[id]))
          totals.push(ids.reduce((t, id) => t + seen[id]!.amount, 0));
      }
    })();
    // Listing 6.3: the classic bank transaction.
    {
      const session = store.openSession();
      const you = await session.load("accounts/1234-A", Account);
      const me = await session.load("accounts/4321-C", Account);
      you!.amount += 10;
      me!.amount -= 10;
      await session.saveChanges();
    }
    // Listing 6.4: paying the taxman.
    {
      const session = store.openSession();
      const you = await session.load("accounts/1234-A", Account);
      const tax = await session.load("accounts/48879-B", Account);
      you!.amount -= 3;
      tax!.amount += 3;
      await session.saveChanges();
    }
    for (const url of urls.slice(0, 2)) {
      const node = onlyOn(url, "Spade");
      await eventually(`both transfers on ${url}`, async () => {
        const accounts = await node.openSession().load(ids, Account);
        return ids.map((id) => accounts[id]?.amount).join() === "107,90,3";
      });
    }
    reading = false;
    await observing;
    expect(totals.length).toBeGreaterThan(0);
    expect(new Set(totals)).toEqual(new Set([200]));
  });

  it("deletes, missing records, unknown databases and a second Spade answer as RavenDB's do", async () => {
    {
      const session = store.openSession();
      session.delete("users/2");
      await session.saveChanges();
      expect(await store.openSession().load("users/2", User)).toBeNull();
    }
    expect(await admin.maintenance.server.send(new GetDatabaseRecordOperation("Nope"))).toBeFalsy();
    const nope = open(new DocumentStore(urls[0]!, "Nope"));
    await expect(nope.openSession().load("users/1")).rejects.toMatchObject({
      name: "DatabaseDoesNotExistException",
    });
    await expect(
      admin.maintenance.server.send(new CreateDatabaseOperation({ databaseName: "Spade" })),
    ).rejects.toMatchObject({ name: "ConcurrencyException" });
  });
});
