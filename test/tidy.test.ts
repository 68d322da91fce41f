import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

function sources(folder: string, pattern = /\.ts$/): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === "node_modules" || name === "dist") continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (pattern.test(path)) found.push(path);
    }
  };
  walk(join(root, folder));
  return found;
}

/** importsOf lists the files a source file imports by relative path (static, type and dynamic). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((reference) => reference.fileName)
    .filter((specifier) => specifier.startsWith("."))
    .map((specifier) => resolve(dirname(file), specifier));
}

/** layerOf names the engine folder a file belongs to ("" for the entry engine/index.ts). */
function layerOf(file: string): string | undefined {
  const path = relative(join(root, "engine"), file);
  if (path.startsWith("..")) return undefined;
  const slash = path.indexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/**
 * DESIGN.md §1 as a table: which engine folders each folder may import. The deterministic layers
 * sit at the bottom; transport holds the messages (which carry raft, cluster, database and
 * replication values); the server composes them; the client speaks the messages; the runtimes
 * may use everything. engine/index.ts, the public entry, may import any folder.
 */
const mayImport: Readonly<Record<string, readonly string[]>> = {
  core: [],
  raft: ["core"],
  cluster: ["core"],
  database: ["core"],
  replication: ["core", "database"],
  storage: ["core"],
  transport: ["core", "raft", "cluster", "database", "replication"],
  server: ["core", "raft", "cluster", "database", "replication", "transport"],
  client: ["core", "cluster", "database", "transport"],
  http: ["core", "cluster", "database", "replication", "transport", "server"],
  runtime: [
    "core",
    "raft",
    "cluster",
    "database",
    "replication",
    "storage",
    "transport",
    "server",
    "client",
    "http",
  ],
};

/** cycles finds the import cycles among `files` (Tarjan's strongly connected components). */
function cycles(files: readonly string[]): string[][] {
  const inSet = new Set(files);
  const edges = new Map(files.map((f) => [f, importsOf(f).filter((to) => inSet.has(to))]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    onStack.add(file);
    for (const to of edges.get(file)!) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file)!, index.get(to)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (;;) {
      const member = stack.pop()!;
      onStack.delete(member);
      component.push(relative(root, member));
      if (member === file) break;
    }
    if (component.length > 1 || edges.get(file)!.includes(file)) found.push(component.sort());
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return found;
}

/** longFunctions lists every function, method or arrow in `files` longer than `linesMax`. */
function longFunctions(files: readonly string[], linesMax: number): string[] {
  const long: string[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && "body" in node && node.body) {
        const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const last = source.getLineAndCharacterOfPosition(node.end).line;
        const lines = last - first + 1;
        const name = node.name && ts.isIdentifier(node.name) ? node.name.text : "(anonymous)";
        if (lines > linesMax)
          long.push(`${relative(root, file)}:${first + 1}: ${name} is ${lines} lines`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return long;
}

function offences(files: readonly string[], pattern: RegExp): string[] {
  const hits: string[] = [];
  for (const file of files) {
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, k) => {
        // Comments may speak of anything; only code counts.
        if (/^\s*(\*|\/\*)/.test(line)) return;
        const code = line.replace(/\/\/.*$/, "");
        if (pattern.test(code)) hits.push(`${relative(root, file)}:${k + 1}: ${line.trim()}`);
      });
  }
  return hits;
}

describe("house rules (DESIGN.md §1)", () => {
  it("the deterministic core never reads time or randomness and does no I/O", () => {
    const core = [
      "engine/core",
      "engine/raft",
      "engine/cluster",
      "engine/database",
      "engine/replication",
    ].flatMap((folder) => sources(folder));
    expect(core.length).toBeGreaterThan(20);
    const banned =
      /Date\.now\(|new Date\(\)|Math\.random\(|setTimeout\(|setInterval\(|setImmediate\(|performance\.now\(|from "node:|indexedDB|postMessage\(|fetch\(/;
    expect(offences(core, banned)).toEqual([]);
  });

  it("engine/raft imports only engine/core", () => {
    const imports = offences(sources("engine/raft"), /from "\.\.\/(?!core\/)/);
    expect(imports).toEqual([]);
  });

  it("each engine folder imports only the folders DESIGN.md §1 allows it", () => {
    const wrong: string[] = [];
    for (const file of sources("engine")) {
      const from = layerOf(file)!;
      if (from === "") continue;
      const allowed = mayImport[from];
      if (!allowed) {
        wrong.push(`${relative(root, file)}: folder engine/${from} is not in the layer table`);
        continue;
      }
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to === undefined || to === from || allowed.includes(to)) continue;
        const where = to === "" ? "the public entry" : `engine/${to}`;
        wrong.push(`${relative(root, file)} imports ${relative(root, target)} (${where})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("the playground and the exercises import only the engine's public entry; the book never the engine", () => {
    const entry = join(root, "engine/index.ts");
    const wrong: string[] = [];
    const users = [...sources("playground", /\.tsx?$/), ...sources("exercises")];
    for (const file of users) {
      for (const target of importsOf(file)) {
        if (layerOf(target) !== undefined && target !== entry)
          wrong.push(`${relative(root, file)} imports ${relative(root, target)}`);
      }
    }
    const pages = existsSync(join(root, "book/src"))
      ? sources("book/src", /\.(ts|tsx|mjs|astro|mdx)$/)
      : [];
    for (const file of pages) {
      if (/from\s+["'][./]*engine\//.test(readFileSync(file, "utf8")))
        wrong.push(`${relative(root, file)} imports the engine; pages import the playground`);
    }
    expect(wrong).toEqual([]);
  });

  it("no import cycles in engine/ or playground/", () => {
    expect(cycles(sources("engine"))).toEqual([]);
    expect(cycles(sources("playground", /\.tsx?$/))).toEqual([]);
  });

  it("engine/server/server.ts stays a composition root (under 250 lines)", () => {
    const lines = readFileSync(join(root, "engine/server/server.ts"), "utf8").split("\n").length;
    expect(lines).toBeLessThan(250);
  });

  it("no engine function is over 100 lines", () => {
    expect(longFunctions(sources("engine"), 100)).toEqual([]);
  });

  it("no `any` in engine/", () => {
    expect(offences(sources("engine"), /(:\s*any\b|\bas any\b|<any>|any\[\])/)).toEqual([]);
  });

  it("no focused, skipped or todo tests", () => {
    const tests = sources("test").filter((file) => !file.endsWith("tidy.test.ts"));
    expect(offences(tests, /\b(it|test|describe)\.(only|skip|todo)\(|\bxit\(/)).toEqual([]);
  });
});
