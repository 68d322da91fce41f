/**
 * The npm package as someone outside this repository gets it: `npm pack` (whose prepack builds
 * dist/ with tsc), installed with plain `npm install <tarball>` into an empty folder under the
 * system's temporary directory, where nothing of the repository can be reached; then the README's
 * library example from .mjs (sim and worker runtimes), from a strict TypeScript project, the
 * browser entry's import graph, and the `rookery` bin.
 *
 * No network: the install runs with --offline. When the npm cache cannot resolve the package's
 * dependencies on its own (npm ci stores tarballs, not always the registry's metadata), the same
 * dependencies are packed from the repository's node_modules and installed beside it, still
 * offline.
 */
import { execFile } from "node:child_process";
import { builtinModules, createRequire } from "node:module";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = resolve(import.meta.dirname, "../..");
const manifest = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  exports: Record<string, Record<string, string> | string>;
  bin: Record<string, string>;
  engines: { node: string };
  license: string;
  files: string[];
};

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of the children: no npm_* variables from the `npm test` around us (they would
 * point npm at this repository) and no Node options or paths that could reach it either.
 */
const cleanEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !/^npm_/i.test(key) && !["NODE_OPTIONS", "NODE_PATH", "INIT_CWD"].includes(key),
  ),
);

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs = 120_000,
): Promise<Ran> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { cwd, env: cleanEnv, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) =>
        done({
          code: error ? (typeof error.code === "number" ? error.code : 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

function ok(ran: Ran, what: string): Ran {
  if (ran.code !== 0)
    throw new Error(`${what} exited with ${ran.code}:\n${ran.stderr}\n${ran.stdout}`);
  return ran;
}

/** The README's library example, as written. */
function readmeExample(): string {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const fence = readme.indexOf("```ts\n");
  return readme.slice(fence + 6, readme.indexOf("```", fence + 6));
}

let work = "";
let project = "";
let installedBy = "";
const installed = (): string => join(project, "node_modules", manifest.name);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "rookery-pack-"));
  project = join(work, "project");
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    `${JSON.stringify({ name: "newcomer", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`,
  );
  ok(await run("npm", ["pack", "--pack-destination", work], repo), "npm pack");
  const tarball = join(work, `${manifest.name}-${manifest.version}.tgz`);
  const install = (tarballs: readonly string[]): Promise<Ran> =>
    run("npm", ["install", "--offline", "--no-audit", "--no-fund", ...tarballs], project);
  const first = await install([tarball]);
  if (first.code === 0) {
    installedBy = "the tarball and the npm cache";
    return;
  }
  if (!/ENOTCACHED|only-if-cached/.test(first.stderr)) ok(first, "npm install");
  // The cache lacks the registry's metadata: pack the dependencies (and theirs) as installed here.
  const folders: string[] = [];
  const queue = Object.keys(manifest.dependencies);
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const folder = join(repo, "node_modules", name);
    if (folders.includes(folder)) continue;
    folders.push(folder);
    const dependencies = (
      JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
      }
    ).dependencies;
    queue.push(...Object.keys(dependencies ?? {}));
  }
  const packed = ok(
    await run("npm", ["pack", "--ignore-scripts", "--pack-destination", work, ...folders], work),
    "npm pack of the dependencies",
  );
  const names = packed.stdout
    .trim()
    .split("\n")
    .filter((line) => line.endsWith(".tgz"));
  ok(await install([tarball, ...names.map((name) => join(work, name))]), "npm install");
  installedBy = "the tarball and the repository's node_modules, packed";
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe(`npm pack, then npm install <tarball> in an empty folder`, () => {
  it("ships dist/ (JavaScript and .d.ts), package.json, the README and the licence, nothing else", async () => {
    const listed = ok(
      await run("tar", ["-tzf", join(work, `${manifest.name}-${manifest.version}.tgz`)], work),
      "tar",
    )
      .stdout.trim()
      .split("\n")
      .map((path) => path.replace(/^package\//, ""));
    const outside = listed.filter(
      (path) =>
        !/^dist\/(engine|cli|exercises)\/.+\.(js|d\.ts)$/.test(path) &&
        !["package.json", "README.md", "LICENSE"].includes(path),
    );
    expect(outside).toEqual([]);
    for (const path of [
      "dist/engine/index.js",
      "dist/engine/index.d.ts",
      "dist/engine/browser.js",
      "dist/engine/browser.d.ts",
      "dist/engine/runtime/worker/server-worker.js",
      "dist/engine/runtime/worker/server-worker-node.js",
      "dist/cli/bin.js",
      "LICENSE",
    ])
      expect(listed).toContain(path);
    expect(installedBy).not.toBe("");
  });

  it("package.json names the engine and browser entries, the bin, the licence and the Node it needs", () => {
    const shipped = JSON.parse(
      readFileSync(join(installed(), "package.json"), "utf8"),
    ) as typeof manifest;
    expect(shipped.exports["."]).toEqual({
      types: "./dist/engine/index.d.ts",
      browser: "./dist/engine/browser.js",
      default: "./dist/engine/index.js",
    });
    expect(shipped.exports["./browser"]).toMatchObject({ default: "./dist/engine/browser.js" });
    expect(shipped.bin).toEqual({ rookery: "dist/cli/bin.js" });
    expect(shipped.license).toBe("MIT");
    expect(readFileSync(join(installed(), "LICENSE"), "utf8")).toMatch(/^MIT License/);
    expect(shipped.engines.node).toBe(">=20.19");
  });

  it.each(["sim", "worker"])(
    "the README's example runs from a .mjs file under the %s runtime",
    async (runtime) => {
      const example = readmeExample();
      const code = example.replace('runtime: "sim"', `runtime: "${runtime}"`);
      expect(code).toContain(`runtime: "${runtime}"`);
      writeFileSync(join(project, `example-${runtime}.mjs`), code);
      const ran = ok(
        await run(process.execPath, [`example-${runtime}.mjs`], project),
        `example under ${runtime}`,
      );
      for (const tag of ["A", "B", "C"])
        expect(ran.stdout).toContain(`${tag}: { Spade: [ 'users/1' ] }`);
    },
  );

  it("a strict TypeScript project type-checks against the shipped .d.ts (skipLibCheck off) and its output runs", async () => {
    writeFileSync(join(project, "example.ts"), readmeExample());
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          lib: ["ES2022", "DOM"],
          types: [],
          outDir: "out",
        },
        files: ["example.ts"],
      }),
    );
    const tsc = join(
      dirname(createRequire(import.meta.url).resolve("typescript/package.json")),
      "bin",
      "tsc",
    );
    ok(await run(process.execPath, [tsc, "-p", project], project), "tsc");
    const ran = ok(
      await run(process.execPath, [join("out", "example.js")], project),
      "compiled example",
    );
    expect(ran.stdout).toContain("C: { Spade: [ 'users/1' ] }");
  });

  it("the browser entry reaches no Node module: every import, dynamic import and worker URL followed", () => {
    const start = join(installed(), "dist", "engine", "browser.js");
    const seen = new Set<string>();
    const bare = new Set<string>();
    const queue = [start];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
      for (const match of text.matchAll(
        /new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
      ))
        specifiers.push(match[1]!);
      for (const specifier of specifiers) {
        if (specifier.startsWith(".")) queue.push(resolve(dirname(file), specifier));
        else bare.add(specifier);
      }
    }
    const reached = [...seen].map((file) => relative(installed(), file));
    expect(reached).toContain("dist/engine/runtime/host/browser-platform.js");
    expect(reached).toContain("dist/engine/runtime/worker/server-worker.js");
    expect(reached).not.toContain("dist/engine/runtime/host/node-platform.js");
    const node = [...bare].filter((s) => s.startsWith("node:") || builtinModules.includes(s));
    expect(node).toEqual([]);
    expect([...bare].sort()).toEqual(["comlink", "idb"]);
  });

  it("the bin: rookery --version, a walkthrough, an exercise checked from a .mjs solution, and bench says it needs a clone", async () => {
    const rookery = join(project, "node_modules", ".bin", "rookery");
    expect(ok(await run(rookery, ["--version"], project), "--version").stdout).toBe(
      `${manifest.version}\n`,
    );
    const steps = ok(await run(rookery, ["walkthrough", "--json"], project), "walkthrough")
      .stdout.trim()
      .split("\n");
    expect(steps).toHaveLength(10);
    writeFileSync(
      join(project, "bootstrap.mjs"),
      `import { DocumentStore } from "rookery";
export default async (cluster, store) => {
  await store.maintenance.createDatabase({ name: "Spade" });
  for (const url of cluster.urls.slice(1)) await store.maintenance.addNodeToCluster(url);
  await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null));
  const onC = new DocumentStore({ urls: [cluster.urls[2]], network: cluster.network }).initialize();
  for (;;) {
    if (Object.keys((await onC.maintenance.getClusterTopology()).members).length === 3) return;
    await cluster.runFor(20);
  }
};
`,
    );
    const checked = await run(
      rookery,
      ["exercise", "check", "1", "--solution", "bootstrap.mjs"],
      project,
    );
    expect(checked.stdout).toContain("PASS: all 4 checks hold");
    expect(checked.code).toBe(0);
    const bench = await run(rookery, ["bench"], project);
    expect(bench.code).toBe(1);
    expect(bench.stderr).toMatch(/^rookery bench: BenchNeedsRepository: .*clone the repository/);
  });
});
