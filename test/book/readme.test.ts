import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ProcessCluster } from "../../engine/runtime/process/process-cluster.ts";
import { repo, runBlock } from "./blocks.ts";

describe("README", () => {
  it("starts with the two commands: open the book, run the tests", () => {
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    const commands = readme
      .split("```sh\n")[1]!
      .split("\n")
      .slice(0, 2)
      .map((line) => line.split("#")[0]!.trim());
    expect(commands).toEqual(["npm ci && npm start", "npm ci && npm test"]);
  });

  it("its library example runs as written and prints users/1 on all three servers", async () => {
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    const fence = readme.indexOf("```ts\n");
    const code = readme.slice(fence + 6, readme.indexOf("```", fence + 6));
    const line = readme.slice(0, fence).split("\n").length;
    const run = await runBlock({ file: "README.md", line, title: "library example", code });
    expect(run.ok, run.message).toBe(true);
    expect(run.stdout).toMatch(/A: \{ Spade: \[ 'users\/1' \] \}/);
    expect(run.stdout).toMatch(/C: \{ Spade: \[ 'users\/1' \] \}/);
  });

  it("its script with RavenDB's own client runs against three server processes and loads users/1", async () => {
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    const fence = readme.indexOf(
      '```ts\nimport { CreateDatabaseOperation, DocumentStore } from "ravendb"',
    );
    expect(fence).toBeGreaterThan(0);
    const written = readme.slice(fence + 6, readme.indexOf("```", fence + 6));
    expect(written.trim().split("\n")).toHaveLength(10);
    // The servers of `npm run serve -- --servers 3`, on a port no other test run uses.
    const cluster = await ProcessCluster.start({ servers: 3, port: "auto" });
    try {
      const code = written.replaceAll(":8080", `:${cluster.port}`);
      const line = readme.slice(0, fence).split("\n").length;
      const run = await runBlock({ file: "README.md", line, title: "official client", code });
      expect(run.ok, run.message).toBe(true);
      expect(run.stdout).toMatch(/name: 'Oren'/);
    } finally {
      await cluster.stop();
    }
  });
});
