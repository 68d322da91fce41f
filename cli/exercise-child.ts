/**
 * The child process of `rookery exercise check` (cli/commands/exercise.ts forks it): load the
 * student's solution, run it on the exercise, send the verdict to the parent over IPC, exit.
 *   argv: <exercise id> <solution path> <seed> <virtual limit ms> <wall limit ms>
 *
 * A solution imports "rookery"; here that must be this very engine (the runner's errors are
 * matched with instanceof). With esbuild at hand (always in a clone, and in a project that has
 * it) the solution is bundled with "rookery" pointed at the engine, so it may be TypeScript, use
 * top-level await and import files of its own from anywhere. Without esbuild a .mjs or .js
 * solution is imported as it is, with a module hook that resolves "rookery" to the engine.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { register } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { findExercise } from "../exercises/index.ts";
import { runExercise } from "../exercises/runner.ts";
import type { Solution } from "../exercises/types.ts";
import { notChecked } from "./commands/exercise.ts";
import type { ReportSummary } from "./commands/exercise.ts";
import { fromSource, packageRoot } from "./where.ts";

/** The engine entry solutions get for "rookery": the one this process runs. */
const engineUrl = new URL(`../engine/index${fromSource ? ".ts" : ".js"}`, import.meta.url).href;

interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
}

async function esbuildIfAny(): Promise<Esbuild | undefined> {
  try {
    const name = "esbuild";
    return (await import(/* @vite-ignore */ name)) as Esbuild;
  } catch {
    return undefined;
  }
}

/** bundle builds the solution into one module whose "rookery" is the engine, and imports it. */
async function bundle(esbuild: Esbuild, path: string): Promise<unknown> {
  const built = await esbuild.build({
    entryPoints: [path],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    logLevel: "silent",
    packages: "external",
    plugins: [
      {
        name: "rookery",
        setup(build: {
          onResolve(
            options: { filter: RegExp },
            callback: () => { path: string; external: boolean },
          ): void;
        }) {
          build.onResolve({ filter: /^rookery$/ }, () => ({ path: engineUrl, external: true }));
        },
      },
    ],
  });
  const code = built.outputFiles[0]?.text ?? "";
  const cache = fromSource
    ? join(packageRoot(), "node_modules", ".cache", "rookery-exercise")
    : join(tmpdir(), "rookery-exercise");
  mkdirSync(cache, { recursive: true });
  const out = join(
    cache,
    `solution-${createHash("sha256").update(path).update(code).digest("hex").slice(0, 16)}.mjs`,
  );
  writeFileSync(out, code);
  return await import(pathToFileURL(out).href);
}

/** importWithHook imports a JavaScript solution as it is, "rookery" resolved to the engine. */
async function importWithHook(path: string): Promise<unknown> {
  if (!/\.(mjs|js)$/.test(path))
    throw new Error(
      `a TypeScript solution needs esbuild to be loaded: install it in your project (npm install --save-dev esbuild), or write the solution as .mjs`,
    );
  const hook = `export async function resolve(specifier, context, next) {
  if (specifier === "rookery") return { url: ${JSON.stringify(engineUrl)}, shortCircuit: true };
  return next(specifier, context);
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  return await import(pathToFileURL(path).href);
}

async function loadSolution(path: string): Promise<Solution> {
  const esbuild = await esbuildIfAny();
  const module = (esbuild ? await bundle(esbuild, path) : await importWithHook(path)) as {
    default?: unknown;
  };
  if (typeof module.default !== "function")
    throw new Error(
      `${path} must export a function: export default async (cluster, store) => { … }`,
    );
  return module.default as Solution;
}

const [id = "", path = "", seed = "1", virtualLimitMs = "0", wallLimitMs = "0"] =
  process.argv.slice(2);
const exercise = findExercise(id);
if (!exercise) throw new Error(`no exercise ${id}`);
let summary: ReportSummary;
let solution: Solution | undefined;
try {
  solution = await loadSolution(path);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  summary = notChecked(exercise, Number(seed), `could not load the solution ${path}: ${message}`);
}
if (solution) {
  const { record: _record, ...rest } = await runExercise(exercise, solution, {
    seed: Number(seed),
    virtualLimitMs: Number(virtualLimitMs),
    wallLimitMs: Number(wallLimitMs),
  });
  summary = rest;
}
await new Promise<void>((done) => process.send?.(summary!, () => done()) ?? done());
// A solution may leave promises or timers behind; the verdict is in, so leave now.
process.exit(0);
