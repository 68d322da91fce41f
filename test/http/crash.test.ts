/**
 * Real crashes: while RavenDB's own client writes with write assurance, random server processes
 * are killed with SIGKILL and started again on their folders. No document the client was told is
 * saved may be missing from any member afterwards. This run is short; set ROOKERY_CRASH_KILLS
 * (e.g. 40) for a longer one, and ROOKERY_CRASH_SEED to replay a run's choice of victims.
 */
import { describe, expect, it } from "vitest";
import { runCrashWorkload } from "./crash-workload.ts";

const kills = Number(process.env["ROOKERY_CRASH_KILLS"] ?? 4);
const seed = process.env["ROOKERY_CRASH_SEED"];

describe("crashes under write assurance", () => {
  it(
    `${kills} SIGKILLs of random servers lose no acknowledged write`,
    async () => {
      const report = await runCrashWorkload({
        kills,
        ...(seed ? { seed: Number(seed) } : {}),
        log: kills > 10 ? (line) => console.log(line) : undefined,
      });
      console.log(
        `crash: seed ${report.seed}, ${report.kills} kills of ${report.servers} servers, ` +
          `${report.acknowledged} acknowledged, ${report.failed} failed saves, ` +
          `${report.lost.length} lost, ${(report.durationMs / 1000).toFixed(1)} s ` +
          `(replay: ROOKERY_CRASH_SEED=${report.seed} ROOKERY_CRASH_KILLS=${report.kills} npx vitest run test/http/crash.test.ts)`,
      );
      expect(report.acknowledged).toBeGreaterThan(kills);
      expect(report.lost).toEqual([]);
    },
    Math.max(120_000, kills * 15_000),
  );
});
