/**
 * The plain-JS bundles Node runs servers from (built by scripts/build-worker.mjs), and the Node
 * options a server thread or process is started with. Node only: the worker host and the process
 * cluster use it; browser code never imports it.
 */

interface BuildScript {
  ensureServerWorker(): Promise<string>;
  ensureServerProcess(): Promise<string>;
}

/** BundleName names a bundle: the server worker, or the server process. */
export type BundleName = "worker" | "process";

const bundles = new Map<BundleName, Promise<string>>();

/**
 * serverBundle returns the path of an up-to-date bundle, building it at most once per process
 * (`npm ci` builds both through `prepare`; this covers a checkout where that did not run, and
 * sources edited since).
 */
export function serverBundle(name: BundleName): Promise<string> {
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
 * our plain-JS bundle: measured here, 5 workers took ~1.1 s to start instead of ~0.25 s.
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
