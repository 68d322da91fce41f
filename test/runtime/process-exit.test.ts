import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";

const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

/** run starts a Node child on `script` and resolves with its output and how long it lived after "stopped". */
function run(
  script: string,
  timeoutMs: number,
): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
  exitAfterStopMs: number | null;
}> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: resolve("."),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let stoppedAt: number | null = null;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stoppedAt === null && stdout.includes("stopped")) stoppedAt = performance.now();
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      done({
        code,
        stdout,
        stderr,
        exitAfterStopMs: stoppedAt === null ? null : performance.now() - stoppedAt,
      });
    });
  });
}

describe("cluster.stop()", () => {
  it("leaves no worker, port or file handle behind: the process exits on its own", async () => {
    const { dir, remove } = tempDir("exit");
    removers.push(remove);
    const engine = pathToFileURL(resolve("engine/index.ts")).href;
    const script = join(dir, "child.mts");
    writeFileSync(
      script,
      `
      import { Cluster } from ${JSON.stringify(engine)};
      const cluster = await Cluster.start({ runtime: "worker", servers: 3, storage: "fs", dataDir: ${JSON.stringify(join(dir, "data"))},
        timing: { tickMs: 5, raft: { heartbeatTicks: 4, electionTicks: 20 } } });
      const url = (n) => "http://127.0.0.1".replace(/1$/, String(n)) + ":8080";
      const created = await cluster.network.request(url(1), { type: "create-database", name: "Spade" });
      await cluster.network.request(url(1), { type: "add-node", url: url(2) });
      await cluster.kill("A");
      await cluster.restart("A");
      await cluster.stop();
      console.log("stopped", created.ok);
    `,
    );
    const result = await run(script, 60_000);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("stopped true");
    expect(result.code).toBe(0);
    expect(result.exitAfterStopMs).not.toBeNull();
    expect(result.exitAfterStopMs!).toBeLessThan(3_000);
  });
});
