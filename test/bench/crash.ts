/**
 * The crash benchmark (`npm run bench -- crash`): the crash workload of test/http run long.
 * RavenDB's own client writes with write assurance to three server processes while random ones
 * are SIGKILLed and restarted (30 kills, or ROOKERY_CRASH_KILLS; ROOKERY_CRASH_SEED replays a
 * run's victims); afterwards every acknowledged document must be on every member with its
 * content. The figure that matters is `lost`, which must be 0; the rest says how hard it was.
 */
import { runCrashWorkload } from "../http/crash-workload.ts";

const killsDefault = 30;

export async function benchCrash(): Promise<Record<string, unknown>> {
  const kills = Number(process.env["ROOKERY_CRASH_KILLS"] ?? killsDefault);
  const seed = process.env["ROOKERY_CRASH_SEED"];
  const report = await runCrashWorkload({
    kills,
    ...(seed ? { seed: Number(seed) } : {}),
    log: (line) => process.stderr.write(`crash: ${line}\n`),
  });
  return {
    definitions: {
      acknowledged:
        "saves RavenDB's client was told succeeded, each a new document with write assurance to 1 replica",
      failed: "saves that threw (the write may or may not be there; not counted as acknowledged)",
      lost: "acknowledged documents missing or different on some member at the end, as tag: id",
    },
    seed: report.seed,
    servers: report.servers,
    kills: report.kills,
    leaderKills: report.leaderKills,
    acknowledged: report.acknowledged,
    failed: report.failed,
    lostCount: report.lost.length,
    lost: report.lost.slice(0, 20),
    seconds: Math.round(report.durationMs / 100) / 10,
    replay: `ROOKERY_CRASH_SEED=${report.seed} ROOKERY_CRASH_KILLS=${report.kills} npm run bench -- crash`,
    met: report.lost.length === 0,
  };
}
