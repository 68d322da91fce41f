/**
 * `rookery serve` (npm run serve) as a user runs it: real processes on real addresses that curl
 * and RavenDB's client reach, a table of what started, and Ctrl-C that stops everything. Each
 * test picks a free port, since other copies of the suite may run on this machine.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AddClusterNodeCommand, ClusterRequestExecutor, DocumentConventions } from "ravendb";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { isLoopback } from "../../cli/commands/serve.ts";
import { freeBasePort, isFree } from "../../engine/runtime/process/addresses.ts";
import { isRunning, patientMs } from "../runtime/process-helpers.ts";

const repo = resolve(import.meta.dirname, "../..");
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

interface Serving {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** serve starts `rookery serve …` in its own process group, as a terminal would. */
function serve(...argv: string[]): Serving {
  const child = spawn(process.execPath, ["--import", "tsx", "cli/bin.ts", "serve", ...argv], {
    cwd: repo,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
  });
  return { child, output: () => text, exited };
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + patientMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`waited ${patientMs} ms for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** serverProcessesOf lists the server processes whose parent is `pid` (not tsx's esbuild). */
function serverProcessesOf(pid: number): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes("server-process"))
      .map((line) => Number(line.trim().split(/\s+/)[0]));
  } catch {
    return [];
  }
}

describe("rookery serve", () => {
  it("serves three servers that answer /cluster/topology as RavenDB does; Ctrl-C leaves nothing running", async () => {
    const port = await freeBasePort("loopback", 3);
    const serving = serve("--servers", "3", "--port", String(port));
    await until("the table", () => serving.output().includes("Ctrl-C stops every server"));
    const output = serving.output();
    for (const n of [1, 2, 3])
      expect(output).toMatch(new RegExp(`\\?\\s+http://127\\.0\\.0\\.${n}:${port}\\s+\\S+/${n}`));

    const response = await fetch(`http://127.0.0.1:${port}/cluster/topology`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(await response.json()).toMatchObject({
      Topology: { Members: { "?": `http://127.0.0.1:${port}` }, Promotables: {}, Watchers: {} },
      Etag: -1,
      Leader: null,
      NodeTag: "?",
      Status: {},
    });

    const servers = serverProcessesOf(serving.child.pid!);
    expect(servers).toHaveLength(3);
    // Ctrl-C in a terminal signals the whole foreground process group.
    process.kill(-serving.child.pid!, "SIGINT");
    expect(await serving.exited).toBe(130);
    expect(serving.output()).toContain("SIGINT: stopping 3 servers");
    for (const pid of servers) expect(isRunning(pid)).toBe(false);
    for (const n of [1, 2, 3]) expect(await isFree(`127.0.0.${n}`, port)).toBe(true);
  });

  it("starts one server alone at a URL; two of them form a cluster when one adds the other", async () => {
    const port = await freeBasePort("loopback", 2);
    const dir = mkdtempSync(join(tmpdir(), "rookery-serve-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const urls = [`http://127.0.0.1:${port}`, `http://127.0.0.2:${port}`];
    const a = serve("--node-url", urls[0]!, "--data-dir", join(dir, "a"));
    const b = serve("--node-url", urls[1]!, "--data-dir", join(dir, "b"));
    for (const one of [a, b])
      await until("the server", () => one.output().includes("Ctrl-C stops the server"));
    expect(a.output()).toContain("A fresh server (tag ?)");

    const executor = ClusterRequestExecutor.create([urls[0]!], {
      documentConventions: new DocumentConventions(),
    });
    try {
      await executor.execute(new AddClusterNodeCommand(urls[1]!));
      const topology = await (await fetch(`${urls[0]}/cluster/topology`)).json();
      expect(topology).toMatchObject({
        Topology: { Members: { A: urls[0], B: urls[1] } },
        Leader: "A",
      });
    } finally {
      executor.dispose();
    }
    for (const one of [a, b]) process.kill(one.child.pid!, "SIGTERM");
    expect(await a.exited).toBe(143);
    expect(await b.exited).toBe(143);
    expect(await isFree("127.0.0.1", port)).toBe(true);
  });

  it("refuses a public address without --unsecured-public, and options of the other form", async () => {
    const run = async (...argv: string[]) => {
      let stderr = "";
      const code = await main(["serve", ...argv], {
        stdout: { write: () => true },
        stderr: { write: (text: string) => (stderr += text) },
      });
      return { code, stderr };
    };
    const open = await run("--node-url", "http://0.0.0.0:8080", "--data-dir", "x");
    expect(open.code).toBe(2);
    expect(open.stderr).toContain("not a loopback address");
    expect(open.stderr).toContain("--unsecured-public");
    expect((await run("--node-url", "http://127.0.0.1:8080")).stderr).toContain(
      "--node-url needs --data-dir",
    );
    expect((await run("--node-url", "https://127.0.0.1:8080", "--data-dir", "x")).stderr).toContain(
      "only http://",
    );
    expect(
      (await run("--node-url", "http://127.0.0.1:8080", "--data-dir", "x", "--servers", "3"))
        .stderr,
    ).toContain("--node-url starts one server");
    expect((await run("--servers", "3", "--unsecured-public")).stderr).toContain(
      "--unsecured-public goes with --node-url",
    );
    expect(["127.0.0.1", "127.9.9.9", "localhost", "[::1]"].every(isLoopback)).toBe(true);
    expect(["0.0.0.0", "192.168.1.20", "example.com", "[::]"].some(isLoopback)).toBe(false);
  });
});
