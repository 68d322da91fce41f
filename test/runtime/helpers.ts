import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Cluster } from "../../engine/index.ts";
import type { ClusterHandle, ServerRequest, ServerResponse } from "../../engine/index.ts";
import { WorkerCluster } from "../../engine/runtime/host/index.ts";
import type { WorkerClusterOptions } from "../../engine/runtime/host/index.ts";
import { nodePlatform } from "../../engine/runtime/host/node-platform.ts";

/**
 * Real-time timings for worker tests: 5 ms ticks, elections in 100–200 ms, quick health reports
 * and cluster operations that give up after 1.5 s. Generous enough for a busy 2-core machine
 * (a heartbeat every 20 ms against a 100 ms election timeout), fast enough to keep tests short.
 */
export const fastTiming = {
  tickMs: 5,
  raft: { heartbeatTicks: 4, electionTicks: 20 },
  healthReportIntervalMs: 50,
  supervisorIntervalMs: 100,
  replicationRetryMs: 100,
  clusterOperationTimeoutMs: 1_500,
  joinTimeoutMs: 2_000,
  reachableWithinMs: 500,
} as const;

/** Real-time waits in these tests: long, because a loaded CI machine may be slow; rarely reached. */
export const patientMs = 20_000;

export const url = (n: number): string => `http://127.0.0.${n}:8080`;

/** tempDir makes a fresh folder under the OS temp dir and returns it with its remover. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `rookery-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** startWorkers starts a worker cluster in Node with the fast timings. */
export function startWorkers(
  options: Omit<WorkerClusterOptions, "platform">,
): Promise<WorkerCluster> {
  return WorkerCluster.start({
    platform: nodePlatform,
    timing: fastTiming,
    statusIntervalMs: 20,
    ...options,
  });
}

/** startPublic starts a worker cluster through the public Cluster.start. */
export function startPublic(options: {
  servers: number;
  storage?: "fs" | "memory";
  dataDir?: string;
}): Promise<ClusterHandle> {
  return Cluster.start({ runtime: "worker", timing: fastTiming, ...options });
}

/** ok sends a request and fails the test with the server's error if it was refused. */
export async function ok(
  cluster: ClusterHandle,
  on: string,
  request: ServerRequest,
): Promise<unknown> {
  const response: ServerResponse = await cluster.network.request(on, request, {
    timeoutMs: patientMs,
  });
  if (!response.ok)
    throw new Error(`${request.type} on ${on}: ${response.error.code}: ${response.error.message}`);
  return response.result;
}

/**
 * formCluster joins servers 2..n to server 1 (which becomes A) and waits until every server has
 * a tag and follows a leader.
 */
export async function formCluster(cluster: ClusterHandle, n: number): Promise<void> {
  for (let k = 2; k <= n; k++) await ok(cluster, url(1), { type: "add-node", url: url(k) });
  await cluster.waitFor(
    (c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null && s.alive),
    { timeoutMs: patientMs, what: `${n} servers in one cluster` },
  );
}

/** idsOn lists the document ids a server holds in a database, as describe() shows them. */
export function idsOn(cluster: ClusterHandle, tag: string, database: string): string[] {
  return cluster.describe().documents[tag]?.[database] ?? [];
}

/** put writes one document on a server (acknowledged once durable there). */
export function put(
  cluster: ClusterHandle,
  on: string,
  database: string,
  id: string,
  body: Record<string, unknown>,
): Promise<ServerResponse> {
  return cluster.network.request(
    on,
    { type: "batch", database, transaction: { puts: [{ id, body }] } },
    { timeoutMs: patientMs },
  );
}

/**
 * runChild runs a Node child on `script` (killed after `timeoutMs`) and resolves with its output
 * and how long it lived after its stdout first said `mark` (null if it never did).
 */
export function runChild(
  script: string,
  mark: string,
  timeoutMs: number,
): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
  exitAfterMarkMs: number | null;
}> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: resolve("."),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let markedAt: number | null = null;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (markedAt === null && stdout.includes(mark)) markedAt = performance.now();
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const exitAfterMarkMs = markedAt === null ? null : performance.now() - markedAt;
      done({ code, stdout, stderr, exitAfterMarkMs });
    });
  });
}
