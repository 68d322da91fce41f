import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "./helpers.ts";

const run = promisify(execFile);
const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

interface Step {
  step: number;
  title: string;
  detail?: string;
  cluster: { tag: string; role: string; alive: boolean }[];
  databases: { name: string; members: string[] }[];
  documents: Record<string, Record<string, string[]>>;
}

async function walkthrough(dataDir: string): Promise<Step[]> {
  const { stdout } = await run(
    process.execPath,
    [
      "--import",
      "tsx",
      "cli/bin.ts",
      "walkthrough",
      "--runtime",
      "worker",
      "--storage",
      "fs",
      "--data-dir",
      dataDir,
      "--json",
    ],
    { encoding: "utf8", timeout: 120_000 },
  );
  return stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Step);
}

describe("npm run walkthrough -- --runtime worker --storage fs --data-dir DIR", () => {
  it("tells the chapter's story in real workers with one folder per server; a second run says it is recovering and shows every document", async () => {
    const { dir, remove } = tempDir("walkthrough");
    removers.push(remove);
    const dataDir = join(dir, "Data");
    const steps = await walkthrough(dataDir);
    expect(steps[0]!.cluster.map((s) => s.tag)).toEqual(["?", "?"]);
    const killed = steps.find((s) => s.title.startsWith("Kill A"))!;
    expect(killed.cluster.some((s) => s.role === "leader")).toBe(false);
    const noLeader = steps.find((s) => s.title.startsWith("Without a leader"))!;
    expect(noLeader.detail).toContain("NoLeader");
    expect(noLeader.documents["B"]!["Spade"]).toEqual(["users/1", "users/2", "users/3"]);
    const last = steps.at(-1)!;
    expect(last.cluster.map((s) => s.tag)).toEqual(["A", "B", "C", "D", "E"]);
    const pitchfork = last.databases.find((d) => d.name === "Pitchfork")!;
    expect(pitchfork.members).toHaveLength(3);
    for (const n of [1, 2, 3, 4, 5])
      expect(existsSync(join(dataDir, String(n), "storage.log"))).toBe(true);

    const again = await walkthrough(dataDir);
    expect(again).toHaveLength(1);
    expect(again[0]!.title).toMatch(/^Recovering 5 servers from .*an earlier run left them/);
    expect(again[0]!.detail).toMatch(/^found nodes A, B, C, D, E/);
    expect(again[0]!.cluster.map((s) => s.tag)).toEqual(["A", "B", "C", "D", "E"]);
    for (const tag of ["A", "B"])
      expect(again[0]!.documents[tag]!["Spade"]).toEqual(["users/1", "users/2", "users/3"]);
    for (const tag of pitchfork.members)
      expect(again[0]!.documents[tag]!["Pitchfork"]).toEqual(["tines/1"]);
  });
});
