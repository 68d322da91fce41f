import { describe, expect, it } from "vitest";
import { runFuzzSeed } from "../../engine/runtime/sim/index.ts";

/**
 * The boundary fuzzer (issue 12, build 0): seeded random and mutated requests, malformed peer
 * messages and envelopes, sent through the simulated network to every server. More seeds and
 * requests: npm run sim -- --workload fuzz --seeds N --requests M.
 */
describe("the server boundary under fuzzing", () => {
  it("answers 10,000 random and malformed requests with a success or a named error, and keeps serving", async () => {
    const seed = 12;
    const result = await runFuzzSeed(seed, { servers: 3, requests: 10_000 });
    const replay = `npm run sim -- --workload fuzz --nodes 3 --seed ${seed} --requests 10000`;
    expect(
      result.ok,
      `${result.broken}: ${result.message}\n${result.trace.join("\n")}\nreplay: ${replay}`,
    ).toBe(true);
    expect(result.sent).toBe(10_000);
    // The run reached well past the shape checks: writes and cluster operations went through.
    expect(result.succeeded).toBeGreaterThan(500);
    expect(result.refused["InvalidRequest"]).toBeGreaterThan(1_000);
    expect(Object.keys(result.refused).length).toBeGreaterThan(5);
  });
});
