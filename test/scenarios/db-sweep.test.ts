import { describe, expect, it } from "vitest";
import { runDbSeed } from "../../engine/runtime/sim/index.ts";
import type { DbSeedResult } from "../../engine/runtime/sim/index.ts";

function explain(result: DbSeedResult, servers: number): string {
  return [
    `seed ${result.seed} broke ${result.broken}: ${result.message}`,
    ...result.trace,
    `replay: npm run sim -- --workload db --nodes ${servers} --seed ${result.seed}`,
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
