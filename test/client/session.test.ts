import { describe, expect, it } from "vitest";
import { clusterWith, caught, storeFor } from "./helpers.ts";

interface User {
  name: string;
  age?: number;
}

describe("a session tracks what it loads and stores", () => {
  it("loading the same id twice gives the same object and costs one request", async () => {
    const cluster = await clusterWith({ servers: 1, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const writer = store.openSession();
    writer.store({ name: "Oren" }, "users/1");
    await writer.saveChanges();

    const session = store.openSession();
    const first = await session.load<User>("users/1");
    const second = await session.load<User>("USERS/1");
    expect(first).toEqual({ name: "Oren" });
    expect(second).toBe(first);
    expect(session.advanced.numberOfRequests).toBe(1);
    expect(session.advanced.isLoaded("users/1")).toBe(true);
  });

  it("loading several ids is one request, and a missing id comes back as null", async () => {
    const cluster = await clusterWith({ servers: 1, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const writer = store.openSession();
    writer.store({ name: "Oren" }, "users/1");
    writer.store({ name: "Ayende" }, "users/2");
    await writer.saveChanges();
    expect(writer.advanced.numberOfRequests).toBe(1);

    const session = store.openSession();
    const users = await session.load<User>(["users/1", "users/2", "users/404"]);
    expect(users).toEqual({
      "users/1": { name: "Oren" },
      "users/2": { name: "Ayende" },
      "users/404": null,
    });
    expect(await session.load("users/404")).toBeNull();
    expect(session.advanced.numberOfRequests).toBe(1);
  });

  it("saveChanges sends only what changed, and nothing at all when nothing did", async () => {
    const cluster = await clusterWith({ servers: 1, database: "Spade" });
    const { store, events } = storeFor(cluster, "Spade");
    const writer = store.openSession();
    writer.store({ name: "Oren" }, "users/1");
    writer.store({ name: "Ayende" }, "users/2");
    await writer.saveChanges();

    const session = store.openSession();
    const users = await session.load<User>(["users/1", "users/2"]);
    await session.saveChanges();
    expect(session.advanced.numberOfRequests).toBe(1);
    expect(session.advanced.hasChanges()).toBe(false);

    users["users/2"]!.age = 42;
    expect(session.advanced.hasChanged(users["users/2"]!)).toBe(true);
    expect(session.advanced.hasChanged(users["users/1"]!)).toBe(false);
    const before = session.advanced.getChangeVectorFor(users["users/2"]!);
    await session.saveChanges();
    expect(session.advanced.numberOfRequests).toBe(2);
    expect(session.advanced.getChangeVectorFor(users["users/2"]!)).not.toBe(before);
    expect(session.advanced.getMetadataFor(users["users/2"]!)["@change-vector"]).toBe(
      session.advanced.getChangeVectorFor(users["users/2"]!),
    );
    // users/1 was untouched, so it kept its change vector on the server.
    const check = store.openSession();
    const reread = await check.load<User>(["users/1", "users/2"]);
    expect(reread["users/2"]).toEqual({ name: "Ayende", age: 42 });
    expect(check.advanced.getChangeVectorFor(reread["users/1"]!)).toBe(
      session.advanced.getChangeVectorFor(users["users/1"]!),
    );
    expect(events.filter((e) => e.type === "request" && e.request === "batch")).toHaveLength(2);
  });

  it("delete by id or by entity removes the document on saveChanges", async () => {
    const cluster = await clusterWith({ servers: 1, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const writer = store.openSession();
    writer.store({ name: "Oren" }, "users/1");
    writer.store({ name: "Ayende" }, "users/2");
    await writer.saveChanges();

    const session = store.openSession();
    const oren = await session.load<User>("users/1");
    session.delete(oren!);
    session.delete("users/2");
    expect(await session.load("users/2")).toBeNull();
    await session.saveChanges();
    const check = store.openSession();
    expect(await check.load(["users/1", "users/2"])).toEqual({ "users/1": null, "users/2": null });
  });

  it("a second object under a tracked id is refused, and evict lets it in", async () => {
    const cluster = await clusterWith({ servers: 1, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const session = store.openSession();
    const first = { name: "Oren" };
    session.store(first, "users/1");
    session.store(first, "users/1"); // the same object again is fine
    const error = await caught(async () => session.store({ name: "Other" }, "Users/1"));
    expect(error.code).toBe("NonUniqueObject");
    expect(session.advanced.getDocumentId(first)).toBe("users/1");
    session.advanced.evict(first);
    session.store({ name: "Other" }, "users/1");
    await session.saveChanges();
    const check = store.openSession();
    expect(await check.load("users/1")).toEqual({ name: "Other" });
  });

  it("an entity stored and deleted before saving never reaches the server", async () => {
    const cluster = await clusterWith({ servers: 1, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const session = store.openSession();
    const draft = { name: "Draft" };
    session.store(draft, "users/9");
    session.delete(draft);
    expect(session.advanced.hasChanges()).toBe(false);
    await session.saveChanges();
    expect(session.advanced.numberOfRequests).toBe(0);
  });
});

describe("optimistic concurrency", () => {
  async function twoSessionsOnOneDocument(optimistic: boolean) {
    const cluster = await clusterWith({ servers: 1, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const writer = store.openSession();
    writer.store({ name: "Oren", age: 1 }, "users/1");
    await writer.saveChanges();
    const a = store.openSession();
    const b = store.openSession();
    a.advanced.useOptimisticConcurrency = optimistic;
    b.advanced.useOptimisticConcurrency = optimistic;
    const mine = (await a.load<User>("users/1"))!;
    const theirs = (await b.load<User>("users/1"))!;
    mine.age = 2;
    await a.saveChanges();
    theirs.age = 3;
    return { store, b, theirs };
  }

  it("with it on, saving a document someone changed since it was loaded fails with ConcurrencyViolation", async () => {
    const { store, b } = await twoSessionsOnOneDocument(true);
    const error = await caught(() => b.saveChanges());
    expect(error.code).toBe("ConcurrencyViolation");
    expect(error.message).toContain("users/1");
    expect(error.details["id"]).toBe("users/1");
    const check = store.openSession();
    expect(await check.load("users/1")).toEqual({ name: "Oren", age: 2 });
  });

  it("with it off (the default), the last write wins", async () => {
    const { store, b } = await twoSessionsOnOneDocument(false);
    await b.saveChanges();
    const check = store.openSession();
    expect(await check.load("users/1")).toEqual({ name: "Oren", age: 3 });
  });

  it("a change vector given to store() is checked even with the session setting off", async () => {
    const cluster = await clusterWith({ servers: 1, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const writer = store.openSession();
    const user = { name: "Oren" };
    writer.store(user, "users/1");
    await writer.saveChanges();
    const vector = writer.advanced.getChangeVectorFor(user)!;

    const stale = store.openSession();
    stale.store({ name: "stale" }, "users/1", { changeVector: "A:999-nope" });
    expect((await caught(() => stale.saveChanges())).code).toBe("ConcurrencyViolation");
    const fresh = store.openSession();
    fresh.store({ name: "fresh" }, "users/1", { changeVector: vector });
    await fresh.saveChanges();
    expect(await store.openSession().load("users/1")).toEqual({ name: "fresh" });
  });

  it("a delete with optimistic concurrency fails if the document changed since it was loaded", async () => {
    const cluster = await clusterWith({ servers: 1, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const writer = store.openSession();
    writer.store({ name: "Oren" }, "users/1");
    await writer.saveChanges();
    const deleter = store.openSession();
    deleter.advanced.useOptimisticConcurrency = true;
    const loaded = (await deleter.load<User>("users/1"))!;
    const changer = store.openSession();
    (await changer.load<User>("users/1"))!.name = "changed";
    await changer.saveChanges();
    deleter.delete(loaded);
    expect((await caught(() => deleter.saveChanges())).code).toBe("ConcurrencyViolation");
  });
});
