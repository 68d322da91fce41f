import { describe, expect, it } from "vitest";
import { replayCommand, runDbSeed } from "../../engine/runtime/sim/index.ts";
import type { DbSeedResult } from "../../engine/runtime/sim/index.ts";

function explain(result: DbSeedResult, servers: number): string {
  return [
    `seed ${result.seed} broke ${result.broken}: ${result.message}`,
    ...result.trace,
    `replay: ${replayCommand({ workload: "db", nodes: servers, seed: result.seed })}`,
  ].join("\n");
}

describe("the database layer under random faults (a short sweep; npm run sim -- --workload db runs thousands)", () => {
  it("on 3 servers: same cluster state, write assurance held, no half transfers, convergence, no acknowledged write lost", async () => {
    for (let seed = 1; seed <= 8; seed++) {
      const result = await runDbSeed(seed, { servers: 3 });
      expect(result.ok, explain(result, 3)).toBe(true);
      expect(result.acknowledged, `seed ${seed} acknowledged nothing`).toBeGreaterThan(0);
    }
  });

  it("on 5 servers, the same", async () => {
    for (let seed = 1; seed <= 3; seed++) {
      const result = await runDbSeed(seed, { servers: 5 });
      expect(result.ok, explain(result, 5)).toBe(true);
    }
  });
});

describe("storage faults in the sweep (defect 3)", () => {
  it("a server that fail-stops on a failed fsync comes back and catches up; having lost its unsynced copy of a whole transaction, it shows none of it, which is no half transfer", async () => {
    const result = await runDbSeed(3100152, { servers: 3 });
    expect(result.ok, explain(result, 3)).toBe(true);
    expect(result.storage.failedFsyncs).toBeGreaterThan(0);
  }, 60_000);
});

describe("a seed that stalls (defect 6)", () => {
  it("is reported as a failure with its replay line instead of hanging", async () => {
    const result = await runDbSeed(1, { servers: 3, watchdog: { eventsMax: 500 } });
    expect(result.ok).toBe(false);
    expect(result.broken).toBe("stalled");
    expect(result.message).toMatch(
      /^the run stalled: 500 events and still at [\d.]+ virtual ms \(watchdog: at most 500 events\)$/,
    );
    expect(replayCommand({ workload: "db", nodes: 3, seed: result.seed })).toBe(
      "npm run sim -- --workload db --nodes 3 --seed 1",
    );
  });

  it("the seeds where stale duplicate acks made batches multiply now end, within the watchdog", async () => {
    for (const [servers, seed] of [
      [3, 700195],
      [5, 700113],
      [5, 700242],
      [5, 700302],
      [5, 700337],
    ] as const) {
      const result = await runDbSeed(seed, { servers });
      expect(result.ok, explain(result, servers)).toBe(true);
    }
    // About 15 s of CPU in all (700113 alone takes half); the margin is for a machine shared with
    // other test runs.
  }, 240_000);
});
