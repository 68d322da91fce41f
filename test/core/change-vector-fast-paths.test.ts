import { describe, expect, it } from "vitest";
import {
  formatChangeVector,
  isRookeryError,
  mergeChangeVectorPair,
  mergeChangeVectors,
  parseChangeVector,
  SeededRandom,
  type ChangeVector,
  type ChangeVectorEntry,
} from "../../engine/core/index.ts";

const random = new SeededRandom(11);

/** A random vector over a few tags and ids; an id may appear under two tags across vectors. */
function randomVector(): ChangeVector {
  const entries: ChangeVectorEntry[] = [];
  for (const databaseId of ["a", "b", "c", "Z9+/=_-"]) {
    if (!random.chance(0.6)) continue;
    const tag = random.pick(["A", "B", "ZA"]);
    entries.push({ tag, etag: random.between(1, 4) * random.pick([1, 1000]), databaseId });
  }
  return parseChangeVector(entries.map((e) => `${e.tag}:${e.etag}-${e.databaseId}`).join(","));
}

describe("change vector fast paths", () => {
  it("every spelling of a vector parses to the same entries and prints the canonical text", () => {
    for (let round = 0; round < 300; round++) {
      const vector = randomVector();
      const canonical = formatChangeVector(vector);
      const parts = vector.map((e) => `${e.tag}:${e.etag}-${e.databaseId}`);
      const spellings = [
        canonical,
        ` ${canonical} `,
        parts.join(","),
        [...parts].reverse().join(" , "),
        vector.map((e) => `${e.tag}:0${e.etag}-${e.databaseId}`).join(", "),
      ];
      for (const text of spellings) {
        expect(parseChangeVector(text), text).toEqual(vector);
        expect(formatChangeVector(parseChangeVector(text)), text).toBe(canonical);
      }
    }
  });

  it("canonical-looking text that is malformed is still refused with the general error", () => {
    for (const text of [
      "A:1-a, A:2-a",
      "B:1-a, A:2-a, B:3-a",
      "A:01-a",
      "A:1-a,  B:1-b",
      "A:1-a, ",
    ]) {
      let caught: unknown;
      try {
        const parsed = parseChangeVector(text);
        // Spellings the general reader accepts must still read the same entries.
        expect(formatChangeVector(parsed)).not.toBe(text);
        continue;
      } catch (error) {
        caught = error;
      }
      expect(isRookeryError(caught, "InvalidChangeVector"), text).toBe(true);
    }
  });

  it("a pair merge equals the general merge and returns an argument whenever it equals it", () => {
    for (let round = 0; round < 500; round++) {
      const current = randomVector();
      const incoming = randomVector();
      const pair = mergeChangeVectorPair(current, incoming);
      const general = mergeChangeVectors(current, incoming);
      expect(pair).toEqual(general);
      if (formatChangeVector(general) === formatChangeVector(current)) expect(pair).toBe(current);
    }
    const current = parseChangeVector("A:1-a, B:2-b");
    const newer = parseChangeVector("A:3-a, B:2-b, C:1-c");
    expect(mergeChangeVectorPair(current, newer)).toBe(newer);
    // An equal etag under another tag keeps current's entry, so the merge is a new vector.
    const retagged = parseChangeVector("B:2-b, C:1-a");
    expect(mergeChangeVectorPair(parseChangeVector("A:1-a"), retagged)).toEqual(
      mergeChangeVectors("A:1-a", retagged),
    );
  });
});
