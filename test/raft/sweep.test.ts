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
      let membershipChanges = 0;
      for (let seed = 1; seed <= 100; seed++) {
        const result = runRaftSeed(seed, { nodes, membershipChanges: nodes === 5 });
        expect(result.ok, explain(result, nodes)).toBe(true);
        expect(result.committed, `seed ${seed} committed nothing`).toBeGreaterThan(0);
        membershipChanges += result.membershipAccepted;
      }
      if (nodes === 5) expect(membershipChanges).toBeGreaterThan(100 * 5);
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

  it("finds a leader that changes the membership before its noop commits (defect 1 of issue 12)", () => {
    // The guard as it was before the fix, switched back on: the membership workload must catch
    // it within a few dozen seeds, or the sweep has lost the power that found defect 1.
    const unsafe = { membershipChangeBeforeNoop: true };
    let found: RaftSeedResult | undefined;
    for (let seed = 1; seed <= 100 && !found; seed++) {
      const result = runRaftSeed(seed, { nodes: 5, membershipChanges: true, unsafe });
      if (!result.ok) found = result;
    }
    expect(found, "no seed in 1..100 broke a safety property").toBeDefined();
    expect([
      "leader completeness",
      "log matching",
      "state machine safety",
      "election safety",
    ]).toContain(found!.broken);
  });
});
