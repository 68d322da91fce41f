import { describe, expect, it } from "vitest";
import {
  bumpChangeVector,
  formatChangeVector,
  mergeChangeVectors,
  SeededRandom,
} from "../../engine/core/index.ts";
import { InstanceVector } from "../../engine/database/instance-vector.ts";

describe("an instance's change vector", () => {
  it("bumps and merges print what parsing, merging, bumping and printing the text would", () => {
    const random = new SeededRandom(5);
    for (let run = 0; run < 50; run++) {
      const vector = new InstanceVector();
      let expected = "";
      let etag = 0;
      for (let step = 0; step < 40; step++) {
        if (random.chance(0.6)) {
          etag += random.between(1, 3);
          const text = vector.bump("B", "dbB", etag);
          expected = formatChangeVector(bumpChangeVector(expected, "B", "dbB", etag));
          expect(text).toBe(expected);
        } else {
          const incoming = ["A:dbA", "C:dbC", "B:dbB"]
            .filter(() => random.chance(0.5))
            // Another instance has seen at most what this one wrote under its own entry.
            .map((entry) => {
              const seen = entry.startsWith("B")
                ? random.between(1, Math.max(etag, 1))
                : random.between(1, 60);
              return entry.replace(":", `:${seen}-`);
            })
            .join(", ");
          vector.merge(incoming);
          expected = formatChangeVector(mergeChangeVectors(expected, incoming));
        }
        expect(vector.text).toBe(expected);
      }
    }
  });
});
