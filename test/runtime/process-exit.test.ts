import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { runChild, tempDir } from "./helpers.ts";

const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

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
    const result = await runChild(script, "stopped", 60_000);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("stopped true");
    expect(result.code).toBe(0);
    expect(result.exitAfterMarkMs).not.toBeNull();
    expect(result.exitAfterMarkMs!).toBeLessThan(3_000);
  });
});
