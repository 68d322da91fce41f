import { describe, expect, it } from "vitest";
import {
  bumpChangeVector,
  changeVectorEtag,
  compareChangeVectors,
  formatChangeVector,
  isRookeryError,
  mergeChangeVectors,
  parseChangeVector,
  SeededRandom,
  type ChangeVector,
} from "../../engine/core/index.ts";

describe("change vectors", () => {
  it("read and print the RavenDB text form, entries in tag order", () => {
    const vector = parseChangeVector("B:3-dbidB, A:12-dbidA");
    expect(vector).toEqual([
      { tag: "A", etag: 12, databaseId: "dbidA" },
      { tag: "B", etag: 3, databaseId: "dbidB" },
    ]);
    expect(formatChangeVector(vector)).toBe("A:12-dbidA, B:3-dbidB");
    expect(formatChangeVector(parseChangeVector(""))).toBe("");
    expect(
      parseChangeVector("A:10-OSKWIRBEDEGoAxbEIiFJeQ, B:7-jMR/KF8hz0uMxbJ0HtPTIQ"),
    ).toHaveLength(2);
    expect(changeVectorEtag("A:12-dbidA, B:3-dbidB", "dbidB")).toBe(3);
    expect(changeVectorEtag("A:12-dbidA", "other")).toBe(0);
  });

  it("refuse malformed text with an error that quotes it", () => {
    for (const text of [
      "A12-x",
      "A:x-db",
      "a:1-db",
      "A:1-",
      "A:0-db",
      "A:1-db, A:2-db",
      "A:1-db,, B:1-c",
      "1:1-db",
    ]) {
      let caught: unknown;
      try {
        parseChangeVector(text);
      } catch (error) {
        caught = error;
      }
      expect(isRookeryError(caught, "InvalidChangeVector"), text).toBe(true);
      expect((caught as Error).message).toContain(text);
    }
  });

  it("compare per database id, a missing entry counting as zero", () => {
    expect(compareChangeVectors("A:1-a", "A:1-a")).toBe("equal");
    expect(compareChangeVectors("", "")).toBe("equal");
    expect(compareChangeVectors("A:2-a", "A:1-a")).toBe("already-merged");
    expect(compareChangeVectors("A:2-a, B:1-b", "A:2-a")).toBe("already-merged");
    expect(compareChangeVectors("A:1-a", "A:2-a")).toBe("update");
    expect(compareChangeVectors("", "A:1-a")).toBe("update");
    expect(compareChangeVectors("A:2-a", "A:1-a, B:1-b")).toBe("conflict");
    // Identity is the database id: the same tag with a new id is a different entry.
    expect(compareChangeVectors("A:5-old", "A:1-new")).toBe("conflict");
  });

  it("merge keeps the largest etag per database id and bump sets the own entry", () => {
    const merged = mergeChangeVectors("A:3-a, B:1-b", "B:4-b, C:2-c", "");
    expect(formatChangeVector(merged)).toBe("A:3-a, B:4-b, C:2-c");
    expect(formatChangeVector(bumpChangeVector(merged, "B", "b", 9))).toBe("A:3-a, B:9-b, C:2-c");
    expect(formatChangeVector(bumpChangeVector("", "D", "d", 1))).toBe("D:1-d");
    expect(() => bumpChangeVector("A:5-a", "A", "a", 4)).toThrow(/go back/);
  });

  it("merge is commutative and dominates its inputs (200 random vectors)", () => {
    const random = new SeededRandom(7);
    const randomVector = (): ChangeVector =>
      ["A", "B", "C", "D"]
        .filter(() => random.chance(0.6))
        .map((tag) => ({
          tag,
          etag: random.between(1, 5),
          databaseId: `db${tag}`,
        }));
    for (let round = 0; round < 200; round++) {
      const a = randomVector();
      const b = randomVector();
      const ab = formatChangeVector(mergeChangeVectors(a, b));
      expect(ab).toBe(formatChangeVector(mergeChangeVectors(b, a)));
      expect(["equal", "already-merged"]).toContain(compareChangeVectors(ab, a));
      expect(["equal", "already-merged"]).toContain(compareChangeVectors(ab, b));
      const forward = compareChangeVectors(a, b);
      const backward = compareChangeVectors(b, a);
      const mirror = {
        equal: "equal",
        "already-merged": "update",
        update: "already-merged",
        conflict: "conflict",
      };
      expect(backward).toBe(mirror[forward]);
    }
  });
});
