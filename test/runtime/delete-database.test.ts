import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import { afterAll, describe, expect, it } from "vitest";
import { SeededRandom } from "../../engine/core/index.ts";
import { adaptStorage } from "../../engine/runtime/server-store.ts";
import type { ServerStore } from "../../engine/runtime/server-store.ts";
import { Server } from "../../engine/server/index.ts";
import type { ServerRequest } from "../../engine/transport/index.ts";
import {
  MemoryDisk,
  openFsStorage,
  openIndexedDbStorage,
  openMemoryStorage,
} from "../../engine/storage/node.ts";
import { tempDir } from "./helpers.ts";

/** A backend: how to open the same server's storage again after a crash. */
interface Backend {
  readonly name: string;
  open(): Promise<ServerStore>;
}

// backends() runs once, while the tests are collected: its folder goes after the last of them.
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function backends(): Backend[] {
  const disk = new MemoryDisk("A");
  const factory = new IDBFactory();
  const { dir, remove } = tempDir("delete-database");
  cleanups.push(remove);
  return [
    { name: "memory", open: async () => adaptStorage(openMemoryStorage({ disk }), disk) },
    { name: "fs", open: async () => adaptStorage(await openFsStorage({ dir }), null) },
    {
      name: "indexeddb (fake-indexeddb)",
      open: async () =>
        adaptStorage(
          await openIndexedDbStorage({
            cluster: "delete",
            server: "http://127.0.0.1:8080",
            factory,
          }),
          null,
        ),
    },
  ];
}

/** One server on `backend`, ticking in real time until crash() (which loses unsynced writes). */
async function startOn(backend: Backend) {
  const store = await backend.open();
  const server = await Server.start({
    url: "http://127.0.0.1:8080",
    storage: store.port,
    transport: { send: () => {} },
    clock: { nowMs: () => performance.now() },
    random: new SeededRandom(1),
    timing: { tickMs: 2 },
  });
  const timer = setInterval(() => server.tick(), 2);
  return {
    server,
    ok: async (request: ServerRequest) => {
      const response = await server.handleRequest(request);
      if (!response.ok) throw new Error(`${request.type}: ${response.error.message}`);
      return response;
    },
    crash: () => {
      clearInterval(timer);
      store.crash();
    },
  };
}

/**
 * Defect 2 of issue 12: deleting a database left its records in storage, so creating it again
 * (after a restart) brought users/1 back. Deleting removes them before it answers.
 */
describe("deleting a database deletes what it stored, on every backend", () => {
  for (const backend of backends()) {
    it(`${backend.name}: delete, restart, create again gives an empty database`, async () => {
      let a = await startOn(backend);
      await a.ok({ type: "create-database", name: "Spade" });
      await a.ok({
        type: "batch",
        database: "Spade",
        transaction: { puts: [{ id: "users/1", body: { name: "Oren" } }] },
      });
      a.crash();

      a = await startOn(backend);
      expect(a.server.hostedDatabase("Spade")!.instance.get("users/1")?.body).toEqual({
        name: "Oren",
      });
      await a.ok({ type: "delete-database", name: "Spade" });
      // The answer came once the deletes were durable: a crash right after loses none of them.
      a.crash();

      a = await startOn(backend);
      expect(a.server.hostedDatabaseNames()).toEqual([]);
      await a.ok({ type: "create-database", name: "Spade" });
      expect(a.server.hostedDatabase("Spade")!.instance.list()).toEqual([]);
      a.crash();

      a = await startOn(backend);
      expect(a.server.hostedDatabase("Spade")!.instance.get("users/1")).toBeUndefined();
      a.crash();
    });
  }
});
