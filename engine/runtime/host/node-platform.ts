/**
 * The host's Node adapter: workers through the `web-worker` package (Web Worker API over
 * worker_threads) running the bundled entry engine/runtime/worker/dist/server-worker.js, which is
 * rebuilt when missing or older than its sources (node-bundles.ts); data folders on disk. Never imported by
 * browser code: engine/runtime/cluster.ts loads it only when it runs in Node.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import workerThreads from "node:worker_threads";
import Worker from "web-worker";
import type { Endpoint } from "comlink";
import { plainExecArgv, serverBundle } from "./node-bundles.ts";
import type { HostPlatform, SpawnedWorker } from "./platform.ts";

/** How long terminate() waits for the thread's exit before it gives up waiting. */
const exitWaitMs = 5_000;

/**
 * spawnPlain constructs a web-worker Worker whose thread gets plainExecArgv. web-worker takes no
 * thread options, so worker_threads.Worker is swapped for the duration of the constructor call
 * (synchronous, so nothing else can observe the swap).
 */
function spawnPlain(file: string, name: string): InstanceType<typeof Worker> {
  const original = workerThreads.Worker;
  const execArgv = plainExecArgv(process.execArgv);
  class PlainWorker extends original {
    constructor(filename: string | URL, options: workerThreads.WorkerOptions = {}) {
      super(filename, { ...options, execArgv });
    }
  }
  workerThreads.Worker = PlainWorker;
  try {
    return new Worker(pathToFileURL(file).href, { type: "module", name });
  } finally {
    workerThreads.Worker = original;
  }
}

/** nodePlatform runs each server in a worker_threads thread through web-worker. */
export const nodePlatform: HostPlatform = {
  name: "node",
  defaultStorage: "fs",

  async spawn(name: string): Promise<SpawnedWorker> {
    const file = await serverBundle("worker");
    const worker = spawnPlain(file, name);
    let exited = false;
    let terminating = false;
    let exitListener: ((reason: string) => void) | undefined;
    let lastError = "the worker exited";
    const gone = new Promise<void>((resolve) => {
      // web-worker dispatches the raw Error for "error" and a non-standard "close" on exit.
      worker.addEventListener("error", (event: Event) => {
        const error = event as unknown as { message?: unknown; stack?: unknown };
        lastError = typeof error.message === "string" ? error.message : String(event);
      });
      worker.addEventListener("close", () => {
        exited = true;
        resolve();
        if (!terminating) exitListener?.(lastError);
      });
    });
    return {
      endpoint: worker as unknown as Endpoint,
      async terminate() {
        if (exited) return;
        terminating = true;
        worker.terminate();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          gone,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, exitWaitMs))),
        ]);
        clearTimeout(timer);
      },
      onExit(listener) {
        exitListener = listener;
      },
    };
  },

  serverDir(dataDir: string, index: number): string {
    return join(dataDir, String(index + 1));
  },

  makeTempDataDir(): Promise<string> {
    return mkdtemp(join(tmpdir(), "rookery-"));
  },

  async removeDataDir(dataDir: string): Promise<void> {
    await rm(dataDir, { recursive: true, force: true });
  },
};
