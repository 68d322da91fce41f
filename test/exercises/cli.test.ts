/**
 * npm run exercise end to end, in child processes: a solution file outside the repository that
 * imports "rookery", the checklist and exit codes, results.json on disk, and solutions that throw
 * or block the thread.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";

const repo = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "rookery-solutions-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function solution(name: string, code: string): string {
  const path = join(dir, name);
  writeFileSync(path, code);
  return path;
}

function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "cli/bin.ts", "exercise", ...args],
      { cwd: repo, timeout: 60_000, env: { ...process.env, INIT_CWD: dir } },
      (error, stdout, stderr) => {
        done({
          code: error ? (typeof error.code === "number" ? error.code : 1) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}

// A helper next to the solution, imported relatively: solutions are bundled from where they live.
writeFileSync(join(dir, "helper.ts"), `export const spade = "Spade";\n`);

// Sequential on purpose: each check is two Node processes, and the rest of the suite runs beside them.
describe("npm run exercise", () => {
  it('check: a correct solution outside the repo, importing "rookery", passes, exits 0 and writes results.json', async () => {
    const path = solution(
      "write-assurance.ts",
      `
import { isRookeryError } from "rookery";
import type { ClusterHandle, DocumentStore } from "rookery";
import { spade } from "./helper.ts";

export default async function (cluster: ClusterHandle, store: DocumentStore): Promise<void> {
  await cluster.kill("A");
  const session = store.openSession();
  session.store({ task: "Buy milk" }, "tasks/1");
  session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 500 });
  try {
    await session.saveChanges();
  } catch (error) {
    if (!isRookeryError(error, "WriteAssuranceTimeout")) throw error;
  }
  await cluster.restart("A");
  await cluster.waitFor((c) => c.describe().documents.A?.[spade]?.includes("tasks/1") ?? false, { timeoutMs: 10_000 });
}
`,
    );
    const { code, stdout } = await cli([
      "check",
      "5",
      "--solution",
      path,
      "--json",
      "out/results.json",
    ]);
    expect(stdout).toContain(
      "Exercise 5: Make write assurance fail while the data stays (seed 15)",
    );
    expect(stdout).toContain("✓ a save with write assurance failed with WriteAssuranceTimeout");
    expect(stdout).toContain("PASS: all 5 checks hold");
    expect(code).toBe(0);
    // --json is relative to where the user ran npm (INIT_CWD), not the repository.
    const results = JSON.parse(readFileSync(join(dir, "out", "results.json"), "utf8")) as {
      version: number;
      status: string;
      tests: { name: string; status: string }[];
    };
    expect(results.version).toBe(2);
    expect(results.status).toBe("pass");
    expect(results.tests.map((t) => t.status)).toEqual(["pass", "pass", "pass", "pass", "pass"]);
  });

  it("check: a wrong solution fails with a checklist naming the missed goals, exits 1, and --seed changes the run", async () => {
    const path = solution(
      "half.mjs",
      `export default async (cluster) => { await cluster.kill("A"); };\n`,
    );
    const { code, stdout } = await cli([
      "check",
      "leaderless-writes",
      "--solution",
      path,
      "--seed",
      "7",
      "--json",
      "half.json",
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain("(seed 7)");
    expect(stdout).toContain("✓ the cluster lost its leader");
    expect(stdout).toMatch(
      /✗ users\/3 was written to Spade while there was no leader\n\s+users\/3 was never written/,
    );
    expect(stdout).toMatch(
      /✗ A is back and the cluster has a leader again\n\s+A was never restarted/,
    );
    expect(stdout).toContain("FAIL: 1 of 5 checks hold");
    const results = JSON.parse(readFileSync(join(dir, "half.json"), "utf8")) as {
      status: string;
      message: string;
      tests: { status: string; message?: string }[];
    };
    expect(results.status).toBe("fail");
    expect(results.message).toBe("4 of 5 checks failed");
    expect(results.tests.filter((t) => t.status === "fail").map((t) => t.message)).toContain(
      "users/3 was never written",
    );
  });

  it("check: a throwing solution is an error with its message", async () => {
    const path = solution(
      "throws.ts",
      `export default async () => { throw new Error("not today"); };\n`,
    );
    const { code, stdout } = await cli(["check", "1", "--solution", path, "--json", "throws.json"]);
    expect(code).toBe(1);
    expect(stdout).toContain("ERROR: the solution threw: not today");
    expect(JSON.parse(readFileSync(join(dir, "throws.json"), "utf8"))).toMatchObject({
      version: 2,
      status: "error",
      message: "the solution threw: not today",
    });
  });

  it("check: a solution that blocks the thread is killed at the wall limit", async () => {
    const path = solution("spin.ts", `export default async () => { for (;;) {} };\n`);
    const started = Date.now();
    const { code, stdout } = await cli([
      "check",
      "1",
      "--solution",
      path,
      "--wall-limit-ms",
      "500",
      "--json",
      "spin.json",
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain(
      "ERROR: the solution ran past its time limit: 500 ms of real time, without ever giving the cluster a turn",
    );
    expect(stdout).toContain(
      "✗ 127.0.0.1, 127.0.0.2 and 127.0.0.3 are nodes A, B and C\n      not checked: the solution did not finish",
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    const results = JSON.parse(readFileSync(join(dir, "spin.json"), "utf8")) as {
      status: string;
      tests: unknown[];
    };
    expect(results.status).toBe("error");
    expect(results.tests).toHaveLength(4);
  });

  it("check: a solution that does not compile is reported as such", async () => {
    const broken = await cli([
      "check",
      "1",
      "--solution",
      solution("broken.ts", "export default async (c) => { c.kill( };\n"),
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/could not load the solution .*broken\.ts: Build failed/);
  });
});

/** run calls the CLI's main() in this process and returns what it printed (no child process: cheap). */
async function run(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(["exercise", ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe("npm run exercise: list, show, verify-all and usage", () => {
  it("list numbers the exercises; show prints the goal, the checklist, the hints and (on request) the steps", async () => {
    const listed = await run(["list"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(
      " 1. Bootstrap a cluster and read its tags  [bootstrap, 4 checks]",
    );
    expect(listed.stdout).toContain(
      "10. Predict, then verify, which operations fail without a majority",
    );
    const shown = await run(["show", "9"]);
    expect(shown.stdout).toContain(
      "Exercise 9: Watch the supervisor rotate a preferred node and bring a rehab back",
    );
    expect(shown.stdout).toContain("☐ the supervisor moved it to rehab");
    expect(shown.stdout).toContain("Hints:\n  1. cluster.describe().databases lists");
    expect(shown.stdout).not.toContain("Solution steps:");
    expect((await run(["show", "supervisor", "--steps"])).stdout).toContain(
      "Solution steps:\n  1. Read Hoe's preferred node",
    );
  });

  it("usage errors exit 2 and say what is wrong", async () => {
    const unknown = await run(["check", "99", "--solution", "x.ts"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no exercise "99"');
    expect((await run(["check", "1"])).stderr).toContain("check needs --solution FILE");
    expect((await run(["check", "1", "--solution", "x.ts", "--seed", "x"])).stderr).toContain(
      "no solution file at",
    );
    expect((await run(["show", "1", "--bogus", "1"])).stderr).toContain("unknown option --bogus");
    expect((await run(["frobnicate"])).code).toBe(2);
  });

  it("verify-all exits 0 and lists every exercise", async () => {
    const { code, stdout } = await run(["verify-all"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/all \d+ exercises verified/);
    expect(stdout.split("\n").filter((line) => line.startsWith("✓")).length).toBeGreaterThanOrEqual(
      10,
    );
  });
});
