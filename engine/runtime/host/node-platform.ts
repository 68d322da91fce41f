/**
 * The host's Node adapter: workers through the `web-worker` package (Web Worker API over
 * worker_threads) running the Node worker entry, data folders on disk. From the TypeScript
 * sources the entry runs bundled (engine/runtime/worker/dist/server-worker.js, rebuilt here when
 * missing or older than its sources); from the installed package it runs as tsc compiled it, next
 * to this file. Never imported by browser code: engine/runtime/cluster-any.ts loads it only when
 * it runs in Node.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import workerThreads from "node:worker_threads";
import Worker from "web-worker";
import type { Endpoint } from "comlink";
import { quote, RookeryError } from "../../core/index.ts";
import type { HostPlatform, SpawnedWorker } from "./platform.ts";

/** How long terminate() waits for the thread's exit before it gives up waiting. */
const exitWaitMs = 5_000;

interface BuildScript {
  ensureServerWorker(): Promise<string>;
}

let bundle: Promise<string> | undefined;

/** compiled is true when this file runs as JavaScript (the installed package's dist/). */
const compiled = !import.meta.url.endsWith(".ts");

/**
 * serverWorkerEntry returns the file a server's worker runs. Compiled, that is the compiled Node
 * entry beside this folder. From source, an up-to-date bundle, built at most once per process
 * when missing or older than its sources.
 */
function serverWorkerEntry(): Promise<string> {
  if (compiled)
    return Promise.resolve(
      fileURLToPath(new URL("../worker/server-worker-node.js", import.meta.url)),
    );
  bundle ??= (async () => {
    // Loaded by URL so that TypeScript and bundlers leave the build script (and esbuild) alone.
    const script = new URL("../../../scripts/build-worker.mjs", import.meta.url).href;
    const build = (await import(/* @vite-ignore */ script)) as BuildScript;
    return await build.ensureServerWorker();
  })();
  bundle.catch(() => {
    bundle = undefined;
  });
  return bundle;
}

const loaderFlags = new Set(["--import", "--require", "-r", "--loader", "--experimental-loader"]);

/**
 * plainExecArgv is this process's Node options without TypeScript loaders. A worker inherits its
 * parent's options, so under `tsx` every server thread would load tsx (and esbuild) before our
 * plain-JS bundle: measured here, 5 workers took ~1.1 s to start instead of ~0.25 s.
 */
function plainExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let k = 0; k < execArgv.length; k++) {
    const arg = execArgv[k]!;
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (loaderFlags.has(flag)) {
      const value = inline ?? execArgv[k + 1] ?? "";
      if (inline === undefined) k++;
      if (/tsx|ts-node|vite-node|vitest/.test(value)) continue;
      kept.push(arg, ...(inline === undefined ? [value] : []));
      continue;
    }
    kept.push(arg);
  }
  return kept;
}

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
    const file = await serverWorkerEntry();
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
