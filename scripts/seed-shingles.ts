/**
 * Writes test/book/seed-shingles.txt: the hashes of every eight-word run of the chapter's text
 * (/work/shared/seed/*.txt, or the folder given as the first argument), so that `npm test` can check
 * the book for copied sentences on any machine without the chapter itself.
 *   npx tsx scripts/seed-shingles.ts [seed folder]
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { hashList, shingles } from "../test/book/shingles.ts";

export const seedFolderDefault = "/work/shared/seed";
export const vendoredShingles = resolve(import.meta.dirname, "../test/book/seed-shingles.txt");

/** seedHashes reads every .txt file of the seed folder and returns the vendored file's text. */
export function seedHashes(folder: string): string {
  const texts = readdirSync(folder)
    .filter((file) => file.endsWith(".txt"))
    .map((file) => readFileSync(join(folder, file), "utf8"));
  return hashList(texts.flatMap((text) => shingles(text).map((s) => s.hash)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const folder = process.argv[2] ?? seedFolderDefault;
  const list = seedHashes(folder);
  writeFileSync(vendoredShingles, list);
  console.log(
    `wrote ${list.trim().split("\n").length} hashes from ${folder} to ${vendoredShingles}`,
  );
}
