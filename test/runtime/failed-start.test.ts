/**
 * Defect 7 of issue 12: a failed Cluster.start used to leak the servers that did start (here:
 * server 2's data folder is a file), so the caller got the error and no handle, and the process
 * never exited. A failed start stops what it started.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { Cluster, isRookeryError } from "../../engine/index.ts";
import { WorkerCluster } from "../../engine/runtime/host/index.ts";
import type { HostPlatform, SpawnedWorker } from "../../engine/runtime/host/index.ts";
import { nodePlatform } from "../../engine/runtime/host/node-platform.ts";
import { runChild, tempDir } from "./helpers.ts";

const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

describe("a failed Cluster.start", () => {
  it("worker runtime: stops the servers that did start, so the process exits on its own", async () => {
    const { dir, remove } = tempDir("failed-start");
    removers.push(remove);
    const data = join(dir, "data");
    mkdirSync(data);
    writeFileSync(join(data, "2"), "this should have been server 2's folder");
    const engine = pathToFileURL(resolve("engine/index.ts")).href;
    const script = join(dir, "child.mts");
    writeFileSync(
      script,
      `
      import { Cluster } from ${JSON.stringify(engine)};
      try {
        await Cluster.start({ runtime: "worker", servers: 3, storage: "fs", dataDir: ${JSON.stringify(data)} });
        console.log("started");
      } catch (error) {
        console.log("failed", error.code, JSON.stringify(error.message));
      }
    `,
    );
    const result = await runChild(script, "failed", 45_000);
    expect(result.stdout).toMatch(/^failed \S+ ".*127\.0\.0\.2:8080/m);
    expect(
      result.exitAfterMarkMs,
      `the child did not exit on its own: ${result.stdout}`,
    ).not.toBeNull();
    expect(result.exitAfterMarkMs!).toBeLessThan(5_000);
    expect(result.code).toBe(0);
  });

  it("worker runtime: a server that fails first does not leave the slower ones running", async () => {
    const { dir, remove } = tempDir("failed-start-slow");
    removers.push(remove);
    const data = join(dir, "data");
    mkdirSync(data);
    writeFileSync(join(data, "2"), "not a folder");
    // Servers 1 and 3 take a while to spawn, so server 2 has failed before they are up.
    const spawned: { worker: SpawnedWorker; terminated: boolean }[] = [];
    const slowPlatform: HostPlatform = {
      ...nodePlatform,
      async spawn(name) {
        if (!name.includes("127.0.0.2")) await new Promise((done) => setTimeout(done, 1_500));
        const worker = await nodePlatform.spawn(name);
        const record = { worker, terminated: false };
        spawned.push(record);
        return {
          endpoint: worker.endpoint,
          onExit: (listener) => worker.onExit(listener),
          terminate: async () => {
            record.terminated = true;
            await worker.terminate();
          },
        };
      },
    };
    removers.push(() => {
      for (const record of spawned) void record.worker.terminate();
    });
    const error = await WorkerCluster.start({
      platform: slowPlatform,
      servers: 3,
      storage: "fs",
      dataDir: data,
    }).catch((caught: unknown) => caught);
    expect(isRookeryError(error, "StorageNotDirectory"), String(error)).toBe(true);
    // Every worker that was spawned, before or after the failure, was terminated.
    await new Promise((done) => setTimeout(done, 3_000));
    expect(spawned).toHaveLength(3);
    expect(spawned.map((record) => record.terminated)).toEqual([true, true, true]);
  });

  it("either runtime: timings nothing can run on are refused with a named error before anything starts", async () => {
    for (const runtime of ["sim", "worker"] as const) {
      for (const timing of [{ tickMs: 0 }, { tickMs: -5 }, { raft: { electionTicks: 0 } }]) {
        const error = await Cluster.start({ runtime, servers: 3, storage: "memory", timing }).catch(
          (caught: unknown) => caught,
        );
        expect(isRookeryError(error, "InvalidTiming"), `${runtime}: ${String(error)}`).toBe(true);
      }
    }
    const error = await Cluster.start({
      timing: { raft: { heartbeatTicks: 10, electionTicks: 15 } },
    }).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe(
      "timing.raft.electionTicks must be a whole number of ticks, at least twice raft.heartbeatTicks (10), got 15; leave it out for the default",
    );
  });
});
