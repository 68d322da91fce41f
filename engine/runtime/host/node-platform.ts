/**
 * The host's Node adapter: workers through the `web-worker` package (Web Worker API over
 * worker_threads) running the bundled entry engine/runtime/worker/dist/server-worker.js, which is
 * rebuilt here when missing or older than its sources; data folders on disk. Never imported by
 * browser code: engine/runtime/cluster.ts loads it only when it runs in Node.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import workerThreads from "node:worker_threads";
import Worker from "web-worker";
import type { Endpoint } from "comlink";
import type { HostPlatform, SpawnedWorker } from "./platform.ts";

/** How long terminate() waits for the thread's exit before it gives up waiting. */
const exitWaitMs = 5_000;

interface BuildScript {
  ensureServerWorker(): Promise<string>;
}

let bundle: Promise<string> | undefined;

/**
 * serverWorkerBundle returns the path of an up-to-date worker bundle, building it at most once
 * per process (`npm ci` builds it through `prepare`; this covers a checkout where that did not
 * run, and sources edited since).
 */
function serverWorkerBundle(): Promise<string> {
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
    const file = await serverWorkerBundle();
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
