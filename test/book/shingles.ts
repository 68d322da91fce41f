/**
 * Eight-word runs ("shingles") for checking that the book does not copy the chapter's sentences.
 * Text is normalised the same way on both sides — lower case, every run of characters other than
 * letters and digits is one space — and each run of eight words is kept only as a hash, so the
 * chapter's words never enter the repository: test/book/seed-shingles.txt holds the hashes of the
 * chapter's runs (regenerate with `npx tsx scripts/seed-shingles.ts` when the seed changes).
 */
import { createHash } from "node:crypto";

/** The length of a run, in words. */
export const shingleWords = 8;

/**
 * words normalises text to its words: lower case, letters and digits only. A URL is one word (its
 * letters and digits run together), so a list of the chapter's server addresses is a few words,
 * not a sentence.
 */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/https?:\/\/[^\s)"'`<>\],]+/g, (url) => ` ${url.replace(/[^\p{L}\p{N}]+/gu, "")} `)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

/** shingleHash is the first 48 bits of the SHA-256 of a run's words joined by one space, in hex. */
export function shingleHash(run: readonly string[]): string {
  return createHash("sha256").update(run.join(" ")).digest("hex").slice(0, 12);
}

/** Shingle is one run of a text: its hash, and the run itself for the message of a failing test. */
export interface Shingle {
  readonly hash: string;
  readonly text: string;
}

/** shingles lists every run of `shingleWords` consecutive words of a text. */
export function shingles(text: string): Shingle[] {
  const all = words(text);
  const runs: Shingle[] = [];
  for (let i = 0; i + shingleWords <= all.length; i++) {
    const run = all.slice(i, i + shingleWords);
    runs.push({ hash: shingleHash(run), text: run.join(" ") });
  }
  return runs;
}

/** hashList renders a set of hashes as the vendored file does: sorted, one per line. */
export function hashList(hashes: Iterable<string>): string {
  return [...new Set(hashes)].sort().join("\n") + "\n";
}
