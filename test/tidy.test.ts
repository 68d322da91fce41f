import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

function sources(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === "node_modules" || name === "dist") continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) found.push(path);
    }
  };
  walk(join(root, folder));
  return found;
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
    ].flatMap(sources);
    expect(core.length).toBeGreaterThan(20);
    const banned =
      /Date\.now\(|new Date\(\)|Math\.random\(|setTimeout\(|setInterval\(|setImmediate\(|performance\.now\(|from "node:|indexedDB|postMessage\(|fetch\(/;
    expect(offences(core, banned)).toEqual([]);
  });

  it("engine/raft imports only engine/core", () => {
    const imports = offences(sources("engine/raft"), /from "\.\.\/(?!core\/)/);
    expect(imports).toEqual([]);
  });

  it("no `any` in engine/", () => {
    expect(offences(sources("engine"), /(:\s*any\b|\bas any\b|<any>|any\[\])/)).toEqual([]);
  });

  it("no focused, skipped or todo tests", () => {
    const tests = sources("test").filter((file) => !file.endsWith("tidy.test.ts"));
    expect(offences(tests, /\b(it|test|describe)\.(only|skip|todo)\(|\bxit\(/)).toEqual([]);
  });
});
