/**
 * The host's Node adapter: workers through the `web-worker` package (Web Worker API over
 * worker_threads) running the Node worker entry (node-bundles.ts finds it: bundled from the
 * TypeScript sources, as tsc compiled it in the installed package), data folders on disk. Never
 * imported by browser code: engine/runtime/cluster-any.ts loads it only when it runs in Node.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import workerThreads from "node:worker_threads";
import Worker from "web-worker";
import type { Endpoint } from "comlink";
import { quote, RookeryError } from "../../core/index.ts";
import { plainExecArgv, serverEntry } from "./node-bundles.ts";
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
    const file = await serverEntry("worker");
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

  async serversWithData(dataDir: string): Promise<number[]> {
    return await serverFoldersWithData(dataDir);
  },

  async removeServerDirs(dataDir: string, indexes: readonly number[]): Promise<void> {
    for (const index of indexes)
      await rm(join(dataDir, String(index + 1)), { recursive: true, force: true });
  },
};

/**
 * serverFoldersWithData lists the servers (0-based) whose folders DIR/1, DIR/2 … exist and are
 * not empty: an earlier run's data. A missing DIR holds none; a DIR that is a file is refused.
 */
export async function serverFoldersWithData(dataDir: string): Promise<number[]> {
  const info = await stat(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    if (error.code === "ENOTDIR") throw notADirectory(dataDir);
    throw error;
  });
  if (info === undefined) return [];
  if (!info.isDirectory()) throw notADirectory(dataDir);
  const found: number[] = [];
  for (const name of await readdir(dataDir)) {
    if (!/^[1-9]\d{0,2}$/.test(name)) continue;
    const folder = join(dataDir, name);
    if (!(await stat(folder)).isDirectory()) continue;
    if ((await readdir(folder)).length > 0) found.push(Number(name) - 1);
  }
  return found.sort((a, b) => a - b);
}

function notADirectory(dataDir: string): RookeryError {
  return new RookeryError(
    "StorageNotDirectory",
    `the data folder ${quote(dataDir)} is a file (or lies under one), not a folder; point dataDir (--data-dir) at a folder`,
    { dataDir },
  );
}
