import { describe as suite, expect, it } from "vitest";
import {
  describe,
  isNodeTag,
  ManualClock,
  registerRenderer,
  SeededRandom,
} from "../../engine/core/index.ts";

suite("seeded randomness", () => {
  it("the same seed draws the same numbers, another seed different ones", () => {
    const draw = (seed: number) =>
      Array.from({ length: 5 }, () => new SeededRandom(seed)).map((r) => r.int(1000));
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    expect(Array.from({ length: 20 }, () => a.next())).toEqual(
      Array.from({ length: 20 }, () => b.next()),
    );
    expect(draw(1)).not.toEqual(Array.from({ length: 5 }, () => new SeededRandom(2).int(1000)));
  });

  it("draws stay in range and cover it", () => {
    const random = new SeededRandom(3);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const value = random.between(2, 5);
      expect(value).toBeGreaterThanOrEqual(2);
      expect(value).toBeLessThanOrEqual(5);
      seen.add(value);
    }
    expect([...seen].sort()).toEqual([2, 3, 4, 5]);
  });
});

suite("describe()", () => {
  it("renders a tagged message as one line with its route", () => {
    expect(describe({ type: "ping", from: "A", to: "B", term: 3 })).toBe("ping A→B term=3");
  });

  it("uses a registered renderer for its type", () => {
    registerRenderer("spadeWrite", (m) => `write ${String(m.id)}`);
    expect(describe({ type: "spadeWrite", id: "users/1" })).toBe("write users/1");
  });

  it("never returns more than one line of bounded length", () => {
    const line = describe({
      type: "big",
      data: "x".repeat(10_000),
      list: Array.from({ length: 100 }, (_, i) => i),
    });
    expect(line).not.toContain("\n");
    expect(line.length).toBeLessThanOrEqual(240);
  });
});

suite("clock and tags", () => {
  it("a manual clock refuses to go back", () => {
    const clock = new ManualClock(10);
    expect(() => clock.advanceTo(5)).toThrow(/cannot go back/);
  });

  it("recognises tags the cluster could assign and nothing else", () => {
    expect(["A", "Z", "ZA", "ZZB"].every(isNodeTag)).toBe(true);
    expect(["?", "AA", "a", "", "B1"].some(isNodeTag)).toBe(false);
  });
});
