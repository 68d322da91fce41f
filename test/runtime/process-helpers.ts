/**
 * Helpers for tests that run real server processes: a free port for every suite (several copies
 * of the suite run at once on one machine), timings for a busy machine, and the checks that a
 * stopped cluster left nothing behind.
 */
import { existsSync } from "node:fs";
import { ProcessCluster } from "../../engine/runtime/process/process-cluster.ts";
import type { ProcessClusterOptions } from "../../engine/runtime/process/process-cluster.ts";
import { isFree } from "../../engine/runtime/process/addresses.ts";

/**
 * Timings for server processes on a loaded 2-core machine: heartbeats every 50 ms against an
 * election timeout of 500–1000 ms, so a process starved for a moment does not start elections,
 * and cluster operations that wait up to 5 s for a leader.
 */
export const processTiming = {
  tickMs: 10,
  raft: { heartbeatTicks: 5, electionTicks: 50 },
  healthReportIntervalMs: 100,
  supervisorIntervalMs: 100,
  replicationRetryMs: 100,
  clusterOperationTimeoutMs: 5_000,
  joinTimeoutMs: 3_000,
  reachableWithinMs: 1_000,
} as const;

/** Real-time waits in these tests: long, because a loaded machine may be slow; rarely reached. */
export const patientMs = 30_000;

/** startProcesses starts a process cluster on a free port with the timings above. */
export function startProcesses(options: ProcessClusterOptions): Promise<ProcessCluster> {
  return ProcessCluster.start({ port: "auto", timing: processTiming, ...options });
}

/** isRunning tells whether a process with this id exists (signal 0 only checks). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * leftBehind lists what a stopped cluster still holds: processes still running (or their
 * /proc entries), addresses still taken, and open handles of this process beyond `before`.
 */
export async function leftBehind(
  cluster: ProcessCluster,
  pids: readonly number[],
  before: readonly string[],
): Promise<string[]> {
  const left: string[] = [];
  // Handles first: the address probes below open (and close) listeners of their own.
  const counts = (resources: readonly string[]) => {
    const count = new Map<string, number>();
    for (const resource of resources) count.set(resource, (count.get(resource) ?? 0) + 1);
    return count;
  };
  const was = counts(before);
  const extra = (): string[] => {
    const found: string[] = [];
    for (const [resource, now] of counts(process.getActiveResourcesInfo())) {
      if (resource === "Timeout" || resource === "Immediate" || resource === "FSReqCallback")
        continue;
      const more = now - (was.get(resource) ?? 0);
      if (more > 0) found.push(`${more} × ${resource}`);
    }
    return found;
  };
  // A closed handle leaves the list a few turns of the event loop after its close event.
  for (let turn = 0; turn < 50 && extra().length > 0; turn++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  left.push(...extra());
  for (const pid of pids) {
    if (isRunning(pid) || existsSync(`/proc/${pid}`)) left.push(`process ${pid}`);
  }
  for (const url of cluster.urls) {
    const { hostname, port } = new URL(url);
    if (!(await isFree(hostname, Number(port)))) left.push(`address ${url}`);
  }
  return left;
}
