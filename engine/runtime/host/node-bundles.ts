/**
 * The files Node runs servers from, and the Node options a server thread or process is started
 * with. Node only: the worker host and the process cluster use it; browser code never imports it.
 *
 * From the TypeScript sources each entry runs bundled by scripts/build-worker.mjs (rebuilt when
 * missing or older than its sources); from the installed package it runs as tsc compiled it.
 */
import { fileURLToPath } from "node:url";

interface BuildScript {
  ensureServerWorker(): Promise<string>;
  ensureServerProcess(): Promise<string>;
}

/** ServerEntryName names an entry: the Node server worker, or the server process. */
export type ServerEntryName = "worker" | "process";

/** compiled is true when this file runs as JavaScript (the installed package's dist/). */
const compiled = !import.meta.url.endsWith(".ts");

/** Where tsc puts each entry, relative to this file. */
const compiledEntries: Readonly<Record<ServerEntryName, string>> = {
  worker: "../worker/server-worker-node.js",
  process: "../process/server-process.js",
};

const bundles = new Map<ServerEntryName, Promise<string>>();

/**
 * serverEntry returns the file a server's worker or process runs: compiled, the entry beside this
 * folder; from source, an up-to-date bundle, built at most once per process.
 */
export function serverEntry(name: ServerEntryName): Promise<string> {
  if (compiled)
    return Promise.resolve(fileURLToPath(new URL(compiledEntries[name], import.meta.url)));
  let built = bundles.get(name);
  if (!built) {
    built = (async () => {
      // Loaded by URL so that TypeScript and bundlers leave the build script (and esbuild) alone.
      const script = new URL("../../../scripts/build-worker.mjs", import.meta.url).href;
      const build = (await import(/* @vite-ignore */ script)) as BuildScript;
      return name === "worker"
        ? await build.ensureServerWorker()
        : await build.ensureServerProcess();
    })();
    bundles.set(name, built);
    built.catch(() => bundles.delete(name));
  }
  return built;
}

const loaderFlags = new Set(["--import", "--require", "-r", "--loader", "--experimental-loader"]);

/**
 * plainExecArgv is this process's Node options without TypeScript loaders. A worker or child
 * inherits its parent's options, so under `tsx` every server would load tsx (and esbuild) before
 * our plain-JS entry: measured here, 5 workers took ~1.1 s to start instead of ~0.25 s.
 */
export function plainExecArgv(execArgv: readonly string[]): string[] {
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
