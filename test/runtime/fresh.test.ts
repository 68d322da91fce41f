/**
 * Running again over a data folder an earlier run filled: the library refuses to guess
 * (ExistingData names `fresh`), `fresh: false` recovers those servers, `fresh: true` wipes them;
 * `rookery cluster --data-dir` says it recovered them, and --fresh starts over.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Cluster, isRookeryError } from "../../engine/index.ts";
import { fastTiming, ok, tempDir, url } from "./helpers.ts";

const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

function folder(): string {
  const { dir, remove } = tempDir("fresh");
  removers.push(remove);
  return join(dir, "data");
}

describe("Cluster.start over an earlier run's dataDir", () => {
  it("refuses with ExistingData naming fresh; fresh: false recovers the servers, fresh: true wipes them", async () => {
    const dataDir = folder();
    const first = await Cluster.start({
      runtime: "worker",
      servers: 2,
      dataDir,
      timing: fastTiming,
    });
    await ok(first, url(1), { type: "create-database", name: "Spade" });
    await ok(first, url(1), { type: "add-node", url: url(2) });
    await first.stop();

    const refusal = await Cluster.start({ runtime: "worker", servers: 2, dataDir }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isRookeryError(refusal, "ExistingData")).toBe(true);
    expect((refusal as Error).message).toContain("fresh: true");
    expect((refusal as Error).message).toContain("fresh: false");

    // Asked for one server, recovering starts both that the folder holds.
    const again = await Cluster.start({
      runtime: "worker",
      servers: 1,
      dataDir,
      fresh: false,
      timing: fastTiming,
    });
    try {
      await again.waitFor((c) => c.servers.every((s) => s.tag !== "?"), { timeoutMs: 20_000 });
      expect(again.servers.map((s) => s.tag)).toEqual(["A", "B"]);
      expect(again.describe().databases.map((db) => db.name)).toEqual(["Spade"]);
    } finally {
      await again.stop();
    }

    const fresh = await Cluster.start({
      runtime: "worker",
      servers: 1,
      dataDir,
      fresh: true,
      timing: fastTiming,
    });
    try {
      expect(fresh.servers.map((s) => s.tag)).toEqual(["?"]);
      expect(readdirSync(dataDir)).toEqual(["1"]);
    } finally {
      await fresh.stop();
    }
  });

  it("fresh changes nothing where every cluster is fresh anyway (sim)", async () => {
    const cluster = await Cluster.start({ runtime: "sim", servers: 1, fresh: true });
    expect(cluster.servers[0]!.tag).toBe("?");
    await cluster.stop();
  });
});

/** cli runs `rookery cluster` with `input` piped in (the pipe's end ends the run). */
function cli(args: readonly string[], input = ""): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", "cli/bin.ts", "cluster", ...args],
      { encoding: "utf8", timeout: 60_000 },
      (error, stdout, stderr) => (error ? reject(error) : resolve({ stdout, stderr })),
    );
    child.stdin?.end(input);
  });
}

describe("rookery cluster --data-dir", () => {
  it("says it recovered an earlier run's servers, and --fresh starts fresh ones", async () => {
    const dataDir = folder();
    const first = await cli(["--servers", "1", "--data-dir", dataDir], "create-database Spade\n");
    expect(first.stdout).toContain("1 fresh server (worker, fs storage in ");
    expect(first.stdout).toContain("database 'Spade' created on A");
    const again = await cli(["--data-dir", dataDir]);
    // Two servers asked for (the default), one of them recovered: A with Spade, and a fresh one.
    expect(again.stdout).toMatch(
      /2 servers \(worker, fs storage in .*\), 1 recovered from an earlier run: A http:\/\/127\.0\.0\.1:8080, \? http:\/\/127\.0\.0\.2:8080; databases Spade/,
    );
    expect(again.stdout).toContain("--fresh wipes");
    const fresh = await cli(["--data-dir", dataDir, "--fresh"]);
    expect(fresh.stderr).toContain("--fresh: wiped 2 server folders");
    expect(fresh.stdout).toContain("2 fresh servers");
    expect(existsSync(join(dataDir, "1"))).toBe(true);
  });
});
