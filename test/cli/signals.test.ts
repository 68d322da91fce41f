/**
 * Long-running commands stop what they started on SIGINT and SIGTERM: `npm start` (the book's dev
 * server, a child process) and `rookery cluster` (its servers' worker threads and their data
 * folders). SIGTERM goes to npm alone, as `kill <pid>` or a process manager sends it (npm's shell
 * does not pass it on); SIGINT goes to the whole process group, as Ctrl-C in a terminal sends it.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { alive, descendants, freePort, until } from "./processes.ts";

const repo = resolve(import.meta.dirname, "../..");
const started: { child: ChildProcess; tree: () => number[] }[] = [];
const folders: string[] = [];

afterEach(() => {
  // Whatever a failed test left running is ended here, by pid.
  for (const { child, tree } of started.splice(0))
    for (const pid of [...tree(), child.pid ?? 0])
      if (pid > 0 && alive(pid)) process.kill(pid, "SIGKILL");
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** launch starts a command with its output collected; its process tree is remembered. */
function launch(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  // A process group of its own, so a test can send Ctrl-C's SIGINT to all of it.
  const child = spawn(command, args, {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on("exit", (code, signal) => done({ code, signal })),
  );
  let known: number[] = [];
  const tree = (): number[] => {
    if (child.pid !== undefined && alive(child.pid))
      known = [...new Set([...known, ...descendants(child.pid)])];
    return known;
  };
  started.push({ child, tree });
  return { child, exited, output: () => output, tree };
}

async function answers(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      signal: AbortSignal.timeout(2_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

describe("npm start", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s stops the book's dev server and every process under it",
    async (signal) => {
      const port = await freePort();
      const npm = launch("npm", ["start"], { PORT: String(port) });
      await until(() => answers(port), 120_000, `the book on port ${port}`).catch(
        (error: Error) => {
          throw new Error(`${error.message}; it printed:\n${npm.output()}`);
        },
      );
      const tree = npm.tree();
      expect(tree.length).toBeGreaterThanOrEqual(2); // the shell, start.mjs, astro …
      if (signal === "SIGTERM") npm.child.kill(signal);
      else process.kill(-npm.child.pid!, signal);
      await until(
        () => tree.every((pid) => !alive(pid)),
        15_000,
        "every process of the book to end",
      );
      await npm.exited;
      expect(await answers(port)).toBe(false);
    },
    180_000,
  );
});

describe("rookery cluster", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s stops the servers, closes their folders and exits with 128 + the signal",
    async (signal) => {
      const dataDir = mkdtempSync(join(tmpdir(), "rookery-signals-"));
      folders.push(dataDir);
      const cli = launch(process.execPath, [
        "--import",
        "tsx",
        "cli/bin.ts",
        "cluster",
        "--servers",
        "2",
        "--data-dir",
        join(dataDir, "data"),
      ]);
      await until(() => cli.output().includes("type help"), 60_000, "the prompt's banner");
      cli.child.kill(signal);
      const { code } = await cli.exited;
      expect(cli.output()).toContain(`${signal}: stopping the servers`);
      expect(code).toBe(signal === "SIGTERM" ? 143 : 130);
      for (const n of [1, 2])
        expect(existsSync(join(dataDir, "data", String(n), "storage.log"))).toBe(true);
    },
    90_000,
  );

  it("SIGTERM to `npm run cluster` ends the CLI too, though npm's shell does not pass it on", async () => {
    const npm = launch("npm", ["run", "cluster", "--", "--runtime", "sim"]);
    await until(() => npm.output().includes("type help"), 60_000, "the prompt's banner");
    const tree = npm.tree();
    npm.child.kill("SIGTERM");
    await npm.exited;
    await until(() => tree.every((pid) => !alive(pid)), 15_000, "the CLI to end after npm");
  }, 90_000);
});
