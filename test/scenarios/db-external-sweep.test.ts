import { describe, expect, it } from "vitest";
import { replayCommand, runDbSeed } from "../../engine/runtime/sim/index.ts";
import type { DbSeedResult } from "../../engine/runtime/sim/index.ts";

function explain(result: DbSeedResult, servers: number): string {
  return [
    `seed ${result.seed} broke ${result.broken}: ${result.message}`,
    ...result.trace,
    `replay: ${replayCommand({ workload: "db", external: true, nodes: servers, seed: result.seed })}`,
  ].join("\n");
}

describe("external replication under random faults (a short sweep; npm run sim -- --workload db --external runs hundreds)", () => {
  it("on 3 servers: the destination cluster ends with Spade's final state, and the plain checks hold", async () => {
    for (let seed = 1; seed <= 4; seed++) {
      const result = await runDbSeed(seed, { servers: 3, external: true });
      expect(result.ok, explain(result, 3)).toBe(true);
      expect(result.externalItems, `seed ${seed} checked nothing on Backup`).toBeGreaterThan(20);
    }
  });

  it("on 5 servers, the same", async () => {
    for (let seed = 1; seed <= 2; seed++) {
      const result = await runDbSeed(seed, { servers: 5, external: true });
      expect(result.ok, explain(result, 5)).toBe(true);
    }
  });

  it("prints a replay line that names the variant", () => {
    expect(replayCommand({ workload: "db", external: true, nodes: 3, seed: 9 })).toBe(
      "npm run sim -- --workload db --external --nodes 3 --seed 9",
    );
  });
});
