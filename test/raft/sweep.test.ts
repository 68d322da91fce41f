import { describe, expect, it } from "vitest";
import { runRaftSeed } from "../../engine/runtime/sim/index.ts";
import type { RaftSeedResult } from "../../engine/runtime/sim/index.ts";

function explain(result: RaftSeedResult, nodes: number): string {
  return [
    `seed ${result.seed} broke ${result.broken}: ${result.message}`,
    ...result.trace,
    `replay: npm run sim -- --nodes ${nodes} --seed ${result.seed}`,
  ].join("\n");
}

describe("Rachis under random faults (a short sweep; npm run sim runs thousands)", () => {
  for (const nodes of [3, 5] as const) {
    it(`keeps every safety property and recovers on ${nodes} nodes over 100 seeds`, () => {
      for (let seed = 1; seed <= 100; seed++) {
        const result = runRaftSeed(seed, { nodes, membershipChanges: nodes === 5 });
        expect(result.ok, explain(result, nodes)).toBe(true);
        expect(result.committed, `seed ${seed} committed nothing`).toBeGreaterThan(0);
      }
    });
  }

  it("reports a seed that stalls as a failure, instead of hanging", () => {
    const result = runRaftSeed(7, { nodes: 3, watchdog: { eventsMax: 1000 } });
    expect(result).toMatchObject({ ok: false, broken: "stalled" });
    expect(result.message).toMatch(/1000 events .*\(watchdog: at most 1000 events\)$/);
  });

  it("replays a seed exactly: the same seed gives the same run", () => {
    const first = runRaftSeed(42, { nodes: 5, membershipChanges: true });
    const second = runRaftSeed(42, { nodes: 5, membershipChanges: true });
    expect(second).toEqual(first);
  });
});
