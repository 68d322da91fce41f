/**
 * No sentence of the chapter is copied into the book: not one run of eight consecutive words (case
 * and punctuation ignored) of the book's pages, or of what they render from code (the playground's
 * step texts, the exercises, the claims), appears in the chapter. The chapter's runs are vendored
 * as hashes (test/book/seed-shingles.txt), so this runs on any machine; where the chapter itself is
 * present (/work/shared/seed), the test also checks that the vendored hashes are up to date.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { seedFolderDefault, seedHashes, vendoredShingles } from "../../scripts/seed-shingles.ts";
import { shingleHash, shingles, words } from "./shingles.ts";

const repo = resolve(import.meta.dirname, "../..");

function filesUnder(folder: string, pattern: RegExp): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (pattern.test(name)) found.push(path);
    }
  };
  walk(join(repo, folder));
  return found;
}

/** The book: its pages and components, and the code whose words they show. */
const bookFiles = [
  ...filesUnder("book/src", /\.(mdx|astro|ts)$/),
  ...filesUnder("exercises", /\.ts$/),
  join(repo, "playground/scenarios.ts"),
  join(repo, "playground/exercise-support.ts"),
  join(repo, "README.md"),
];

describe("the book's own words", () => {
  it("no run of eight words of the book appears in the chapter", () => {
    const vendored = readFileSync(vendoredShingles, "utf8");
    if (existsSync(seedFolderDefault)) expect(vendored).toBe(seedHashes(seedFolderDefault));
    const chapter = new Set(vendored.trim().split("\n"));
    expect(chapter.size).toBeGreaterThan(5_000);
    expect(bookFiles.length).toBeGreaterThan(30);
    const copied = bookFiles.flatMap((file) =>
      shingles(readFileSync(file, "utf8"))
        .filter((run) => chapter.has(run.hash))
        .map((run) => `${relative(repo, file)}: “${run.text}”`),
    );
    expect(copied).toEqual([]);
  });

  it("a copied run is found whatever its case and punctuation", () => {
    const original = "Nine Ravens sat, quietly, on the old fence (by the barn) today.";
    const copied = "...and nine ravens sat quietly on the old fence by the barn today!";
    const seen = new Set(shingles(original).map((run) => run.hash));
    expect(shingles(copied).filter((run) => seen.has(run.hash))).toHaveLength(5);
    expect(words("See http://127.0.0.2:8080/studio, now")).toEqual([
      "see",
      "http1270028080studio",
      "now",
    ]);
    // With the chapter at hand: a run read from it now (never stored) is among the vendored hashes.
    if (existsSync(seedFolderDefault)) {
      const vendored = new Set(readFileSync(vendoredShingles, "utf8").trim().split("\n"));
      const file = readdirSync(seedFolderDefault).find((name) => name.endsWith(".txt"))!;
      const run = words(readFileSync(join(seedFolderDefault, file), "utf8")).slice(100, 108);
      expect(vendored.has(shingleHash(run))).toBe(true);
    }
  });
});
